import { randomUUID } from 'node:crypto';
import { type Account, decideOpenAccount, decideStatusChange, evolveAccount, openedAccount } from '../domain/account';
import { type LedgerError, isLedgerError, ledgerError } from '../domain/errors';
import { type LedgerEvent, accountStream, transferStream } from '../domain/events';
import { decideTransfer } from '../domain/transfer';
import { type TransferState, evolveTransfer } from '../domain/transfer-state';
import type { EventMetadata, EventToAppend, ExpectedRevision, RecordedEvent } from '../eventstore/port';
import { expect } from '../eventstore/port';
import { decodeEventOf, decodeLedgerEvent } from '../events/decode';
import type { FraudEvent } from '../domain/fraud';
import type { PeriodEvent } from '../domain/closed-period';
import type { AccountState, AccountStates } from './account-states';
import { decideHoldJob, decideReverseJob } from './hold-decisions';
import type { TransferStates } from './transfer-states';
import { FraudDecisions } from './fraud-decisions';
import { PeriodDecisions } from './period-decisions';
import type { PreparedPeriods } from './period-states';
import type { CommandContext, TransferOutcome, TransferRecord, WriteJob } from './write-commands';

/**
 * A result that waits for the append to learn its position. `batchPosition` is where the log
 * stands after the batch: the answer of a request whose own commands wrote nothing.
 */
export type Pending<T> = (recorded: readonly RecordedEvent[], batchPosition: bigint) => T;

export interface Working {
  account: Account;
  /** Index in `events` of the last event this batch adds to the account, if any. */
  lastEventIndex?: number;
}

/** A transfer as this batch has it: started or changed by it (holds, their posts, reversals). */
export interface WorkingTransfer {
  state: TransferState;
  recordedAt: string;
  /** Index in `events` of the last event this batch adds to the transfer's stream, if any. */
  lastEventIndex?: number;
}

/**
 * Decides one batch of write jobs against the write model, in order, as if each ran alone:
 * every job sees the effects of those before it. Produces the events to append in one
 * transaction, the expected revision of every stream they touch, and a way to build each job's
 * outcome once the append has given the events their positions.
 */
export class BatchDecision {
  readonly events: EventToAppend[] = [];
  readonly expected = new Map<string, ExpectedRevision>();
  readonly results: Pending<unknown>[] = [];
  private readonly working = new Map<string, Working>();
  /** Transfers this batch started or changed, by id. */
  readonly workingTransfers = new Map<string, WorkingTransfer>();
  /**
   * Accounts whose cached state a refusal of this batch rested on (funds, status): another process
   * may have moved them since, so the writer checks their heads before answering (ADR 0013).
   */
  readonly refusedOn = new Set<string>();
  /** Transfers whose cached state a reversal's refusal rested on (their posted amount may have grown elsewhere). */
  readonly refusedOnTransfers = new Set<string>();
  /** Transfers (and reversals) decided earlier in this batch, by id: their command hash, event index and first state. */
  readonly pendingTransfers = new Map<string, { commandHash: string; index: number; state: TransferState }>();
  /** Accounts opened earlier in this batch, by id: a repeat of the same command answers this account. */
  private readonly openedEarlier = new Map<string, { commandHash: string; account: Account; index: number }>();
  /** Posts and voids decided earlier in this batch, by their command's id. */
  readonly pendingHoldCommands = new Map<string, { commandHash: string; answer: Pending<TransferRecord> }>();
  private readonly fraud: FraudDecisions;
  /** Closed periods and adjustments (ADR 0033). */
  readonly periods: PeriodDecisions;

  constructor(
    private readonly states: AccountStates,
    /** The first event of every stream the batch opens or posts, as found before deciding. */
    readonly existing: ReadonlyMap<string, RecordedEvent>,
    readonly recordedAt: string,
    readonly transferStates?: TransferStates,
    /** The first answers of posts and voids found again by their id (by command stream). */
    readonly repeats: ReadonlyMap<string, TransferRecord> = new Map(),
    /** Not given: decided as if no period were closed, expecting the periods stream not to exist. */
    prepared: PreparedPeriods = { periods: { state: {}, revision: -1n }, adjustments: new Map() },
  ) {
    this.periods = new PeriodDecisions(this, prepared);
    this.fraud = new FraudDecisions(existing, recordedAt, this.expected, (event, streamId, context) =>
      this.append(event, streamId, context, {}),
    );
  }

  decide(job: WriteJob): void {
    switch (job.kind) {
      case 'open':
        return void this.results.push(this.open(job));
      case 'status':
        return void this.results.push(this.status(job));
      case 'transfers':
        return void this.results.push(this.transfers(job));
      case 'hold':
        return void this.results.push(decideHoldJob(this, job));
      case 'reverse':
        return void this.results.push(decideReverseJob(this, job));
      case 'fraud':
        return void this.results.push(this.fraud.decide(job));
      case 'close-period':
        return void this.results.push(this.periods.close(job));
      case 'request-adjustment':
        return void this.results.push(this.periods.request(job));
      case 'approve-adjustment':
        return void this.results.push(this.periods.approve(job));
    }
  }

  /** Account states this batch changed, with the events' indexes, for the cache after commit. */
  changedAccounts(): Array<[string, Working]> {
    return [...this.working].filter(([, w]) => w.lastEventIndex !== undefined);
  }

  /** Transfer states this batch changed, with the index of their last event, for the cache after commit. */
  changedTransfers(): Array<[string, WorkingTransfer]> {
    return [...this.workingTransfers].filter(([, w]) => w.lastEventIndex !== undefined);
  }

  /** A transfer as this batch sees it: as it left it, or as the cache has it. */
  transferState(transferId: string): WorkingTransfer | undefined {
    const own = this.workingTransfers.get(transferId);
    if (own) return own;
    const cached = this.transferStates?.get(transferId);
    return cached ? { state: cached.state, recordedAt: cached.recordedAt } : undefined;
  }

  /** The stream of a transfer must still be where the cache saw it when we commit. */
  expectTransfer(transferId: string): void {
    const stream = transferStream(transferId);
    if (this.expected.has(stream)) return;
    const cached = this.transferStates?.get(transferId);
    this.expected.set(stream, cached ? expect.at(cached.revision) : expect.noStream);
  }

  /** An account this batch changed: its state and the index of the event that changed it. */
  setAccount(accountId: string, account: Account, index: number): void {
    this.working.set(accountId, { account, lastEventIndex: index });
  }

  account(accountId: string): Working | undefined {
    const own = this.working.get(accountId);
    if (own) return own;
    const cached = this.states.get(accountId);
    return cached ? { account: cached.account } : undefined;
  }

  /** Notes the accounts a refusal that depends on their changing state was decided on. */
  refusedOnState(error: LedgerError, ...accountIds: string[]): void {
    if (!STATE_DEPENDENT_REFUSALS.has(error.slug)) return;
    for (const id of accountIds) this.refusedOn.add(id);
  }

  /**
   * A transfer (or reversal) command whose id was used before: stored before this batch or decided
   * earlier in it. The same body gets the first answer; another body is a conflict; undefined: a new id.
   */
  repeatedTransfer(id: string, commandHash: string): Pending<TransferRecord> | LedgerError | undefined {
    const stored = this.existing.get(transferStream(id));
    if (stored) {
      if (stored.metadata.commandHash !== commandHash) return conflict(`transfer ${id}`);
      const transfer: TransferRecord = {
        state: evolveTransfer(undefined, decodeLedgerEvent(stored)),
        recordedAt: stored.recordedAt,
        position: stored.position,
      };
      return () => transfer;
    }
    const earlier = this.pendingTransfers.get(id);
    if (!earlier) return undefined;
    if (earlier.commandHash !== commandHash) return conflict(`transfer ${id}`);
    return (recorded) => ({
      state: earlier.state,
      recordedAt: this.recordedAt,
      position: recorded[earlier.index]!.position,
    });
  }

  private cached(accountId: string): AccountState | undefined {
    return this.states.get(accountId);
  }

  append(
    event: LedgerEvent | FraudEvent | PeriodEvent,
    streamId: string,
    context: CommandContext,
    extra: { commandHash?: string; alsoIn?: string[]; commandId?: string },
  ): number {
    const metadata: EventMetadata = {
      correlationId: context.correlationId,
      causationId: context.causationId,
      ...(extra.commandHash ? { commandHash: extra.commandHash } : {}),
      ...(extra.commandId ? { commandId: extra.commandId } : {}),
      ...(context.actor ? { actor: context.actor } : {}),
      ...(context.traceparent ? { traceparent: context.traceparent } : {}),
    };
    this.events.push({
      eventId: randomUUID(),
      streamId,
      type: event.type,
      data: event.data,
      metadata,
      ...(extra.alsoIn ? { alsoIn: extra.alsoIn } : {}),
    });
    return this.events.length - 1;
  }

  /** The stream of an account must still be where the cache saw it when we commit. */
  expectAccount(accountId: string): void {
    const stream = accountStream(accountId);
    if (this.expected.has(stream)) return;
    const cached = this.cached(accountId);
    this.expected.set(stream, cached ? expect.at(cached.revision) : expect.noStream);
  }

  private open(job: Extract<WriteJob, { kind: 'open' }>): Pending<unknown> {
    const id = job.command.accountId;
    const stream = accountStream(id);
    const stored = this.existing.get(stream);
    if (stored) {
      if (stored.metadata.commandHash !== job.commandHash) return () => conflict(`account ${id}`);
      const account = openedAccount(decodeEventOf(stored, 'AccountOpened'));
      return () => ({ outcome: 'duplicate', account, position: stored.position });
    }
    // Opened earlier in this same batch: the same command is a repeat, another one a conflict.
    const openedEarlier = this.openedEarlier.get(id);
    if (openedEarlier) {
      if (openedEarlier.commandHash !== job.commandHash) return () => conflict(`account ${id}`);
      const { account, index } = openedEarlier;
      return (recorded) => ({ outcome: 'duplicate', account, position: recorded[index]!.position });
    }
    const event = decideOpenAccount(job.command, this.recordedAt);
    this.expected.set(stream, expect.noStream);
    const index = this.append(event, stream, job.context, { commandHash: job.commandHash });
    const account = openedAccount(event);
    this.working.set(id, { account, lastEventIndex: index });
    this.openedEarlier.set(id, { commandHash: job.commandHash, account, index });
    return (recorded) => ({ outcome: 'created', account, position: recorded[index]!.position });
  }

  private status(job: Extract<WriteJob, { kind: 'status' }>): Pending<unknown> {
    const id = job.command.accountId;
    const current = this.account(id);
    if (!current) return () => ledgerError('account-not-found', `no account ${id}`);
    const decision = decideStatusChange(job.command, current.account);
    if (isLedgerError(decision)) {
      this.refusedOnState(decision, id);
      return () => decision;
    }
    if (decision === null) {
      const lastIndex = current.lastEventIndex;
      const cachedPosition = this.cached(id)?.position;
      const account = current.account;
      // Where the account's last event is (or, where the store did not say, the batch's position:
      // as good for read-your-writes).
      return (recorded, batchPosition) => ({
        account,
        position: lastIndex !== undefined ? recorded[lastIndex]!.position : (cachedPosition ?? batchPosition),
      });
    }
    this.expectAccount(id);
    const index = this.append(decision, accountStream(id), job.context, {});
    const account = evolveAccount(current.account, decision);
    this.working.set(id, { account, lastEventIndex: index });
    return (recorded) => ({ account, position: recorded[index]!.position });
  }

  private transfers(job: Extract<WriteJob, { kind: 'transfers' }>): Pending<unknown> {
    // An atomic group decides on a scratch copy and keeps it only if every transfer passes.
    const savedWorking = job.atomic ? new Map(this.working) : undefined;
    const savedExpected = job.atomic ? new Map(this.expected) : undefined;
    const savedPending = job.atomic ? new Map(this.pendingTransfers) : undefined;
    const savedTransfers = job.atomic ? new Map(this.workingTransfers) : undefined;
    const eventsBefore = this.events.length;
    const outcomes: Pending<TransferOutcome>[] = [];
    let failedAt = -1;
    for (const [i, { command, commandHash }] of job.commands.entries()) {
      const outcome = this.transfer(command, commandHash, job.context);
      outcomes.push(outcome.pending);
      if (outcome.failed && job.atomic) {
        failedAt = i;
        break;
      }
    }
    if (failedAt >= 0) {
      this.working.clear();
      for (const [k, v] of savedWorking!) this.working.set(k, v);
      this.expected.clear();
      for (const [k, v] of savedExpected!) this.expected.set(k, v);
      this.pendingTransfers.clear();
      for (const [k, v] of savedPending!) this.pendingTransfers.set(k, v);
      this.workingTransfers.clear();
      for (const [k, v] of savedTransfers!) this.workingTransfers.set(k, v);
      this.events.length = eventsBefore;
      const failure = outcomes[failedAt]!;
      return (recorded, batchPosition) => ({
        items: job.commands.map(
          (c, i): TransferOutcome =>
            i === failedAt
              ? failure(recorded, batchPosition)
              : {
                  outcome: 'failed',
                  error: ledgerError(
                    'batch-aborted',
                    `nothing in this atomic batch was posted because transfer ${job.commands[failedAt]!.command.transferId} failed`,
                  ),
                },
        ),
        position: batchPosition,
      });
    }
    return (recorded, batchPosition) => {
      const items = outcomes.map((pending) => pending(recorded, batchPosition));
      const written = items.flatMap((item) => (item.outcome === 'failed' ? [] : [item.transfer.position]));
      const position = written.length > 0 ? written.reduce((max, p) => (p > max ? p : max)) : batchPosition;
      return { items, position };
    };
  }

  private transfer(
    command: Parameters<typeof decideTransfer>[0],
    commandHash: string,
    context: CommandContext,
  ): { pending: Pending<TransferOutcome>; failed: boolean } {
    const fail = (error: LedgerError) => ({ pending: () => ({ outcome: 'failed' as const, error }), failed: true });
    const id = command.transferId;
    const repeat = this.repeatedTransfer(id, commandHash);
    if (isLedgerError(repeat)) return fail(repeat);
    if (repeat) {
      return {
        pending: (recorded, position) => ({ outcome: 'duplicate', transfer: repeat(recorded, position) }),
        failed: false,
      };
    }
    if (command.debitAccountId === command.creditAccountId) {
      return fail(
        ledgerError(
          'same-account',
          `a transfer must debit one account and credit another; both are ${command.debitAccountId}`,
        ),
      );
    }
    const debit = this.account(command.debitAccountId);
    if (!debit) return fail(ledgerError('account-not-found', `no account ${command.debitAccountId} (the debit side)`));
    const credit = this.account(command.creditAccountId);
    if (!credit)
      return fail(ledgerError('account-not-found', `no account ${command.creditAccountId} (the credit side)`));

    const decision = decideTransfer(command, debit.account, credit.account, this.recordedAt);
    if (isLedgerError(decision)) {
      this.refusedOnState(decision, command.debitAccountId, command.creditAccountId);
      return fail(decision);
    }
    const closed = this.periods.refusal(decision);
    if (closed) return fail(closed);

    this.expectAccount(command.debitAccountId);
    this.expectAccount(command.creditAccountId);
    this.expected.set(transferStream(id), expect.noStream);
    const index = this.append(decision, transferStream(id), context, {
      commandHash,
      alsoIn: [accountStream(command.debitAccountId), accountStream(command.creditAccountId)],
    });
    this.working.set(command.debitAccountId, {
      account: evolveAccount(debit.account, decision),
      lastEventIndex: index,
    });
    this.working.set(command.creditAccountId, {
      account: evolveAccount(credit.account, decision),
      lastEventIndex: index,
    });
    const state = evolveTransfer(undefined, decision);
    this.pendingTransfers.set(id, { commandHash, index, state });
    // A hold is kept for its posts and voids later in this batch and after it; a plain transfer only
    // for a reversal in this same batch (the cache does not keep it: see changedTransfers).
    this.workingTransfers.set(id, {
      state,
      recordedAt: this.recordedAt,
      ...(state.hold ? { lastEventIndex: index } : {}),
    });
    return {
      pending: (recorded) => ({
        outcome: 'created',
        transfer: { state, recordedAt: this.recordedAt, position: recorded[index]!.position },
      }),
      failed: false,
    };
  }
}

/** Refusals another process's writes can lift: funds (and holds) and an account's status. */
const STATE_DEPENDENT_REFUSALS: ReadonlySet<string> = new Set(['insufficient-funds', 'account-not-open']);

export const conflict = (what: string): LedgerError =>
  ledgerError('idempotency-conflict', `${what} exists with a different body; use a new id for a new command`);
