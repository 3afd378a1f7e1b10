/**
 * given / when / then over the pure domain (Emmett's given/when/then):
 *
 *   given([opened(w, { flags: { debitsMustNotExceedCredits: true } }), credited(w, 100n)])
 *     .when(postTransfer({ debit: w, credit: shop, amount: 101n }))
 *     .thenFails('insufficient-funds');
 *
 * `given` folds a history (events of any number of accounts, oldest first) into account states the
 * way their streams would; `when` runs the one decide function the command side would call for that
 * command, at a fixed clock; the `then…` methods say what must come of it.
 *
 * Not a test file: vitest collects only `*.spec.ts`. It asserts with node:assert rather than vitest
 * because the production build compiles everything in src/ except `*.spec.ts`, and must not come to
 * depend on a dev-only package through this file.
 */
import assert from 'node:assert/strict';
import {
  type Account,
  type AccountCommand,
  type AccountFlags,
  type OpenAccount,
  type ChangeAccountStatus,
  type Side,
  assertNever,
  decideOpenAccount,
  decideStatusChange,
  evolveAccount,
  openedAccount,
} from '../../src/domain/account';
import { type LedgerError, type LedgerErrorSlug, isLedgerError } from '../../src/domain/errors';
import type {
  AccountClosed,
  AccountFrozen,
  AccountOpened,
  AccountUnfrozen,
  LedgerEvent,
  TransferPosted,
} from '../../src/domain/events';
import { isMoneyEvent } from '../../src/domain/events';
import { type PostTransfer, decideTransfer } from '../../src/domain/transfer';

/** Default openedAt of accounts in a history. */
export const OPENED_AT = '2025-01-01T00:00:00.000Z';
/** Default effectiveAt of postings in a history. */
export const EARLIER = '2025-03-01T00:00:00.000Z';
/** The clock `when` decides at, unless told otherwise. */
export const NOW = '2025-06-30T12:00:00.000Z';
/** The counterparty of `credited` / `debited`: never opened, so only the named account sees them. */
export const OUTSIDE = 'outside';
/** Default transfer id of `postTransfer` and `posted`, so a command and the event it should produce match. */
export const TRANSFER_ID = 'tr-1';

export type LedgerCommand = AccountCommand | PostTransfer;

// ---------------------------------------------------------------------------------------------
// Events, for histories and for expected outcomes

export interface OpenOptions {
  readonly currency?: string;
  readonly normalSide?: Side;
  readonly flags?: Partial<AccountFlags>;
  readonly openedAt?: string;
  readonly code?: string;
  readonly metadata?: Readonly<Record<string, string>>;
}

const flagsOf = (flags: Partial<AccountFlags> = {}): AccountFlags => ({
  debitsMustNotExceedCredits: flags.debitsMustNotExceedCredits ?? false,
  creditsMustNotExceedDebits: flags.creditsMustNotExceedDebits ?? false,
});

export const opened = (accountId: string, options: OpenOptions = {}): AccountOpened => ({
  type: 'AccountOpened',
  data: {
    accountId,
    currency: options.currency ?? 'USD',
    normalSide: options.normalSide ?? 'credit',
    flags: flagsOf(options.flags),
    ...(options.code !== undefined ? { code: options.code } : {}),
    metadata: options.metadata ?? {},
    openedAt: options.openedAt ?? OPENED_AT,
  },
});

export const frozen = (accountId: string, reason = 'review'): AccountFrozen => ({
  type: 'AccountFrozen',
  data: { accountId, reason },
});
export const unfrozen = (accountId: string, reason = 'cleared'): AccountUnfrozen => ({
  type: 'AccountUnfrozen',
  data: { accountId, reason },
});
export const closed = (accountId: string, reason = 'ended'): AccountClosed => ({
  type: 'AccountClosed',
  data: { accountId, reason },
});

export interface Posting {
  readonly debit: string;
  readonly credit: string;
  readonly amount: bigint;
  readonly currency?: string;
  readonly transferId?: string;
  readonly code?: string;
  readonly reference?: string;
  readonly metadata?: Readonly<Record<string, string>>;
}

/** A TransferPosted event; its amount written the way the store keeps it, as a decimal string. */
export const posted = (posting: Posting & { readonly effectiveAt?: string }): TransferPosted => ({
  type: 'TransferPosted',
  data: {
    transferId: posting.transferId ?? TRANSFER_ID,
    debitAccountId: posting.debit,
    creditAccountId: posting.credit,
    amount: posting.amount.toString(),
    currency: posting.currency ?? 'USD',
    ...(posting.code !== undefined ? { code: posting.code } : {}),
    ...(posting.reference !== undefined ? { reference: posting.reference } : {}),
    metadata: posting.metadata ?? {},
    effectiveAt: posting.effectiveAt ?? EARLIER,
  },
});

/** `amount` credited to the account from OUTSIDE. */
export const credited = (accountId: string, amount: bigint, currency = 'USD'): TransferPosted =>
  posted({ debit: OUTSIDE, credit: accountId, amount, currency, transferId: `in-${accountId}-${amount}` });

/** `amount` debited from the account to OUTSIDE. */
export const debited = (accountId: string, amount: bigint, currency = 'USD'): TransferPosted =>
  posted({ debit: accountId, credit: OUTSIDE, amount, currency, transferId: `out-${accountId}-${amount}` });

// ---------------------------------------------------------------------------------------------
// Commands

export const openAccount = (accountId: string, options: Omit<OpenOptions, 'openedAt'> = {}): OpenAccount => ({
  type: 'OpenAccount',
  accountId,
  currency: options.currency ?? 'USD',
  normalSide: options.normalSide ?? 'credit',
  flags: flagsOf(options.flags),
  ...(options.code !== undefined ? { code: options.code } : {}),
  metadata: options.metadata ?? {},
});

export const freeze = (accountId: string, reason = 'review'): ChangeAccountStatus => ({
  type: 'FreezeAccount',
  accountId,
  reason,
});
export const unfreeze = (accountId: string, reason = 'cleared'): ChangeAccountStatus => ({
  type: 'UnfreezeAccount',
  accountId,
  reason,
});
export const close = (accountId: string, reason = 'ended'): ChangeAccountStatus => ({
  type: 'CloseAccount',
  accountId,
  reason,
});

/** A PostTransfer; leaving effectiveAt out leaves it to the decision (it then defaults to recordedAt). */
export const postTransfer = (posting: Posting & { readonly effectiveAt?: string }): PostTransfer => ({
  type: 'PostTransfer',
  transferId: posting.transferId ?? TRANSFER_ID,
  debitAccountId: posting.debit,
  creditAccountId: posting.credit,
  amount: posting.amount,
  currency: posting.currency ?? 'USD',
  ...(posting.code !== undefined ? { code: posting.code } : {}),
  ...(posting.reference !== undefined ? { reference: posting.reference } : {}),
  metadata: posting.metadata ?? {},
  ...(posting.effectiveAt !== undefined ? { effectiveAt: posting.effectiveAt } : {}),
});

// ---------------------------------------------------------------------------------------------
// given / when / then

type Accounts = ReadonlyMap<string, Account>;

/** The accounts an event belongs to (the streams it is appended to). */
export function accountsNamedBy(event: LedgerEvent): readonly string[] {
  return isMoneyEvent(event) ? [event.data.debitAccountId, event.data.creditAccountId] : [event.data.accountId];
}

/**
 * Applies events to the accounts they name, as their streams would: AccountOpened starts an account,
 * anything else evolves each opened account it names. An event that names no opened account is a
 * mistake in the test, not a domain outcome.
 */
export function applyEvents(accounts: Accounts, events: readonly LedgerEvent[]): Map<string, Account> {
  const next = new Map(accounts);
  for (const event of events) {
    if (event.type === 'AccountOpened') {
      if (next.has(event.data.accountId)) throw new Error(`account ${event.data.accountId} was opened twice`);
      next.set(event.data.accountId, openedAccount(event));
      continue;
    }
    const named = accountsNamedBy(event).filter((id) => next.has(id));
    if (named.length === 0) throw new Error(`given: ${event.type} names no opened account: ${show(event)}`);
    for (const id of named) next.set(id, evolveAccount(next.get(id) as Account, event));
  }
  return next;
}

export type Outcome =
  | { readonly kind: 'events'; readonly events: readonly LedgerEvent[] }
  | { readonly kind: 'nothing' }
  | { readonly kind: 'refused'; readonly error: LedgerError }
  | { readonly kind: 'crashed'; readonly error: unknown };

/** What the command side would get back from the one decide function for this command. */
export function decide(command: LedgerCommand, accounts: Accounts, clock: string): Outcome {
  const account = (id: string): Account => {
    const found = accounts.get(id);
    if (!found) throw new Error(`given: account ${id} was never opened (the command side answers account-not-found)`);
    return found;
  };
  let run: () => LedgerEvent | LedgerError | null;
  switch (command.type) {
    case 'OpenAccount':
      run = () => decideOpenAccount(command, clock);
      break;
    case 'FreezeAccount':
    case 'UnfreezeAccount':
    case 'CloseAccount': {
      const current = account(command.accountId);
      run = () => decideStatusChange(command, current);
      break;
    }
    case 'PostTransfer': {
      const debit = account(command.debitAccountId);
      const credit = account(command.creditAccountId);
      run = () => decideTransfer(command, debit, credit, clock);
      break;
    }
    default:
      return assertNever(command);
  }
  try {
    const result = run();
    if (result === null) return { kind: 'nothing' };
    if (isLedgerError(result)) return { kind: 'refused', error: result };
    return { kind: 'events', events: [result] };
  } catch (error) {
    return { kind: 'crashed', error };
  }
}

export interface Given {
  /** The state of one account after the history. */
  account(accountId: string): Account;
  /** Decides the command at `clock` (default NOW) against the states after the history. */
  when(command: LedgerCommand, clock?: string): When;
}

export interface When {
  /** Exactly these events come back. Returns the accounts as they are once those are applied. */
  then(...expected: LedgerEvent[]): Then;
  /** Accepted, and nothing to record: the account already is as asked. */
  thenNothing(): void;
  /** Refused with this slug and a detail that says why. Returns the error. */
  thenFails(slug: LedgerErrorSlug): LedgerError;
  /** Not a business outcome but a bug in the caller: decide throws, writing nothing. */
  thenCrashes(message: RegExp): void;
}

export interface Then {
  account(accountId: string): Account;
}

export function given(history: readonly LedgerEvent[]): Given {
  const accounts = applyEvents(new Map(), history);
  // Deciding must not touch the states it decides on (a refusal changes nothing): frozen, any write throws.
  for (const account of accounts.values()) deepFreeze(account);
  const account = (found: Accounts) => (accountId: string) => {
    const state = found.get(accountId);
    assert.ok(state, `no account ${accountId}`);
    return state;
  };
  return {
    account: account(accounts),
    when(command, clock = NOW) {
      const outcome = decide(command, accounts, clock);
      const unexpected = (wanted: string): never => {
        if (outcome.kind === 'crashed') throw outcome.error;
        assert.fail(`${command.type}: expected ${wanted}, got ${describe(outcome)}`);
      };
      return {
        // biome-ignore lint/suspicious/noThenProperty: given/when/then reads as a specification; never awaited
        then(...expected) {
          if (outcome.kind !== 'events') return unexpected(`${expected.map((e) => e.type).join(', ') || 'no'} events`);
          assert.deepStrictEqual(outcome.events, expected);
          return { account: account(applyEvents(accounts, outcome.events)) };
        },
        thenNothing() {
          if (outcome.kind !== 'nothing') unexpected('nothing to record (null)');
        },
        thenFails(slug) {
          if (outcome.kind !== 'refused') return unexpected(`refusal ${slug}`);
          assert.equal(outcome.error.slug, slug, `${command.type}: ${outcome.error.detail}`);
          assert.match(outcome.error.detail, /\S/, 'a refusal says why');
          return outcome.error;
        },
        thenCrashes(message) {
          if (outcome.kind !== 'crashed') unexpected(`a crash matching ${message}`);
          const error = (outcome as { error: unknown }).error;
          assert.ok(error instanceof Error, `threw a non-Error: ${String(error)}`);
          assert.match(error.message, message);
        },
      };
    },
  };
}

function describe(outcome: Outcome): string {
  switch (outcome.kind) {
    case 'events':
      return `events ${show(outcome.events)}`;
    case 'nothing':
      return 'nothing (null)';
    case 'refused':
      return `refusal ${outcome.error.slug} (${outcome.error.detail})`;
    case 'crashed':
      return `a crash: ${String(outcome.error)}`;
    default:
      return assertNever(outcome);
  }
}

export const show = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));

export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
