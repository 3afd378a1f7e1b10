import { type Context, ROOT_CONTEXT, type Link } from '@opentelemetry/api';
import { encodeAccountSnapshot } from '../domain/account-snapshot';
import { accountStream, holdCommandStream, transferStream } from '../domain/events';
import { MoneyInvariantError } from '../domain/money';
import {
  type AppendRequest,
  type AppendResult,
  type EventStore,
  PredecessorNotCommittedError,
  type RecordedEvent,
  WrongExpectedRevisionError,
} from '../eventstore/port';
import { currentTraceparent, linkFromTraceparent, withSpan } from '../platform/tracing';
import type { AccountStates } from './account-states';
import { BatchDecision } from './batch-decision';
import { TransferStates } from './transfer-states';
import { PeriodStates } from './period-states';
import type { TransferRecord } from './write-commands';
import { fraudStreamsOf, reviewStreamsOf } from './fraud-decisions';
import { type WriteJob, type WriteOutcome, WriterOverloadedError, WriterStoppedError } from './write-commands';

interface Queued {
  readonly job: WriteJob;
  readonly size: number;
  resolve(outcome: unknown): void;
  reject(error: unknown): void;
}

export interface WriterOptions {
  /** Most commands decided and appended in one transaction. */
  readonly batchSizeMax: number;
  /** Most commands waiting; beyond it new ones are refused. */
  readonly queueSizeMax: number;
  /** Tries of a batch whose expected revisions another process beat. */
  readonly conflictRetriesMax?: number;
  /** Called after every committed batch (metrics, waking the projector). */
  readonly onCommitted?: (info: {
    commands: number;
    events: number;
    position: bigint;
    ms: number;
    appendMs: number;
    /** Whether the batch was decided while the one before it appended (ADR 0027). */
    decidedAhead: boolean;
    /** Whether its append was sent before the one before it had committed, and committed so (ADR 0041). */
    sentAhead: boolean;
  }) => void;
  /**
   * Decide the next batch while this one appends, on the state this one leaves (ADR 0027). Its
   * append is sent at once where the store checks `after` under the log's lock (ADR 0041), else
   * only once this one has committed. Default on.
   */
  readonly decideAhead?: boolean;
  /** Called once per job with its outcome, or with the error it failed on (metrics by outcome). */
  readonly onSettled?: (job: WriteJob, outcome: unknown, error?: unknown) => void;
}

/**
 * A batch taken while the one before it was appending, with its decision when it could be made
 * ahead: on the state the batch before leaves, valid only while nothing has failed since (`epoch`).
 */
interface Ahead {
  readonly batch: Queued[];
  readonly decided?: Decided;
}

interface Decided {
  readonly decision: BatchDecision;
  readonly recordedAt: string;
  readonly epoch: number;
  /** Its append, sent while the batch before was appending (ADR 0041). */
  readonly sent?: SentAhead;
}

interface SentAhead {
  /** What was sent; sent again as it is if the store refused it only for arriving first. */
  readonly request: AppendRequest;
  /** Settled, never rejected: awaited only in the batch's turn. */
  readonly outcome: Promise<{ readonly result: AppendResult } | { readonly error: unknown }>;
}

/** What the batch being appended tells the drain loop: the first event it appends. */
interface Appending {
  readonly after: string;
}

/** A batch span links to at most this many of the requests it carries. */
const BATCH_SPAN_LINKS_MAX = 64;

/**
 * The write path's group commit. Commands queue here; one loop takes as many as are waiting (up
 * to `batchSizeMax`), decides them in order against the write model, and appends every resulting
 * event in one transaction. Under load each transaction carries many commands, so the commit cost
 * is shared the way TigerBeetle shares it (ADR 0002). One batch commits at a time per process, while
 * the next is decided on the state it leaves (ADR 0027) and, on PostgreSQL, already waits at the
 * log's lock behind it (ADR 0041); other processes are kept honest by the expected revisions of
 * the streams each batch touches.
 */
export class Writer {
  private readonly queue: Queued[] = [];
  private queuedSize = 0;
  private running = false;
  private stopped = false;
  private lastRecordedMs = 0;
  /** Moves on every failed append: a decision made ahead on the state of the failed one is void. */
  private epoch = 0;
  /** Wakes a drain loop waiting for work to decide ahead. */
  private arrived: (() => void) | undefined;

  constructor(
    private readonly store: EventStore,
    private readonly states: AccountStates,
    private readonly options: WriterOptions,
    /** Holds and the transfers that reversals undo (ADR 0020). */
    private readonly transfers: TransferStates = new TransferStates(store),
    /** The periods stream and the adjustments a batch names (ADR 0033). */
    private readonly periods: PeriodStates = new PeriodStates(store),
  ) {}

  get queueLength(): number {
    return this.queuedSize;
  }

  submit<J extends WriteJob>(job: J): Promise<WriteOutcome<J>> {
    if (this.stopped) return Promise.reject(new WriterStoppedError());
    // Events carry the trace of whoever asked: the request's, or the caller's active span.
    if (job.context.traceparent === undefined) {
      const traceparent = currentTraceparent();
      if (traceparent) job = { ...job, context: { ...job.context, traceparent } } as J;
    }
    const size = job.kind === 'transfers' || job.kind === 'fraud' ? Math.max(1, job.commands.length) : 1;
    if (this.queuedSize + size > this.options.queueSizeMax && this.queuedSize > 0) {
      const error = new WriterOverloadedError(this.queuedSize);
      this.options.onSettled?.(job, undefined, error);
      return Promise.reject(error);
    }
    return new Promise<WriteOutcome<J>>((resolve, reject) => {
      this.queue.push({ job, size, resolve: resolve as (o: unknown) => void, reject });
      this.queuedSize += size;
      this.arrived?.();
      if (!this.running) void this.drain();
    });
  }

  /** Finishes what is queued, then refuses new work. */
  async stop(): Promise<void> {
    this.stopped = true;
    while (this.running) await new Promise((r) => setTimeout(r, 5));
  }

  /**
   * Takes batches in order. While one appends, the next is taken and decided on the state the
   * appending one leaves (pipelined group commit, ADR 0027). Its append is sent at once where the
   * store checks `after` (it waits there for the one before, ADR 0041), else only after the one
   * before has committed: appends commit in order and each is checked by its expected revisions
   * against committed state. A failed append voids the decision made ahead of it.
   */
  private async drain(): Promise<void> {
    this.running = true;
    try {
      let ahead: Ahead | undefined;
      while (ahead || this.queue.length > 0) {
        const batch = ahead?.batch ?? this.take();
        const decided = ahead?.decided;
        ahead = undefined;
        let appending: (started: Appending) => void = () => {};
        const sent = new Promise<Appending>((resolve) => {
          appending = resolve;
        });
        const done = this.process(batch, decided, appending).then(
          () => 'done' as const,
          (error: unknown) => {
            for (const item of batch) {
              this.options.onSettled?.(item.job, undefined, error);
              item.reject(error);
            }
            return 'done' as const;
          },
        );
        const started = this.options.decideAhead !== false ? await Promise.race([sent, done]) : 'done';
        if (started !== 'done') {
          const next = await this.nextWhile(done);
          if (next) ahead = this.sendAhead(await this.decideAhead(next), started.after);
        }
        await done;
      }
    } finally {
      this.running = false;
    }
  }

  /** The next batch, as soon as there is one, unless `done` settles first (then undefined). */
  private async nextWhile(done: Promise<unknown>): Promise<Queued[] | undefined> {
    if (this.queue.length === 0) {
      const arrived = new Promise<void>((resolve) => {
        this.arrived = resolve;
      });
      await Promise.race([arrived, done]);
      this.arrived = undefined;
    }
    return this.queue.length > 0 ? this.take() : undefined;
  }

  /**
   * Decides a batch of openings and plain transfers ahead. Anything else (holds, reversals, status
   * changes, fraud, periods), and any decision that rests on a refusal or starts a hold, waits for
   * its turn and is decided then: what is decided ahead must be exactly what the batch would
   * decide after the one before commits.
   */
  private async decideAhead(batch: Queued[]): Promise<Ahead> {
    const jobs = batch.map((item) => item.job);
    if (!jobs.every((job) => job.kind === 'transfers' || job.kind === 'open')) return { batch };
    const epoch = this.epoch;
    try {
      const { decision, recordedAt } = await this.decide(jobs, await this.load(jobs), ROOT_CONTEXT, 0);
      const plain =
        decision.events.length > 0 &&
        decision.refusedOn.size === 0 &&
        decision.refusedOnTransfers.size === 0 &&
        decision.changedTransfers().length === 0;
      return plain && epoch === this.epoch ? { batch, decided: { decision, recordedAt, epoch } } : { batch };
    } catch {
      // Whatever failed is met again, and answered, when the batch is decided in its turn.
      return { batch };
    }
  }

  /**
   * Sends the append of a batch decided ahead at once, where the store checks under the log's lock
   * that the batch before committed first (ADR 0041): PostgreSQL runs it as soon as that one
   * commits, without waiting for this process to hear of it. Refused there if the batch before
   * had not committed by then; the batch is then sent again, or decided again, in its turn.
   */
  private sendAhead(ahead: Ahead, after: string): Ahead {
    const { decided } = ahead;
    if (!decided || !this.store.appendsAfter || decided.epoch !== this.epoch) return ahead;
    const request = this.appendRequest(decided.decision, decided.recordedAt);
    const outcome = withSpan('ledger.append', () => this.store.append({ ...request, after }), {
      parent: ROOT_CONTEXT,
      attributes: { 'ledger.events': decided.decision.events.length, 'ledger.sent_ahead': true },
    }).then(
      (result) => ({ result }),
      (error: unknown) => ({ error }),
    );
    return { ...ahead, decided: { ...decided, sent: { request, outcome } } };
  }

  /** The append of a decided batch, with every account it changed as it stands after it (ADR 0013). */
  private appendRequest(decision: BatchDecision, recordedAt: string): AppendRequest {
    return {
      events: decision.events,
      expected: decision.expected,
      recordedAt,
      snapshots: decision.changedAccounts().map(([id, working]) => ({
        streamId: accountStream(id),
        data: encodeAccountSnapshot(working.account),
      })),
    };
  }

  /**
   * The batch's append in its turn: the one sent ahead if it committed, else sent now. A refusal
   * because the batch before had not committed yet is not final: that batch has committed by now
   * (it is this batch's turn, and nothing failed since it was decided), so the batch is sent again.
   */
  private async appendInTurn(
    request: AppendRequest,
    parent: Context,
    sent: SentAhead['outcome'] | undefined,
  ): Promise<{ recorded: AppendResult; sentAhead: boolean }> {
    if (sent) {
      const outcome = await sent;
      if ('result' in outcome) return { recorded: outcome.result, sentAhead: true };
      if (!(outcome.error instanceof PredecessorNotCommittedError)) throw outcome.error;
    }
    const recorded = await withSpan('ledger.append', () => this.store.append(request), {
      parent,
      attributes: { 'ledger.events': request.events.length },
    });
    return { recorded, sentAhead: false };
  }

  private take(): Queued[] {
    const batch: Queued[] = [];
    let size = 0;
    while (this.queue.length > 0) {
      const next = this.queue[0]!;
      if (batch.length > 0 && size + next.size > this.options.batchSizeMax) break;
      this.queue.shift();
      batch.push(next);
      size += next.size;
    }
    this.queuedSize -= size;
    return batch;
  }

  private nextRecordedAt(): string {
    // Transaction time never goes backwards within a process, even if the wall clock does.
    this.lastRecordedMs = Math.max(Date.now(), this.lastRecordedMs);
    return new Date(this.lastRecordedMs).toISOString();
  }

  /** One batch in one span (a root of its own: it serves many requests, and links to them). */
  private process(
    batch: readonly Queued[],
    decided: Decided | undefined,
    appending: (started: Appending) => void,
  ): Promise<void> {
    const links: Link[] = [];
    for (const item of batch) {
      if (links.length >= BATCH_SPAN_LINKS_MAX) break;
      const link = linkFromTraceparent(item.job.context.traceparent);
      if (link) links.push(link);
    }
    const commands = batch.reduce((n, item) => n + item.size, 0);
    return withSpan(
      'ledger.write-batch',
      (_span, batchContext) => this.decideAndAppend(batch, batchContext, decided, appending),
      {
        parent: ROOT_CONTEXT,
        links,
        attributes: { 'ledger.commands': commands },
      },
    );
  }

  /**
   * For batches with posts, voids or reversals: the accounts of the transfers they name (loaded,
   * and returned), and the first answers of posts and voids sent again (the hold as it stood after them).
   */
  private async holdsAndRepeats(
    transferIds: readonly string[],
    existing: ReadonlyMap<string, RecordedEvent>,
  ): Promise<{ repeats: Map<string, TransferRecord>; accounts: string[] }> {
    const repeats = new Map<string, TransferRecord>();
    if (transferIds.length === 0) return { repeats, accounts: [] };
    const accounts = transferIds.flatMap((id) => {
      const entry = this.transfers.get(id);
      return entry ? [entry.state.debitAccountId, entry.state.creditAccountId] : [];
    });
    const again = [...existing].filter(([stream]) => stream.startsWith('hold-command-'));
    await Promise.all([
      this.states.ensure(accounts),
      ...again.map(async ([stream, event]) => repeats.set(stream, await this.transfers.answerAt(event))),
    ]);
    return { repeats, accounts };
  }

  /** Refreshes the accounts and transfers whose streams the store has past the cache; whether any had. */
  private async catchUp(accountIds: Iterable<string>, transferIds: Iterable<string>): Promise<boolean> {
    const [accounts, transfers] = await Promise.all([
      this.staleIds(new Set(accountIds), accountStream, (id) => this.states.get(id)?.revision),
      this.staleIds(new Set(transferIds), transferStream, (id) => this.transfers.get(id)?.revision),
    ]);
    await Promise.all([this.states.refresh(accounts), this.transfers.refresh(transfers)]);
    return accounts.length + transfers.length > 0;
  }

  /** Ids among these whose stream the store has past the revision the cache reflects (one read). */
  private async staleIds(
    ids: ReadonlySet<string>,
    streamOf: (id: string) => string,
    cachedRevision: (id: string) => bigint | undefined,
  ): Promise<string[]> {
    const list = [...ids];
    const heads = await this.store.streamRevisions(list.map(streamOf));
    return list.filter((id) => (heads.get(streamOf(id)) ?? -1n) > (cachedRevision(id) ?? -1n));
  }

  /** Loads what the jobs are decided against. */
  private async load(jobs: readonly WriteJob[], streams: ReturnType<typeof streamsOf> = streamsOf(jobs)) {
    const { accountIds, firstEventStreams, transferIds } = streams;
    const [existing, , , periods] = await Promise.all([
      this.store.readFirstEvents(firstEventStreams),
      this.states.ensure(accountIds),
      this.transfers.ensure(transferIds),
      this.periods.prepare(jobs, this.states),
    ]);
    const { repeats, accounts: holdAccounts } = await this.holdsAndRepeats(transferIds, existing);
    return { existing, periods, repeats, holdAccounts };
  }

  /** Decides the jobs, in order, against what `load` found and the caches (one attempt). */
  private async decide(
    jobs: readonly WriteJob[],
    loaded: Awaited<ReturnType<Writer['load']>>,
    parent: Context,
    attempt: number,
  ): Promise<{ decision: BatchDecision; recordedAt: string }> {
    const recordedAt = this.nextRecordedAt();
    const decision = await withSpan(
      'ledger.decide',
      (span) => {
        const { existing, repeats, periods } = loaded;
        const decided = new BatchDecision(this.states, existing, recordedAt, this.transfers, repeats, periods);
        for (const job of jobs) decided.decide(job);
        span.setAttribute('ledger.events', decided.events.length);
        return decided;
      },
      { parent, attributes: { 'ledger.attempt': attempt } },
    );
    return { decision, recordedAt };
  }

  /**
   * The cache as the decision leaves it, before its append commits, for the batch decided ahead:
   * each changed account at the revision its expected one plus its events make. Undone by
   * `unspeculate` if the append fails; replaced by the committed state if it succeeds.
   */
  private speculate(decision: BatchDecision): void {
    const added = new Map<string, bigint>();
    for (const event of decision.events) {
      for (const stream of [event.streamId, ...(event.alsoIn ?? [])]) added.set(stream, (added.get(stream) ?? 0n) + 1n);
    }
    for (const [accountId, working] of decision.changedAccounts()) {
      const stream = accountStream(accountId);
      const expected = decision.expected.get(stream);
      const base = expected?.kind === 'at' ? expected.revision : expected?.kind === 'no-stream' ? -1n : undefined;
      if (base === undefined) this.states.forget(accountId);
      else this.states.set(accountId, { account: working.account, revision: base + (added.get(stream) ?? 0n) });
    }
  }

  /** A failed append: its accounts reload from the store, and what was decided ahead on them is void. */
  private unspeculate(decision: BatchDecision): void {
    this.epoch++;
    for (const [accountId] of decision.changedAccounts()) this.states.forget(accountId);
  }

  private async decideAndAppend(
    batch: readonly Queued[],
    parent: Context,
    ahead: Decided | undefined,
    appending: (started: Appending) => void,
  ): Promise<void> {
    const started = performance.now();
    let appendMs = 0;
    let sentAhead = false;
    // An append sent ahead on the state of a batch that failed since: settled before the batch is
    // decided again. The store refused it, unless that batch did commit after all (an error after
    // its commit); then its commands find what it wrote and answer as repeats, as that batch's do.
    if (ahead?.sent && ahead.epoch !== this.epoch) await ahead.sent.outcome;
    const jobs = batch.map((item) => item.job);
    const streams = streamsOf(jobs);
    const { accountIds, transferIds } = streams;
    const retriesMax = this.options.conflictRetriesMax ?? 50;

    let decidedAhead = false;
    for (let attempt = 1; ; attempt++) {
      let decision: BatchDecision;
      let recordedAt: string;
      decidedAhead = attempt === 1 && ahead !== undefined && ahead.epoch === this.epoch;
      if (decidedAhead && ahead) {
        // Decided while the batch before appended, on the state it left, which it has committed.
        ({ decision, recordedAt } = ahead);
      } else {
        const loaded = await this.load(jobs, streams);
        try {
          ({ decision, recordedAt } = await this.decide(jobs, loaded, parent, attempt));
        } catch (error) {
          // Caches of different ages (another process moved a hold and its accounts since this one
          // cached one of them) can break a money invariant no consistent state would, e.g. releasing
          // a hold the cached account never held: catch up and decide again. Nothing stale: a bug.
          if (!(error instanceof MoneyInvariantError) || attempt >= retriesMax) throw error;
          if (!(await this.catchUp([...accountIds, ...loaded.holdAccounts], transferIds))) throw error;
          continue;
        }

        // A refusal decided on cached state must hold against the store: if another process moved one
        // of the accounts it rested on, catch up and decide the batch again (bounded like conflicts).
        if (decision.refusedOn.size > 0 && attempt < retriesMax) {
          const stale = await this.staleIds(decision.refusedOn, accountStream, (id) => this.states.get(id)?.revision);
          if (stale.length > 0) {
            await this.states.refresh(stale);
            continue;
          }
        }
        if (decision.refusedOnTransfers.size > 0 && attempt < retriesMax) {
          const stale = await this.staleIds(
            decision.refusedOnTransfers,
            transferStream,
            (id) => this.transfers.get(id)?.revision,
          );
          if (stale.length > 0) {
            await this.transfers.refresh(stale);
            continue;
          }
        }
      }

      let recorded: AppendResult | undefined;
      if (decision.events.length > 0) {
        const appendStarted = performance.now();
        this.speculate(decision);
        appending({ after: decision.events[0]!.eventId });
        try {
          const sent = decidedAhead ? ahead?.sent : undefined;
          ({ recorded, sentAhead } = await this.appendInTurn(
            sent?.request ?? this.appendRequest(decision, recordedAt),
            parent,
            sent?.outcome,
          ));
        } catch (error) {
          this.unspeculate(decision);
          if (!(error instanceof WrongExpectedRevisionError) || attempt >= retriesMax) throw error;
          // Another process wrote to a stream we decided on: catch up and decide again.
          await this.states.refresh(
            error.conflicts.filter((c) => c.streamId.startsWith('account-')).map((c) => c.streamId.slice(8)),
          );
          await this.transfers.refresh(
            error.conflicts.filter((c) => c.streamId.startsWith('transfer-')).map((c) => c.streamId.slice(9)),
          );
          await this.periods.refreshOn(error.conflicts);
          await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, attempt * 2)));
          continue;
        } finally {
          appendMs += performance.now() - appendStarted;
        }
      }
      if (recorded) {
        for (const [accountId, working] of decision.changedAccounts()) {
          const revision = recorded.revisions.get(accountStream(accountId));
          const event = recorded.events[working.lastEventIndex!];
          if (revision === undefined || !event) throw new Error(`append did not report account ${accountId}`);
          this.states.set(accountId, { account: working.account, revision, position: event.position });
        }
        for (const [transferId, working] of decision.changedTransfers()) {
          const revision = recorded.revisions.get(transferStream(transferId));
          if (revision === undefined) throw new Error(`append did not report transfer ${transferId}`);
          this.transfers.set(transferId, { state: working.state, recordedAt: working.recordedAt, revision });
        }
        const periodsAfter = decision.periods.after(recorded.events, recorded.revisions);
        if (periodsAfter) this.periods.set(periodsAfter);
      }
      const events = recorded?.events ?? [];
      // Where the log stands after this batch; a batch that wrote nothing (every command refused,
      // an atomic batch aborted) asks for the head: a position the read models can be asked to reach.
      const batchPosition = recorded?.position ?? (await this.store.headPosition());
      batch.forEach((item, i) => {
        const outcome = decision.results[i]!(events, batchPosition);
        this.options.onSettled?.(item.job, outcome);
        item.resolve(outcome);
      });
      this.options.onCommitted?.({
        commands: batch.reduce((n, item) => n + item.size, 0),
        events: events.length,
        position: batchPosition,
        ms: performance.now() - started,
        appendMs,
        decidedAhead,
        sentAhead,
      });
      return;
    }
  }
}

function streamsOf(jobs: readonly WriteJob[]): {
  accountIds: string[];
  firstEventStreams: string[];
  transferIds: string[];
} {
  const accountIds = new Set<string>();
  const firstEventStreams = new Set<string>();
  const transferIds = new Set<string>();
  for (const job of jobs) {
    switch (job.kind) {
      case 'open':
        firstEventStreams.add(accountStream(job.command.accountId));
        break;
      case 'status':
        accountIds.add(job.command.accountId);
        break;
      case 'transfers':
        for (const { command } of job.commands) {
          firstEventStreams.add(transferStream(command.transferId));
          accountIds.add(command.debitAccountId);
          accountIds.add(command.creditAccountId);
        }
        break;
      case 'hold': {
        const { command } = job;
        transferIds.add(command.transferId);
        if (command.type === 'PostPendingTransfer') {
          firstEventStreams.add(holdCommandStream(command.postId));
          // A hold under fraud review is not posted (ADR 0024): its score and review decide.
          for (const stream of reviewStreamsOf(command.transferId)) firstEventStreams.add(stream);
        }
        if (command.type === 'VoidPendingTransfer') firstEventStreams.add(holdCommandStream(command.voidId));
        break;
      }
      case 'reverse':
        transferIds.add(job.command.transferId);
        firstEventStreams.add(transferStream(job.command.reversalId));
        break;
      case 'fraud':
        for (const stream of fraudStreamsOf(job)) firstEventStreams.add(stream);
        break;
      // Adjustments' own streams are read whole by PeriodStates.prepare; here: the id of the transfer they post.
      case 'request-adjustment': {
        const { transfer } = job.command;
        firstEventStreams.add(transferStream(transfer.transferId));
        accountIds.add(transfer.debitAccountId);
        accountIds.add(transfer.creditAccountId);
        break;
      }
      case 'approve-adjustment':
        firstEventStreams.add(transferStream(job.command.adjustmentId));
        break;
      case 'close-period':
        break;
    }
  }
  return { accountIds: [...accountIds], firstEventStreams: [...firstEventStreams], transferIds: [...transferIds] };
}
