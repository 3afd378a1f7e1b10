/**
 * balance(account, asOf = T, knownAt = K) from the time-travel index (ADR 0005) equals a brute-force
 * oracle that sums the raw events of the store: postings with effectiveAt <= T and recordedAt <= K.
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
import type { RecordedEvent } from '../../src/eventstore/port';
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

const historyArb = fc.integer({ min: 2, max: 4 }).chain((accounts) =>
  fc.record({
    accounts: fc.constant(accounts),
    appends: fc.array(
      fc.record({
        // recordedAt of the append: mostly later than the one before, sometimes earlier.
        slot: fc.integer({ min: 1, max: GRID }),
        jitterMs: fc.integer({ min: 0, max: 1 }),
        transfers: fc.array(transferArb(accounts), { minLength: 1, maxLength: 4 }),
      }),
      { minLength: 1, maxLength: 6 },
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

/** The oracle: sum the raw TransferPosted events of one account, effective by T and recorded by K. */
function oracle(events: readonly RecordedEvent[], accountId: string, asOf: string, knownAt: string) {
  let debits = 0n;
  let credits = 0n;
  for (const event of events) {
    if (event.type !== 'TransferPosted') continue;
    const data = event.data as { debitAccountId: string; creditAccountId: string; amount: string; effectiveAt: string };
    if (data.effectiveAt > asOf || event.recordedAt > knownAt) continue;
    if (data.debitAccountId === accountId) debits += BigInt(data.amount);
    if (data.creditAccountId === accountId) credits += BigInt(data.amount);
  }
  return { debitsPosted: debits, creditsPosted: credits };
}

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
        let lastRecorded = '';
        for (const [n, append] of history.appends.entries()) {
          const recordedAt = at(append.slot, append.jitterMs);
          if (recordedAt < lastRecorded) outOfOrderSeen++;
          lastRecorded = recordedAt;
          await store.append({
            events: append.transfers.map((t, k) => {
              const effectiveMs = Math.max(
                BASE_MS,
                Date.parse(recordedAt) - t.backdateSlots * STEP_MS - t.backdateJitterMs,
              );
              const effectiveAt = new Date(effectiveMs).toISOString();
              if (effectiveAt < recordedAt) backdatedSeen++;
              const transferId = `${prefix}-t${n}-${k}`;
              return {
                eventId: randomUUID(),
                streamId: `transfer-${transferId}`,
                type: 'TransferPosted',
                data: {
                  transferId,
                  debitAccountId: ids[t.debit]!,
                  creditAccountId: ids[t.credit]!,
                  amount: t.amount.toString(),
                  currency: 'USD',
                  metadata: {},
                  effectiveAt,
                },
                metadata,
                alsoIn: [`account-${ids[t.debit]}`, `account-${ids[t.credit]}`],
              };
            }),
            expected: new Map(),
            recordedAt,
          });
        }
        await new Projector(tdb.database.db, store, { batchSizeMax: history.batchSizeMax, pollMs: 1000 }).catchUp();

        const events: RecordedEvent[] = [];
        for (let after = from; ; ) {
          const page = await store.readAll({ after, limit: 1000 });
          if (page.length === 0) break;
          events.push(...page);
          after = page.at(-1)!.position;
        }
        for (const [q, query] of history.queries.entries()) {
          const asOf = at(query.asOf[0], query.asOf[1]);
          const knownAt = at(query.knownAt[0], query.knownAt[1]);
          if (q === 0) {
            // The audit replay (from the store alone, ranges read out of order) agrees with the oracle too.
            const fold = new ReplayFold({ asOf, knownAt, accountIds: ids });
            await foldLog(store, fold, { pageSize: 4, from });
            for (const replayed of fold.result()) {
              const { debitsPosted, creditsPosted } = replayed;
              expect({ debitsPosted, creditsPosted }, `replay of ${replayed.accountId}`).toEqual(
                oracle(events, replayed.accountId, asOf, knownAt),
              );
            }
          }
          for (const accountId of ids) {
            const fromIndex = await readModels.balanceAt(accountId, asOf, knownAt);
            const expected = oracle(events, accountId, asOf, knownAt);
            compared++;
            expect(
              { debitsPosted: fromIndex?.debitsPosted, creditsPosted: fromIndex?.creditsPosted },
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
  }, 180_000);
});
