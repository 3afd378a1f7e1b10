import { randomUUID } from 'node:crypto';
import { KurrentDBClient } from '@kurrent/kurrentdb-client';
import { afterAll, describe, expect, it } from 'vitest';
import { AccountStates } from '../../src/commands/account-states';
import type { CommandContext, HoldOutcome, ReverseOutcome, WriteJob } from '../../src/commands/write-commands';
import { Writer } from '../../src/commands/writer';
import type { HoldCommand } from '../../src/domain/hold';
import { EsdbEventStore } from '../../src/eventstore/esdb/esdb-event-store';
import type { EventStore } from '../../src/eventstore/port';
import { PostgresEventStore } from '../../src/eventstore/postgres-event-store';
import { Projector } from '../../src/projections/projector';
import { ReadModels } from '../../src/projections/queries';
import { FakeKurrentDB } from '../eventstore/fake-kurrentdb';
import { type TestDatabase, createTestDatabase } from '../support/database';
import { openJob, transferJob } from '../support/write-jobs';

/**
 * The rules of holds and reversals through the writer, on every event-store adapter (ADR 0020:
 * the guarantees come through the port alone, links and expected revisions): PostgreSQL, and the
 * EventStoreDB adapter over its in-memory fake client (no EventStoreDB runs here), or over a real
 * one at ESDB_URL. "Two processes" are two writers, each with its own adapter and caches, on one store.
 */
interface StoreUnderTest {
  /** A new adapter on the same store: another process. */
  open(): EventStore;
  /** A PostgreSQL schema for read models that follow this store from its start; none where the log is not fresh. */
  readModels?: () => Promise<TestDatabase>;
  close(): Promise<void>;
}

const stores: Array<[string, () => Promise<StoreUnderTest>]> = [
  [
    'PostgreSQL',
    async () => {
      const tdb: TestDatabase = await createTestDatabase();
      return {
        open: () => new PostgresEventStore(tdb.database.db),
        readModels: async () => tdb,
        close: () => tdb.drop(),
      };
    },
  ],
  [
    'EventStoreDB adapter, in-memory fake client',
    async () => {
      const server = new FakeKurrentDB();
      let tdb: TestDatabase | undefined;
      return {
        open: () => new EsdbEventStore(server),
        readModels: async () => (tdb ??= await createTestDatabase()),
        close: async () => {
          await tdb?.drop();
        },
      };
    },
  ],
];
const esdbUrl = process.env.ESDB_URL;
if (esdbUrl) {
  stores.push([
    `EventStoreDB at ${esdbUrl.replace(/\/\/[^@/]*@/, '//')}`,
    async () => {
      const clients: KurrentDBClient[] = [];
      return {
        open: () => {
          const client = KurrentDBClient.connectionString(esdbUrl);
          clients.push(client);
          return new EsdbEventStore(client);
        },
        close: async () => {
          await Promise.all(clients.map((c) => c.dispose()));
        },
      };
    },
  ]);
} else {
  console.log('[tests] holds on a real EventStoreDB skipped: ESDB_URL is not set (the fake client runs them)');
}

describe.each(stores)('holds and reversals through the writer: %s', (_name, make) => {
  let under: StoreUnderTest | undefined;
  const writers: Writer[] = [];
  // Ids unique per run: a real EventStoreDB keeps its streams between runs.
  const run = randomUUID().slice(0, 8);
  const id = (name: string) => `${name}-${run}`;
  const context: CommandContext = { correlationId: `holds-${run}`, causationId: `holds-${run}` };

  afterAll(async () => {
    await Promise.all(writers.map((w) => w.stop()));
    await under?.close();
  });

  /** A writer of its own: a process. */
  async function startProcess(): Promise<{ writer: Writer; store: EventStore }> {
    under ??= await make();
    const store = under.open();
    const writer = new Writer(store, new AccountStates(store), { batchSizeMax: 100, queueSizeMax: 10_000 });
    writers.push(writer);
    return { writer, store };
  }

  /** An account as a fresh process loads it from the store. */
  async function accountOf(accountId: string) {
    const states = new AccountStates((await startProcess()).store);
    await states.ensure([accountId]);
    return states.get(accountId)!.account;
  }

  const open = (w: Writer, accountId: string, guarded = false) => w.submit(openJob(accountId, context, { guarded }));
  const transfer = (w: Writer, id: string, debit: string, credit: string, amount: bigint, pending = false) =>
    w.submit(
      transferJob({ id, debit, credit, amount, pending }, context, {
        commandHash: `transfer-${id}-${amount}-${pending}`,
      }),
    );
  /** The command hash stands for the body: the same id and body is a repeat, another body a conflict. */
  const hold = (
    w: Writer,
    command: HoldCommand,
    body = JSON.stringify(command, (_k, v) => (typeof v === 'bigint' ? `${v}` : v)),
  ) =>
    w.submit({ kind: 'hold', command, commandHash: body, context } as Extract<
      WriteJob,
      { kind: 'hold' }
    >) as Promise<HoldOutcome>;
  const reverse = (w: Writer, reversalId: string, transferId: string, amount: bigint) =>
    w.submit({
      kind: 'reverse',
      command: { type: 'ReverseTransfer', reversalId, transferId, amount, reason: 'refund' },
      commandHash: `reverse-${reversalId}-${amount}`,
      context,
    }) as Promise<ReverseOutcome>;

  it('a hold reserves, a partial post keeps the rest held, a post of more is refused, a void releases the rest', async () => {
    const { writer } = await startProcess();
    const [card, shop, bank] = [id('card'), id('shop'), id('bank')];
    await open(writer, card, true);
    await open(writer, shop);
    await open(writer, bank);
    expect((await transfer(writer, id('fund'), bank, card, 100n)).items[0]).toMatchObject({ outcome: 'created' });
    const held = await transfer(writer, id('auth'), card, shop, 80n, true);
    expect(held.items[0]).toMatchObject({
      outcome: 'created',
      transfer: { state: { status: 'pending', pendingAmount: 80n } },
    });
    // The bound counts the hold: 20 left to spend.
    expect((await transfer(writer, id('over'), card, bank, 21n)).items[0]).toMatchObject({
      outcome: 'failed',
      error: { slug: 'insufficient-funds' },
    });
    expect(await accountOf(card)).toMatchObject({ debitsPending: 80n, debitsPosted: 0n, creditsPosted: 100n });

    const partial = await hold(writer, {
      type: 'PostPendingTransfer',
      postId: id('cap-1'),
      transferId: id('auth'),
      amount: 50n,
      final: false,
    });
    expect(partial).toMatchObject({
      outcome: 'applied',
      transfer: { state: { status: 'pending', pendingAmount: 30n, postedAmount: 50n } },
    });
    const more = await hold(writer, {
      type: 'PostPendingTransfer',
      postId: id('cap-2'),
      transferId: id('auth'),
      amount: 31n,
      final: false,
    });
    expect(more).toMatchObject({ slug: 'exceeds-pending' });
    const voided = await hold(writer, { type: 'VoidPendingTransfer', voidId: id('void-1'), transferId: id('auth') });
    expect(voided).toMatchObject({
      outcome: 'applied',
      transfer: { state: { status: 'posted', pendingAmount: 0n, postedAmount: 50n } },
    });
    const late = await hold(writer, {
      type: 'PostPendingTransfer',
      postId: id('cap-3'),
      transferId: id('auth'),
      amount: 1n,
      final: true,
    });
    expect(late).toMatchObject({ slug: 'transfer-not-pending' });
    expect(await accountOf(card)).toMatchObject({ debitsPending: 0n, debitsPosted: 50n });
    expect(await accountOf(shop)).toMatchObject({ creditsPending: 0n, creditsPosted: 50n });
  });

  it('posts and voids are idempotent by their id, from any process: the first answer again, another body a conflict', async () => {
    const { writer } = await startProcess();
    const { writer: other } = await startProcess();
    const [a, b] = [id('idem-a'), id('idem-b')];
    await open(writer, a);
    await open(writer, b);
    await transfer(writer, id('idem-hold'), a, b, 90n, true);
    const post = {
      type: 'PostPendingTransfer' as const,
      postId: id('idem-post'),
      transferId: id('idem-hold'),
      amount: 40n,
      final: false,
    };
    const first = await hold(writer, post);
    expect(first).toMatchObject({ outcome: 'applied', transfer: { state: { pendingAmount: 50n } } });
    // Another post moves the hold on; the repeat still answers the hold as the first post left it.
    await hold(writer, { ...post, postId: id('idem-post-2'), amount: 10n });
    const again = await hold(other, post);
    expect(again).toMatchObject({
      outcome: 'duplicate',
      transfer: { state: { pendingAmount: 50n, postedAmount: 40n } },
    });
    expect((again as { transfer: { position: bigint } }).transfer.position).toBe(
      (first as { transfer: { position: bigint } }).transfer.position,
    );
    expect(await hold(other, { ...post, amount: 41n })).toMatchObject({ slug: 'idempotency-conflict' });
    // The same hold again is a repeat too.
    expect((await transfer(other, id('idem-hold'), a, b, 90n, true)).items[0]).toMatchObject({ outcome: 'duplicate' });
    expect(await accountOf(a)).toMatchObject({ debitsPending: 40n, debitsPosted: 50n });
  });

  it('a post and a void racing from two processes: exactly one wins, and the accounts agree with it', async () => {
    const { writer } = await startProcess();
    const { writer: other } = await startProcess();
    const [a, b] = [id('race-a'), id('race-b')];
    await open(writer, a);
    await open(writer, b);
    for (let i = 0; i < 8; i++) await transfer(writer, id(`race-hold-${i}`), a, b, 10n, true);
    // The other process caches the holds first (an expiry of a hold without expiresAt does nothing),
    // so each process decides on state the other then moves.
    const cached = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        hold(other, { type: 'ExpirePendingTransfer', transferId: id(`race-hold-${i}`) }),
      ),
    );
    expect(cached.every((o) => 'outcome' in o && o.outcome === 'nothing')).toBe(true);
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, (_, i) => [
        hold(writer, {
          type: 'PostPendingTransfer',
          postId: id(`race-post-${i}`),
          transferId: id(`race-hold-${i}`),
          final: true,
        }),
        hold(other, { type: 'VoidPendingTransfer', voidId: id(`race-void-${i}`), transferId: id(`race-hold-${i}`) }),
      ]).flat(),
    );
    let posted = 0n;
    for (let i = 0; i < 8; i++) {
      const [post, voided] = [outcomes[2 * i]!, outcomes[2 * i + 1]!];
      const won = [post, voided].filter((o) => 'outcome' in o && o.outcome === 'applied');
      expect(won, `hold ${i}`).toHaveLength(1);
      expect([post, voided].filter((o) => 'slug' in o && o.slug === 'transfer-not-pending')).toHaveLength(1);
      if (won[0] === post) posted += 10n;
    }
    expect(await accountOf(a)).toMatchObject({ debitsPending: 0n, debitsPosted: posted });
    expect(await accountOf(b)).toMatchObject({ creditsPending: 0n, creditsPosted: posted });
  });

  it('reversals racing from two processes never reverse more than was posted', async () => {
    const { writer } = await startProcess();
    const { writer: other } = await startProcess();
    const [a, b] = [id('rev-a'), id('rev-b')];
    await open(writer, a);
    await open(writer, b);
    await transfer(writer, id('sale'), a, b, 100n);
    await reverse(other, id('refund-first'), id('sale'), 1n); // the other process caches the sale
    const outcomes = await Promise.all(
      Array.from({ length: 12 }, (_, i) => reverse(i % 2 === 0 ? writer : other, id(`refund-${i}`), id('sale'), 15n)),
    );
    const created = outcomes.filter((o) => 'outcome' in o && o.outcome === 'created');
    // 99 left after the first refund: six of 15 fit, the rest are refused.
    expect(created).toHaveLength(6);
    expect(outcomes.filter((o) => 'slug' in o && o.slug === 'exceeds-reversible')).toHaveLength(6);
    expect(await accountOf(a)).toMatchObject({ debitsPosted: 100n, creditsPosted: 91n });
    // Of a hold, only what its posts moved can be reversed.
    await transfer(writer, id('rev-hold'), a, b, 30n, true);
    expect(await reverse(writer, id('refund-hold-0'), id('rev-hold'), 1n)).toMatchObject({
      slug: 'exceeds-reversible',
    });
    await hold(other, {
      type: 'PostPendingTransfer',
      postId: id('rev-hold-post'),
      transferId: id('rev-hold'),
      amount: 12n,
      final: true,
    });
    expect(await reverse(writer, id('refund-hold-1'), id('rev-hold'), 13n)).toMatchObject({
      slug: 'exceeds-reversible',
    });
    expect(await reverse(writer, id('refund-hold-2'), id('rev-hold'), 12n)).toMatchObject({ outcome: 'created' });
  });

  it('the projector derives pending totals and hold states from this store alone', async (ctx) => {
    const { writer, store } = await startProcess();
    if (!under!.readModels) return ctx.skip();
    const [a, b] = [id('rm-a'), id('rm-b')];
    await open(writer, a);
    await open(writer, b);
    await transfer(writer, id('rm-hold'), a, b, 70n, true);
    await transfer(writer, id('rm-hold-2'), a, b, 5n, true);
    await hold(writer, {
      type: 'PostPendingTransfer',
      postId: id('rm-post'),
      transferId: id('rm-hold'),
      amount: 20n,
      final: false,
    });
    await hold(writer, { type: 'VoidPendingTransfer', voidId: id('rm-void'), transferId: id('rm-hold-2') });
    await reverse(writer, id('rm-refund'), id('rm-hold'), 5n);
    const tdb = await under!.readModels();
    await new Projector(tdb.database.db, store, { batchSizeMax: 3, pollMs: 10 }).catchUp();
    const readModels = new ReadModels(tdb.database.db);
    expect(await readModels.account(a)).toMatchObject({ debitsPending: 50n, debitsPosted: 20n, creditsPosted: 5n });
    expect(await readModels.account(b)).toMatchObject({ creditsPending: 50n, creditsPosted: 20n, debitsPosted: 5n });
    expect(await readModels.transfer(id('rm-hold'))).toMatchObject({
      status: 'pending',
      pendingAmount: 50n,
      postedAmount: 20n,
      reversedAmount: 5n,
    });
    expect(await readModels.transfer(id('rm-hold-2'))).toMatchObject({ status: 'voided', pendingAmount: 0n });
  });
});
