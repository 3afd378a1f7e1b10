import { randomUUID } from 'node:crypto';
import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { UndecodableEventError } from '../../src/events/decode';
import { expect as expectRevision } from '../../src/eventstore/port';
import type { PublishAck } from '../../src/messaging/pipelined-publisher';
import { NatsRelay, type RelayOptions } from '../../src/messaging/relay';
import { advisoryLock, processLocalLock } from '../../src/platform/leader-lock';
import { startTestApp, type TestApp } from '../support/app';
import {
  deleteStream,
  eventually,
  natsConnect,
  natsForTests,
  OwnNatsServer,
  readStream,
  type StoredMessage,
  TEST_NATS_URL,
  uniqueStream,
} from '../support/nats';

const nats = natsForTests('relay-faults.int.spec.ts');

function streamSettings(stream: ReturnType<typeof uniqueStream>) {
  return {
    name: stream.LEDGER_NATS_STREAM,
    subjectPrefix: stream.LEDGER_NATS_SUBJECT_PREFIX,
    duplicateWindowMs: 120_000,
    maxAgeMs: 0,
    maxBytes: 0,
    maxMsgs: 0,
    replicas: 1,
  };
}

/** A relay built by hand on a test app's database, as createRelay builds it, with test hooks. */
function relayOn(t: TestApp, stream: ReturnType<typeof uniqueStream>, options: Partial<RelayOptions> = {}) {
  const { db } = t.ledger.database;
  const name = `nats-relay:${stream.LEDGER_NATS_STREAM}`;
  const lock = t.ledger.database.kind === 'pglite' ? processLocalLock(db, name) : advisoryLock(db, name);
  return new NatsRelay(db, t.ledger.store, lock, {
    natsUrl: TEST_NATS_URL,
    stream: streamSettings(stream),
    batchSizeMax: 50,
    pollMs: 10,
    ackTimeoutMs: 5000,
    backoffMaxMs: 200,
    backoffMinMs: 20,
    standbyRetryMs: 50,
    ...options,
  });
}

async function postTransfers(t: TestApp, from: number, count: number, accounts = ['a', 'b', 'c']): Promise<void> {
  const responses = await Promise.all(
    Array.from({ length: count }, (_, k) => {
      const i = from + k;
      return t.request('POST', '/v1/transfers', {
        id: `t${i}`,
        debitAccountId: accounts[i % accounts.length],
        creditAccountId: accounts[(i + 1) % accounts.length],
        amount: '1',
        currency: 'USD',
      });
    }),
  );
  for (const response of responses) expect(response.status).toBe(201);
}

async function openAccounts(t: TestApp, accounts = ['a', 'b', 'c']): Promise<void> {
  for (const id of accounts)
    expect((await t.request('POST', '/v1/accounts', { id, currency: 'USD' })).status).toBe(201);
}

/** Everything appended is in the stream: once each, in log order. */
async function expectExactlyTheLog(t: TestApp, messages: StoredMessage[]): Promise<void> {
  const events = await t.ledger.store.readAll({ after: 0n, limit: 100_000 });
  expect(messages.map((m) => m.headers['Nats-Msg-Id'])).toEqual(events.map((e) => e.eventId));
  expect(messages.map((m) => m.body.position)).toEqual(events.map((e) => e.position.toString()));
}

describe.skipIf(!nats)('NATS relay faults (real NATS)', () => {
  let nc: NatsConnection;
  const cleanup: Array<() => Promise<unknown>> = [];
  beforeAll(async () => {
    nc = await natsConnect();
  });
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step().catch(() => {});
  });
  afterAll(() => nc?.close());

  it('a relay killed between publish and checkpoint: the next one re-publishes and JetStream drops the repeats', async () => {
    const stream = uniqueStream();
    const t = await startTestApp({ LEDGER_ROLES: 'api' });
    cleanup.push(
      () => t.close(),
      () => deleteStream(nc, stream.LEDGER_NATS_STREAM),
    );
    await openAccounts(t);
    await postTransfers(t, 0, 30);
    const head = await t.ledger.store.headPosition();

    // The first relay publishes a batch, sees every ack, and dies before its checkpoint moves.
    let crashedAfter = 0;
    const first: NatsRelay = relayOn(t, stream, {
      batchSizeMax: 20,
      beforeCheckpoint: async (events) => {
        crashedAfter = events.length;
        void first.stop();
        throw new Error('killed between publish and checkpoint');
      },
    });
    first.start();
    await eventually('the first relay to die', () => crashedAfter > 0 && !first.isRunning);
    await first.stop();
    expect(first.checkpoint).toBe(0n);
    expect(crashedAfter).toBe(20);
    // What the first relay got into the stream before it died (its next batch may be there too).
    const storedBeforeCrash = (await readStream(nc, stream.LEDGER_NATS_STREAM)).length;
    expect(storedBeforeCrash).toBeGreaterThanOrEqual(20);

    const acks: PublishAck[] = [];
    const second = relayOn(t, stream, { onPublished: (_events, batch) => acks.push(...batch) });
    second.start();
    cleanup.push(() => second.stop());
    await eventually('the second relay at the head', () => second.checkpoint === head);
    // The second relay started from checkpoint 0: what the first had stored came again, and was dropped.
    expect(acks.filter((ack) => ack.duplicate)).toHaveLength(storedBeforeCrash);
    expect(acks.filter((ack) => !ack.duplicate)).toHaveLength(Number(head) - storedBeforeCrash);
    await expectExactlyTheLog(t, await readStream(nc, stream.LEDGER_NATS_STREAM));
  });

  it('a recorded event that does not decode stops the relay there, named: the pages before it are published, nothing from it on', async () => {
    const stream = uniqueStream();
    const t = await startTestApp({ LEDGER_ROLES: 'api' });
    cleanup.push(
      () => t.close(),
      () => deleteStream(nc, stream.LEDGER_NATS_STREAM),
    );
    await openAccounts(t);
    await postTransfers(t, 0, 5);
    // Behind the API's back: an AccountOpened without its currency, which its published schema requires.
    const bad = await t.ledger.store.append({
      events: [
        {
          eventId: randomUUID(),
          streamId: 'account-bad',
          type: 'AccountOpened',
          data: {
            accountId: 'bad',
            normalSide: 'credit',
            flags: { debitsMustNotExceedCredits: false, creditsMustNotExceedDebits: false },
            metadata: {},
            openedAt: new Date().toISOString(),
          },
          metadata: { correlationId: randomUUID(), causationId: randomUUID() },
        },
      ],
      expected: new Map([['account-bad', expectRevision.noStream]]),
      recordedAt: new Date().toISOString(),
    });
    await postTransfers(t, 5, 5);
    const failures: unknown[] = [];
    // Pages of one event: the page that holds it is the event itself (a page is published whole or not at all).
    const relay = relayOn(t, stream, { batchSizeMax: 1, onFailure: (error) => failures.push(error) });
    relay.start();
    cleanup.push(() => relay.stop());
    await eventually('the relay to fail on the event', () => failures.length >= 2);
    expect(failures[0]).toBeInstanceOf(UndecodableEventError);
    expect(String(failures[0])).toBe(
      `UndecodableEventError: recorded event AccountOpened at position ${bad.position} in account-bad does not decode: currency: Invalid input: expected string, received undefined`,
    );
    // It tried again and stayed there: never past the event, never skipping it.
    expect(failures.every((error) => error instanceof UndecodableEventError)).toBe(true);
    expect(relay.checkpoint).toBe(bad.position - 1n);
    const published = await readStream(nc, stream.LEDGER_NATS_STREAM);
    expect(published.map((m) => BigInt(m.body.position))).toEqual(
      Array.from({ length: Number(bad.position) - 1 }, (_, i) => BigInt(i + 1)),
    );
  });

  it('a relay whose checkpoint write fails retries the batch itself; the stream keeps each event once', async () => {
    const stream = uniqueStream();
    const t = await startTestApp({ LEDGER_ROLES: 'api' });
    cleanup.push(
      () => t.close(),
      () => deleteStream(nc, stream.LEDGER_NATS_STREAM),
    );
    await openAccounts(t);
    await postTransfers(t, 0, 40);
    let failures = 0;
    const acks: PublishAck[] = [];
    const relay = relayOn(t, stream, {
      beforeCheckpoint: async () => {
        if (failures++ < 3) throw new Error('database went away');
      },
      onPublished: (_events, batch) => acks.push(...batch),
    });
    relay.start();
    cleanup.push(() => relay.stop());
    const head = await t.ledger.store.headPosition();
    await eventually('the relay at the head', () => relay.checkpoint === head);
    expect(failures).toBeGreaterThan(3);
    expect(acks.some((ack) => ack.duplicate)).toBe(true);
    await expectExactlyTheLog(t, await readStream(nc, stream.LEDGER_NATS_STREAM));
  });

  it('one relay publishes at a time; when it stops, the standby takes over from the checkpoint', async () => {
    const stream = uniqueStream();
    const t = await startTestApp({ LEDGER_ROLES: 'api' });
    cleanup.push(
      () => t.close(),
      () => deleteStream(nc, stream.LEDGER_NATS_STREAM),
    );
    const relays = [relayOn(t, stream), relayOn(t, stream)];
    for (const relay of relays) {
      relay.start();
      cleanup.push(() => relay.stop());
    }
    const [active, standby] = await eventually('one active relay and one standby', () => {
      const states = relays.map((r) => r.state).sort();
      return states[0] === 'active' && states[1] === 'standby'
        ? [relays.find((r) => r.state === 'active')!, relays.find((r) => r.state === 'standby')!]
        : false;
    });
    await openAccounts(t);
    await postTransfers(t, 0, 30);
    let head = await t.ledger.store.headPosition();
    await eventually('the active relay at the head', () => active.checkpoint === head);
    expect(standby.state).toBe('standby');

    await active.stop();
    await postTransfers(t, 30, 30);
    head = await t.ledger.store.headPosition();
    await eventually(
      'the standby, now active, at the head',
      () => standby.state === 'active' && standby.checkpoint === head,
    );
    await expectExactlyTheLog(t, await readStream(nc, stream.LEDGER_NATS_STREAM));
  });
});

describe.skipIf(!nats)('NATS outage (a nats-server of the test’s own, killed and restarted)', () => {
  let server: OwnNatsServer;
  let t: TestApp;
  let nc: NatsConnection | undefined;
  beforeAll(async () => {
    server = await OwnNatsServer.create();
  });
  afterAll(async () => {
    await nc?.close().catch(() => {});
    await t?.close();
    await server.dispose();
  });

  it('NATS down at start and for a while mid-stream: the ledger keeps posting, readiness says down, then every event arrives once, in order', async () => {
    const stream = uniqueStream();
    // NATS is not there yet when the ledger starts.
    t = await startTestApp({
      LEDGER_ROLES: 'api,projector,relay',
      NATS_URL: server.url,
      ...stream,
      LEDGER_RELAY_BACKOFF_MAX_MS: '300',
      LEDGER_RELAY_ACK_TIMEOUT_MS: '1000',
      LEDGER_RELAY_BATCH_MAX: '100',
    });
    await openAccounts(t);
    await postTransfers(t, 0, 50);
    const down = await eventually('relay readiness down', async () => {
      const ready = await t.request('GET', '/health/ready');
      return ready.body.checks.relay.status === 'down' ? ready : false;
    });
    expect(down.status).toBe(503);
    expect(down.body.checks.relay.error).toEqual(expect.any(String));

    // The lag is visible while NATS is away: every event is behind, and the oldest is this old at least.
    const head = await t.ledger.store.headPosition();
    const [oldest] = await t.ledger.store.readAll({ after: 0n, limit: 1 });
    const scrapedAt = Date.now();
    const metrics = (await t.request('GET', '/metrics')).text;
    expect(metrics).toMatch(new RegExp(`^ledger_relay_lag_positions ${head}$`, 'm'));
    const lagSeconds = Number(/^ledger_relay_lag_seconds (\S+)$/m.exec(metrics)![1]);
    expect(lagSeconds).toBeGreaterThanOrEqual((scrapedAt - Date.parse(oldest!.recordedAt)) / 1000);

    await server.start();
    await eventually(
      'relay caught up after NATS came',
      async () => t.ledger.relay!.checkpoint === (await t.ledger.store.headPosition()),
    );
    expect((await t.request('GET', '/health/ready')).body.checks.relay.status).toBe('up');

    // NATS vanishes while transfers keep coming.
    const writing = (async () => {
      for (let round = 0; round < 6; round++) await postTransfers(t, 50 + round * 20, 20);
    })();
    await server.kill();
    await eventually(
      'relay readiness down again',
      async () => (await t.request('GET', '/health/ready')).body.checks.relay.status === 'down',
    );
    await writing;
    await postTransfers(t, 200, 20);
    expect(t.ledger.relay!.checkpoint).toBeLessThan(await t.ledger.store.headPosition());

    // NATS comes back on the same port and store: everything arrives, once, in log order.
    await server.start();
    const finalHead = await t.ledger.store.headPosition();
    await eventually('relay caught up after the outage', () => t.ledger.relay!.checkpoint === finalHead, 60_000);
    expect((await t.request('GET', '/health/ready')).body.checks.relay.status).toBe('up');
    nc = await natsConnect(server.url);
    await expectExactlyTheLog(t, await readStream(nc, stream.LEDGER_NATS_STREAM));
    const after = (await t.request('GET', '/metrics')).text;
    expect(after).toMatch(/^ledger_relay_lag_positions 0$/m);
    expect(after).toMatch(/^ledger_relay_lag_seconds 0$/m);
  });
});
