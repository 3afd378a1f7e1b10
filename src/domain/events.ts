import type { AccountFlags, Side } from './account';

/**
 * The ledger's domain events, as they are stored and published (docs/contract.md, "Events"). Amounts are
 * decimal strings of minor units so the stored JSON is exact; code turns them into bigint.
 */
export interface AccountOpened {
  readonly type: 'AccountOpened';
  readonly data: {
    readonly accountId: string;
    readonly currency: string;
    readonly normalSide: Side;
    readonly flags: AccountFlags;
    readonly code?: string;
    readonly metadata: Readonly<Record<string, string>>;
    readonly openedAt: string;
  };
}

export interface AccountStatusChanged<T extends 'AccountFrozen' | 'AccountUnfrozen' | 'AccountClosed'> {
  readonly type: T;
  readonly data: { readonly accountId: string; readonly reason: string };
}
export type AccountFrozen = AccountStatusChanged<'AccountFrozen'>;
export type AccountUnfrozen = AccountStatusChanged<'AccountUnfrozen'>;
export type AccountClosed = AccountStatusChanged<'AccountClosed'>;

export interface TransferPosted {
  readonly type: 'TransferPosted';
  readonly data: {
    readonly transferId: string;
    readonly debitAccountId: string;
    readonly creditAccountId: string;
    readonly amount: string;
    readonly currency: string;
    readonly code?: string;
    readonly reference?: string;
    readonly metadata: Readonly<Record<string, string>>;
    readonly effectiveAt: string;
  };
}

export type AccountLifecycleEvent = AccountOpened | AccountFrozen | AccountUnfrozen | AccountClosed;
export type LedgerEvent = AccountLifecycleEvent | TransferPosted;
export type LedgerEventType = LedgerEvent['type'];

export const LEDGER_EVENT_TYPES: readonly LedgerEventType[] = [
  'AccountOpened',
  'AccountFrozen',
  'AccountUnfrozen',
  'AccountClosed',
  'TransferPosted',
];

export const accountStream = (accountId: string): string => `account-${accountId}`;
export const transferStream = (transferId: string): string => `transfer-${transferId}`;
