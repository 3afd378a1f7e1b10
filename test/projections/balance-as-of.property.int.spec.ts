/**
 * balance(account, asOf = T, knownAt = K) from the time-travel index (ADR 0005, 0020) equals a
 * brute-force oracle computed from the generated commands alone: posted totals, pending totals and
 * `available` (docs/contract.md, "Holds": a hold counts as pending at T as known at K from its
 * effectiveAt and recordedAt, less what its releases took back by then; a post's money is posted at
 * the post's effectiveAt, and it takes back what it posts and releases there; a void's or an
 * expiry's release takes back at its recordedAt). Commands: plain transfers, holds, posts of holds
 * (partial, final or not), voids, expiries and reversals (of transfers and of what holds posted).
 *
 * Histories are random: a few accounts, appends whose recordedAt does not always grow with the
 * position (two writer processes whose clocks disagree), postings backdated by random amounts,
 * projector batches of random sizes (so a late recordedAt can land in a later batch than the rows
 * it must move). T and K are drawn from the same coarse grid as the event times, so they often
 * fall exactly on an effectiveAt or a recordedAt, and one millisecond either side of it.
 *
 * Fixed seed, bounded size: the same histories run in CI every time, in a few seconds.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReplayFold, foldLog } from '../../src/audit/replay';
import { PostgresEventStore } from '../../src/eventstore/postgres-event-store';
import type { EventToAppend } from '../../src/eventstore/port';
import { balanceJson } from '../../src/api/presenters';
import { Projector } from '../../src/projections/projector';
import { ReadModels } from '../../src/projections/queries';
import { createTestDatabase, type TestDatabase } from '../support/database';

const SEED = 20_260_301;
// Each history costs a dozen round trips to PostgreSQL; ORACLE_RUNS=2000 for a longer hunt.
const RUNS = Number(process.env.ORACLE_RUNS ?? 120);
const BASE_MS = Date.parse('2026-03-01T00:00:00.000Z');
const STEP_MS = 1000;
const GRID = 24;

const at = (slot: number, jitterMs = 0) => new Date(BASE_MS + slot * STEP_MS + jitterMs).toISOString();

const transferArb = (accounts: number) =>
  fc
    .record({
      debit: fc.nat({ max: accounts - 1 }),
      offset: fc.integer({ min: 1, max: accounts - 1 }),
      amount: fc.oneof(fc.bigInt({ min: 1n, max: 1000n }), fc.constant((1n << 127n) - 1n)),
      // 0: effective when recorded; otherwise backdated by that many slots (clamped to the opening).
      backdateSlots: fc.oneof(
        { weight: 2, arbitrary: fc.constant(0) },
        { weight: 1, arbitrary: fc.integer({ min: 1, max: GRID }) },
      ),
      backdateJitterMs: fc.integer({ min: 0, max: 2 }),
    })
    .map((t) => ({ ...t, credit: (t.debit + t.offset) % accounts }));

/** Picks among the holds still pending, or the transfers with something left to reverse, by index. */
const pick = fc.nat({ max: 1000 });
const permille = fc.integer({ min: 1, max: 1000 });
const backdate = {
  backdateSlots: fc.oneof(
    { weight: 2, arbitrary: fc.constant(0) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: GRID }) },
  ),
  backdateJitterMs: fc.integer({ min: 0, max: 2 }),
};

const opArb = (accounts: number) =>
  fc.oneof(
    { weight: 3, arbitrary: transferArb(accounts).map((t) => ({ kind: 'transfer' as const, ...t })) },
    {
      weight: 3,
      arbitrary: fc
        .tuple(transferArb(accounts), fc.integer({ min: 1, max: 4 }))
        .map(([t, expiresInSlots]) => ({ kind: 'hold' as const, ...t, expiresInSlots })),
    },
    {
      weight: 3,
      arbitrary: fc.record({ kind: fc.constant('post' as const), pick, permille, final: fc.boolean(), ...backdate }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('void' as const), pick }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('expire' as const), pick }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('reverse' as const), pick, permille, ...backdate }) },
  );

const historyArb = fc.integer({ min: 2, max: 4 }).chain((accounts) =>
  fc.record({
    accounts: fc.constant(accounts),
    appends: fc.array(
      fc.record({
        // recordedAt of the append: mostly later than the one before, sometimes earlier.
        slot: fc.integer({ min: 1, max: GRID }),
        jitterMs: fc.integer({ min: 0, max: 1 }),
        ops: fc.array(opArb(accounts), { minLength: 1, maxLength: 5 }),
      }),
      { minLength: 1, maxLength: 8 },
    ),
    batchSizeMax: fc.integer({ min: 1, max: 12 }),
    queries: fc.array(
      fc.record({
        asOf: fc.tuple(fc.integer({ min: -1, max: GRID + 1 }), fc.integer({ min: -1, max: 2 })),
        knownAt: fc.tuple(fc.integer({ min: -1, max: GRID + 1 }), fc.integer({ min: -1, max: 2 })),
      }),
      { minLength: 4, maxLength: 10 },
    ),
  }),
);

/**
 * What the generated commands did, each once, with its times: what the oracle sums. `moves` are
 * postings (plain, reversal, or a hold's post); `holds` add to pending; `takes` take pending back.
 */
interface Effect {
  readonly debit: string;
  readonly credit: string;
  readonly effectiveAt: string;
  readonly recordedAt: string;
  readonly posted: bigint;
  /** Added to (+) or taken from (−) the pending totals of both sides. */
  readonly pending: bigint;
}

/** A transfer as the generator's model has it, to resolve later commands against. */
interface ModelTransfer {
  readonly id: string;
  readonly debit: string;
  readonly credit: string;
  readonly effectiveAt: string;
  readonly hold: boolean;
  readonly reversal: boolean;
  readonly expiresAt?: string;
  pending: bigint;
  posted: bigint;
  reversed: bigint;
}

/** The oracle: the effects of the generated commands on one account that count at T as known at K. */
function oracle(
  effects: readonly Effect[],
  account: { id: string; normalSide: 'debit' | 'credit' },
  asOf: string,
  knownAt: string,
) {
  let debitsPosted = 0n;
  let creditsPosted = 0n;
  let debitsPending = 0n;
  let creditsPending = 0n;
  for (const effect of effects) {
    if (effect.effectiveAt > asOf || effect.recordedAt > knownAt) continue;
    if (effect.debit === account.id) {
      debitsPosted += effect.posted;
      debitsPending += effect.pending;
    }
    if (effect.credit === account.id) {
      creditsPosted += effect.posted;
      creditsPending += effect.pending;
    }
  }
  const available =
    account.normalSide === 'credit'
      ? creditsPosted - debitsPosted - debitsPending
      : debitsPosted - creditsPosted - creditsPending;
  return {
    debitsPosted: debitsPosted.toString(),
    creditsPosted: creditsPosted.toString(),
    debitsPending: debitsPending.toString(),
    creditsPending: creditsPending.toString(),
    available: available.toString(),
  };
}

const fraction = (amount: bigint, perMille: number) => {
  const part = (amount * BigInt(perMille)) / 1000n;
  return part < 1n ? 1n : part;
};

describe('as-of / known-at balances equal the brute-force oracle over the raw events', () => {
  let tdb: TestDatabase;
  let store: PostgresEventStore;
  let readModels: ReadModels;
  beforeAll(async () => {
    tdb = await createTestDatabase();
    store = new PostgresEventStore(tdb.database.db);
    readModels = new ReadModels(tdb.database.db);
  });
  afterAll(() => tdb.drop());

  it(`holds for ${RUNS} random histories (seed ${SEED})`, async () => {
    let run = 0;
    let compared = 0;
    let backdatedSeen = 0;
    let outOfOrderSeen = 0;
    let holdsSeen = 0;
    let postsSeen = 0;
    let partialPostsSeen = 0;
    let releasesSeen = 0;
    let reversalsSeen = 0;
    await fc.assert(
      fc.asyncProperty(historyArb, async (history) => {
        const prefix = `r${run++}`;
        const ids = Array.from({ length: history.accounts }, (_, i) => `${prefix}-a${i}`);
        const metadata = { correlationId: randomUUID(), causationId: randomUUID() };
        const from = await store.headPosition();
        await store.append({
          events: ids.map((accountId, i) => ({
            eventId: randomUUID(),
            streamId: `account-${accountId}`,
            type: 'AccountOpened',
            data: {
              accountId,
              currency: 'USD',
              normalSide: i % 2 === 0 ? 'credit' : 'debit',
              flags: { debitsMustNotExceedCredits: false, creditsMustNotExceedDebits: false },
              metadata: {},
              openedAt: at(0),
            },
            metadata,
          })),
          expected: new Map(),
          recordedAt: at(0),
        });
        const normalSides = ids.map((_id, i) => (i % 2 === 0 ? ('credit' as const) : ('debit' as const)));
        const effects: Effect[] = [];
        const model: ModelTransfer[] = [];
        let lastRecorded = '';
        // Two projectors on the database take turns by appends (as two processes would), so each
        // one's cache of newest time-index rows (ADR 0038) meets pages the other wrote.
        const projectors = [0, 1].map(
          () => new Projector(tdb.database.db, store, { batchSizeMax: history.batchSizeMax, pollMs: 1000 }),
        );
        for (const [n, append] of history.appends.entries()) {
          const recordedAt = at(append.slot, append.jitterMs);
          if (recordedAt < lastRecorded) outOfOrderSeen++;
          lastRecorded = recordedAt;
          const effectiveFrom = (slots: number, jitterMs: number, notBefore: string) => {
            const backdated = new Date(
              Math.max(BASE_MS, Date.parse(recordedAt) - slots * STEP_MS - jitterMs),
            ).toISOString();
            return backdated < notBefore ? notBefore : backdated;
          };
          const events: EventToAppend[] = [];
          const add = (type: string, streamId: string, data: Record<string, unknown>, alsoIn: string[]) =>
            events.push({ eventId: randomUUID(), streamId, type, data, metadata, alsoIn });
          for (const [k, op] of append.ops.entries()) {
            const id = `${prefix}-${op.kind}${n}-${k}`;
            if (op.kind === 'transfer' || op.kind === 'hold') {
              const debit = ids[op.debit]!;
              const credit = ids[op.credit]!;
              const effectiveAt = effectiveFrom(op.backdateSlots, op.backdateJitterMs, at(0));
              if (effectiveAt < recordedAt) backdatedSeen++;
              const held = op.kind === 'hold';
              const expiresAt = held ? at(append.slot + op.expiresInSlots) : undefined;
              model.push({
                id,
                debit,
                credit,
                effectiveAt,
                hold: held,
                reversal: false,
                ...(expiresAt ? { expiresAt } : {}),
                pending: held ? op.amount : 0n,
                posted: held ? 0n : op.amount,
                reversed: 0n,
              });
              effects.push({
                debit,
                credit,
                effectiveAt,
                recordedAt,
                posted: held ? 0n : op.amount,
                pending: held ? op.amount : 0n,
              });
              add(
                held ? 'TransferPending' : 'TransferPosted',
                `transfer-${id}`,
                {
                  transferId: id,
                  debitAccountId: debit,
                  creditAccountId: credit,
                  amount: op.amount.toString(),
                  currency: 'USD',
                  metadata: {},
                  effectiveAt,
                  ...(expiresAt ? { expiresAt } : {}),
                },
                [`account-${debit}`, `account-${credit}`],
              );
              continue;
            }
            if (op.kind === 'reverse') {
              const reversible = model.filter((t) => !t.reversal && t.posted > t.reversed);
              const original = reversible[op.pick % Math.max(1, reversible.length)];
              if (!original) continue;
              const amount = fraction(original.posted - original.reversed, op.permille);
              const effectiveAt = effectiveFrom(op.backdateSlots, op.backdateJitterMs, original.effectiveAt);
              if (effectiveAt > recordedAt) continue; // its original counts later than this clock: refused
              original.reversed += amount;
              model.push({
                id,
                debit: original.credit,
                credit: original.debit,
                effectiveAt,
                hold: false,
                reversal: true,
                pending: 0n,
                posted: amount,
                reversed: 0n,
              });
              effects.push({
                debit: original.credit,
                credit: original.debit,
                effectiveAt,
                recordedAt,
                posted: amount,
                pending: 0n,
              });
              reversalsSeen++;
              add(
                'TransferReversed',
                `transfer-${id}`,
                {
                  transferId: id,
                  debitAccountId: original.credit,
                  creditAccountId: original.debit,
                  amount: amount.toString(),
                  currency: 'USD',
                  metadata: {},
                  effectiveAt,
                  reverses: original.id,
                  reason: 'refund',
                },
                [`transfer-${original.id}`, `account-${original.credit}`, `account-${original.debit}`],
              );
              continue;
            }
            // A post, void or expiry of a hold still pending.
            const pendingHolds = model.filter((t) => t.hold && t.pending > 0n);
            const hold = pendingHolds[op.pick % Math.max(1, pendingHolds.length)];
            if (!hold) continue;
            const release = {
              transferId: hold.id,
              debitAccountId: hold.debit,
              creditAccountId: hold.credit,
              currency: 'USD',
            };
            const accounts = [`account-${hold.debit}`, `account-${hold.credit}`];
            if (op.kind === 'post') {
              const amount = fraction(hold.pending, op.permille);
              const released = op.final ? hold.pending - amount : 0n;
              const effectiveAt = effectiveFrom(op.backdateSlots, op.backdateJitterMs, hold.effectiveAt);
              if (effectiveAt > recordedAt) continue; // the hold counts later than this clock: refused
              hold.pending -= amount + released;
              hold.posted += amount;
              effects.push({
                debit: hold.debit,
                credit: hold.credit,
                effectiveAt,
                recordedAt,
                posted: amount,
                pending: -(amount + released),
              });
              postsSeen++;
              if (hold.pending > 0n) partialPostsSeen++;
              add(
                'PendingTransferPosted',
                `hold-command-${id}`,
                { ...release, released: released.toString(), postId: id, amount: amount.toString(), effectiveAt },
                [`transfer-${hold.id}`, ...accounts],
              );
            } else {
              const released = hold.pending;
              hold.pending = 0n;
              // A release takes back at its recordedAt.
              effects.push({
                debit: hold.debit,
                credit: hold.credit,
                effectiveAt: recordedAt,
                recordedAt,
                posted: 0n,
                pending: -released,
              });
              releasesSeen++;
              if (op.kind === 'void') {
                add(
                  'PendingTransferVoided',
                  `hold-command-${id}`,
                  { ...release, released: released.toString(), voidId: id },
                  [`transfer-${hold.id}`, ...accounts],
                );
              } else {
                add(
                  'PendingTransferExpired',
                  `transfer-${hold.id}`,
                  { ...release, released: released.toString(), expiresAt: hold.expiresAt! },
                  accounts,
                );
              }
            }
          }
          if (events.length > 0) await store.append({ events, expected: new Map(), recordedAt });
          if (n % 3 !== 2) await projectors[n % 2]!.catchUp();
        }
        holdsSeen += model.filter((t) => t.hold).length;
        await projectors[history.appends.length % 2]!.catchUp();

        for (const [q, query] of history.queries.entries()) {
          const asOf = at(query.asOf[0], query.asOf[1]);
          const knownAt = at(query.knownAt[0], query.knownAt[1]);
          if (q === 0) {
            // The audit replay (from the store alone, ranges read out of order) agrees with the oracle too.
            const fold = new ReplayFold({ asOf, knownAt, accountIds: ids });
            await foldLog(store, fold, { pageSize: 4, from });
            for (const replayed of fold.result()) {
              const { available: _available, ...expected } = oracle(
                effects,
                { id: replayed.accountId, normalSide: replayed.normalSide },
                asOf,
                knownAt,
              );
              expect(
                {
                  debitsPosted: replayed.debitsPosted.toString(),
                  creditsPosted: replayed.creditsPosted.toString(),
                  debitsPending: replayed.debitsPending.toString(),
                  creditsPending: replayed.creditsPending.toString(),
                },
                `replay of ${replayed.accountId}`,
              ).toEqual(expected);
            }
          }
          for (const [i, accountId] of ids.entries()) {
            const fromIndex = await readModels.balanceAt(accountId, asOf, knownAt);
            const expected = oracle(effects, { id: accountId, normalSide: normalSides[i]! }, asOf, knownAt);
            compared++;
            // The answer GET /v1/accounts/{id}/balance?asOf&knownAt gives.
            const answer = fromIndex ? balanceJson(fromIndex, asOf, knownAt) : undefined;
            expect(
              {
                debitsPosted: answer?.debitsPosted,
                creditsPosted: answer?.creditsPosted,
                debitsPending: answer?.debitsPending,
                creditsPending: answer?.creditsPending,
                available: answer?.available,
              },
              `${accountId} asOf ${asOf} knownAt ${knownAt}`,
            ).toEqual(expected);
          }
        }
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    // The generator did reach the cases the index has to get right.
    expect(backdatedSeen).toBeGreaterThan(RUNS / 2);
    expect(outOfOrderSeen).toBeGreaterThan(RUNS / 10);
    expect(compared).toBeGreaterThan(RUNS * 10);
    expect(holdsSeen).toBeGreaterThan(RUNS);
    expect(postsSeen).toBeGreaterThan(RUNS / 2);
    expect(partialPostsSeen).toBeGreaterThan(RUNS / 10);
    expect(releasesSeen).toBeGreaterThan(RUNS / 4);
    expect(reversalsSeen).toBeGreaterThan(RUNS / 2);
  }, 180_000);
});
