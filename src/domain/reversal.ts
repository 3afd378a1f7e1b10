import type { Account } from './account';
import { type LedgerError, isLedgerError, ledgerError } from './errors';
import type { TransferReversed } from './events';
import { assertMoney } from './money';
import { decideTransfer } from './transfer';
import type { TransferState } from './transfer-state';

/** Undo part or all of a posted transfer with a new posting the other way (docs/contract.md, "Reversals"). */
export interface ReverseTransfer {
  readonly type: 'ReverseTransfer';
  /** The client's id of this command, and the id of the reversal it posts. */
  readonly reversalId: string;
  /** The transfer to reverse. */
  readonly transferId: string;
  /** Default: all that is still reversible. */
  readonly amount?: bigint;
  readonly reason: string;
  readonly effectiveAt?: string;
}

/**
 * Decides a reversal: at most what was posted and not yet reversed, and a posting like any other
 * (the original's credit account is debited, so its balance bound applies; frozen accounts refuse).
 * `debit` is the original's credit account and `credit` its debit account.
 */
export function decideReversal(
  command: ReverseTransfer,
  original: TransferState,
  debit: Account,
  credit: Account,
  recordedAt: string,
): TransferReversed | LedgerError {
  assertMoney(
    debit.id === original.creditAccountId && credit.id === original.debitAccountId,
    `accounts of the reversal of ${original.id}`,
  );
  const reversible = original.postedAmount - original.reversedAmount;
  const amount = command.amount ?? reversible;
  if (amount === 0n || amount > reversible) {
    return ledgerError(
      'exceeds-reversible',
      `transfer ${original.id} has ${reversible} left to reverse (posted ${original.postedAmount}, reversed ${original.reversedAmount}); asked ${amount}`,
    );
  }
  const effectiveAt = command.effectiveAt ?? recordedAt;
  if (effectiveAt < original.effectiveAt) {
    return ledgerError(
      'effective-time-out-of-range',
      `effectiveAt ${effectiveAt} is before the transfer it reverses took effect (${original.effectiveAt})`,
    );
  }
  const posting = decideTransfer(
    {
      type: 'PostTransfer',
      transferId: command.reversalId,
      debitAccountId: original.creditAccountId,
      creditAccountId: original.debitAccountId,
      amount,
      currency: original.currency,
      metadata: {},
      effectiveAt,
    },
    debit,
    credit,
    recordedAt,
  );
  if (isLedgerError(posting)) return posting;
  return { type: 'TransferReversed', data: { ...posting.data, reverses: original.id, reason: command.reason } };
}
