import { type Kysely, sql } from 'kysely';
import { ROOT_CONTEXT, type Link } from '@opentelemetry/api';
import type { EventStore, RecordedEvent } from '../eventstore/port';
import { linkFromTraceparent, withSpan } from '../platform/tracing';
import type { Tables } from '../platform/tables';
import { type LogHandler, LogFollower } from '../platform/log-follower';
import { type AccountRow, type ReadModelChanges, readModelChanges } from './read-model-changes';
import { writeTimeIndex } from './time-index';
import { isoTimestamp } from '../platform/sql';

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

/** The read models' changes for a page of events, written in `tx`. */
async function applyEvents(tx: Kysely<Tables>, events: readonly RecordedEvent[]): Promise<void> {
  const touched = new Set<string>();
  for (const event of events) {
    const data = event.data as { accountId?: string; debitAccountId?: string; creditAccountId?: string };
    if (event.type === 'AccountOpened') continue;
    for (const id of [data.accountId, data.debitAccountId, data.creditAccountId]) if (id) touched.add(id);
  }
  const current = await loadAccounts(tx, [...touched]);
  const changes = readModelChanges(events, current);
  await writeChanges(tx, changes);
  await writeTimeIndex(tx, changes.entries);
}

async function loadAccounts(db: Kysely<Tables>, ids: string[]): Promise<Map<string, AccountRow>> {
  if (ids.length === 0) return new Map();
  const rows = await sql<{
    id: string;
    currency: string;
    normal_side: 'debit' | 'credit';
    flags: unknown;
    status: string;
    debits_posted: string;
    credits_posted: string;
    entry_count: string;
    version: string;
    opened_at: string;
    code: string | null;
    metadata: unknown;
    position: string;
  }>`select id, currency, normal_side, flags, status, debits_posted::text as debits_posted,
            credits_posted::text as credits_posted, entry_count::text as entry_count, version::text as version,
            ${isoTimestamp('opened_at')} as opened_at,
            code, metadata, position::text as position
     from rm_accounts where id = any(${ids}::text[])`.execute(db);
  return new Map(
    rows.rows.map((r) => [
      r.id,
      {
        id: r.id,
        currency: r.currency,
        normalSide: r.normal_side,
        flags: r.flags,
        status: r.status,
        debitsPosted: BigInt(r.debits_posted),
        creditsPosted: BigInt(r.credits_posted),
        entryCount: BigInt(r.entry_count),
        version: BigInt(r.version),
        openedAt: r.opened_at,
        code: r.code,
        metadata: r.metadata,
        position: BigInt(r.position),
      },
    ]),
  );
}

const str = (values: Array<bigint | string | null>) => values.map((v) => (v === null ? null : v.toString()));

async function writeChanges(db: Kysely<Tables>, changes: ReadModelChanges): Promise<void> {
  const accounts = [...changes.accounts.values()];
  if (accounts.length > 0) {
    await sql`
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
      on conflict (id) do update set status = excluded.status, debits_posted = excluded.debits_posted,
        credits_posted = excluded.credits_posted, entry_count = excluded.entry_count,
        version = excluded.version, position = excluded.position`.execute(db);
  }
  const t = changes.transfers;
  if (t.length > 0) {
    await sql`
      insert into rm_transfers (id, debit_account_id, credit_account_id, amount, currency, status, code,
                                reference, metadata, effective_at, recorded_at, position)
      select id, d, c, a::numeric, cur, 'posted', code, ref, md::json, ea::timestamptz, ra::timestamptz, p::numeric
      from unnest(${t.map((x) => x.id)}::text[], ${t.map((x) => x.debitAccountId)}::text[],
                  ${t.map((x) => x.creditAccountId)}::text[], ${str(t.map((x) => x.amount))}::text[],
                  ${t.map((x) => x.currency)}::text[], ${t.map((x) => x.code)}::text[], ${t.map((x) => x.reference)}::text[],
                  ${t.map((x) => JSON.stringify(x.metadata))}::text[], ${t.map((x) => x.effectiveAt)}::text[],
                  ${t.map((x) => x.recordedAt)}::text[], ${str(t.map((x) => x.position))}::text[])
           as x(id, d, c, a, cur, code, ref, md, ea, ra, p)`.execute(db);
  }
  const e = changes.entries;
  if (e.length > 0) {
    await sql`
      insert into rm_entries (account_id, seq, transfer_id, side, amount, balance_after, effective_at, recorded_at, position)
      select acc, s::bigint, tid, side, a::numeric, b::numeric, ea::timestamptz, ra::timestamptz, p::numeric
      from unnest(${e.map((x) => x.accountId)}::text[], ${str(e.map((x) => x.seq))}::text[],
                  ${e.map((x) => x.transferId)}::text[], ${e.map((x) => x.side)}::text[],
                  ${str(e.map((x) => x.amount))}::text[], ${str(e.map((x) => x.balanceAfter))}::text[],
                  ${e.map((x) => x.effectiveAt)}::text[], ${e.map((x) => x.recordedAt)}::text[],
                  ${str(e.map((x) => x.position))}::text[])
           as x(acc, s, tid, side, a, b, ea, ra, p)`.execute(db);
  }
}
