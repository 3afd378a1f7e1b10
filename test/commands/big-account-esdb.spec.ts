import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AccountStates } from '../../src/commands/account-states';
import { checkAccountSnapshots } from '../../src/commands/snapshot-check';
import { Writer } from '../../src/commands/writer';
import type { TransfersOutcome } from '../../src/commands/write-commands';
import { EsdbEventStore } from '../../src/eventstore/esdb/esdb-event-store';
import { buildBigAccount } from '../support/big-account';
import { FakeKurrentDB } from '../eventstore/fake-kurrentdb';

/**
 * The same guarantee on the EventStoreDB adapter, against the in-memory fake of the client: the
 * snapshot stream is appended in the same appendRecords as the events (ADR 0013). 100,000 entries,
 * not a million: the fake copies and filters its whole log on every $all read (the adapter reads
 * $all back after each append), so its cost grows with the log, which says nothing of the adapter.
 */
const CREDITS = 100_010;
const DEBITS = 10;

/** Counts the records each readStream call hands out, by stream: what a load costs. */
function counting(server: FakeKurrentDB) {
  const read = new Map<string, number>();
  const client = {
    appendRecords: server.appendRecords.bind(server),
    readAll: server.readAll.bind(server),
    readStream: ((streamName: string, options: object) => {
      const inner = server.readStream(streamName, options);
      return (async function* () {
        for await (const record of inner) {
          read.set(streamName, (read.get(streamName) ?? 0) + 1);
          yield record;
        }
      })();
    }) as FakeKurrentDB['readStream'],
  };
  return { client, read };
}

const debit = (id: string, amount: bigint) => ({
  kind: 'transfers' as const,
  atomic: false,
  context: { correlationId: randomUUID(), causationId: randomUUID() },
  commands: [
    {
      commandHash: randomUUID(),
      command: {
        type: 'PostTransfer' as const,
        transferId: id,
        debitAccountId: 'big',
        creditAccountId: 'bank',
        amount,
        currency: 'USD',
        metadata: {},
      },
    },
  ],
});

describe('an account with 100,000 entries on the EventStoreDB adapter (in-memory fake, no server)', () => {
  it('a cold process loads it from its snapshot, refuses the overdraft and spends exactly what is there', async () => {
    const server = new FakeKurrentDB();
    const built = await buildBigAccount(new EsdbEventStore(server), {
      accountId: 'big',
      bankId: 'bank',
      credits: CREDITS,
      debits: DEBITS,
      debitAmount: 10_000n,
      chunk: 25_000,
    });
    expect(built.account.creditsPosted - built.account.debitsPosted).toBe(10n);

    // A second process: its own adapter and an empty cache.
    const { client, read } = counting(server);
    const store = new EsdbEventStore(client);
    const writer = new Writer(store, new AccountStates(store), { batchSizeMax: 100, queueSizeMax: 1000 });
    const overdraft = (await writer.submit(debit('overdraft', 500_000n))) as TransfersOutcome;
    expect(overdraft.items[0]).toMatchObject({ outcome: 'failed', error: { slug: 'insufficient-funds' } });
    expect(String((overdraft.items[0] as { error: { detail: string } }).error.detail)).toMatch(/available 10\b/);
    // O(1): the snapshot's last record and the (empty) rest of the stream, not its 100,000 entries.
    expect(read.get('account-big') ?? 0).toBeLessThanOrEqual(2);
    expect(read.get('ledger-snapshot-account-big')).toBe(1);

    expect((await writer.submit(debit('all-of-it', 10n))).items[0]).toMatchObject({ outcome: 'created' });
    expect((await writer.submit(debit('one-more', 1n))).items[0]).toMatchObject({ outcome: 'failed' });
    await writer.stop();

    // The snapshot the last append kept is what the events fold to, and the balance is their sum.
    const [check] = await checkAccountSnapshots(store, ['big']);
    expect(check).toMatchObject({ verdict: 'matches' });
    expect(check!.folded!.creditsPosted - check!.folded!.debitsPosted).toBe(0n);
    expect(check!.folded!.version).toBe(1 + CREDITS + DEBITS + 1);
  }, 300_000);
});
