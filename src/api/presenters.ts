import { type Account, balanceOf } from '../domain/account';
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
    balance: balanceOf(account).toString(),
    version: account.version,
    openedAt: account.openedAt,
    ...(account.code !== undefined ? { code: account.code } : {}),
    metadata: account.metadata,
    position: position.toString(),
  };
}

/** Contract JSON for a transfer just written (or found again by its id). */
export function recordedTransferJson(record: TransferRecord) {
  const { data } = record;
  return {
    id: data.transferId,
    debitAccountId: data.debitAccountId,
    creditAccountId: data.creditAccountId,
    amount: data.amount,
    currency: data.currency,
    status: 'posted' as const,
    ...(data.code !== undefined ? { code: data.code } : {}),
    ...(data.reference !== undefined ? { reference: data.reference } : {}),
    metadata: data.metadata,
    effectiveAt: data.effectiveAt,
    recordedAt: record.recordedAt,
    position: record.position.toString(),
  };
}

export function transferViewJson(view: TransferView) {
  return {
    id: view.id,
    debitAccountId: view.debitAccountId,
    creditAccountId: view.creditAccountId,
    amount: view.amount.toString(),
    currency: view.currency,
    status: view.status,
    ...(view.code !== undefined ? { code: view.code } : {}),
    ...(view.reference !== undefined ? { reference: view.reference } : {}),
    metadata: view.metadata,
    effectiveAt: view.effectiveAt,
    recordedAt: view.recordedAt,
    position: view.position.toString(),
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
  balance: balanceOf(view).toString(),
});

/** Entry cursors are opaque to clients: the last entry's sequence number, base64url. */
export const encodeCursor = (seq: bigint): string => Buffer.from(`e${seq}`).toString('base64url');
export function decodeCursor(cursor: string): bigint | undefined {
  const text = Buffer.from(cursor, 'base64url').toString();
  return /^e(0|[1-9][0-9]{0,18})$/.test(text) ? BigInt(text.slice(1)) : undefined;
}
