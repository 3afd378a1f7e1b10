import { type Account, availableOf, balanceOf } from '../domain/account';
import type { TransferRecord } from '../commands/write-commands';
import type { AccountView, BalanceView, EntryView, TransferView } from '../projections/queries';

/** Contract JSON for an account, from the write model or the read model. */
export function accountJson(account: Account | AccountView, position: bigint) {
  return {
    id: account.id,
    currency: account.currency,
    normalSide: account.normalSide,
    flags: {
      debitsMustNotExceedCredits: account.flags.debitsMustNotExceedCredits,
      creditsMustNotExceedDebits: account.flags.creditsMustNotExceedDebits,
    },
    status: account.status,
    debitsPosted: account.debitsPosted.toString(),
    creditsPosted: account.creditsPosted.toString(),
    debitsPending: account.debitsPending.toString(),
    creditsPending: account.creditsPending.toString(),
    balance: balanceOf(account).toString(),
    available: availableOf(account).toString(),
    version: account.version,
    openedAt: account.openedAt,
    ...(account.code !== undefined ? { code: account.code } : {}),
    metadata: account.metadata,
    position: position.toString(),
  };
}

/** Contract JSON for a transfer just written (or found again by its id), or a hold as a post or void left it. */
export function recordedTransferJson(record: TransferRecord) {
  const { state } = record;
  return transferJson({
    ...state,
    recordedAt: record.recordedAt,
    position: record.position,
  });
}

export function transferViewJson(view: TransferView) {
  return transferJson(view);
}

/** The contract's Transfer, from the write side's state or the read model's row: one shape. */
function transferJson(
  transfer: Omit<TransferView, 'code' | 'reference' | 'expiresAt' | 'reverses'> & {
    readonly code?: string | undefined;
    readonly reference?: string | undefined;
    readonly expiresAt?: string | undefined;
    readonly reverses?: string | undefined;
  },
) {
  return {
    id: transfer.id,
    debitAccountId: transfer.debitAccountId,
    creditAccountId: transfer.creditAccountId,
    amount: transfer.amount.toString(),
    currency: transfer.currency,
    status: transfer.status,
    pendingAmount: transfer.pendingAmount.toString(),
    postedAmount: transfer.postedAmount.toString(),
    reversedAmount: transfer.reversedAmount.toString(),
    ...(transfer.expiresAt !== undefined ? { expiresAt: transfer.expiresAt } : {}),
    ...(transfer.reverses !== undefined ? { reverses: transfer.reverses } : {}),
    ...(transfer.code !== undefined ? { code: transfer.code } : {}),
    ...(transfer.reference !== undefined ? { reference: transfer.reference } : {}),
    metadata: transfer.metadata,
    effectiveAt: transfer.effectiveAt,
    recordedAt: transfer.recordedAt,
    position: transfer.position.toString(),
  };
}

export const entryJson = (entry: EntryView) => ({
  transferId: entry.transferId,
  side: entry.side,
  amount: entry.amount.toString(),
  balanceAfter: entry.balanceAfter.toString(),
  effectiveAt: entry.effectiveAt,
  recordedAt: entry.recordedAt,
});

export const balanceJson = (view: BalanceView, asOf: string, knownAt: string) => ({
  accountId: view.accountId,
  currency: view.currency,
  asOf,
  knownAt,
  debitsPosted: view.debitsPosted.toString(),
  creditsPosted: view.creditsPosted.toString(),
  debitsPending: view.debitsPending.toString(),
  creditsPending: view.creditsPending.toString(),
  balance: balanceOf(view).toString(),
  available: availableOf(view).toString(),
});

/** Entry cursors are opaque to clients: the last entry's sequence number, base64url. */
export const encodeCursor = (seq: bigint): string => Buffer.from(`e${seq}`).toString('base64url');
export function decodeCursor(cursor: string): bigint | undefined {
  const text = Buffer.from(cursor, 'base64url').toString();
  return /^e(0|[1-9][0-9]{0,18})$/.test(text) ? BigInt(text.slice(1)) : undefined;
}
