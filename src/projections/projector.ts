import { type Kysely, sql } from 'kysely';
import { ROOT_CONTEXT, type Link } from '@opentelemetry/api';
import type { EventStore, RecordedEvent } from '../eventstore/port';
import { linkFromTraceparent, withSpan } from '../platform/tracing';
import type { Tables } from '../platform/tables';
import { type LogHandler, LogFollower } from '../platform/log-follower';
import { type ReadModelChanges, readModelChanges } from './read-model-changes';
import { writeTimeIndex } from './time-index';

export const READ_MODELS_CHECKPOINT = 'read-models';

export interface ProjectorOptions {
  readonly batchSizeMax: number;
  readonly pollMs: number;
  /** Test hook: runs inside the transaction after the writes, before the checkpoint moves. */
  readonly beforeCheckpoint?: () => Promise<void>;
}

/**
 * Builds the read models from the global log. It is a handler of the common log follower: each
 * page of events and the checkpoint that follows it commit in one transaction, so a crash neither
 * loses nor repeats an event; the checkpoint row is locked for the page, so two projectors on one
 * database take turns instead of applying the same events twice.
 */
export class Projector implements LogHandler<RecordedEvent> {
  private readonly follower: LogFollower<RecordedEvent>;
  /** Milliseconds between an event's recordedAt and its projection, of the last page (for metrics). */
  lastLagMs = 0;

  constructor(db: Kysely<Tables>, store: EventStore, options: ProjectorOptions) {
    this.follower = new LogFollower(db, store, this, {
      name: READ_MODELS_CHECKPOINT,
      batchSizeMax: options.batchSizeMax,
      pollMs: options.pollMs,
      beforeCheckpoint: options.beforeCheckpoint,
    });
  }

  get checkpoint(): bigint {
    return this.follower.checkpoint;
  }

  get isRunning(): boolean {
    return this.follower.isRunning;
  }

  get lastError(): unknown {
    return this.follower.lastError;
  }

  start(): void {
    this.follower.start();
  }

  stop(): Promise<void> {
    return this.follower.stop();
  }

  /** New events were appended in this process: look now rather than at the next poll. */
  wake(): void {
    this.follower.wake();
  }

  /** Resolves true once the read models include `position`, false after `timeoutMs`. */
  waitFor(position: bigint, timeoutMs: number): Promise<boolean> {
    return this.follower.waitFor(position, timeoutMs);
  }

  /** Applies everything up to the log's head now; returns the number of events applied. */
  catchUp(onBatch?: (position: bigint, applied: number) => void): Promise<number> {
    return this.follower.catchUp(onBatch);
  }

  /** One page, in the transaction that moves the checkpoint past it. */
  handle(events: readonly RecordedEvent[], tx: Kysely<Tables>): Promise<void> {
    // A span only for pages that carry events (an idle poll is not worth one), linked to the
    // traces that caused the first of them.
    const links: Link[] = [];
    for (const event of events) {
      if (links.length >= 32) break;
      const link = linkFromTraceparent(event.metadata.traceparent);
      if (link) links.push(link);
    }
    return withSpan('ledger.project', () => applyEvents(tx, events), {
      parent: ROOT_CONTEXT,
      links,
      attributes: { 'ledger.events': events.length, 'ledger.position.first': events[0]!.position.toString() },
    });
  }

  committed(events: readonly RecordedEvent[]): void {
    this.lastLagMs = Math.max(0, Date.now() - Date.parse(events.at(-1)!.recordedAt));
  }
}

/** The read models' changes for a page of events, written in `tx`: set-based, without reading them first. */
async function applyEvents(tx: Kysely<Tables>, events: readonly RecordedEvent[]): Promise<void> {
  const changes = readModelChanges(events);
  await writeChanges(tx, changes);
  await writeTimeIndex(tx, changes.entries);
}

const str = (values: Array<bigint | string | null>) => values.map((v) => (v === null ? null : v.toString()));

/**
 * One statement: the accounts the page opens (inserted whole), the deltas of those it changes
 * (`x = x + delta`), its transfers, and its entries, whose seq and balance come from each account's
 * row as it stood before the statement (every CTE sees the same snapshot) plus a running sum.
 */
async function writeChanges(db: Kysely<Tables>, changes: ReadModelChanges): Promise<void> {
  const accounts = [...changes.opened.values()];
  const deltas = [...changes.deltas.values()];
  const t = changes.transfers;
  const e = changes.entries;
  if (accounts.length + deltas.length + t.length === 0) return;
  // Normal side of entries of accounts opened on this page (they have no row to read it from yet).
  const normalSide = e.map((x) => changes.opened.get(x.accountId)?.normalSide ?? null);
  const result = await sql<{ updated: number }>`
    with new_accounts as (
      insert into rm_accounts (id, currency, normal_side, flags, status, debits_posted, credits_posted,
                               entry_count, version, opened_at, code, metadata, position)
      select id, cur, ns, fl::json, st, dp::numeric, cp::numeric, ec::bigint, v::bigint, oa::timestamptz, code, md::json, p::numeric
      from unnest(${accounts.map((a) => a.id)}::text[], ${accounts.map((a) => a.currency)}::text[],
                  ${accounts.map((a) => a.normalSide)}::text[], ${accounts.map((a) => JSON.stringify(a.flags))}::text[],
                  ${accounts.map((a) => a.status)}::text[], ${str(accounts.map((a) => a.debitsPosted))}::text[],
                  ${str(accounts.map((a) => a.creditsPosted))}::text[], ${str(accounts.map((a) => a.entryCount))}::text[],
                  ${str(accounts.map((a) => a.version))}::text[], ${accounts.map((a) => a.openedAt)}::text[],
                  ${accounts.map((a) => a.code)}::text[], ${accounts.map((a) => JSON.stringify(a.metadata))}::text[],
                  ${str(accounts.map((a) => a.position))}::text[])
           as x(id, cur, ns, fl, st, dp, cp, ec, v, oa, code, md, p)
      returning 1
    ), updated as (
      update rm_accounts a set debits_posted = a.debits_posted + d.dd::numeric,
        credits_posted = a.credits_posted + d.dc::numeric, entry_count = a.entry_count + d.de::bigint,
        version = a.version + d.dv::bigint, status = coalesce(d.st, a.status), position = d.p::numeric
      from unnest(${deltas.map((d) => d.id)}::text[], ${str(deltas.map((d) => d.debits))}::text[],
                  ${str(deltas.map((d) => d.credits))}::text[], ${str(deltas.map((d) => d.entries))}::text[],
                  ${str(deltas.map((d) => d.versions))}::text[], ${deltas.map((d) => d.status)}::text[],
                  ${str(deltas.map((d) => d.position))}::text[]) as d(id, dd, dc, de, dv, st, p)
      where a.id = d.id
      returning 1
    ), new_transfers as (
      insert into rm_transfers (id, debit_account_id, credit_account_id, amount, currency, status, code,
                                reference, metadata, effective_at, recorded_at, position)
      select id, d, c, a::numeric, cur, 'posted', code, ref, md::json, ea::timestamptz, ra::timestamptz, p::numeric
      from unnest(${t.map((x) => x.id)}::text[], ${t.map((x) => x.debitAccountId)}::text[],
                  ${t.map((x) => x.creditAccountId)}::text[], ${str(t.map((x) => x.amount))}::text[],
                  ${t.map((x) => x.currency)}::text[], ${t.map((x) => x.code)}::text[], ${t.map((x) => x.reference)}::text[],
                  ${t.map((x) => JSON.stringify(x.metadata))}::text[], ${t.map((x) => x.effectiveAt)}::text[],
                  ${t.map((x) => x.recordedAt)}::text[], ${str(t.map((x) => x.position))}::text[])
           as x(id, d, c, a, cur, code, ref, md, ea, ra, p)
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
      returning 1
    )
    select (select count(*) from updated)::int as updated`.execute(db);
  // An event that names an account no AccountOpened made is damage, not something to skip.
  const updated = Number(result.rows[0]?.updated ?? 0);
  if (updated !== deltas.length) {
    throw new Error(`read model: the page names ${deltas.length - updated} account(s) that were never opened`);
  }
}
