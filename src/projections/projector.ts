import { type Kysely, sql } from 'kysely';
import { ROOT_CONTEXT, type Link } from '@opentelemetry/api';
import type { RecordedEvent } from '../eventstore/port';
import { linkFromTraceparent, withSpan } from '../platform/tracing';
import type { Tables } from '../platform/tables';
import type { CheckpointMove, LogSource } from '../platform/log-follower';
import { LogReader } from '../platform/log-reader';
import { type ReadModelChanges, readModelChanges } from './read-model-changes';
import { KnownRowCache, type TimeIndexRows, insertBackdatedRows, timeIndexRows, upsertKnownRows } from './time-index';

export const READ_MODELS_CHECKPOINT = 'read-models';

export interface ProjectorOptions {
  readonly batchSizeMax: number;
  readonly pollMs: number;
  /** Test hook: runs inside the transaction after the writes, before the checkpoint moves. */
  readonly beforeCheckpoint?: () => Promise<void>;
}

/**
 * Builds the read models from the global log. It is a reader of the common log follower: each
 * page of events and the checkpoint that follows it commit in one transaction, so a crash neither
 * loses nor repeats an event; the checkpoint row is locked for the page, so two projectors on one
 * database take turns instead of applying the same events twice.
 */
export class Projector extends LogReader<RecordedEvent> {
  /** Milliseconds between an event's recordedAt and its projection, of the last page (for metrics). */
  lastLagMs = 0;
  private readonly knownRows = new KnownRowCache(KNOWN_ROWS_ACCOUNTS_MAX);
  /** The time-index rows of the page in flight, for the cache once it commits. */
  private pageKnownRows: TimeIndexRows['known'] = [];

  constructor(db: Kysely<Tables>, source: LogSource<RecordedEvent>, options: ProjectorOptions) {
    super(db, source, {
      name: READ_MODELS_CHECKPOINT,
      batchSizeMax: options.batchSizeMax,
      pollMs: options.pollMs,
      beforeCheckpoint: options.beforeCheckpoint,
    });
  }

  /** One page and the checkpoint's move past it, in one statement (ADR 0038). */
  override handleMoving(events: readonly RecordedEvent[], db: Kysely<Tables>, move: CheckpointMove): Promise<boolean> {
    // A span only for pages that carry events (an idle poll is not worth one), linked to the
    // traces that caused the first of them.
    const links: Link[] = [];
    for (const event of events) {
      if (links.length >= 32) break;
      const link = linkFromTraceparent(event.metadata.traceparent);
      if (link) links.push(link);
    }
    return withSpan('ledger.project', () => this.applyEvents(db, events, move), {
      parent: ROOT_CONTEXT,
      links,
      attributes: { 'ledger.events': events.length, 'ledger.position.first': events[0]!.position.toString() },
    });
  }

  committed(events: readonly RecordedEvent[]): void {
    this.lastLagMs = Math.max(0, Date.now() - Date.parse(events.at(-1)!.recordedAt));
    this.knownRows.committed(this.pageKnownRows, events.at(-1)!.position);
    this.pageKnownRows = [];
  }

  /**
   * The read models' changes for a page of events, written with the checkpoint's move by one
   * statement, set-based, without reading them first; only the time index may read the rows it
   * builds on (ADR 0038).
   */
  private async applyEvents(
    db: Kysely<Tables>,
    events: readonly RecordedEvent[],
    move: CheckpointMove,
  ): Promise<boolean> {
    const changes = readModelChanges(events);
    // Rows of the time index read here are as of move.from, or the checkpoint moved meanwhile and
    // the statement below writes nothing.
    const timeIndex = await timeIndexRows(db, changes.entries, changes.pendings, {
      cache: this.knownRows,
      checkpoint: move.from,
    });
    const moved = await writeChanges(db, changes, timeIndex, move);
    this.pageKnownRows = timeIndex.known;
    return moved;
  }
}

/** Accounts whose newest time-index row the projector keeps (about 200 bytes each). */
const KNOWN_ROWS_ACCOUNTS_MAX = 20_000;

const str = (values: Array<bigint | string | null>) => values.map((v) => (v === null ? null : v.toString()));

/**
 * One statement: the accounts the page opens (inserted whole), the deltas of those it changes
 * (`x = x + delta`), its transfers, and its entries, whose seq and balance come from each account's
 * row as it stood before the statement (every CTE sees the same snapshot) plus a running sum, and
 * the page's rows of the time-travel index.
 */
async function writeChanges(
  db: Kysely<Tables>,
  changes: ReadModelChanges,
  timeIndex: TimeIndexRows,
  move: CheckpointMove,
): Promise<boolean> {
  const accounts = [...changes.opened.values()];
  const deltas = [...changes.deltas.values()];
  const t = [...changes.transfers.values()];
  const td = [...changes.transferDeltas.values()];
  const e = changes.entries;
  // Normal side of entries of accounts opened on this page (they have no row to read it from yet).
  const normalSide = e.map((x) => changes.opened.get(x.accountId)?.normalSide ?? null);
  // Every write is gated on the checkpoint's move, which locks its row first (the one-time filter
  // of each CTE): when another projector moved it meanwhile, nothing is written.
  const gate = sql`exists (select 1 from moved)`;
  const result = await sql<{ moved: number; updated: number; changed_transfers: number }>`
    with moved as (
      ${move.statement}
      returning 1
    ), new_accounts as (
      insert into rm_accounts (id, currency, normal_side, flags, status, debits_posted, credits_posted,
                               debits_pending, credits_pending, entry_count, version, opened_at, code, metadata, position)
      select id, cur, ns, fl::json, st, dp::numeric, cp::numeric, dh::numeric, ch::numeric, ec::bigint, v::bigint,
             oa::timestamptz, code, md::json, p::numeric
      from unnest(${accounts.map((a) => a.id)}::text[], ${accounts.map((a) => a.currency)}::text[],
                  ${accounts.map((a) => a.normalSide)}::text[], ${accounts.map((a) => JSON.stringify(a.flags))}::text[],
                  ${accounts.map((a) => a.status)}::text[], ${str(accounts.map((a) => a.debitsPosted))}::text[],
                  ${str(accounts.map((a) => a.creditsPosted))}::text[], ${str(accounts.map((a) => a.debitsPending))}::text[],
                  ${str(accounts.map((a) => a.creditsPending))}::text[], ${str(accounts.map((a) => a.entryCount))}::text[],
                  ${str(accounts.map((a) => a.version))}::text[], ${accounts.map((a) => a.openedAt)}::text[],
                  ${accounts.map((a) => a.code)}::text[], ${accounts.map((a) => JSON.stringify(a.metadata))}::text[],
                  ${str(accounts.map((a) => a.position))}::text[])
           as x(id, cur, ns, fl, st, dp, cp, dh, ch, ec, v, oa, code, md, p)
      where ${gate}
      returning 1
    ), updated as (
      update rm_accounts a set debits_posted = a.debits_posted + d.dd::numeric,
        credits_posted = a.credits_posted + d.dc::numeric,
        debits_pending = a.debits_pending + d.dh::numeric, credits_pending = a.credits_pending + d.ch::numeric,
        entry_count = a.entry_count + d.de::bigint,
        version = a.version + d.dv::bigint, status = coalesce(d.st, a.status), position = d.p::numeric
      from unnest(${deltas.map((d) => d.id)}::text[], ${str(deltas.map((d) => d.debits))}::text[],
                  ${str(deltas.map((d) => d.credits))}::text[], ${str(deltas.map((d) => d.debitsPending))}::text[],
                  ${str(deltas.map((d) => d.creditsPending))}::text[], ${str(deltas.map((d) => d.entries))}::text[],
                  ${str(deltas.map((d) => d.versions))}::text[], ${deltas.map((d) => d.status)}::text[],
                  ${str(deltas.map((d) => d.position))}::text[]) as d(id, dd, dc, dh, ch, de, dv, st, p)
      where a.id = d.id and ${gate}
      returning 1
    ), new_transfers as (
      insert into rm_transfers (id, debit_account_id, credit_account_id, amount, currency, status, pending_amount,
                                posted_amount, reversed_amount, expires_at, reverses, code,
                                reference, metadata, effective_at, recorded_at, position)
      select id, d, c, a::numeric, cur, st, pa::numeric, po::numeric, rv::numeric, ex::timestamptz, rev, code, ref,
             md::json, ea::timestamptz, ra::timestamptz, p::numeric
      from unnest(${t.map((x) => x.id)}::text[], ${t.map((x) => x.debitAccountId)}::text[],
                  ${t.map((x) => x.creditAccountId)}::text[], ${str(t.map((x) => x.amount))}::text[],
                  ${t.map((x) => x.currency)}::text[], ${t.map((x) => x.status)}::text[],
                  ${str(t.map((x) => x.pendingAmount))}::text[], ${str(t.map((x) => x.postedAmount))}::text[],
                  ${str(t.map((x) => x.reversedAmount))}::text[], ${t.map((x) => x.expiresAt)}::text[],
                  ${t.map((x) => x.reverses)}::text[], ${t.map((x) => x.code)}::text[], ${t.map((x) => x.reference)}::text[],
                  ${t.map((x) => JSON.stringify(x.metadata))}::text[], ${t.map((x) => x.effectiveAt)}::text[],
                  ${t.map((x) => x.recordedAt)}::text[], ${str(t.map((x) => x.position))}::text[])
           as x(id, d, c, a, cur, st, pa, po, rv, ex, rev, code, ref, md, ea, ra, p)
      where ${gate}
      returning 1
    ), changed_transfers as (
      -- Holds the page posts or releases and transfers it reverses. A hold left holding nothing is
      -- posted if anything was posted, else what released it says (voided, expired).
      update rm_transfers r set pending_amount = r.pending_amount + x.pa::numeric,
        posted_amount = r.posted_amount + x.po::numeric, reversed_amount = r.reversed_amount + x.rv::numeric,
        status = case when r.status <> 'pending' or r.pending_amount + x.pa::numeric > 0 then r.status
                      when r.posted_amount + x.po::numeric > 0 then 'posted'
                      else coalesce(x.rel, r.status) end,
        position = x.p::numeric
      from unnest(${td.map((x) => x.id)}::text[], ${str(td.map((x) => x.pending))}::text[],
                  ${str(td.map((x) => x.posted))}::text[], ${str(td.map((x) => x.reversed))}::text[],
                  ${td.map((x) => x.releasedAs)}::text[], ${str(td.map((x) => x.position))}::text[])
           as x(id, pa, po, rv, rel, p)
      where r.id = x.id and ${gate}
      returning 1
    ), new_entries as (
      insert into rm_entries (account_id, seq, transfer_id, side, amount, balance_after, effective_at, recorded_at, position)
      select x.acc, coalesce(r.entry_count, 0) + x.o::bigint, x.tid, x.side, x.a::numeric,
             coalesce(case when r.normal_side = 'debit' then r.debits_posted - r.credits_posted
                           else r.credits_posted - r.debits_posted end, 0)
             + sum(case when x.side = coalesce(r.normal_side, x.ns) then x.a::numeric else -x.a::numeric end)
                 over (partition by x.acc order by x.o::bigint),
             x.ea::timestamptz, x.ra::timestamptz, x.p::numeric
      from unnest(${e.map((x) => x.accountId)}::text[], ${str(e.map((x) => x.ordinal))}::text[],
                  ${e.map((x) => x.transferId)}::text[], ${e.map((x) => x.side)}::text[],
                  ${str(e.map((x) => x.amount))}::text[], ${e.map((x) => x.effectiveAt)}::text[],
                  ${e.map((x) => x.recordedAt)}::text[], ${str(e.map((x) => x.position))}::text[],
                  ${normalSide}::text[]) as x(acc, o, tid, side, a, ea, ra, p, ns)
      left join rm_accounts r on r.id = x.acc
      where ${gate}
      returning 1
    ), known as (
      ${upsertKnownRows(timeIndex.known, gate)}
      returning 1
    ), backdated as (
      ${insertBackdatedRows(timeIndex.backdated, gate)}
      returning 1
    )
    select (select count(*) from moved)::int as moved, (select count(*) from updated)::int as updated,
           (select count(*) from changed_transfers)::int as changed_transfers`.execute(db);
  if (Number(result.rows[0]?.moved ?? 0) === 0) return false;
  // An event that names an account no AccountOpened made is damage, not something to skip.
  const updated = Number(result.rows[0]?.updated ?? 0);
  if (updated !== deltas.length) {
    throw new Error(`read model: the page names ${deltas.length - updated} account(s) that were never opened`);
  }
  const changedTransfers = Number(result.rows[0]?.changed_transfers ?? 0);
  if (changedTransfers !== td.length) {
    throw new Error(`read model: the page names ${td.length - changedTransfers} transfer(s) that were never started`);
  }
  return true;
}
