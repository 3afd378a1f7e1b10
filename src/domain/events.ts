import type { AccountFlags, Side } from './account';
import type { PeriodEvent } from './closed-period';
import type { FraudEvent } from './fraud';

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

/** What a transfer's first event says about it, posted at once or held. */
type TransferData = {
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

export interface TransferPosted {
  readonly type: 'TransferPosted';
  readonly data: TransferData;
}

/** A hold: `amount` joins the debit account's debitsPending and the credit account's creditsPending. */
export interface TransferPending {
  readonly type: 'TransferPending';
  readonly data: TransferData & {
    /** When whatever is still held is released on its own; none: held until posted or voided. */
    readonly expiresAt?: string;
  };
}

/** Fields every release of a hold carries: which hold, and the accounts it names (the streams it joins). */
type HoldRelease = {
  readonly transferId: string;
  readonly debitAccountId: string;
  readonly creditAccountId: string;
  readonly currency: string;
  /** Held money given back without being posted: leaves the pending totals, joins nothing. */
  readonly released: string;
};

/** Part or all of a hold posted: `amount` moves from pending to posted on both sides, `released` goes back. */
export interface PendingTransferPosted {
  readonly type: 'PendingTransferPosted';
  readonly data: HoldRelease & {
    /** The client's id of the post command (its idempotency key). */
    readonly postId: string;
    readonly amount: string;
    /** When the posted money counts for the books: not before the hold's effectiveAt. */
    readonly effectiveAt: string;
  };
}

export interface PendingTransferVoided {
  readonly type: 'PendingTransferVoided';
  readonly data: HoldRelease & { readonly voidId: string; readonly reason?: string };
}

export interface PendingTransferExpired {
  readonly type: 'PendingTransferExpired';
  readonly data: HoldRelease & { readonly expiresAt: string };
}

/**
 * A reversal: a new posting (its id is `transferId`) with the original's accounts swapped, so it
 * debits what the original credited. It is linked into the original's stream, whose reversedAmount grows.
 */
export interface TransferReversed {
  readonly type: 'TransferReversed';
  readonly data: TransferData & { readonly reverses: string; readonly reason: string };
}

export type AccountLifecycleEvent = AccountOpened | AccountFrozen | AccountUnfrozen | AccountClosed;
export type HoldEvent = TransferPending | PendingTransferPosted | PendingTransferVoided | PendingTransferExpired;
/** The events that name a debit and a credit account and change their totals. */
export type MoneyEvent = TransferPosted | HoldEvent | TransferReversed;
export type LedgerEvent = AccountLifecycleEvent | MoneyEvent;
export type LedgerEventType = LedgerEvent['type'];
/** Every event the ledger records: what a recorded event decodes to (src/events/decode.ts). */
export type DomainEvent = LedgerEvent | FraudEvent | PeriodEvent;
export type DomainEventType = DomainEvent['type'];

export const LEDGER_EVENT_TYPES: readonly LedgerEventType[] = [
  'AccountOpened',
  'AccountFrozen',
  'AccountUnfrozen',
  'AccountClosed',
  'TransferPosted',
  'TransferPending',
  'PendingTransferPosted',
  'PendingTransferVoided',
  'PendingTransferExpired',
  'TransferReversed',
];

export const isMoneyEvent = (event: LedgerEvent): event is MoneyEvent => 'debitAccountId' in event.data;

export const accountStream = (accountId: string): string => `account-${accountId}`;
export const transferStream = (transferId: string): string => `transfer-${transferId}`;
/**
 * The stream of one post or void command of a hold, by the client's id: its event lives here and is
 * linked into the hold's stream, so the id is unique across the ledger (ADR 0020).
 */
export const holdCommandStream = (commandId: string): string => `hold-command-${commandId}`;
