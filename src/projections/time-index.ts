import { type Kysely, type RawBuilder, sql } from 'kysely';
import { assertMoney } from '../domain/money';
import type { Tables } from '../platform/tables';
import type { EntryRow, PendingRow } from './read-model-changes';
import { isoTimestamp } from '../platform/sql';

/**
 * The time-travel index (ADR 0005, migrations/0005). balance(T, K) sums the postings with
 * effectiveAt <= T and recordedAt <= K. Since no posting is effective after it is recorded:
 *
 *   balance(T, K) = known(min(T, K)) + late(T, K)
 *   known(X)      = totals of every posting recorded at or before X        (one row of rm_balance_known)
 *   late(T, K)    = postings recorded in (T, K] and effective at or before T (T < K only; backdated ones)
 *
 * `late` scans backdated postings recorded in (T, min(K, T + the account's largest backdating)],
 * a window as wide as the longest correction, not as long as the history.
 */

/** A row of rm_balance_known: totals of the postings (and holds) recorded at or before `recordedAt`. */
export interface KnownRow {
  readonly recordedAt: string;
  readonly debitsThrough: bigint;
  readonly creditsThrough: bigint;
  readonly debitsPendingThrough: bigint;
  readonly creditsPendingThrough: bigint;
}

/** What one posting, hold or release recorded at `recordedAt` adds; pending deltas may be negative. */
export interface PostingDelta {
  readonly recordedAt: string;
  readonly debits: bigint;
  readonly credits: bigint;
  readonly debitsPending?: bigint;
  readonly creditsPending?: bigint;
}

type Sums = [bigint, bigint, bigint, bigint];
const sumsOf = (row: KnownRow | undefined): Sums =>
  row ? [row.debitsThrough, row.creditsThrough, row.debitsPendingThrough, row.creditsPendingThrough] : [0n, 0n, 0n, 0n];
const plus = (a: Sums, b: Sums): Sums => [a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3]];

/**
 * The rows of one account's rm_balance_known to write after a batch. `before` is the last stored
 * row recorded before the batch's earliest recordedAt (if any); `after` the stored rows at or
 * after it. recordedAt usually only grows, so `after` is usually empty; when two processes' clocks
 * disagree it is not, and those rows take the new postings too.
 */
export function knownRowsAfter(
  before: KnownRow | undefined,
  after: readonly KnownRow[],
  deltas: readonly PostingDelta[],
): KnownRow[] {
  const stored = new Map(after.map((row) => [row.recordedAt, row]));
  const added = new Map<string, Sums>();
  for (const delta of deltas) {
    const sum = added.get(delta.recordedAt) ?? [0n, 0n, 0n, 0n];
    added.set(
      delta.recordedAt,
      plus(sum, [delta.debits, delta.credits, delta.debitsPending ?? 0n, delta.creditsPending ?? 0n]),
    );
  }
  const keys = [...new Set([...stored.keys(), ...added.keys()])].sort();
  let storedSums = sumsOf(before);
  let addedSums: Sums = [0n, 0n, 0n, 0n];
  const rows: KnownRow[] = [];
  for (const recordedAt of keys) {
    const old = stored.get(recordedAt);
    if (old) {
      assertMoney(!before || old.recordedAt > before.recordedAt, `known rows out of order at ${recordedAt}`);
      storedSums = sumsOf(old);
    }
    const sum = added.get(recordedAt);
    if (sum) addedSums = plus(addedSums, sum);
    const [debitsThrough, creditsThrough, debitsPendingThrough, creditsPendingThrough] = plus(storedSums, addedSums);
    rows.push({ recordedAt, debitsThrough, creditsThrough, debitsPendingThrough, creditsPendingThrough });
  }
  return rows;
}

const str = (values: bigint[]) => values.map((v) => v.toString());

/** One row of rm_backdated_entries: side is debit, credit, debit-pending or credit-pending. */
export interface BackdatedRow {
  readonly accountId: string;
  readonly position: bigint;
  readonly recordedAt: string;
  readonly effectiveAt: string;
  readonly side: string;
  readonly amount: bigint;
}

export type AccountKnownRow = KnownRow & { readonly accountId: string };

/** What a page writes into the time-travel index: its rows of rm_balance_known and rm_backdated_entries. */
export interface TimeIndexRows {
  readonly known: readonly AccountKnownRow[];
  readonly backdated: readonly BackdatedRow[];
}

/**
 * The newest stored row of rm_balance_known of recently written accounts, as of the log position
 * `validAt` (ADR 0038). The rows are a function of the log up to the reader's checkpoint, so they
 * stand for the table whenever the checkpoint, locked, is at `validAt`: a page whose postings for
 * an account all come after its newest row needs no read of the table. Bounded: the oldest
 * accounts are forgotten first.
 */
export class KnownRowCache {
  private validAt: bigint | undefined;
  private readonly newest = new Map<string, KnownRow>();

  constructor(private readonly accountsMax: number) {}

  /** The newest row of `accountId` when the table is as of `checkpoint` and the row is known. */
  get(accountId: string, checkpoint: bigint): KnownRow | undefined {
    if (this.validAt !== checkpoint) {
      this.newest.clear();
      this.validAt = checkpoint;
      return undefined;
    }
    return this.newest.get(accountId);
  }

  /** After the page's rows committed with the checkpoint moved to `position`. */
  committed(rows: readonly AccountKnownRow[], position: bigint): void {
    for (const row of rows) {
      const known = this.newest.get(row.accountId);
      if (known && known.recordedAt > row.recordedAt) continue;
      this.newest.delete(row.accountId);
      this.newest.set(row.accountId, row);
    }
    for (const accountId of this.newest.keys()) {
      if (this.newest.size <= this.accountsMax) break;
      this.newest.delete(accountId);
    }
    this.validAt = position;
  }
}

/**
 * The time-index rows of a batch's entries and pending changes. Reads the stored rows it builds on
 * (in `db`, the projector's transaction) except, with a cache as of `checkpoint`, for accounts
 * whose newest row it has and whose postings all come after it.
 */
export async function timeIndexRows(
  db: Kysely<Tables>,
  entries: readonly EntryRow[],
  pendings: readonly PendingRow[] = [],
  cached?: { readonly cache: KnownRowCache; readonly checkpoint: bigint },
): Promise<TimeIndexRows> {
  if (entries.length === 0 && pendings.length === 0) return { known: [], backdated: [] };
  const byAccount = new Map<string, PostingDelta[]>();
  const backdated: BackdatedRow[] = [];
  const add = (accountId: string, delta: PostingDelta) => {
    const deltas = byAccount.get(accountId) ?? [];
    deltas.push(delta);
    byAccount.set(accountId, deltas);
  };
  for (const entry of entries) {
    // The command side refuses a future effectiveAt; the index relies on it (known(min(T, K))).
    assertMoney(
      entry.effectiveAt <= entry.recordedAt,
      `transfer ${entry.transferId} is effective ${entry.effectiveAt}, after it was recorded ${entry.recordedAt}`,
    );
    if (entry.effectiveAt < entry.recordedAt) backdated.push(entry);
    add(entry.accountId, {
      recordedAt: entry.recordedAt,
      debits: entry.side === 'debit' ? entry.amount : 0n,
      credits: entry.side === 'credit' ? entry.amount : 0n,
    });
  }
  for (const pending of pendings) {
    assertMoney(
      pending.effectiveAt <= pending.recordedAt,
      `a hold effective after it was recorded at ${pending.position}`,
    );
    if (pending.effectiveAt < pending.recordedAt) backdated.push({ ...pending, side: `${pending.side}-pending` });
    add(pending.accountId, {
      recordedAt: pending.recordedAt,
      debits: 0n,
      credits: 0n,
      debitsPending: pending.side === 'debit' ? pending.amount : 0n,
      creditsPending: pending.side === 'credit' ? pending.amount : 0n,
    });
  }

  const earliestOf = (deltas: readonly PostingDelta[]) =>
    deltas.reduce((min, d) => (d.recordedAt < min ? d.recordedAt : min), '\uffff');
  const before = new Map<string, KnownRow>();
  const after = new Map<string, KnownRow[]>();
  const unread: string[] = [];
  for (const [accountId, deltas] of byAccount) {
    const newest = cached?.cache.get(accountId, cached.checkpoint);
    if (newest && newest.recordedAt < earliestOf(deltas)) before.set(accountId, newest);
    else unread.push(accountId);
  }
  if (unread.length > 0) {
    const stored = await sql<{
      account_id: string;
      recorded_at: string;
      debits: string;
      credits: string;
      debits_pending: string;
      credits_pending: string;
      is_before: boolean;
    }>`
      select x.acc as account_id, k.recorded_at, k.debits, k.credits, k.debits_pending, k.credits_pending, k.is_before
      from unnest(${unread}::text[], ${unread.map((id) => earliestOf(byAccount.get(id)!))}::text[]) as x(acc, r)
      cross join lateral (
        (select ${isoTimestamp('b.recorded_at')} as recorded_at, b.debits_through::text as debits, b.credits_through::text as credits,
                b.debits_pending_through::text as debits_pending, b.credits_pending_through::text as credits_pending, true as is_before
         from rm_balance_known b where b.account_id = x.acc and b.recorded_at < x.r::timestamptz
         order by b.recorded_at desc limit 1)
        union all
        (select ${isoTimestamp('a.recorded_at')}, a.debits_through::text, a.credits_through::text,
                a.debits_pending_through::text, a.credits_pending_through::text, false
         from rm_balance_known a where a.account_id = x.acc and a.recorded_at >= x.r::timestamptz)
      ) k`.execute(db);
    for (const row of stored.rows) {
      const known: KnownRow = {
        recordedAt: row.recorded_at,
        debitsThrough: BigInt(row.debits),
        creditsThrough: BigInt(row.credits),
        debitsPendingThrough: BigInt(row.debits_pending),
        creditsPendingThrough: BigInt(row.credits_pending),
      };
      if (row.is_before) before.set(row.account_id, known);
      else after.set(row.account_id, [...(after.get(row.account_id) ?? []), known]);
    }
  }

  const known: AccountKnownRow[] = [];
  for (const [accountId, deltas] of byAccount) {
    for (const row of knownRowsAfter(before.get(accountId), after.get(accountId) ?? [], deltas))
      known.push({ ...row, accountId });
  }
  return { known, backdated };
}

/** The statement that writes the rows of rm_balance_known (a row already there takes the new totals). */
export function upsertKnownRows(rows: readonly AccountKnownRow[], gate: RawBuilder<unknown> = sql`true`) {
  return sql`
    insert into rm_balance_known (account_id, recorded_at, debits_through, credits_through,
                                  debits_pending_through, credits_pending_through)
    select acc, r::timestamptz, d::numeric, c::numeric, dp::numeric, cp::numeric
    from unnest(${rows.map((r) => r.accountId)}::text[], ${rows.map((r) => r.recordedAt)}::text[],
                ${str(rows.map((r) => r.debitsThrough))}::text[], ${str(rows.map((r) => r.creditsThrough))}::text[],
                ${str(rows.map((r) => r.debitsPendingThrough))}::text[], ${str(rows.map((r) => r.creditsPendingThrough))}::text[])
         as x(acc, r, d, c, dp, cp)
    where ${gate}
    on conflict (account_id, recorded_at) do update
      set debits_through = excluded.debits_through, credits_through = excluded.credits_through,
          debits_pending_through = excluded.debits_pending_through,
          credits_pending_through = excluded.credits_pending_through`;
}

/** The statement that writes the rows of rm_backdated_entries. */
export function insertBackdatedRows(rows: readonly BackdatedRow[], gate: RawBuilder<unknown> = sql`true`) {
  return sql`
    insert into rm_backdated_entries (account_id, position, recorded_at, effective_at, side, amount)
    select acc, p::numeric, r::timestamptz, e::timestamptz, s, a::numeric
    from unnest(${rows.map((b) => b.accountId)}::text[], ${str(rows.map((b) => b.position))}::text[],
                ${rows.map((b) => b.recordedAt)}::text[], ${rows.map((b) => b.effectiveAt)}::text[],
                ${rows.map((b) => b.side)}::text[], ${str(rows.map((b) => b.amount))}::text[]) as x(acc, p, r, e, s, a)
    where ${gate}`;
}

/** Writes a batch's entries and pending changes into the time-travel index (tools and benchmarks; the projector folds the rows into its page's statement). */
export async function writeTimeIndex(
  db: Kysely<Tables>,
  entries: readonly EntryRow[],
  pendings: readonly PendingRow[] = [],
): Promise<void> {
  const { known, backdated } = await timeIndexRows(db, entries, pendings);
  if (known.length > 0) await upsertKnownRows(known).execute(db);
  if (backdated.length > 0) await insertBackdatedRows(backdated).execute(db);
}

export interface BalanceAt {
  readonly currency: string;
  readonly normalSide: 'debit' | 'credit';
  readonly debitsPosted: bigint;
  readonly creditsPosted: bigint;
  readonly debitsPending: bigint;
  readonly creditsPending: bigint;
}

/** balance(account, T, K) from the index: a few index probes, whatever the length of the history. */
export async function balanceFromIndex(
  db: Kysely<Tables>,
  accountId: string,
  asOf: string,
  knownAt: string,
): Promise<BalanceAt | undefined> {
  const rows = await sql<{
    currency: string;
    normal_side: 'debit' | 'credit';
    debits: string;
    credits: string;
    debits_pending: string;
    credits_pending: string;
  }>`
    with known as (
      select debits_through, credits_through, debits_pending_through, credits_pending_through from rm_balance_known
      where account_id = ${accountId} and recorded_at <= least(${asOf}::timestamptz, ${knownAt}::timestamptz)
      order by recorded_at desc limit 1
    ), lag as (
      select max(recorded_at - effective_at) as lag_max from rm_backdated_entries where account_id = ${accountId}
    ), late as (
      select coalesce(sum(b.amount) filter (where b.side = 'debit'), 0) as debits,
             coalesce(sum(b.amount) filter (where b.side = 'credit'), 0) as credits,
             coalesce(sum(b.amount) filter (where b.side = 'debit-pending'), 0) as debits_pending,
             coalesce(sum(b.amount) filter (where b.side = 'credit-pending'), 0) as credits_pending
      from lag, rm_backdated_entries b
      where b.account_id = ${accountId}
        and b.recorded_at > ${asOf}::timestamptz
        and b.recorded_at <= least(${knownAt}::timestamptz, ${asOf}::timestamptz + lag.lag_max)
        and b.effective_at <= ${asOf}::timestamptz
    )
    select a.currency, a.normal_side,
           (coalesce((select debits_through from known), 0) + (select debits from late))::text as debits,
           (coalesce((select credits_through from known), 0) + (select credits from late))::text as credits,
           (coalesce((select debits_pending_through from known), 0) + (select debits_pending from late))::text as debits_pending,
           (coalesce((select credits_pending_through from known), 0) + (select credits_pending from late))::text as credits_pending
    from rm_accounts a where a.id = ${accountId}`.execute(db);
  const row = rows.rows[0];
  if (!row) return undefined;
  return {
    currency: row.currency,
    normalSide: row.normal_side,
    debitsPosted: BigInt(row.debits),
    creditsPosted: BigInt(row.credits),
    debitsPending: BigInt(row.debits_pending),
    creditsPending: BigInt(row.credits_pending),
  };
}
