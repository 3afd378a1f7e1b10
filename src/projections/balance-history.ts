import { type Kysely, sql } from 'kysely';
import type { Tables } from '../platform/tables';

export interface HistoryPoint {
  /** The instant, ms since the epoch. */
  readonly atMs: number;
  readonly debitsPosted: bigint;
  readonly creditsPosted: bigint;
}

export interface BalanceHistory {
  readonly currency: string;
  readonly normalSide: 'debit' | 'credit';
  readonly points: HistoryPoint[];
}

/**
 * `points` instants evenly spaced from `fromMs` to `toMs`, both included:
 * at_i = from + floor(i × (to − from) / (points − 1)). In bigint: i × (to − from) passes 2^53 for
 * a long range and many points, where a float would round.
 */
export function historyInstants(fromMs: number, toMs: number, points: number): number[] {
  const from = BigInt(fromMs);
  const span = BigInt(toMs) - from;
  const steps = BigInt(points - 1);
  return Array.from({ length: points }, (_, i) => Number(from + (BigInt(i) * span) / steps));
}

/**
 * The as-of balance at each instant as known at `knownAt`, from the time-travel index
 * (src/projections/time-index.ts, ADR 0005): balance(T, K) = known(min(T, K)) + late(T, K).
 *
 * - known: one probe of rm_balance_known per instant (a descending index lookup each).
 * - late(T_i, K): the backdated postings with effectiveAt <= T_i < recordedAt <= K. Rather than
 *   scan a window per instant, each such posting is read once and adds its amount to the run of
 *   instants [first T_i >= effectiveAt, first T_i >= recordedAt): `width_bucket` finds both ends
 *   in the sorted instants, the sums are grouped by run, and a difference array spreads them.
 *
 * So the cost is `points` index probes plus one range read of the account's backdated postings
 * recorded in (from, K]; nothing is folded from the entries.
 */
export async function balanceHistory(
  db: Kysely<Tables>,
  accountId: string,
  instantsMs: readonly number[],
  knownAt: string,
): Promise<BalanceHistory | undefined> {
  const account = await db
    .selectFrom('rm_accounts')
    .select(['currency', 'normal_side'])
    .where('id', '=', accountId)
    .executeTakeFirst();
  if (!account) return undefined;
  const instants = instantsMs.map((ms) => new Date(ms).toISOString());
  const known = sql<Date>`${knownAt}::timestamptz`;
  const thresholds = sql<Date[]>`${instants}::timestamptz[]`;
  const [knownRows, lateRows] = await Promise.all([
    db
      .selectFrom(
        sql<{ at: Date; i: string }>`(select at, i from unnest(${thresholds}) with ordinality as u(at, i))`.as('p'),
      )
      .leftJoinLateral(
        (eb) =>
          eb
            .selectFrom('rm_balance_known')
            .select(['debits_through', 'credits_through'])
            .where('account_id', '=', accountId)
            .where('recorded_at', '<=', sql<Date>`least(p.at, ${known})`)
            .orderBy('recorded_at', 'desc')
            .limit(1)
            .as('k'),
        (join) => join.onTrue(),
      )
      .select([
        sql<string>`coalesce(k.debits_through, 0)::text`.as('debits'),
        sql<string>`coalesce(k.credits_through, 0)::text`.as('credits'),
      ])
      .orderBy(sql`p.i`)
      .execute(),
    // Timestamps are whole microseconds: "thresholds below x" is "thresholds at or below x − 1 µs".
    db
      .selectFrom('rm_backdated_entries')
      .select([
        sql<number>`width_bucket(effective_at - interval '1 microsecond', ${thresholds})`.as('first'),
        sql<number>`width_bucket(recorded_at - interval '1 microsecond', ${thresholds})`.as('end'),
        sql<string>`coalesce(sum(amount) filter (where side = 'debit'), 0)::text`.as('debits'),
        sql<string>`coalesce(sum(amount) filter (where side = 'credit'), 0)::text`.as('credits'),
      ])
      .where('account_id', '=', accountId)
      .where('recorded_at', '>', sql<Date>`${instants[0]}::timestamptz`)
      .where('recorded_at', '<=', known)
      .where('effective_at', '<=', sql<Date>`${instants.at(-1)}::timestamptz`)
      .groupBy(['first', 'end'])
      .execute(),
  ]);
  // late[i] = sum of the runs that cover i: +amount at a run's first instant, −amount at its end.
  const debitSteps = new Array<bigint>(instants.length + 1).fill(0n);
  const creditSteps = new Array<bigint>(instants.length + 1).fill(0n);
  for (const run of lateRows) {
    const first = Number(run.first);
    const end = Number(run.end);
    if (end <= first) continue; // no instant in [effectiveAt, recordedAt)
    debitSteps[first]! += BigInt(run.debits);
    debitSteps[end]! -= BigInt(run.debits);
    creditSteps[first]! += BigInt(run.credits);
    creditSteps[end]! -= BigInt(run.credits);
  }
  let lateDebits = 0n;
  let lateCredits = 0n;
  return {
    currency: account.currency,
    normalSide: account.normal_side as 'debit' | 'credit',
    points: knownRows.map((row, index) => {
      lateDebits += debitSteps[index]!;
      lateCredits += creditSteps[index]!;
      return {
        atMs: instantsMs[index]!,
        debitsPosted: BigInt(row.debits) + lateDebits,
        creditsPosted: BigInt(row.credits) + lateCredits,
      };
    }),
  };
}
