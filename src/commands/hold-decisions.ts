import { type LedgerError, isLedgerError, ledgerError } from '../domain/errors';
import { accountStream, holdCommandStream, transferStream } from '../domain/events';
import type { MoneyEvent, TransferReversed } from '../domain/events';
import { evolveAccount } from '../domain/account';
import { decideExpirePending, decidePostPending, decideVoidPending } from '../domain/hold';
import { decideReversal } from '../domain/reversal';
import { evolveTransfer } from '../domain/transfer-state';
import { expect } from '../eventstore/port';
import { type BatchDecision, type Pending, conflict } from './batch-decision';
import { underReview } from './fraud-decisions';
import type { HoldOutcome, ReverseOutcome, TransferRecord, WriteJob } from './write-commands';

const refused =
  (error: LedgerError): Pending<LedgerError> =>
  () =>
    error;

/**
 * Applies a decided money event to the batch: both accounts and the transfer streams it changes.
 * Returns the event's index.
 */
function applyMoneyEvent(
  batch: BatchDecision,
  event: MoneyEvent,
  where: { streamId: string; alsoIn: string[]; commandHash?: string; commandId?: string },
  job: Extract<WriteJob, { kind: 'hold' | 'reverse' }>,
  transfers: readonly string[],
): number {
  const index = batch.append(event, where.streamId, job.context, {
    alsoIn: where.alsoIn,
    ...(where.commandHash ? { commandHash: where.commandHash } : {}),
    ...(where.commandId ? { commandId: where.commandId } : {}),
  });
  for (const id of [event.data.debitAccountId, event.data.creditAccountId]) {
    batch.setAccount(id, evolveAccount(batch.account(id)!.account, event), index);
  }
  for (const id of transfers) {
    const current = batch.transferState(id);
    const state = evolveTransfer(current?.state, event);
    batch.workingTransfers.set(id, {
      state,
      recordedAt: current?.recordedAt ?? batch.recordedAt,
      lastEventIndex: index,
    });
  }
  return index;
}

/**
 * A post, void or expiry of a hold, decided in the batch (ADR 0020). A post or void lives in its
 * own command stream (`hold-command-<id>`, expected not to exist: the client's id is used once in
 * the whole ledger) and is linked into the hold's stream, whose expected revision lets exactly one
 * of racing posts, voids and the expiry win; the others are decided again and see the winner.
 */
export function decideHoldJob(batch: BatchDecision, job: Extract<WriteJob, { kind: 'hold' }>): Pending<HoldOutcome> {
  const { command } = job;
  const commandId =
    command.type === 'PostPendingTransfer'
      ? command.postId
      : command.type === 'VoidPendingTransfer'
        ? command.voidId
        : undefined;
  const commandStream = commandId !== undefined ? holdCommandStream(commandId) : undefined;
  if (commandStream !== undefined) {
    const stored = batch.existing.get(commandStream);
    if (stored) {
      if (stored.metadata.commandHash !== job.commandHash) return refused(conflict(`command ${commandId}`));
      const answer = batch.repeats.get(commandStream);
      if (!answer) throw new Error(`no first answer loaded for repeated command ${commandId}`);
      return () => ({ outcome: 'duplicate', transfer: answer });
    }
    const earlier = batch.pendingHoldCommands.get(commandId!);
    if (earlier) {
      if (earlier.commandHash !== job.commandHash) return refused(conflict(`command ${commandId}`));
      return (recorded, position) => ({ outcome: 'duplicate', transfer: earlier.answer(recorded, position) });
    }
  }

  const hold = batch.transferState(command.transferId);
  if (!hold) return refused(ledgerError('transfer-not-found', `no transfer ${command.transferId}`));
  const { state } = hold;
  let decision: MoneyEvent | LedgerError | null;
  switch (command.type) {
    case 'PostPendingTransfer': {
      const review = underReview(batch.existing, state.id);
      if (review) return refused(review);
      const debit = batch.account(state.debitAccountId);
      const credit = batch.account(state.creditAccountId);
      if (!debit || !credit) throw new Error(`accounts of hold ${state.id} were not loaded`);
      decision = decidePostPending(command, state, debit.account, credit.account, batch.recordedAt);
      if (isLedgerError(decision)) batch.refusedOnState(decision, state.debitAccountId, state.creditAccountId);
      break;
    }
    case 'VoidPendingTransfer':
      decision = decideVoidPending(command, state, batch.recordedAt);
      break;
    case 'ExpirePendingTransfer':
      decision = decideExpirePending(state, batch.recordedAt);
      break;
  }
  if (decision === null) return () => ({ outcome: 'nothing' });
  if (isLedgerError(decision)) return refused(decision);
  const closed = batch.periods.refusal(decision);
  if (closed) return refused(closed);

  batch.expectTransfer(state.id);
  batch.expectAccount(state.debitAccountId);
  batch.expectAccount(state.creditAccountId);
  const accounts = [accountStream(state.debitAccountId), accountStream(state.creditAccountId)];
  if (commandStream !== undefined) batch.expected.set(commandStream, expect.noStream);
  const index = applyMoneyEvent(
    batch,
    decision,
    commandStream !== undefined
      ? {
          streamId: commandStream,
          alsoIn: [transferStream(state.id), ...accounts],
          ...(job.commandHash ? { commandHash: job.commandHash } : {}),
          commandId: commandId!,
        }
      : { streamId: transferStream(state.id), alsoIn: accounts },
    job,
    [state.id],
  );
  const after = batch.workingTransfers.get(state.id)!;
  const answer: Pending<TransferRecord> = (recorded) => ({
    state: after.state,
    recordedAt: after.recordedAt,
    position: recorded[index]!.position,
  });
  if (commandId !== undefined) batch.pendingHoldCommands.set(commandId, { commandHash: job.commandHash!, answer });
  return (recorded, position) => ({ outcome: 'applied', transfer: answer(recorded, position) });
}

/**
 * A reversal: a new transfer (its own stream, by the command's id) linked into the original's
 * stream, whose expected revision serialises racing reversals so their sum stays within what was posted.
 */
export function decideReverseJob(
  batch: BatchDecision,
  job: Extract<WriteJob, { kind: 'reverse' }>,
): Pending<ReverseOutcome> {
  const { command, commandHash } = job;
  const id = command.reversalId;
  const repeat = batch.repeatedTransfer(id, commandHash);
  if (isLedgerError(repeat)) return refused(repeat);
  if (repeat) return (recorded, position) => ({ outcome: 'duplicate', transfer: repeat(recorded, position) });
  const original = batch.transferState(command.transferId);
  if (!original) return refused(ledgerError('transfer-not-found', `no transfer ${command.transferId}`));
  const { state } = original;
  const debit = batch.account(state.creditAccountId);
  const credit = batch.account(state.debitAccountId);
  if (!debit || !credit) throw new Error(`accounts of transfer ${state.id} were not loaded`);
  const decision: TransferReversed | LedgerError = decideReversal(
    command,
    state,
    debit.account,
    credit.account,
    batch.recordedAt,
  );
  if (isLedgerError(decision)) {
    batch.refusedOnState(decision, state.creditAccountId, state.debitAccountId);
    if (decision.slug === 'exceeds-reversible') batch.refusedOnTransfers.add(state.id);
    return refused(decision);
  }
  const closed = batch.periods.refusal(decision);
  if (closed) return refused(closed);

  batch.expected.set(transferStream(id), expect.noStream);
  batch.expectTransfer(state.id);
  batch.expectAccount(state.debitAccountId);
  batch.expectAccount(state.creditAccountId);
  const index = applyMoneyEvent(
    batch,
    decision,
    {
      streamId: transferStream(id),
      alsoIn: [transferStream(state.id), accountStream(debit.account.id), accountStream(credit.account.id)],
      commandHash,
    },
    job,
    [],
  );
  // The original's reversedAmount grows; the reversal starts its own state.
  const before = batch.transferState(state.id)!;
  batch.workingTransfers.set(state.id, {
    state: evolveTransfer(before.state, decision),
    recordedAt: before.recordedAt,
    lastEventIndex: index,
  });
  const reversal = evolveTransfer(undefined, decision);
  batch.workingTransfers.set(id, { state: reversal, recordedAt: batch.recordedAt });
  batch.pendingTransfers.set(id, { commandHash, index, state: reversal });
  return (recorded) => ({
    outcome: 'created',
    transfer: { state: reversal, recordedAt: batch.recordedAt, position: recorded[index]!.position },
  });
}
