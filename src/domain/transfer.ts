import { type Account, availableOf } from './account';
import { type LedgerError, ledgerError } from './errors';
import type { TransferPending, TransferPosted } from './events';
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
  /** A hold (two-phase transfer): reserve the amount now, post or release it later. */
  readonly pending?: boolean;
  /** A hold's release time; the API has checked it is after now. Only with `pending`. */
  readonly expiresAt?: string;
}

/**
 * Decides a transfer (posted at once, or held with `pending`) against the current state of both
 * accounts. `recordedAt` is the server's clock at decision time. Returns the event to append, or why not.
 */
export function decideTransfer(
  command: PostTransfer & { readonly pending?: false },
  debit: Account,
  credit: Account,
  recordedAt: string,
): TransferPosted | LedgerError;
export function decideTransfer(
  command: PostTransfer,
  debit: Account,
  credit: Account,
  recordedAt: string,
): TransferPosted | TransferPending | LedgerError;
export function decideTransfer(
  command: PostTransfer,
  debit: Account,
  credit: Account,
  recordedAt: string,
): TransferPosted | TransferPending | LedgerError {
  assertMoney(command.amount > 0n && command.amount <= AMOUNT_MAX, `amount ${command.amount} out of range`);
  assertMoney(
    command.expiresAt === undefined || command.pending === true,
    'expiresAt on a transfer that is not a hold',
  );
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
  const refused = boundRefusal(debit, credit, command.amount);
  if (refused) return refused;
  if (command.pending) {
    return {
      type: 'TransferPending',
      data: {
        ...transferData(command, effectiveAt),
        ...(command.expiresAt !== undefined ? { expiresAt: command.expiresAt } : {}),
      },
    };
  }
  return { type: 'TransferPosted', data: transferData(command, effectiveAt) };
}

function transferData(command: PostTransfer, effectiveAt: string): TransferPosted['data'] {
  return {
    transferId: command.transferId,
    debitAccountId: command.debitAccountId,
    creditAccountId: command.creditAccountId,
    amount: command.amount.toString(),
    currency: command.currency,
    ...(command.code !== undefined ? { code: command.code } : {}),
    ...(command.reference !== undefined ? { reference: command.reference } : {}),
    metadata: command.metadata,
    effectiveAt,
  };
}

/**
 * The balance constraints, counting holds: `debitsMustNotExceedCredits` means
 * debitsPosted + debitsPending + amount <= creditsPosted (the mirror for credits). Pending credits
 * never count as funds: money held for an account is not yet its own.
 */
export function boundRefusal(debit: Account, credit: Account, amount: bigint): LedgerError | undefined {
  if (
    debit.flags.debitsMustNotExceedCredits &&
    debit.debitsPosted + debit.debitsPending + amount > debit.creditsPosted
  ) {
    return ledgerError(
      'insufficient-funds',
      `account ${debit.id} may not have more debits than credits, holds included; available ${availableOf({ ...debit, normalSide: 'credit' })}, asked ${amount}`,
    );
  }
  if (
    credit.flags.creditsMustNotExceedDebits &&
    credit.creditsPosted + credit.creditsPending + amount > credit.debitsPosted
  ) {
    return ledgerError(
      'insufficient-funds',
      `account ${credit.id} may not have more credits than debits, holds included; room ${availableOf({ ...credit, normalSide: 'debit' })}, asked ${amount}`,
    );
  }
  return undefined;
}
