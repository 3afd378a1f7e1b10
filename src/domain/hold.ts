import type { Account } from './account';
import { type LedgerError, ledgerError } from './errors';
import type { PendingTransferExpired, PendingTransferPosted, PendingTransferVoided } from './events';
import { AMOUNT_MAX, assertMoney } from './money';
import type { TransferState } from './transfer-state';

/** Post part or all of a hold (docs/contract.md, "Holds"). */
export interface PostPendingTransfer {
  readonly type: 'PostPendingTransfer';
  /** The client's id of this command. */
  readonly postId: string;
  readonly transferId: string;
  /** Default: all that is still held. */
  readonly amount?: bigint;
  /** Release whatever remains after this post (the contract's default). */
  readonly final: boolean;
  /** When the posted money counts; default recordedAt; not before the hold's effectiveAt. */
  readonly effectiveAt?: string;
}

export interface VoidPendingTransfer {
  readonly type: 'VoidPendingTransfer';
  readonly voidId: string;
  readonly transferId: string;
  readonly reason?: string;
}

/** Proposed by any process once a hold's expiresAt has passed; the hold's stream revision lets one win. */
export interface ExpirePendingTransfer {
  readonly type: 'ExpirePendingTransfer';
  readonly transferId: string;
}

export type HoldCommand = PostPendingTransfer | VoidPendingTransfer | ExpirePendingTransfer;

function notPending(hold: TransferState, recordedAt: string): LedgerError | undefined {
  if (!hold.hold) {
    return ledgerError('transfer-not-pending', `transfer ${hold.id} was posted at once; it holds nothing`);
  }
  if (hold.status !== 'pending') {
    return ledgerError('transfer-not-pending', `hold ${hold.id} is ${hold.status}; it holds nothing any more`);
  }
  // Past its expiry the hold is released, whether or not the expiry has been recorded yet.
  if (hold.expiresAt !== undefined && recordedAt >= hold.expiresAt) {
    return ledgerError('transfer-not-pending', `hold ${hold.id} expired at ${hold.expiresAt}`);
  }
  return undefined;
}

const releaseFields = (hold: TransferState, released: bigint) => ({
  transferId: hold.id,
  debitAccountId: hold.debitAccountId,
  creditAccountId: hold.creditAccountId,
  currency: hold.currency,
  released: released.toString(),
});

/**
 * Posts `amount` (default: all still held) of a hold. Posting only turns held money into posted
 * money on both sides, so no balance bound can be crossed by it; the accounts must still be open
 * (a post moves money), and the post's effectiveAt obeys the rules of a transfer's.
 */
export function decidePostPending(
  command: PostPendingTransfer,
  hold: TransferState,
  debit: Account,
  credit: Account,
  recordedAt: string,
): PendingTransferPosted | LedgerError {
  assertMoney(debit.id === hold.debitAccountId && credit.id === hold.creditAccountId, `accounts of ${hold.id}`);
  const refused = notPending(hold, recordedAt);
  if (refused) return refused;
  const amount = command.amount ?? hold.pendingAmount;
  assertMoney(amount > 0n && amount <= AMOUNT_MAX, `amount ${amount} out of range`);
  if (amount > hold.pendingAmount) {
    return ledgerError('exceeds-pending', `hold ${hold.id} holds ${hold.pendingAmount}; a post of ${amount} is more`);
  }
  for (const account of [debit, credit]) {
    if (account.status !== 'open') {
      return ledgerError('account-not-open', `account ${account.id} is ${account.status} and takes no postings`);
    }
  }
  const effectiveAt = command.effectiveAt ?? recordedAt;
  if (effectiveAt > recordedAt) {
    return ledgerError(
      'effective-time-out-of-range',
      `effectiveAt ${effectiveAt} is in the future (now ${recordedAt})`,
    );
  }
  if (effectiveAt < hold.effectiveAt) {
    return ledgerError(
      'effective-time-out-of-range',
      `effectiveAt ${effectiveAt} is before the hold ${hold.id} took effect (${hold.effectiveAt})`,
    );
  }
  const released = command.final ? hold.pendingAmount - amount : 0n;
  return {
    type: 'PendingTransferPosted',
    data: { ...releaseFields(hold, released), postId: command.postId, amount: amount.toString(), effectiveAt },
  };
}

/** Releases all that is still held. Allowed on frozen or closed accounts: a release moves no money. */
export function decideVoidPending(
  command: VoidPendingTransfer,
  hold: TransferState,
  recordedAt: string,
): PendingTransferVoided | LedgerError {
  const refused = notPending(hold, recordedAt);
  if (refused) return refused;
  return {
    type: 'PendingTransferVoided',
    data: {
      ...releaseFields(hold, hold.pendingAmount),
      voidId: command.voidId,
      ...(command.reason !== undefined ? { reason: command.reason } : {}),
    },
  };
}

/**
 * Releases an expired hold. Nothing to do (null) for a hold that is no longer pending (a post or a
 * void won the race, or another process expired it first) or not yet due by this clock.
 */
export function decideExpirePending(hold: TransferState, recordedAt: string): PendingTransferExpired | null {
  if (!hold.hold || hold.status !== 'pending' || hold.expiresAt === undefined) return null;
  if (recordedAt < hold.expiresAt) return null;
  return {
    type: 'PendingTransferExpired',
    data: { ...releaseFields(hold, hold.pendingAmount), expiresAt: hold.expiresAt },
  };
}
