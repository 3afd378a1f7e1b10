import type { NatsConnection } from '@nats-io/nats-core';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type LedgerEvent, type RunningConsumer, startLedgerConsumer } from '../../examples/ledger-consumer';
import { startTestApp, type TestApp } from '../support/app';
import { TEST_DATABASE_URL } from '../support/database';
import {
  deleteStream,
  eventually,
  natsConnect,
  natsForTests,
  readStream,
  TEST_NATS_URL,
  uniqueStream,
} from '../support/nats';

const nats = natsForTests('consumer-kit.int.spec.ts');
const postgres = inject('postgresAvailable');
if (nats && !postgres)
  console.warn('[tests] consumer-kit.int.spec.ts: the consumer kit needs a PostgreSQL server (pg), so it is SKIPPED');

describe.skipIf(!nats || !postgres)('consumer kit (examples/ledger-consumer.ts) against the real NATS', () => {
  let t: TestApp;
  let nc: NatsConnection;
  let pool: pg.Pool;
  let consumer: RunningConsumer | undefined;
  const stream = uniqueStream();
  const durable = `risk_${stream.LEDGER_NATS_STREAM.slice(2)}`;
  const dlqStream = `${durable}_DLQ`;
  const dlqSubject = `${stream.LEDGER_NATS_SUBJECT_PREFIX}-dlq.${durable}`;

  beforeAll(async () => {
    t = await startTestApp({ LEDGER_ROLES: 'api,projector,relay', NATS_URL: TEST_NATS_URL, ...stream });
    nc = await natsConnect();
    pool = new pg.Pool({
      connectionString: TEST_DATABASE_URL,
      max: 2,
      options: `-c search_path=${t.tdb.env.LEDGER_DB_SCHEMA}`,
    });
    await pool.query(
      'create table risk_exposure (account_id text primary key, moved numeric not null, last_position bigint not null)',
    );
    await pool.query('create table risk_handled (msg_id text not null, attempt int not null)');
  });
  afterAll(async () => {
    await consumer?.stop().catch(() => {});
    await deleteStream(nc, stream.LEDGER_NATS_STREAM);
    await deleteStream(nc, dlqStream);
    await nc?.close();
    await pool?.end();
    await t?.close();
  });

  it('handles each event once and in account order, retries with backoff, dead-letters a poison message, survives a lost ack', async () => {
    for (const id of ['a', 'b', 'c'])
      expect((await t.request('POST', '/v1/accounts', { id, currency: 'USD' })).status).toBe(201);
    const transfers = Array.from({ length: 30 }, (_, i) => ({
      id: i === 13 ? 'poison' : `t${i}`,
      debitAccountId: ['a', 'b', 'c'][i % 3]!,
      creditAccountId: ['a', 'b', 'c'][(i + 1) % 3]!,
      amount: String(10 + i),
      currency: 'USD',
    }));
    for (const transfer of transfers) expect((await t.request('POST', '/v1/transfers', transfer)).status).toBe(201);
    const head = await t.ledger.store.headPosition();
    await eventually('relay at the head', () => t.ledger.relay!.checkpoint === head);

    let flakyFailures = 0;
    let lostAcks = 0;
    consumer = await startLedgerConsumer({
      nc,
      pool,
      durable,
      stream: stream.LEDGER_NATS_STREAM,
      filterSubject: `${stream.LEDGER_NATS_SUBJECT_PREFIX}.>`,
      deadLetterSubject: dlqSubject,
      deadLetterStream: dlqStream,
      maxAttempts: 3,
      backoffMs: [50, 100],
      ackWaitMs: 1000,
      log: () => {},
      async handle(event: LedgerEvent, { client, msgId, attempt }) {
        await client.query('insert into risk_handled (msg_id, attempt) values ($1, $2)', [msgId, attempt]);
        if (event.type !== 'TransferPosted') return;
        if (event.data.transferId === 'poison') throw new Error('cannot score this one');
        if (event.data.transferId === 't5' && flakyFailures++ < 1) throw new Error('risk service briefly away');
        for (const account of [event.data.debitAccountId, event.data.creditAccountId]) {
          const moved = await client.query(
            `insert into risk_exposure (account_id, moved, last_position) values ($1, $2, $3)
             on conflict (account_id) do update set moved = risk_exposure.moved + excluded.moved, last_position = excluded.last_position
             where risk_exposure.last_position < excluded.last_position`,
            [account, event.data.amount, event.position],
          );
          // In account order: each event is later in the log than the last one this account saw.
          if (moved.rowCount !== 1) throw new Error(`out of order for ${account} at ${event.position}`);
        }
      },
      // The ack of t9 is lost once (a crash between commit and ack): it is redelivered after ack_wait.
      async beforeAck(event) {
        if (event.data.transferId === 't9' && lostAcks++ < 1) throw new Error('crashed before the ack');
      },
    });

    // Every event but the poison one is handled, exactly once.
    const expected = Number(head) - 1;
    await eventually('every event handled', async () => {
      const { rows } = await pool.query('select count(*)::int as n from ledger_inbox where consumer = $1', [durable]);
      return rows[0].n === expected;
    });
    const dead = await eventually('the poison message dead-lettered', async () => {
      const messages = await readStream(nc, dlqStream).catch(() => []);
      return messages.length === 1 ? messages[0]! : false;
    });
    expect(dead.subject).toBe(dlqSubject);
    expect(dead.body.data.transferId).toBe('poison');
    expect(dead.headers['Ledger-Attempts']).toBe('3');
    expect(dead.headers['Ledger-Error']).toBe('cannot score this one');
    expect(dead.headers['Ledger-Original-Subject']).toBe(
      `${stream.LEDGER_NATS_SUBJECT_PREFIX}.transfer.TransferPosted`,
    );
    expect(dead.headers['ce-id']).toBe(dead.headers['Ledger-Original-Msg-Id']);

    // t9 came again after its lost ack (it reached beforeAck a second time) and found its msg id in
    // the inbox: its effect counted once.
    await eventually('t9 redelivered after its lost ack', () => lostAcks === 2);
    const exposure = await pool.query('select account_id, moved::text as moved from risk_exposure order by account_id');
    const sums = new Map<string, bigint>();
    for (const transfer of transfers.filter((x) => x.id !== 'poison')) {
      for (const account of [transfer.debitAccountId, transfer.creditAccountId]) {
        sums.set(account, (sums.get(account) ?? 0n) + BigInt(transfer.amount));
      }
    }
    expect(exposure.rows).toEqual(
      [...sums].sort().map(([account_id, moved]) => ({ account_id, moved: moved.toString() })),
    );
    // t5 failed once and went through on its second attempt; rolled-back attempts left nothing.
    const handled = await pool.query<{ msg_id: string; attempt: number }>('select msg_id, attempt from risk_handled');
    expect(new Set(handled.rows.map((r) => r.msg_id)).size).toBe(handled.rows.length);
    const published = await readStream(nc, stream.LEDGER_NATS_STREAM);
    const t5 = published.find((m) => m.body.data.transferId === 't5')!;
    expect(handled.rows.find((r) => r.msg_id === t5.headers['Nats-Msg-Id'])?.attempt).toBe(2);
  });
});
