/**
 * Random command sequences for the ledger's property tests (src/domain/ledger.property.spec.ts):
 * a handful of accounts in three currencies, at most one balance flag each, amounts from 1 to
 * 2^127 − 1 with a bias to both ends, and effective times around every tick of a one-second clock.
 * Steps name accounts by index and resolve them against the ledger when they run, so a shrunk
 * counterexample still reads as a story.
 */
import fc from 'fast-check';
import type { ChangeAccountStatus, OpenAccount, Side } from '../../src/domain/account';
import { AMOUNT_MAX } from '../../src/domain/money';

export const STEPS_MAX = 60;

export const ACCOUNT_IDS = ['a0', 'a1', 'a2', 'a3', 'a4', 'a5'] as const;
export const CURRENCIES = ['USD', 'EUR', 'POINTS'] as const;
const CLOCK_START_MS = Date.parse('2025-01-01T00:00:00.000Z');
const STEP_MS = 1000;

export type FlagChoice = 'none' | 'debitsMustNotExceedCredits' | 'creditsMustNotExceedDebits';

export interface AccountSpec {
  readonly currency: string;
  readonly normalSide: Side;
  readonly flag: FlagChoice;
}

export type Step =
  | { readonly kind: 'open'; readonly account: number; readonly spec: AccountSpec }
  | { readonly kind: ChangeAccountStatus['type']; readonly account: number }
  | {
      readonly kind: 'transfer';
      /** An index into the opened accounts, or into all account ids (some never opened). */
      readonly debit: { readonly among: 'opened' | 'all'; readonly index: number };
      /** An index into the other opened accounts in the debit account's currency, or into all account ids. */
      readonly credit: { readonly among: 'same-currency' | 'all'; readonly index: number };
      /** 'debit-side' resolves to the debit account's currency when the step runs, so most transfers can post. */
      readonly currency: string;
      /** Minor units, or what is left under one side's bound (see `Room`), to land on its exact edge. */
      readonly amount: bigint | Room;
      /** undefined: left to the decision (recordedAt); else a clock tick and a millisecond either side of it. */
      readonly effectiveAt?: { readonly tick: number; readonly deltaMs: -1 | 0 | 1 };
    };

/**
 * An amount worked out when the step runs: the debit account's credits − debits ('debit') or the
 * credit account's debits − credits ('credit'), plus delta; 1 where that is not a valid amount.
 */
export interface Room {
  readonly room: 'debit' | 'credit';
  readonly delta: -1 | 0 | 1;
}

export interface Scenario {
  /** Accounts a0… opened one per tick before the steps. */
  readonly prelude: readonly AccountSpec[];
  readonly steps: readonly Step[];
}

const accountIndex = fc.integer({ min: 0, max: ACCOUNT_IDS.length - 1 });

const accountSpec: fc.Arbitrary<AccountSpec> = fc.record({
  currency: fc.oneof(
    { weight: 3, arbitrary: fc.constant(CURRENCIES[0]) },
    { weight: 2, arbitrary: fc.constant(CURRENCIES[1]) },
    { weight: 1, arbitrary: fc.constant(CURRENCIES[2]) },
  ),
  normalSide: fc.constantFrom<Side>('debit', 'credit'),
  // One flag at most: both together would leave an account that can never post.
  flag: fc.oneof(
    { weight: 2, arbitrary: fc.constant<FlagChoice>('none') },
    { weight: 1, arbitrary: fc.constant<FlagChoice>('debitsMustNotExceedCredits') },
    { weight: 1, arbitrary: fc.constant<FlagChoice>('creditsMustNotExceedDebits') },
  ),
});

const amount: fc.Arbitrary<bigint | Room> = fc.oneof(
  fc.record({
    room: fc.constantFrom<Room['room']>('debit', 'credit'),
    delta: fc.constantFrom<Room['delta']>(-1, 0, 1),
  }),
  fc.bigInt({ min: 1n, max: 1000n }),
  fc.bigInt({ min: 1n, max: AMOUNT_MAX }),
  fc.bigInt({ min: AMOUNT_MAX - 1000n, max: AMOUNT_MAX }),
  fc.constant(AMOUNT_MAX),
);

const transfer: fc.Arbitrary<Step> = fc.record({
  kind: fc.constant('transfer' as const),
  debit: fc.record({
    among: fc.oneof(
      { weight: 9, arbitrary: fc.constant('opened' as const) },
      { weight: 1, arbitrary: fc.constant('all' as const) },
    ),
    index: accountIndex,
  }),
  credit: fc.record({
    among: fc.oneof(
      { weight: 9, arbitrary: fc.constant('same-currency' as const) },
      { weight: 1, arbitrary: fc.constant('all' as const) },
    ),
    index: accountIndex,
  }),
  currency: fc.oneof(
    { weight: 6, arbitrary: fc.constant('debit-side') },
    { weight: 1, arbitrary: fc.constantFrom(...CURRENCIES) },
  ),
  amount,
  effectiveAt: fc.option(
    fc.record({
      tick: fc.integer({ min: 0, max: STEPS_MAX + 6 }),
      deltaMs: fc.constantFrom<-1 | 0 | 1>(-1, 0, 1),
    }),
    { freq: 2, nil: undefined },
  ),
});

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 40, arbitrary: transfer },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('open' as const), account: accountIndex, spec: accountSpec }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('FreezeAccount' as const), account: accountIndex }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('UnfreezeAccount' as const), account: accountIndex }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('CloseAccount' as const), account: accountIndex }) },
);

export const scenario: fc.Arbitrary<Scenario> = fc.record({
  prelude: fc.array(accountSpec, { minLength: 2, maxLength: 5 }),
  steps: fc.array(step, { maxLength: STEPS_MAX, size: 'max' }),
});

/** The server's clock at a tick: CLOCK_START_MS + tick seconds, as a contract timestamp. */
export const clock = (tick: number): string => new Date(CLOCK_START_MS + tick * STEP_MS).toISOString();

export const openCommand = (accountId: string, spec: AccountSpec): OpenAccount => ({
  type: 'OpenAccount',
  accountId,
  currency: spec.currency,
  normalSide: spec.normalSide,
  flags: {
    debitsMustNotExceedCredits: spec.flag === 'debitsMustNotExceedCredits',
    creditsMustNotExceedDebits: spec.flag === 'creditsMustNotExceedDebits',
  },
  metadata: {},
});
