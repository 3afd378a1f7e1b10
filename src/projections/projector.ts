import { EventEmitter } from 'node:events';
import { type Kysely, sql } from 'kysely';
import { ROOT_CONTEXT, type Link } from '@opentelemetry/api';
import type { EventStore, RecordedEvent } from '../eventstore/port';
import { linkFromTraceparent, withSpan } from '../platform/tracing';
import type { Tables } from '../platform/tables';
import { WakeSignal } from '../platform/wake-signal';
import {
  type AccountRow,
  type ReadModelChanges,
  type TransferRow,
  readModelChanges,
  transfersChangedBy,
} from './read-model-changes';
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
 * Builds the read models from the global log. Each batch of events and the checkpoint that
 * follows it commit in one transaction, so a crash neither loses nor repeats an event. The
 * checkpoint row is locked for the batch, so two projectors on one database take turns instead of
 * applying the same events twice.
 */
export class Projector {
  private position = 0n;
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly wakeSignal = new WakeSignal();
  /** Whether this projector's checkpoint row is known to exist (created on first use). */
  private checkpointRowExists = false;
  private readonly progress = new EventEmitter();
  lastError: unknown;
  /** Seconds between an event's recordedAt and its projection, of the last batch (for metrics). */
  lastLagMs = 0;

  constructor(
    private readonly db: Kysely<Tables>,
    private readonly store: EventStore,
    private readonly options: ProjectorOptions,
  ) {
    this.progress.setMaxListeners(0);
  }

  get checkpoint(): bigint {
    return this.position;
  }

  get isRunning(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wakeSignal.interrupt();
    await this.loop;
  }

  /** New events were appended in this process: look now rather than at the next poll. */
  wake(): void {
    this.wakeSignal.wake();
  }

  /** Resolves true once the read models include `position`, false after `timeoutMs`. */
  waitFor(position: bigint, timeoutMs: number): Promise<boolean> {
    if (this.position >= position) return Promise.resolve(true);
    return new Promise((resolve) => {
      const onProgress = (at: bigint) => {
        if (at < position) return;
        clearTimeout(timer);
        this.progress.off('progress', onProgress);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.progress.off('progress', onProgress);
        resolve(this.position >= position);
      }, timeoutMs);
      this.progress.on('progress', onProgress);
    });
  }

  /** Applies everything up to the log's head now; returns the number of events applied. */
  async catchUp(onBatch?: (position: bigint, applied: number) => void): Promise<number> {
    let applied = 0;
    for (;;) {
      const count = await this.step();
      if (count === 0) return applied;
      applied += count;
      onBatch?.(this.position, applied);
    }
  }

  private async run(): Promise<void> {
    let backoffMs = this.options.pollMs;
    while (this.running) {
      try {
        const applied = await this.step();
        this.lastError = undefined;
        backoffMs = this.options.pollMs;
        if (applied > 0) continue;
      } catch (error) {
        // The database is away or a bug surfaced: keep the checkpoint, say so, try again later.
        this.lastError = error;
        backoffMs = Math.min(backoffMs * 2, 5000);
      }
      await this.wakeSignal.wait(backoffMs);
    }
  }

  /** One batch: read after the checkpoint, apply, move the checkpoint, all or nothing. */
  private async step(): Promise<number> {
    const events = await this.store.readAll({ after: this.position, limit: this.options.batchSizeMax });
    // Nothing new: no transaction. A checkpoint another projector moved shows up at the next read
    // that finds events (ours or its), where the locked checkpoint is compared before applying.
    if (events.length === 0) return 0;
    // A span only for batches that carry events (an idle poll is not worth one), linked to the
    // traces that caused the first of them.
    const links: Link[] = [];
    for (const event of events) {
      if (links.length >= 32) break;
      const link = linkFromTraceparent(event.metadata.traceparent);
      if (link) links.push(link);
    }
    return withSpan('ledger.project', () => this.apply(events), {
      parent: ROOT_CONTEXT,
      links,
      attributes: { 'ledger.events': events.length, 'ledger.position.first': events[0]!.position.toString() },
    });
  }

  private async lockCheckpoint(trx: Kysely<Tables>): Promise<bigint> {
    if (this.checkpointRowExists) {
      const stored = await lockedCheckpoint(trx);
      if (stored !== undefined) return stored;
    }
    await sql`insert into checkpoints (name, position) values (${READ_MODELS_CHECKPOINT}, 0)
              on conflict (name) do nothing`.execute(trx);
    this.checkpointRowExists = true;
    return (await lockedCheckpoint(trx))!;
  }

  private async apply(events: readonly RecordedEvent[]): Promise<number> {
    const applied = await this.db.transaction().execute(async (trx) => {
      const stored = await this.lockCheckpoint(trx);
      if (stored !== this.position) {
        // Another projector moved it (or we just started, or a rebuild reset it): continue from there.
        this.position = stored;
        return -1;
      }
      const touched = new Set<string>();
      for (const event of events) {
        const data = event.data as { accountId?: string; debitAccountId?: string; creditAccountId?: string };
        if (event.type === 'AccountOpened') continue;
        for (const id of [data.accountId, data.debitAccountId, data.creditAccountId]) if (id) touched.add(id);
      }
      const current = await loadAccounts(trx, [...touched]);
      const currentTransfers = await loadTransfers(trx, transfersChangedBy(events));
      const changes = readModelChanges(events, current, currentTransfers);
      await writeChanges(trx, changes);
      await writeTimeIndex(trx, changes.entries, changes.pendings);
      await this.options.beforeCheckpoint?.();
      const last = events.at(-1)!;
      await sql`update checkpoints set position = ${last.position.toString()}::numeric, updated_at = now()
                where name = ${READ_MODELS_CHECKPOINT}`.execute(trx);
      return events.length;
    });
    if (applied === -1) return this.step();
    if (applied > 0) {
      const last = events.at(-1)!;
      this.position = last.position;
      this.lastLagMs = Math.max(0, Date.now() - Date.parse(last.recordedAt));
      this.progress.emit('progress', this.position);
    }
    return applied;
  }
}

/** The checkpoint row, locked for this transaction; created at 0 the first time (or after a rebuild dropped it). */
async function lockedCheckpoint(trx: Kysely<Tables>): Promise<bigint | undefined> {
  const locked = await sql<{ position: string }>`
    select position::text as position from checkpoints where name = ${READ_MODELS_CHECKPOINT} for update`.execute(trx);
  return locked.rows[0] ? BigInt(locked.rows[0].position) : undefined;
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
    debits_pending: string;
    credits_pending: string;
    entry_count: string;
    version: string;
    opened_at: string;
    code: string | null;
    metadata: unknown;
    position: string;
  }>`select id, currency, normal_side, flags, status, debits_posted::text as debits_posted,
            credits_posted::text as credits_posted, debits_pending::text as debits_pending,
            credits_pending::text as credits_pending, entry_count::text as entry_count, version::text as version,
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
        debitsPending: BigInt(r.debits_pending),
        creditsPending: BigInt(r.credits_pending),
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

/** The transfer rows a batch changes without starting them (holds it posts or releases, transfers it reverses). */
async function loadTransfers(db: Kysely<Tables>, ids: string[]): Promise<Map<string, TransferRow>> {
  if (ids.length === 0) return new Map();
  const rows = await sql<{
    id: string;
    debit_account_id: string;
    credit_account_id: string;
    amount: string;
    currency: string;
    status: TransferRow['status'];
    pending_amount: string;
    posted_amount: string;
    reversed_amount: string;
    expires_at: string | null;
    reverses: string | null;
    code: string | null;
    reference: string | null;
    metadata: unknown;
    effective_at: string;
    recorded_at: string;
    position: string;
  }>`select id, debit_account_id, credit_account_id, amount::text as amount, currency, status,
            pending_amount::text as pending_amount, posted_amount::text as posted_amount,
            reversed_amount::text as reversed_amount, ${isoTimestamp('expires_at')} as expires_at, reverses,
            code, reference, metadata, ${isoTimestamp('effective_at')} as effective_at,
            ${isoTimestamp('recorded_at')} as recorded_at, position::text as position
     from rm_transfers where id = any(${ids}::text[])`.execute(db);
  return new Map(
    rows.rows.map((r) => [
      r.id,
      {
        id: r.id,
        debitAccountId: r.debit_account_id,
        creditAccountId: r.credit_account_id,
        amount: BigInt(r.amount),
        currency: r.currency,
        status: r.status,
        pendingAmount: BigInt(r.pending_amount),
        postedAmount: BigInt(r.posted_amount),
        reversedAmount: BigInt(r.reversed_amount),
        expiresAt: r.expires_at,
        reverses: r.reverses,
        code: r.code,
        reference: r.reference,
        metadata: r.metadata,
        effectiveAt: r.effective_at,
        recordedAt: r.recorded_at,
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
      on conflict (id) do update set status = excluded.status, debits_posted = excluded.debits_posted,
        credits_posted = excluded.credits_posted, debits_pending = excluded.debits_pending,
        credits_pending = excluded.credits_pending, entry_count = excluded.entry_count,
        version = excluded.version, position = excluded.position`.execute(db);
  }
  const t = [...changes.transfers.values()];
  if (t.length > 0) {
    await sql`
      insert into rm_transfers (id, debit_account_id, credit_account_id, amount, currency, status, pending_amount,
                                posted_amount, reversed_amount, expires_at, reverses, code,
                                reference, metadata, effective_at, recorded_at, position)
      select id, d, c, a::numeric, cur, st, pa::numeric, po::numeric, ra2::numeric, ex::timestamptz, rev, code, ref,
             md::json, ea::timestamptz, ra::timestamptz, p::numeric
      from unnest(${t.map((x) => x.id)}::text[], ${t.map((x) => x.debitAccountId)}::text[],
                  ${t.map((x) => x.creditAccountId)}::text[], ${str(t.map((x) => x.amount))}::text[],
                  ${t.map((x) => x.currency)}::text[], ${t.map((x) => x.status)}::text[],
                  ${str(t.map((x) => x.pendingAmount))}::text[], ${str(t.map((x) => x.postedAmount))}::text[],
                  ${str(t.map((x) => x.reversedAmount))}::text[], ${t.map((x) => x.expiresAt)}::text[],
                  ${t.map((x) => x.reverses)}::text[], ${t.map((x) => x.code)}::text[], ${t.map((x) => x.reference)}::text[],
                  ${t.map((x) => JSON.stringify(x.metadata))}::text[], ${t.map((x) => x.effectiveAt)}::text[],
                  ${t.map((x) => x.recordedAt)}::text[], ${str(t.map((x) => x.position))}::text[])
           as x(id, d, c, a, cur, st, pa, po, ra2, ex, rev, code, ref, md, ea, ra, p)
      on conflict (id) do update set status = excluded.status, pending_amount = excluded.pending_amount,
        posted_amount = excluded.posted_amount, reversed_amount = excluded.reversed_amount,
        position = excluded.position`.execute(db);
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
