import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountStates } from '../../src/commands/account-states';
import { Writer } from '../../src/commands/writer';
import type { OpenAccount } from '../../src/domain/account';
import { EsdbEventStore } from '../../src/eventstore/esdb/esdb-event-store';
import { Projector } from '../../src/projections/projector';
import { ReadModels } from '../../src/projections/queries';
import { FakeKurrentDB } from '../eventstore/fake-kurrentdb';
import { type TestDatabase, createTestDatabase } from '../support/database';

/**
 * The write path and the projector over the EventStoreDB adapter, with the read models and the
 * checkpoint in the real PostgreSQL. The event store is the in-memory fake of the client (no
 * EventStoreDB can run here): what this proves is the PostgreSQL side, which must hold $all
 * positions packed into 128 bits (ADR 0007), and that the writer works through the adapter.
 */
describe('write path and projector on the EventStoreDB adapter (fake client), read models in PostgreSQL', () => {
  let tdb: TestDatabase;
  beforeAll(async () => {
    tdb = await createTestDatabase();
  });
  afterAll(async () => {
    await tdb?.drop();
  });

  it('posts, projects and checkpoints positions beyond 2^64, and retries stay idempotent', async () => {
    const store = new EsdbEventStore(new FakeKurrentDB());
    const writer = new Writer(store, new AccountStates(store), { batchSizeMax: 100, queueSizeMax: 1000 });
    const projector = new Projector(tdb.database.db, store, { batchSizeMax: 50, pollMs: 10 });
    const readModels = new ReadModels(tdb.database.db);
    const context = { correlationId: randomUUID(), causationId: randomUUID() };
    const open = (accountId: string, normalSide: 'debit' | 'credit'): OpenAccount => ({
      type: 'OpenAccount',
      accountId,
      currency: 'USD',
      normalSide,
      flags: { debitsMustNotExceedCredits: normalSide === 'credit', creditsMustNotExceedDebits: false },
      metadata: {},
    });
    await writer.submit({ kind: 'open', command: open('bank', 'debit'), commandHash: 'h-bank', context });
    await writer.submit({ kind: 'open', command: open('alice', 'credit'), commandHash: 'h-alice', context });
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
    const posted = await writer.submit({
      kind: 'transfers',
      commands: [
        transfer('t-1', 'bank', 'alice', 1050n),
        transfer('t-2', 'alice', 'bank', 50n),
        transfer('t-3', 'alice', 'bank', 5000n),
      ],
      atomic: false,
      context,
    });
    expect(posted.items.map((i) => (i.outcome === 'failed' ? i.error.slug : i.outcome))).toEqual([
      'created',
      'created',
      'insufficient-funds',
    ]);
    expect(posted.position).toBeGreaterThan(1n << 64n);

    const again = await writer.submit({
      kind: 'transfers',
      commands: [transfer('t-1', 'bank', 'alice', 1050n)],
      atomic: false,
      context,
    });
    expect(again.items[0]).toMatchObject({
      outcome: 'duplicate',
      transfer: { position: (posted.items[0] as { transfer: { position: bigint } }).transfer.position },
    });

    expect(await projector.catchUp()).toBe(4);
    expect(await readModels.checkpoint()).toBe(posted.position);
    expect(await readModels.checkpoint()).toBe(await store.headPosition());
    const alice = await readModels.account('alice');
    expect(alice).toMatchObject({ creditsPosted: 1050n, debitsPosted: 50n });
    expect((await readModels.transfer('t-2'))?.position).toBe(
      (posted.items[1] as { transfer: { position: bigint } }).transfer.position,
    );
    await writer.stop();
  });
});
