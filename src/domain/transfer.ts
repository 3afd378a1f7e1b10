import { type Account, balanceOf } from './account';
import { type LedgerError, ledgerError } from './errors';
import type { TransferPosted } from './events';
import { AMOUNT_MAX, assertMoney } from './money';

export interface PostTransfer {
  readonly type: 'PostTransfer';
  readonly transferId: string;
  readonly debitAccountId: string;
  readonly creditAccountId: string;
  readonly amount: bigint;
  readonly currency: string;
  readonly code?: string;
  readonly reference?: string;
  readonly metadata: Readonly<Record<string, string>>;
  /** When it counts for the books; the command side fills in recordedAt when the client did not. */
  readonly effectiveAt?: string;
}

/**
 * Decides a transfer against the current state of both accounts. `recordedAt` is the server's
 * clock at decision time. Returns the event to append, or why not.
 */
export function decideTransfer(
  command: PostTransfer,
  debit: Account,
  credit: Account,
  recordedAt: string,
): TransferPosted | LedgerError {
  assertMoney(command.amount > 0n && command.amount <= AMOUNT_MAX, `amount ${command.amount} out of range`);
  if (command.debitAccountId === command.creditAccountId) {
    return ledgerError('same-account', `a transfer must debit one account and credit another; both are ${debit.id}`);
  }
  for (const account of [debit, credit]) {
    if (account.status !== 'open') {
      return ledgerError('account-not-open', `account ${account.id} is ${account.status} and takes no postings`);
    }
    if (account.currency !== command.currency) {
      return ledgerError(
        'currency-mismatch',
        `account ${account.id} is in ${account.currency}, the transfer is in ${command.currency}`,
      );
    }
  }
  const effectiveAt = command.effectiveAt ?? recordedAt;
  if (effectiveAt > recordedAt) {
    return ledgerError(
      'effective-time-out-of-range',
      `effectiveAt ${effectiveAt} is in the future (now ${recordedAt})`,
    );
  }
  for (const account of [debit, credit]) {
    if (effectiveAt < account.openedAt) {
      return ledgerError(
        'effective-time-out-of-range',
        `effectiveAt ${effectiveAt} is before account ${account.id} was opened (${account.openedAt})`,
      );
    }
  }
  if (debit.flags.debitsMustNotExceedCredits && debit.debitsPosted + command.amount > debit.creditsPosted) {
    return ledgerError(
      'insufficient-funds',
      `account ${debit.id} may not have more debits than credits; available ${balanceOf({ ...debit, normalSide: 'credit' })}, asked ${command.amount}`,
    );
  }
  if (credit.flags.creditsMustNotExceedDebits && credit.creditsPosted + command.amount > credit.debitsPosted) {
    return ledgerError(
      'insufficient-funds',
      `account ${credit.id} may not have more credits than debits; room ${balanceOf({ ...credit, normalSide: 'debit' })}, asked ${command.amount}`,
    );
  }
  return {
    type: 'TransferPosted',
    data: {
      transferId: command.transferId,
      debitAccountId: command.debitAccountId,
      creditAccountId: command.creditAccountId,
      amount: command.amount.toString(),
      currency: command.currency,
      ...(command.code !== undefined ? { code: command.code } : {}),
      ...(command.reference !== undefined ? { reference: command.reference } : {}),
      metadata: command.metadata,
      effectiveAt,
    },
  };
}
