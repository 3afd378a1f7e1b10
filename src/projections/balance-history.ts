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
 * (src/projections/time-index.ts, ADR 0005) in one statement: per instant T, one probe of
 * rm_balance_known at min(T, K) and, for T < K, the backdated postings recorded in
 * (T, min(K, T + the account's largest backdating)]. Nothing is folded from the entries, so the
 * cost is `points` index probes whatever the length of the history.
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
  const rows = await db
    .with('lag', (qb) =>
      qb
        .selectFrom('rm_backdated_entries')
        .select(sql<string>`max(recorded_at - effective_at)`.as('lag_max'))
        .where('account_id', '=', accountId),
    )
    .selectFrom(
      sql<{
        at: Date;
        i: string;
      }>`(select at, i from unnest(${instants}::timestamptz[]) with ordinality as u(at, i))`.as('p'),
    )
    .innerJoin('lag', (join) => join.onTrue())
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
    .leftJoinLateral(
      (eb) =>
        eb
          .selectFrom('rm_backdated_entries as b')
          .select([
            sql<string>`coalesce(sum(b.amount) filter (where b.side = 'debit'), 0)`.as('late_debits'),
            sql<string>`coalesce(sum(b.amount) filter (where b.side = 'credit'), 0)`.as('late_credits'),
          ])
          .where('b.account_id', '=', accountId)
          .where('b.recorded_at', '>', sql<Date>`p.at`)
          .where('b.recorded_at', '<=', sql<Date>`least(${known}, p.at + lag.lag_max)`)
          .where('b.effective_at', '<=', sql<Date>`p.at`)
          .as('l'),
      (join) => join.onTrue(),
    )
    .select([
      sql<string>`p.i::text`.as('i'),
      sql<string>`(coalesce(k.debits_through, 0) + coalesce(l.late_debits, 0))::text`.as('debits'),
      sql<string>`(coalesce(k.credits_through, 0) + coalesce(l.late_credits, 0))::text`.as('credits'),
    ])
    .orderBy(sql`p.i`)
    .execute();
  return {
    currency: account.currency,
    normalSide: account.normal_side as 'debit' | 'credit',
    points: rows.map((row, index) => ({
      atMs: instantsMs[index]!,
      debitsPosted: BigInt(row.debits),
      creditsPosted: BigInt(row.credits),
    })),
  };
}
