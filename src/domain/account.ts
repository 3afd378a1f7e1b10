import { type LedgerError, ledgerError } from './errors';
import type { AccountClosed, AccountFrozen, AccountOpened, AccountUnfrozen, LedgerEvent } from './events';
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
    case 'TransferPosted': {
      const amount = BigInt(event.data.amount);
      const isDebit = event.data.debitAccountId === account.id;
      const isCredit = event.data.creditAccountId === account.id;
      assertMoney(isDebit !== isCredit, `transfer ${event.data.transferId} does not post to ${account.id} once`);
      assertMoney(event.data.currency === account.currency, `currency of ${event.data.transferId}`);
      return isDebit
        ? { ...account, debitsPosted: account.debitsPosted + amount, version: account.version + 1 }
        : { ...account, creditsPosted: account.creditsPosted + amount, version: account.version + 1 };
    }
    default:
      return assertNever(event);
  }
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
