import type { Account } from './account';
import { type LedgerError, isLedgerError, ledgerError } from './errors';
import type { MoneyEvent, TransferPosted } from './events';
import { type PostTransfer, decideTransfer } from './transfer';

/**
 * Closed periods and prior-period adjustments (docs/contract.md, "Closed periods"; ADR 0033).
 *
 * The books are closed through an instant `through`: from then on nothing may count for the books
 * at or before it. The closes live in one stream, `periods`, so every posting is decided against
 * its revision and a close in another process cannot slip past a posting decided on stale state.
 * Closing is monotonic: a later close must close through a later instant, and nothing reopens.
 *
 * A posting that must still land in a closed period is sent as a prior-period adjustment: it is
 * recorded as requested (`adjustment-<id>`, moving no money) and posts only when a second, different
 * API key approves it (four eyes). The request carries its transfer nested under `transfer`, so no
 * reader mistakes it for a money event.
 */

/** What a transfer's adjustment posts once approved: the fields of a TransferPosted. */
export type AdjustmentTransfer = TransferPosted['data'];

export interface PeriodClosed {
  readonly type: 'PeriodClosed';
  readonly data: {
    /** Every instant up to and including this one is closed. */
    readonly through: string;
    readonly reason: string;
    /** The API key id that closed it. */
    readonly closedBy: string;
    /** The close it supersedes (absent for the first). */
    readonly previousThrough?: string;
  };
}

export interface AdjustmentRequested {
  readonly type: 'AdjustmentRequested';
  readonly data: {
    /** The client's id: also the id of the transfer it posts once approved. */
    readonly adjustmentId: string;
    readonly transfer: AdjustmentTransfer;
    /** The period it falls into, as closed when it was requested. */
    readonly closedThrough: string;
    readonly requestedBy: string;
  };
}

export interface AdjustmentApproved {
  readonly type: 'AdjustmentApproved';
  readonly data: {
    readonly adjustmentId: string;
    /** The transfer posted with it (same append; its TransferPosted is caused by this event). */
    readonly transferId: string;
    readonly requestedBy: string;
    /** Never requestedBy. */
    readonly approvedBy: string;
  };
}

export type PeriodEvent = PeriodClosed | AdjustmentRequested | AdjustmentApproved;
export type PeriodEventType = PeriodEvent['type'];
export const PERIOD_EVENT_TYPES: readonly PeriodEventType[] = [
  'PeriodClosed',
  'AdjustmentRequested',
  'AdjustmentApproved',
];

/** The one stream of closes. */
export const PERIODS_STREAM = 'periods';
export const adjustmentStream = (adjustmentId: string): string => `adjustment-${adjustmentId}`;

/** The periods as the closes so far leave them. */
export interface ClosedPeriods {
  /** Absent until the first close. */
  readonly closedThrough?: string;
}

export const NO_CLOSED_PERIODS: ClosedPeriods = {};

export const evolvePeriods = (_state: ClosedPeriods, event: PeriodClosed): ClosedPeriods => ({
  closedThrough: event.data.through,
});

export interface ClosePeriod {
  readonly type: 'ClosePeriod';
  readonly through: string;
  readonly reason: string;
}

const actorRequired = (what: string): LedgerError =>
  ledgerError('actor-required', `${what} needs the identity of an API key (send one): four eyes compare keys`);

/**
 * Closes the books through `command.through`. Null: the same close again (nothing to append; the
 * first reason stands). `recordedAt` is the writer's clock: only a period that is over can close.
 */
export function decideClosePeriod(
  command: ClosePeriod,
  state: ClosedPeriods,
  actor: string | undefined,
  recordedAt: string,
): PeriodClosed | null | LedgerError {
  if (!actor) return actorRequired('closing a period');
  if (state.closedThrough !== undefined && command.through === state.closedThrough) return null;
  if (state.closedThrough !== undefined && command.through < state.closedThrough) {
    return ledgerError(
      'period-close-not-later',
      `the books are closed through ${state.closedThrough}; a close must be later than that (nothing reopens)`,
    );
  }
  if (command.through >= recordedAt) {
    return ledgerError(
      'period-not-over',
      `through ${command.through} is not in the past (now ${recordedAt}): a period closes once it is over`,
    );
  }
  return {
    type: 'PeriodClosed',
    data: {
      through: command.through,
      reason: command.reason,
      closedBy: actor,
      ...(state.closedThrough !== undefined ? { previousThrough: state.closedThrough } : {}),
    },
  };
}

/** When a money event counts for the books, where it says so itself (releases count when recorded). */
const effectiveAtOf = (event: MoneyEvent): string | undefined =>
  'effectiveAt' in event.data ? event.data.effectiveAt : undefined;

/** Whether a decided money event counts for the books only in a period that is now closed. */
export function closedPeriodRefusal(event: MoneyEvent, state: ClosedPeriods): LedgerError | undefined {
  const effectiveAt = effectiveAtOf(event);
  if (effectiveAt === undefined || state.closedThrough === undefined || effectiveAt > state.closedThrough) {
    return undefined;
  }
  return ledgerError(
    'period-closed',
    `effectiveAt ${effectiveAt} is in a closed period (the books are closed through ${state.closedThrough}); send it as a prior-period adjustment (adjustment: true), which a second API key approves`,
  );
}

export interface RequestAdjustment {
  readonly type: 'RequestAdjustment';
  /** A plain transfer (never a hold) with the effectiveAt it must count at. */
  readonly transfer: PostTransfer & { readonly pending?: false; readonly effectiveAt: string };
}

/**
 * Records a prior-period adjustment as requested. It is decided like the transfer it will post
 * (accounts, currencies, funds as they stand now: they are decided again at approval), and must
 * fall into a closed period: anything later is an ordinary transfer.
 */
export function decideRequestAdjustment(
  command: RequestAdjustment,
  periods: ClosedPeriods,
  debit: Account,
  credit: Account,
  actor: string | undefined,
  recordedAt: string,
): AdjustmentRequested | LedgerError {
  if (!actor) return actorRequired('a prior-period adjustment');
  const { transfer } = command;
  if (periods.closedThrough === undefined || transfer.effectiveAt > periods.closedThrough) {
    return ledgerError(
      'not-in-closed-period',
      periods.closedThrough === undefined
        ? 'no period is closed: send the transfer without adjustment'
        : `effectiveAt ${transfer.effectiveAt} is after the closed period (closed through ${periods.closedThrough}): send the transfer without adjustment`,
    );
  }
  const posting = decideTransfer(transfer, debit, credit, recordedAt);
  if (isLedgerError(posting)) return posting;
  return {
    type: 'AdjustmentRequested',
    data: {
      adjustmentId: transfer.transferId,
      transfer: posting.data,
      closedThrough: periods.closedThrough,
      requestedBy: actor,
    },
  };
}

/** An adjustment as its stream leaves it. */
export interface Adjustment {
  readonly id: string;
  readonly transfer: AdjustmentTransfer;
  readonly closedThrough: string;
  readonly requestedBy: string;
  readonly requestedAt: string;
  readonly status: 'pending' | 'approved';
  readonly approvedBy?: string;
  readonly approvedAt?: string;
}

/** Folds an adjustment's events (`recordedAt`: when each was recorded). */
export function evolveAdjustment(
  state: Adjustment | undefined,
  event: AdjustmentRequested | AdjustmentApproved,
  recordedAt: string,
): Adjustment {
  if (event.type === 'AdjustmentRequested') {
    if (state) throw new Error(`adjustment ${event.data.adjustmentId} requested twice in its stream`);
    const { adjustmentId, transfer, closedThrough, requestedBy } = event.data;
    return { id: adjustmentId, transfer, closedThrough, requestedBy, requestedAt: recordedAt, status: 'pending' };
  }
  if (!state) throw new Error(`adjustment ${event.data.adjustmentId} approved before it was requested`);
  return { ...state, status: 'approved', approvedBy: event.data.approvedBy, approvedAt: recordedAt };
}

export interface ApproveAdjustment {
  readonly type: 'ApproveAdjustment';
  readonly adjustmentId: string;
}

/**
 * Four eyes: a key other than the requester's approves, and the transfer posts, decided again
 * against the accounts as they stand now (but not against the closed period: that is what the
 * approval is for). Null: approved already (the first approval stands; nothing to append).
 */
export function decideApproveAdjustment(
  adjustment: Adjustment,
  debit: Account,
  credit: Account,
  actor: string | undefined,
  recordedAt: string,
): { approved: AdjustmentApproved; posted: TransferPosted } | null | LedgerError {
  if (!actor) return actorRequired('approving an adjustment');
  if (actor === adjustment.requestedBy) {
    return ledgerError(
      'self-approval',
      `adjustment ${adjustment.id} was requested by ${actor}: another API key must approve it (four eyes)`,
    );
  }
  if (adjustment.status === 'approved') return null;
  const { transfer } = adjustment;
  const posting = decideTransfer(
    {
      type: 'PostTransfer',
      transferId: transfer.transferId,
      debitAccountId: transfer.debitAccountId,
      creditAccountId: transfer.creditAccountId,
      amount: BigInt(transfer.amount),
      currency: transfer.currency,
      ...(transfer.code !== undefined ? { code: transfer.code } : {}),
      ...(transfer.reference !== undefined ? { reference: transfer.reference } : {}),
      metadata: transfer.metadata,
      effectiveAt: transfer.effectiveAt,
    },
    debit,
    credit,
    recordedAt,
  );
  if (isLedgerError(posting)) return posting;
  return {
    approved: {
      type: 'AdjustmentApproved',
      data: {
        adjustmentId: adjustment.id,
        transferId: transfer.transferId,
        requestedBy: adjustment.requestedBy,
        approvedBy: actor,
      },
    },
    posted: posting,
  };
}
