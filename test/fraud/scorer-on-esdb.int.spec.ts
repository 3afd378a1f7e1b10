import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountStates } from '../../src/commands/account-states';
import { Writer } from '../../src/commands/writer';
import type { OpenAccount } from '../../src/domain/account';
import { loadConfig } from '../../src/config';
import { EsdbEventStore } from '../../src/eventstore/esdb/esdb-event-store';
import { expect as expectRevision } from '../../src/eventstore/port';
import { FraudStore } from '../../src/fraud/fraud-store';
import { createFraudRole } from '../../src/fraud/fraud-role';
import { Metrics } from '../../src/platform/metrics';
import { FakeKurrentDB } from '../eventstore/fake-kurrentdb';
import { type TestDatabase, createTestDatabase } from '../support/database';

/**
 * The `fraud` role over the EventStoreDB adapter (the in-memory fake of the client: no EventStoreDB
 * runs here), with its checkpoint, feature state and dead letters in the real PostgreSQL. $all
 * positions pack (commit, prepare) into 128 bits (ADR 0007): every position the scorer keeps is
 * beyond 2^64, so a bigint column or cast anywhere on its path fails this test.
 */
describe('the fraud role on the EventStoreDB adapter (fake client)', () => {
  let tdb: TestDatabase;
  beforeAll(async () => {
    tdb = await createTestDatabase();
  });
  afterAll(async () => {
    await tdb?.drop();
  });

  it('scores every transfer once and keeps checkpoint, feature state and dead letters at positions beyond 2^64', async () => {
    const store = new EsdbEventStore(new FakeKurrentDB());
    // What the writer committed, by event type: the scores must come through it (one append path).
    const committedTypes: string[] = [];
    const writer = new Writer(store, new AccountStates(store), {
      batchSizeMax: 100,
      queueSizeMax: 1000,
      onSettled: (job) => {
        if (job.kind === 'fraud') committedTypes.push(...job.commands.map((c) => c.command.type));
      },
    });
    const config = loadConfig({ ...tdb.env, LEDGER_ROLES: 'fraud', FRAUD_POISON_ATTEMPTS: '1', FRAUD_WORKERS: '1' });
    const fraud = await createFraudRole({
      config,
      db: tdb.database.db,
      store,
      writer,
      metrics: new Metrics(),
      log: () => {},
      warn: () => {},
      consumerOptions: { batchSizeMax: 3 },
    });
    try {
      const context = { correlationId: randomUUID(), causationId: randomUUID() };
      const open = (accountId: string): OpenAccount => ({
        type: 'OpenAccount',
        accountId,
        currency: 'USD',
        normalSide: 'debit',
        flags: { debitsMustNotExceedCredits: false, creditsMustNotExceedDebits: false },
        metadata: {},
      });
      for (const id of ['bank', 'ann', 'bo'])
        await writer.submit({ kind: 'open', command: open(id), commandHash: `h-${id}`, context });
      const transfer = (transferId: string, debitAccountId: string, creditAccountId: string, amount: bigint) => ({
        command: {
          type: 'PostTransfer' as const,
          transferId,
          debitAccountId,
          creditAccountId,
          amount,
          currency: 'USD',
          metadata: {},
        },
        commandHash: `h-${transferId}`,
      });
      await writer.submit({
        kind: 'transfers',
        commands: [transfer('e-1', 'bank', 'ann', 1000n), transfer('e-2', 'bank', 'bo', 2500n)],
        atomic: false,
        context,
      });
      // A TransferPosted the scorer cannot read: dead-lettered at its (128-bit) position.
      await store.append({
        events: [
          {
            eventId: randomUUID(),
            streamId: 'transfer-e-poison',
            type: 'TransferPosted',
            data: {
              transferId: 'e-poison',
              debitAccountId: 'bank',
              creditAccountId: 'ann',
              amount: 5,
              currency: 'USD',
            },
            metadata: context,
          },
        ],
        expected: new Map([['transfer-e-poison', expectRevision.noStream]]),
        recordedAt: new Date().toISOString(),
      });
      await writer.submit({
        kind: 'transfers',
        commands: [transfer('e-3', 'ann', 'bo', 300n)],
        atomic: false,
        context,
      });

      await fraud.consumer.catchUp();
      const head = await store.headPosition();
      expect(head).toBeGreaterThan(1n << 64n);
      expect(fraud.consumer.checkpoint).toBe(head);
      const [checkpoint] = await tdb.query<{ position: string }>(
        `select position::text as position from checkpoints where name = 'fraud-scorer'`,
      );
      expect(BigInt(checkpoint!.position)).toBe(head);

      const scored = (await store.readAll({ after: 0n, limit: 100 })).filter((e) => e.type === 'FraudScored');
      expect(scored.map((e) => e.data.transferId).sort()).toEqual(['e-1', 'e-2', 'e-3']);
      expect(scored.every((e) => e.position > 1n << 64n)).toBe(true);
      expect(committedTypes).toEqual(['RecordScore', 'RecordScore', 'RecordScore']);
      for (const e of scored) {
        expect(e.metadata).toMatchObject({ actor: 'fraud-scorer' });
        expect(e.data).toMatchObject({ featuresSha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
      }

      const profiles = await tdb.query<{ position: string }>(`select position::text as position from fraud_profiles`);
      expect(profiles.length).toBe(3);
      for (const row of profiles) expect(BigInt(row.position)).toBeGreaterThan(1n << 64n);
      const [letter] = await new FraudStore(tdb.database.db).listDeadLetters({ limit: 10 });
      expect(letter).toMatchObject({ transferId: 'e-poison', status: 'dead' });
      expect(letter!.position).toBeGreaterThan(1n << 64n);

      // Read again from the stored checkpoint (a restart): nothing is scored twice.
      await fraud.consumer.catchUp();
      expect((await store.readAll({ after: 0n, limit: 100 })).filter((e) => e.type === 'FraudScored')).toHaveLength(3);
    } finally {
      await fraud.close();
      await writer.stop();
    }
  });
});
