import { evolveAccount } from '../domain/account';
import {
  PERIODS_STREAM,
  adjustmentStream,
  closedPeriodRefusal,
  decideApproveAdjustment,
  decideClosePeriod,
  decideRequestAdjustment,
  evolveAdjustment,
  evolvePeriods,
} from '../domain/closed-period';
import { type LedgerError, isLedgerError, ledgerError } from '../domain/errors';
import { type MoneyEvent, accountStream, transferStream } from '../domain/events';
import { evolveTransfer } from '../domain/transfer-state';
import { type RecordedEvent, expect } from '../eventstore/port';
import type { BatchDecision, Pending } from './batch-decision';
import type { LatestClose, LoadedAdjustment, PeriodsEntry, PreparedPeriods } from './period-states';
import type { AdjustmentOutcome, ClosePeriodOutcome, WriteJob } from './write-commands';

type Job<K extends WriteJob['kind']> = Extract<WriteJob, { kind: K }>;

const refused =
  (error: LedgerError): Pending<LedgerError> =>
  () =>
    error;

/** An adjustment as this batch has it, with the index of the last event the batch gave it. */
type WorkingAdjustment = LoadedAdjustment & { readonly index?: number };

/**
 * The closed-period part of a batch decision (ADR 0033): closes, adjustments and their approvals,
 * and the check every money event passes. A batch expects the periods stream at the revision it
 * was decided on as soon as it appends anything that counts at an effectiveAt, so a close by
 * another process between our read and our append makes the append fail; the writer reads the
 * periods again and decides the batch again, and the posting is refused.
 */
export class PeriodDecisions {
  private periods: PeriodsEntry;
  /** Index of the close this batch appended, if any. */
  private closedIndex: number | undefined;
  private readonly adjustments: Map<string, WorkingAdjustment>;

  constructor(
    private readonly batch: BatchDecision,
    private readonly prepared: PreparedPeriods,
  ) {
    this.periods = prepared.periods;
    this.adjustments = new Map(prepared.adjustments);
  }

  /** Refuses a money event that would count in a closed period; otherwise the batch now rests on the periods. */
  refusal(event: MoneyEvent): LedgerError | undefined {
    if (!('effectiveAt' in event.data)) return undefined;
    this.expectPeriods();
    return closedPeriodRefusal(event, this.periods.state);
  }

  /** The periods as this batch leaves them, once its append gave the events their positions (undefined: unchanged). */
  after(recorded: readonly RecordedEvent[], revisions: ReadonlyMap<string, bigint>): PeriodsEntry | undefined {
    if (this.closedIndex === undefined) return undefined;
    const revision = revisions.get(PERIODS_STREAM);
    if (revision === undefined) throw new Error('append did not report the periods stream');
    return {
      state: this.periods.state,
      revision,
      latest: { ...this.periods.latest!, position: recorded[this.closedIndex]!.position },
    };
  }

  private expectPeriods(): void {
    if (!this.batch.expected.has(PERIODS_STREAM)) {
      this.batch.expected.set(PERIODS_STREAM, expect.revision(this.prepared.periods.revision));
    }
  }

  close(job: Job<'close-period'>): Pending<ClosePeriodOutcome> {
    const { recordedAt } = this.batch;
    const decided = decideClosePeriod(job.command, this.periods.state, job.context.actor, recordedAt);
    if (isLedgerError(decided)) return refused(decided);
    if (decided === null) {
      const latest = this.periods.latest!;
      const index = this.closedIndex;
      return (recorded) => ({
        outcome: 'duplicate',
        ...latest,
        position: index !== undefined ? recorded[index]!.position : latest.position,
      });
    }
    this.expectPeriods();
    const index = this.batch.append(decided, PERIODS_STREAM, job.context, {});
    const latest: LatestClose = {
      through: decided.data.through,
      reason: decided.data.reason,
      closedBy: decided.data.closedBy,
      closedAt: recordedAt,
      position: -1n, // known once appended: see `after`
    };
    this.periods = { state: evolvePeriods(this.periods.state, decided), revision: this.periods.revision, latest };
    this.closedIndex = index;
    return (recorded) => ({ outcome: 'created', ...latest, position: recorded[index]!.position });
  }

  request(job: Job<'request-adjustment'>): Pending<AdjustmentOutcome> {
    const { transfer } = job.command;
    const id = transfer.transferId;
    const found = this.adjustments.get(id);
    if (found) {
      if (found.commandHash !== job.commandHash) {
        return refused(
          ledgerError(
            'idempotency-conflict',
            `adjustment ${id} exists with a different body; use a new id for a new command`,
          ),
        );
      }
      return this.answer('duplicate', found);
    }
    if (this.batch.existing.has(transferStream(id)) || this.batch.pendingTransfers.has(id)) {
      return refused(ledgerError('idempotency-conflict', `transfer ${id} exists; an adjustment takes a new id`));
    }
    const debit = this.batch.account(transfer.debitAccountId);
    if (!debit)
      return refused(ledgerError('account-not-found', `no account ${transfer.debitAccountId} (the debit side)`));
    const credit = this.batch.account(transfer.creditAccountId);
    if (!credit) {
      return refused(ledgerError('account-not-found', `no account ${transfer.creditAccountId} (the credit side)`));
    }
    const decided = decideRequestAdjustment(
      job.command,
      this.periods.state,
      debit.account,
      credit.account,
      job.context.actor,
      this.batch.recordedAt,
    );
    if (isLedgerError(decided)) {
      this.batch.refusedOnState(decided, transfer.debitAccountId, transfer.creditAccountId);
      return refused(decided);
    }
    const stream = adjustmentStream(id);
    this.batch.expected.set(stream, expect.noStream);
    const index = this.batch.append(decided, stream, job.context, { commandHash: job.commandHash });
    const working: WorkingAdjustment = {
      adjustment: evolveAdjustment(undefined, decided, this.batch.recordedAt),
      revision: 0n,
      commandHash: job.commandHash,
      position: -1n,
      index,
    };
    this.adjustments.set(id, working);
    return this.answer('created', working);
  }

  approve(job: Job<'approve-adjustment'>): Pending<AdjustmentOutcome> {
    const id = job.command.adjustmentId;
    const found = this.adjustments.get(id);
    if (!found) return refused(ledgerError('adjustment-not-found', `no adjustment ${id}`));
    const { transfer } = found.adjustment;
    const debit = this.batch.account(transfer.debitAccountId);
    const credit = this.batch.account(transfer.creditAccountId);
    if (!debit || !credit) throw new Error(`accounts of adjustment ${id} were not loaded`);
    const decided = decideApproveAdjustment(
      found.adjustment,
      debit.account,
      credit.account,
      job.context.actor,
      this.batch.recordedAt,
    );
    if (isLedgerError(decided)) {
      this.batch.refusedOnState(decided, transfer.debitAccountId, transfer.creditAccountId);
      return refused(decided);
    }
    if (decided === null) return this.answer('duplicate', found);
    const transferId = transfer.transferId;
    if (this.batch.existing.has(transferStream(transferId)) || this.batch.pendingTransfers.has(transferId)) {
      return refused(
        ledgerError(
          'idempotency-conflict',
          `transfer ${transferId} was posted by another command since the adjustment was requested; request the adjustment again under a new id`,
        ),
      );
    }
    const stream = adjustmentStream(id);
    // Requested in this same batch: its no-stream expectation stands.
    if (!this.batch.expected.has(stream)) this.batch.expected.set(stream, expect.at(found.revision));
    this.batch.expectAccount(transfer.debitAccountId);
    this.batch.expectAccount(transfer.creditAccountId);
    this.batch.expected.set(transferStream(transferId), expect.noStream);
    const approvedIndex = this.batch.append(decided.approved, stream, job.context, {});
    // The posting is caused by the approval: an auditor follows causationId from one to the other.
    const postedIndex = this.batch.append(
      decided.posted,
      transferStream(transferId),
      { ...job.context, causationId: this.batch.events[approvedIndex]!.eventId },
      {
        ...(found.commandHash ? { commandHash: found.commandHash } : {}),
        alsoIn: [accountStream(transfer.debitAccountId), accountStream(transfer.creditAccountId), stream],
      },
    );
    for (const [accountId, working] of [
      [transfer.debitAccountId, debit],
      [transfer.creditAccountId, credit],
    ] as const) {
      this.batch.setAccount(accountId, evolveAccount(working.account, decided.posted), postedIndex);
    }
    this.batch.pendingTransfers.set(transferId, {
      commandHash: found.commandHash ?? '',
      index: postedIndex,
      state: evolveTransfer(undefined, decided.posted),
    });
    const working: WorkingAdjustment = {
      ...found,
      adjustment: evolveAdjustment(found.adjustment, decided.approved, this.batch.recordedAt),
      index: postedIndex,
    };
    this.adjustments.set(id, working);
    return this.answer('approved', working);
  }

  private answer(
    outcome: 'created' | 'approved' | 'duplicate',
    working: WorkingAdjustment,
  ): Pending<AdjustmentOutcome> {
    const { adjustment, index, position } = working;
    return (recorded) => ({
      outcome,
      adjustment,
      position: index !== undefined ? recorded[index]!.position : position,
    });
  }
}
