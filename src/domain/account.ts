import { type LedgerError, ledgerError } from './errors';
import type { AccountClosed, AccountFrozen, AccountOpened, AccountUnfrozen, LedgerEvent, MoneyEvent } from './events';
import { assertMoney } from './money';

export type Side = 'debit' | 'credit';
export type AccountStatus = 'open' | 'frozen' | 'closed';

export interface AccountFlags {
  readonly debitsMustNotExceedCredits: boolean;
  readonly creditsMustNotExceedDebits: boolean;
}

export interface Account {
  readonly id: string;
  readonly currency: string;
  readonly normalSide: Side;
  readonly flags: AccountFlags;
  readonly status: AccountStatus;
  readonly debitsPosted: bigint;
  readonly creditsPosted: bigint;
  /** Held for pending transfers that debit it: counts against its bound, moves nothing yet. */
  readonly debitsPending: bigint;
  /** Held for pending transfers that credit it: counts against its bound, moves nothing yet. */
  readonly creditsPending: bigint;
  /** Events in the account's stream so far: 1 after opening, +1 for each change or posting. */
  readonly version: number;
  readonly openedAt: string;
  readonly code?: string;
  readonly metadata: Readonly<Record<string, string>>;
}

/** creditsPosted − debitsPosted for a credit-normal account, the reverse for a debit-normal one. */
export const balanceOf = (account: Pick<Account, 'normalSide' | 'debitsPosted' | 'creditsPosted'>): bigint =>
  account.normalSide === 'credit'
    ? account.creditsPosted - account.debitsPosted
    : account.debitsPosted - account.creditsPosted;

/**
 * What may still be spent: the balance less what holds have reserved against it
 * (credit-normal: creditsPosted − debitsPosted − debitsPending; debit-normal, the mirror).
 */
export const availableOf = (
  account: Pick<Account, 'normalSide' | 'debitsPosted' | 'creditsPosted' | 'debitsPending' | 'creditsPending'>,
): bigint =>
  account.normalSide === 'credit'
    ? account.creditsPosted - account.debitsPosted - account.debitsPending
    : account.debitsPosted - account.creditsPosted - account.creditsPending;

export interface OpenAccount {
  readonly type: 'OpenAccount';
  readonly accountId: string;
  readonly currency: string;
  readonly normalSide: Side;
  readonly flags: AccountFlags;
  readonly code?: string;
  readonly metadata: Readonly<Record<string, string>>;
}

export interface ChangeAccountStatus {
  readonly type: 'FreezeAccount' | 'UnfreezeAccount' | 'CloseAccount';
  readonly accountId: string;
  readonly reason: string;
}

export type AccountCommand = OpenAccount | ChangeAccountStatus;

/** The account an AccountOpened event starts. */
export function openedAccount(event: AccountOpened): Account {
  const { data } = event;
  return {
    id: data.accountId,
    currency: data.currency,
    normalSide: data.normalSide,
    flags: data.flags,
    status: 'open',
    debitsPosted: 0n,
    creditsPosted: 0n,
    debitsPending: 0n,
    creditsPending: 0n,
    version: 1,
    openedAt: data.openedAt,
    ...(data.code !== undefined ? { code: data.code } : {}),
    metadata: data.metadata,
  };
}

/** An account's state after one more event of its stream. */
export function evolveAccount(account: Account, event: LedgerEvent): Account {
  switch (event.type) {
    case 'AccountOpened':
      throw new Error(`account ${account.id} was opened twice`);
    case 'AccountFrozen':
      return { ...account, status: 'frozen', version: account.version + 1 };
    case 'AccountUnfrozen':
      return { ...account, status: 'open', version: account.version + 1 };
    case 'AccountClosed':
      return { ...account, status: 'closed', version: account.version + 1 };
    case 'TransferPosted':
    case 'TransferReversed':
    case 'TransferPending':
    case 'PendingTransferPosted':
    case 'PendingTransferVoided':
    case 'PendingTransferExpired':
      return evolveTotals(account, event);
    default:
      return assertNever(event);
  }
}

/** How one money event moves the four totals of the side it names: posted and pending. */
function sideDelta(event: MoneyEvent): { posted: bigint; pending: bigint } {
  switch (event.type) {
    case 'TransferPosted':
    case 'TransferReversed':
      return { posted: BigInt(event.data.amount), pending: 0n };
    case 'TransferPending':
      return { posted: 0n, pending: BigInt(event.data.amount) };
    case 'PendingTransferPosted': {
      const amount = BigInt(event.data.amount);
      return { posted: amount, pending: -(amount + BigInt(event.data.released)) };
    }
    case 'PendingTransferVoided':
    case 'PendingTransferExpired':
      return { posted: 0n, pending: -BigInt(event.data.released) };
    default:
      return assertNever(event);
  }
}

function evolveTotals(account: Account, event: MoneyEvent): Account {
  const { data } = event;
  const isDebit = data.debitAccountId === account.id;
  const isCredit = data.creditAccountId === account.id;
  assertMoney(isDebit !== isCredit, `${event.type} of ${data.transferId} does not post to ${account.id} once`);
  assertMoney(data.currency === account.currency, `currency of ${data.transferId}`);
  const { posted, pending } = sideDelta(event);
  const next = isDebit
    ? { ...account, debitsPosted: account.debitsPosted + posted, debitsPending: account.debitsPending + pending }
    : { ...account, creditsPosted: account.creditsPosted + posted, creditsPending: account.creditsPending + pending };
  // A release of more than is held would be a bug in a decision, and would make money out of nothing.
  assertMoney(next.debitsPending >= 0n && next.creditsPending >= 0n, `pending of ${account.id} below zero`);
  return { ...next, version: account.version + 1 };
}

/** Folds an account's whole stream; undefined for a stream that does not start with AccountOpened. */
export function replayAccount(events: readonly LedgerEvent[]): Account | undefined {
  const [first, ...rest] = events;
  if (first?.type !== 'AccountOpened') return undefined;
  return rest.reduce(evolveAccount, openedAccount(first));
}

export function decideOpenAccount(command: OpenAccount, openedAt: string): AccountOpened {
  return {
    type: 'AccountOpened',
    data: {
      accountId: command.accountId,
      currency: command.currency,
      normalSide: command.normalSide,
      flags: command.flags,
      ...(command.code !== undefined ? { code: command.code } : {}),
      metadata: command.metadata,
      openedAt,
    },
  };
}

/**
 * Freeze, unfreeze or close. Asking for the status an account already has changes nothing
 * (null); a closed account stays closed.
 */
export function decideStatusChange(
  command: ChangeAccountStatus,
  account: Account,
): AccountFrozen | AccountUnfrozen | AccountClosed | null | LedgerError {
  const data = { accountId: account.id, reason: command.reason };
  switch (command.type) {
    case 'FreezeAccount':
      if (account.status === 'frozen') return null;
      if (account.status === 'closed') return ledgerError('account-not-open', `account ${account.id} is closed`);
      return { type: 'AccountFrozen', data };
    case 'UnfreezeAccount':
      if (account.status === 'open') return null;
      if (account.status === 'closed') return ledgerError('account-not-open', `account ${account.id} is closed`);
      return { type: 'AccountUnfrozen', data };
    case 'CloseAccount':
      if (account.status === 'closed') return null;
      return { type: 'AccountClosed', data };
    default:
      return assertNever(command.type);
  }
}

export function assertNever(value: never): never {
  throw new Error(`unhandled case: ${JSON.stringify(value)}`);
}
