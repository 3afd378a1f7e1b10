import { assertNever } from './account';
import type { LedgerEvent } from './events';
import { assertMoney } from './money';

/** posted: nothing held any more and something posted; voided / expired: released without a post. */
export type TransferStatus = 'pending' | 'posted' | 'voided' | 'expired';

/**
 * A transfer as the write side knows it, folded from its own stream (`transfer-<id>`): its first
 * event (TransferPosted, TransferPending or TransferReversed), then the posts, voids and expiry of a
 * hold and the reversals that undo it. At every step amount = pendingAmount + postedAmount + what
 * was released, and reversedAmount <= postedAmount.
 */
export interface TransferState {
  readonly id: string;
  readonly debitAccountId: string;
  readonly creditAccountId: string;
  readonly currency: string;
  readonly amount: bigint;
  /** It began as a hold (TransferPending). */
  readonly hold: boolean;
  readonly status: TransferStatus;
  /** Still held. */
  readonly pendingAmount: bigint;
  /** Posted so far: the whole amount for a plain transfer or a reversal. */
  readonly postedAmount: bigint;
  /** Undone so far by reversals. */
  readonly reversedAmount: bigint;
  readonly effectiveAt: string;
  readonly expiresAt?: string;
  /** The transfer this one reverses. */
  readonly reverses?: string;
  readonly code?: string;
  readonly reference?: string;
  readonly metadata: Readonly<Record<string, string>>;
  /** Events in the transfer's stream so far. */
  readonly version: number;
}

/** A transfer's state after one more event of its stream; `undefined` before its first. */
export function evolveTransfer(state: TransferState | undefined, event: LedgerEvent): TransferState {
  if (state === undefined) return startedTransfer(event);
  switch (event.type) {
    case 'PendingTransferPosted': {
      assertMoney(event.data.transferId === state.id, `post of ${event.data.transferId} in ${state.id}'s stream`);
      const posted = BigInt(event.data.amount);
      const pendingAmount = state.pendingAmount - posted - BigInt(event.data.released);
      assertMoney(state.status === 'pending' && pendingAmount >= 0n, `post of more than ${state.id} holds`);
      return {
        ...state,
        pendingAmount,
        postedAmount: state.postedAmount + posted,
        status: pendingAmount === 0n ? 'posted' : 'pending',
        version: state.version + 1,
      };
    }
    case 'PendingTransferVoided':
    case 'PendingTransferExpired': {
      assertMoney(event.data.transferId === state.id, `release of ${event.data.transferId} in ${state.id}'s stream`);
      assertMoney(
        state.status === 'pending' && BigInt(event.data.released) === state.pendingAmount,
        `release of ${state.id} that is not what it holds`,
      );
      return {
        ...state,
        pendingAmount: 0n,
        // A hold posted in part and then voided has posted money: it counts as posted, not voided.
        status: state.postedAmount > 0n ? 'posted' : event.type === 'PendingTransferVoided' ? 'voided' : 'expired',
        version: state.version + 1,
      };
    }
    case 'TransferReversed': {
      assertMoney(event.data.reverses === state.id, `reversal of ${event.data.reverses} in ${state.id}'s stream`);
      const reversedAmount = state.reversedAmount + BigInt(event.data.amount);
      assertMoney(reversedAmount <= state.postedAmount, `reversals of ${state.id} beyond what was posted`);
      return { ...state, reversedAmount, version: state.version + 1 };
    }
    case 'TransferPosted':
    case 'TransferPending':
      throw new Error(`transfer ${state.id} was started twice`);
    case 'AccountOpened':
    case 'AccountFrozen':
    case 'AccountUnfrozen':
    case 'AccountClosed':
      throw new Error(`${event.type} in the stream of transfer ${state.id}`);
    default:
      return assertNever(event);
  }
}

function startedTransfer(event: LedgerEvent): TransferState {
  if (event.type !== 'TransferPosted' && event.type !== 'TransferPending' && event.type !== 'TransferReversed') {
    throw new Error(`a transfer's stream starts with ${event.type}`);
  }
  const { data } = event;
  const amount = BigInt(data.amount);
  const held = event.type === 'TransferPending';
  return {
    id: data.transferId,
    debitAccountId: data.debitAccountId,
    creditAccountId: data.creditAccountId,
    currency: data.currency,
    amount,
    hold: held,
    status: held ? 'pending' : 'posted',
    pendingAmount: held ? amount : 0n,
    postedAmount: held ? 0n : amount,
    reversedAmount: 0n,
    effectiveAt: data.effectiveAt,
    ...(event.type === 'TransferPending' && event.data.expiresAt !== undefined
      ? { expiresAt: event.data.expiresAt }
      : {}),
    ...(event.type === 'TransferReversed' ? { reverses: event.data.reverses } : {}),
    ...(data.code !== undefined ? { code: data.code } : {}),
    ...(data.reference !== undefined ? { reference: data.reference } : {}),
    metadata: data.metadata,
    version: 1,
  };
}

/** Folds a transfer's whole stream; undefined for an empty one. */
export function replayTransfer(events: readonly LedgerEvent[]): TransferState | undefined {
  return events.reduce<TransferState | undefined>(evolveTransfer, undefined);
}
