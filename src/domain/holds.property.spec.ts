/**
 * The invariants of holds and reversals (docs/contract.md, "Holds", "Reversals"), over random
 * sequences of holds, plain transfers, posts (partial, final or not), voids, expiries and
 * reversals, folded through decide/evolve as the command side does it. After every step:
 *   - per currency, posted debits = posted credits and pending debits = pending credits;
 *   - no flagged account crosses its bound, holds counted;
 *   - the posts of a hold never add up to more than it; what it holds is its amount less its posts and releases;
 *   - the reversals of a transfer never add up to more than it posted;
 *   - every account's pending totals are the sums of what its pending holds still hold;
 *   - replaying each stream gives the state kept step by step.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Account, evolveAccount, openedAccount, replayAccount } from './account';
import { isLedgerError } from './errors';
import type { LedgerEvent, MoneyEvent } from './events';
import { opened, show } from '../../test/domain-support/given';
import { decideExpirePending, decidePostPending, decideVoidPending } from './hold';
import { decideReversal } from './reversal';
import { decideTransfer } from './transfer';
import { type TransferState, evolveTransfer, replayTransfer } from './transfer-state';

const SEED = 20261201;
const NUM_RUNS = 300;
const START_MS = Date.parse('2026-01-01T00:00:00.000Z');
const clock = (tick: number) => new Date(START_MS + tick * 1000).toISOString();

const ACCOUNTS = [
  { id: 'bank', currency: 'USD', flags: {} },
  { id: 'card', currency: 'USD', flags: { debitsMustNotExceedCredits: true } },
  { id: 'shop', currency: 'USD', flags: {} },
  { id: 'loan', currency: 'USD', flags: { creditsMustNotExceedDebits: true } },
  { id: 'eur-a', currency: 'EUR', flags: {} },
  { id: 'eur-b', currency: 'EUR', flags: { debitsMustNotExceedCredits: true } },
] as const;

type Amount =
  | { readonly kind: 'fixed'; readonly value: bigint }
  | { readonly kind: 'share'; readonly permille: number };
type Step =
  | {
      readonly kind: 'transfer';
      readonly debit: number;
      readonly credit: number;
      readonly amount: bigint;
      readonly pending: boolean;
      readonly expiresInTicks?: number;
    }
  | {
      readonly kind: 'post';
      readonly hold: number;
      readonly amount?: Amount;
      readonly final: boolean;
      readonly over: boolean;
    }
  | { readonly kind: 'void'; readonly hold: number }
  | { readonly kind: 'expire'; readonly hold: number }
  | { readonly kind: 'reverse'; readonly transfer: number; readonly amount?: Amount; readonly over: boolean }
  | { readonly kind: 'wait'; readonly ticks: number };

const amountArb: fc.Arbitrary<Amount> = fc.oneof(
  fc.bigInt({ min: 1n, max: 200n }).map((value) => ({ kind: 'fixed' as const, value })),
  fc.integer({ min: 1, max: 1000 }).map((permille) => ({ kind: 'share' as const, permille })),
);
const index = fc.integer({ min: 0, max: 30 });
const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record(
      {
        kind: fc.constant('transfer' as const),
        debit: fc.integer({ min: 0, max: ACCOUNTS.length - 1 }),
        credit: fc.integer({ min: 0, max: ACCOUNTS.length - 1 }),
        amount: fc.bigInt({ min: 1n, max: 150n }),
        pending: fc.boolean(),
        expiresInTicks: fc.integer({ min: 1, max: 5 }),
      },
      { requiredKeys: ['kind', 'debit', 'credit', 'amount', 'pending'] },
    ),
  },
  {
    weight: 4,
    arbitrary: fc.record(
      { kind: fc.constant('post' as const), hold: index, amount: amountArb, final: fc.boolean(), over: fc.boolean() },
      { requiredKeys: ['kind', 'hold', 'final', 'over'] },
    ),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('void' as const), hold: index }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('expire' as const), hold: index }) },
  {
    weight: 3,
    arbitrary: fc.record(
      { kind: fc.constant('reverse' as const), transfer: index, amount: amountArb, over: fc.boolean() },
      { requiredKeys: ['kind', 'transfer', 'over'] },
    ),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('wait' as const), ticks: fc.integer({ min: 1, max: 4 }) }) },
);

interface Ledger {
  readonly accounts: Map<string, Account>;
  readonly transfers: Map<string, TransferState>;
  readonly accountStreams: Map<string, LedgerEvent[]>;
  readonly transferStreams: Map<string, LedgerEvent[]>;
  /** Per hold: the sum of its posts and of its releases, counted from the events alone. */
  readonly posts: Map<string, { posted: bigint; released: bigint }>;
  /** Per transfer: the sum of the reversals of it. */
  readonly reversals: Map<string, bigint>;
  tick: number;
}

function newLedger(): Ledger {
  const ledger: Ledger = {
    accounts: new Map(),
    transfers: new Map(),
    accountStreams: new Map(),
    transferStreams: new Map(),
    posts: new Map(),
    reversals: new Map(),
    tick: 0,
  };
  for (const spec of ACCOUNTS) {
    const event = opened(spec.id, { currency: spec.currency, flags: spec.flags, openedAt: clock(0) });
    ledger.accounts.set(spec.id, openedAccount(event));
    ledger.accountStreams.set(spec.id, [event]);
  }
  return ledger;
}

const push = <T>(map: Map<string, T[]>, key: string, value: T) => map.set(key, [...(map.get(key) ?? []), value]);

function append(ledger: Ledger, event: MoneyEvent): void {
  for (const id of [event.data.debitAccountId, event.data.creditAccountId]) {
    ledger.accounts.set(id, evolveAccount(ledger.accounts.get(id)!, event));
    push(ledger.accountStreams, id, event);
  }
  const id = event.data.transferId;
  ledger.transfers.set(id, evolveTransfer(ledger.transfers.get(id), event));
  push(ledger.transferStreams, id, event);
  if (event.type === 'TransferReversed') {
    const original = event.data.reverses;
    ledger.transfers.set(original, evolveTransfer(ledger.transfers.get(original), event));
    push(ledger.transferStreams, original, event);
    ledger.reversals.set(original, (ledger.reversals.get(original) ?? 0n) + BigInt(event.data.amount));
  }
  if (
    event.type === 'PendingTransferPosted' ||
    event.type === 'PendingTransferVoided' ||
    event.type === 'PendingTransferExpired'
  ) {
    const sums = ledger.posts.get(id) ?? { posted: 0n, released: 0n };
    ledger.posts.set(id, {
      posted: sums.posted + (event.type === 'PendingTransferPosted' ? BigInt(event.data.amount) : 0n),
      released: sums.released + BigInt(event.data.released),
    });
  }
}

function resolve(amount: Amount | undefined, left: bigint, over: boolean): bigint | undefined {
  if (over) return left + 1n;
  if (amount === undefined) return undefined;
  if (amount.kind === 'fixed') return amount.value;
  const share = (left * BigInt(amount.permille)) / 1000n;
  return share > 0n ? share : 1n;
}

const pick = <T>(items: readonly T[], i: number): T | undefined =>
  items.length === 0 ? undefined : items[i % items.length];

function run(ledger: Ledger, s: Step): string {
  const now = clock(ledger.tick);
  const holds = [...ledger.transfers.values()].filter((t) => t.hold);
  let result: MoneyEvent | ReturnType<typeof isLedgerError> | null | { kind: 'ledger-error'; slug: string } = null;
  switch (s.kind) {
    case 'wait':
      ledger.tick += s.ticks;
      return 'wait';
    case 'transfer': {
      const debit = ACCOUNTS[s.debit]!;
      const credit = ACCOUNTS[s.credit]!;
      if (debit.id === credit.id || debit.currency !== credit.currency) return 'skipped';
      const decided = decideTransfer(
        {
          type: 'PostTransfer',
          transferId: `t${ledger.transfers.size}`,
          debitAccountId: debit.id,
          creditAccountId: credit.id,
          amount: s.amount,
          currency: debit.currency,
          metadata: {},
          ...(s.pending ? { pending: true } : {}),
          ...(s.pending && s.expiresInTicks !== undefined ? { expiresAt: clock(ledger.tick + s.expiresInTicks) } : {}),
        },
        ledger.accounts.get(debit.id)!,
        ledger.accounts.get(credit.id)!,
        now,
      );
      result = decided;
      break;
    }
    case 'post': {
      const hold = pick(holds, s.hold);
      if (!hold) return 'skipped';
      const amount = resolve(s.amount, hold.pendingAmount, s.over);
      result = decidePostPending(
        {
          type: 'PostPendingTransfer',
          postId: `p${ledger.tick}`,
          transferId: hold.id,
          ...(amount !== undefined && amount > 0n ? { amount } : {}),
          final: s.final,
        },
        hold,
        ledger.accounts.get(hold.debitAccountId)!,
        ledger.accounts.get(hold.creditAccountId)!,
        now,
      );
      break;
    }
    case 'void': {
      const hold = pick(holds, s.hold);
      if (!hold) return 'skipped';
      result = decideVoidPending(
        { type: 'VoidPendingTransfer', voidId: `v${ledger.tick}`, transferId: hold.id },
        hold,
        now,
      );
      break;
    }
    case 'expire': {
      const hold = pick(holds, s.hold);
      if (!hold) return 'skipped';
      result = decideExpirePending(hold, now);
      if (result === null) return 'nothing';
      break;
    }
    case 'reverse': {
      const original = pick([...ledger.transfers.values()], s.transfer);
      if (!original) return 'skipped';
      const amount = resolve(s.amount, original.postedAmount - original.reversedAmount, s.over);
      result = decideReversal(
        {
          type: 'ReverseTransfer',
          reversalId: `r${ledger.transfers.size}`,
          transferId: original.id,
          ...(amount !== undefined && amount > 0n ? { amount } : {}),
          reason: 'refund',
        },
        original,
        ledger.accounts.get(original.creditAccountId)!,
        ledger.accounts.get(original.debitAccountId)!,
        now,
      );
      break;
    }
  }
  ledger.tick += 1;
  if (result === null) return 'nothing';
  if (isLedgerError(result)) return (result as { slug: string }).slug;
  append(ledger, result as MoneyEvent);
  return (result as MoneyEvent).type;
}

function checkInvariants(ledger: Ledger): void {
  const totals = new Map<string, { dp: bigint; cp: bigint; dh: bigint; ch: bigint }>();
  for (const account of ledger.accounts.values()) {
    const t = totals.get(account.currency) ?? { dp: 0n, cp: 0n, dh: 0n, ch: 0n };
    t.dp += account.debitsPosted;
    t.cp += account.creditsPosted;
    t.dh += account.debitsPending;
    t.ch += account.creditsPending;
    totals.set(account.currency, t);
    if (account.flags.debitsMustNotExceedCredits) {
      assert.ok(account.debitsPosted + account.debitsPending <= account.creditsPosted, `bound of ${show(account)}`);
    }
    if (account.flags.creditsMustNotExceedDebits) {
      assert.ok(account.creditsPosted + account.creditsPending <= account.debitsPosted, `bound of ${show(account)}`);
    }
    assert.ok(account.debitsPending >= 0n && account.creditsPending >= 0n, `pending below zero ${show(account)}`);
    // Pending totals are what the account's pending holds still hold, side by side.
    let debitsHeld = 0n;
    let creditsHeld = 0n;
    for (const t of ledger.transfers.values()) {
      if (t.debitAccountId === account.id) debitsHeld += t.pendingAmount;
      if (t.creditAccountId === account.id) creditsHeld += t.pendingAmount;
    }
    assert.equal(account.debitsPending, debitsHeld, `${account.id}: debitsPending`);
    assert.equal(account.creditsPending, creditsHeld, `${account.id}: creditsPending`);
    const replayed = replayAccount(ledger.accountStreams.get(account.id)!);
    assert.equal(show(replayed), show(account), `replay of ${account.id}`);
  }
  for (const [currency, t] of totals) {
    assert.equal(t.dp, t.cp, `posted debits ≠ credits in ${currency}`);
    assert.equal(t.dh, t.ch, `pending debits ≠ credits in ${currency}`);
  }
  for (const transfer of ledger.transfers.values()) {
    if (transfer.hold) {
      const sums = ledger.posts.get(transfer.id) ?? { posted: 0n, released: 0n };
      assert.ok(sums.posted <= transfer.amount, `posts of ${transfer.id} exceed it`);
      assert.equal(sums.posted, transfer.postedAmount, `${transfer.id}: postedAmount`);
      assert.equal(transfer.pendingAmount, transfer.amount - sums.posted - sums.released, `${transfer.id}: held`);
      assert.equal(
        transfer.status === 'pending',
        transfer.pendingAmount > 0n,
        `${transfer.id}: status ${transfer.status}`,
      );
    }
    const reversed = ledger.reversals.get(transfer.id) ?? 0n;
    assert.equal(transfer.reversedAmount, reversed, `${transfer.id}: reversedAmount`);
    assert.ok(reversed <= transfer.postedAmount, `reversals of ${transfer.id} exceed what it posted`);
    assert.equal(
      show(replayTransfer(ledger.transferStreams.get(transfer.id)!)),
      show(transfer),
      `replay of ${transfer.id}`,
    );
  }
}

const MUST_SEE = [
  'TransferPosted',
  'TransferPending',
  'PendingTransferPosted',
  'PendingTransferVoided',
  'PendingTransferExpired',
  'TransferReversed',
  'insufficient-funds',
  'exceeds-pending',
  'transfer-not-pending',
  'exceeds-reversible',
] as const;

describe('holds and reversals under random sequences', () => {
  it('keep both kinds of double entry, every bound, and every hold and reversal within its amount', () => {
    const seen = new Map<string, number>();
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 60 }), (steps) => {
        const ledger = newLedger();
        // Fund the bounded accounts so that holds and debits can succeed, and some can exhaust them.
        append(
          ledger,
          decideTransfer(
            {
              type: 'PostTransfer',
              transferId: 'fund-card',
              debitAccountId: 'bank',
              creditAccountId: 'card',
              amount: 300n,
              currency: 'USD',
              metadata: {},
            },
            ledger.accounts.get('bank')!,
            ledger.accounts.get('card')!,
            clock(0),
          ) as MoneyEvent,
        );
        append(
          ledger,
          decideTransfer(
            {
              type: 'PostTransfer',
              transferId: 'fund-loan',
              debitAccountId: 'loan',
              creditAccountId: 'bank',
              amount: 300n,
              currency: 'USD',
              metadata: {},
            },
            ledger.accounts.get('loan')!,
            ledger.accounts.get('bank')!,
            clock(0),
          ) as MoneyEvent,
        );
        for (const s of steps) {
          const label = run(ledger, s);
          seen.set(label, (seen.get(label) ?? 0) + 1);
          checkInvariants(ledger);
        }
      }),
      { seed: SEED, numRuns: NUM_RUNS },
    );
    for (const label of MUST_SEE) {
      expect(seen.get(label) ?? 0, `"${label}" never came up: ${show([...seen])}`).toBeGreaterThan(0);
    }
  });
});
