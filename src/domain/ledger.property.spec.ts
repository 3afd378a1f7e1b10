/**
 * The invariants the ledger lives by (docs/contract.md, guarantees 1, 3, 8, 9; after TigerBeetle's
 * invariants), checked over random command sequences folded through decide/evolve the way the
 * command side does it: load both states, decide at the server's clock, and when an event comes
 * back, evolve every account it names and append it to their streams.
 *
 * The checks that run after every step use node:assert: vitest's expect is too slow to call some
 * hundred thousand times per run. A failure names the seed and the shrunk command sequence.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ACCOUNT_IDS,
  type Room,
  type Step,
  clock,
  openCommand,
  scenario,
} from '../../test/domain-support/ledger-scenarios';
import {
  type Account,
  decideOpenAccount,
  decideStatusChange,
  evolveAccount,
  openedAccount,
  replayAccount,
} from './account';
import { type LedgerErrorSlug, isLedgerError } from './errors';
import type { LedgerEvent } from './events';
import { accountsNamedBy, deepFreeze, show } from '../../test/domain-support/given';
import { AMOUNT_MAX } from './money';
import { type PostTransfer, decideTransfer } from './transfer';

const SEED = 20250630;
const NUM_RUNS = 200;

// ---------------------------------------------------------------------------------------------
// The command side, in miniature

interface Ledger {
  readonly states: Map<string, Account>;
  /** Each account's stream: its lifecycle events and every transfer that names it, in order. */
  readonly streams: Map<string, LedgerEvent[]>;
}

type Outcome =
  | { readonly kind: 'recorded'; readonly event: LedgerEvent }
  | { readonly kind: 'nothing' }
  | { readonly kind: 'refused'; readonly slug: LedgerErrorSlug };

function append(ledger: Ledger, event: LedgerEvent): void {
  if (event.type === 'AccountOpened') {
    ledger.states.set(event.data.accountId, deepFreeze(openedAccount(event)));
    ledger.streams.set(event.data.accountId, [event]);
    return;
  }
  for (const id of new Set(accountsNamedBy(event))) {
    ledger.states.set(id, deepFreeze(evolveAccount(ledger.states.get(id) as Account, event)));
    ledger.streams.get(id)?.push(event);
  }
}

/** Which transfer rules the command breaks, worked out independently of decideTransfer. */
function brokenTransferRules(
  command: PostTransfer,
  debit: Account,
  credit: Account,
  now: string,
): Set<LedgerErrorSlug> {
  const broken = new Set<LedgerErrorSlug>();
  if (command.debitAccountId === command.creditAccountId) broken.add('same-account');
  for (const account of [debit, credit]) {
    if (account.status !== 'open') broken.add('account-not-open');
    if (account.currency !== command.currency) broken.add('currency-mismatch');
  }
  const effectiveAt = command.effectiveAt ?? now;
  if (effectiveAt > now || effectiveAt < debit.openedAt || effectiveAt < credit.openedAt) {
    broken.add('effective-time-out-of-range');
  }
  if (debit.flags.debitsMustNotExceedCredits && debit.debitsPosted + command.amount > debit.creditsPosted) {
    broken.add('insufficient-funds');
  }
  if (credit.flags.creditsMustNotExceedDebits && credit.creditsPosted + command.amount > credit.debitsPosted) {
    broken.add('insufficient-funds');
  }
  return broken;
}

function amountOf(amount: bigint | Room, debit: Account, credit: Account): bigint {
  if (typeof amount === 'bigint') return amount;
  const room =
    amount.room === 'debit' ? debit.creditsPosted - debit.debitsPosted : credit.debitsPosted - credit.creditsPosted;
  const exact = room + BigInt(amount.delta);
  return exact >= 1n && exact <= AMOUNT_MAX ? exact : 1n;
}

const STATUS_TABLE = {
  open: { FreezeAccount: 'AccountFrozen', UnfreezeAccount: null, CloseAccount: 'AccountClosed' },
  frozen: { FreezeAccount: null, UnfreezeAccount: 'AccountUnfrozen', CloseAccount: 'AccountClosed' },
  closed: { FreezeAccount: 'account-not-open', UnfreezeAccount: 'account-not-open', CloseAccount: null },
} as const;

/** Runs one step at `tick`, checking the decision against the rules; a string when decide is never asked. */
function run(ledger: Ledger, step: Step, tick: number): Outcome | 'account-not-found' | 'already-open' {
  const now = clock(tick);
  switch (step.kind) {
    case 'open': {
      const accountId = ACCOUNT_IDS[step.account] as string;
      // The command side answers a second open of an id from its idempotency record; decide never sees it.
      if (ledger.states.has(accountId)) return 'already-open';
      const event = decideOpenAccount(openCommand(accountId, step.spec), now);
      append(ledger, event);
      return { kind: 'recorded', event };
    }
    case 'FreezeAccount':
    case 'UnfreezeAccount':
    case 'CloseAccount': {
      const accountId = ACCOUNT_IDS[step.account] as string;
      const account = ledger.states.get(accountId);
      if (!account) return 'account-not-found';
      const result = decideStatusChange({ type: step.kind, accountId, reason: `tick ${tick}` }, account);
      const expected = STATUS_TABLE[account.status][step.kind];
      if (result === null) {
        expect(expected, `${step.kind} of a ${account.status} account`).toBeNull();
        return { kind: 'nothing' };
      }
      if (isLedgerError(result)) {
        expect(result.slug, `${step.kind} of a ${account.status} account`).toBe(expected);
        return { kind: 'refused', slug: result.slug };
      }
      expect(result, `${step.kind} of a ${account.status} account`).toStrictEqual({
        type: expected,
        data: { accountId, reason: `tick ${tick}` },
      });
      append(ledger, result);
      return { kind: 'recorded', event: result };
    }
    case 'transfer': {
      const pick = (ids: readonly string[], index: number): string => ids[index % ids.length] as string;
      const opened = ACCOUNT_IDS.filter((id) => ledger.states.has(id));
      const debitAccountId = pick(step.debit.among === 'opened' ? opened : ACCOUNT_IDS, step.debit.index);
      const debit = ledger.states.get(debitAccountId);
      if (!debit) return 'account-not-found';
      const others = opened.filter((id) => id !== debitAccountId);
      const sameCurrency = others.filter((id) => ledger.states.get(id)?.currency === debit.currency);
      const fallback = others.length > 0 ? others : opened;
      const creditAccountId = pick(
        step.credit.among === 'all' ? ACCOUNT_IDS : sameCurrency.length > 0 ? sameCurrency : fallback,
        step.credit.index,
      );
      const credit = ledger.states.get(creditAccountId);
      if (!credit) return 'account-not-found';
      const command: PostTransfer = {
        type: 'PostTransfer',
        transferId: `t${tick}`,
        debitAccountId,
        creditAccountId,
        amount: amountOf(step.amount, debit, credit),
        currency: step.currency === 'debit-side' ? debit.currency : step.currency,
        metadata: {},
        ...(step.effectiveAt
          ? { effectiveAt: new Date(Date.parse(clock(step.effectiveAt.tick)) + step.effectiveAt.deltaMs).toISOString() }
          : {}),
      };
      const result = decideTransfer(command, debit, credit, now);
      const broken = brokenTransferRules(command, debit, credit, now);
      if (isLedgerError(result)) {
        expect([...broken], `refused with ${result.slug}: ${result.detail}`).toContain(result.slug);
        return { kind: 'refused', slug: result.slug };
      }
      expect([...broken], 'posted although it breaks a rule').toStrictEqual([]);
      expect(result).toStrictEqual({
        type: 'TransferPosted',
        data: {
          transferId: command.transferId,
          debitAccountId,
          creditAccountId,
          amount: command.amount.toString(),
          currency: command.currency,
          metadata: {},
          effectiveAt: command.effectiveAt ?? now,
        },
      });
      append(ledger, result);
      return { kind: 'recorded', event: result };
    }
    default: {
      const unknown: never = step;
      throw new Error(`unknown step ${show(unknown)}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The invariants

function checkInvariants(ledger: Ledger): void {
  // (a) double entry: per currency, all debits equal all credits.
  const totals = new Map<string, { debits: bigint; credits: bigint }>();
  for (const account of ledger.states.values()) {
    const total = totals.get(account.currency) ?? { debits: 0n, credits: 0n };
    total.debits += account.debitsPosted;
    total.credits += account.creditsPosted;
    totals.set(account.currency, total);
  }
  for (const [currency, total] of totals) {
    assert.equal(total.debits, total.credits, `debits ≠ credits in ${currency}`);
  }

  for (const [id, account] of ledger.states) {
    // (b) no constrained account crosses its bound.
    if (account.flags.debitsMustNotExceedCredits) {
      assert.ok(account.debitsPosted <= account.creditsPosted, `${id}: debits > credits ${show(account)}`);
    }
    if (account.flags.creditsMustNotExceedDebits) {
      assert.ok(account.creditsPosted <= account.debitsPosted, `${id}: credits > debits ${show(account)}`);
    }
    // (c) replaying the account's own stream gives the state kept step by step.
    const stream = ledger.streams.get(id) ?? [];
    const replayed = replayAccount(stream);
    if (!sameAccount(replayed, account)) expect(replayed, `replay of ${id}`).toStrictEqual(account);
    assert.equal(account.version, stream.length, `${id}: one version per event of its stream`);
    // The same stream read without evolveAccount: totals are the postings by side, the status is the
    // last lifecycle event's, and closed is final (nothing follows AccountClosed).
    let debits = 0n;
    let credits = 0n;
    let status: Account['status'] = 'open';
    stream.forEach((event, index) => {
      if (status === 'closed') assert.fail(`${id}: ${event.type} at ${index} after AccountClosed`);
      if (event.type === 'TransferPosted') {
        if (event.data.debitAccountId === id) debits += BigInt(event.data.amount);
        if (event.data.creditAccountId === id) credits += BigInt(event.data.amount);
      } else if (event.type !== 'AccountOpened') {
        status = event.type === 'AccountFrozen' ? 'frozen' : event.type === 'AccountUnfrozen' ? 'open' : 'closed';
      }
    });
    assert.equal(account.debitsPosted, debits, `${id}: debitsPosted is the sum of its debit postings`);
    assert.equal(account.creditsPosted, credits, `${id}: creditsPosted is the sum of its credit postings`);
    assert.equal(account.status, status, `${id}: status follows its last lifecycle event`);
  }
}

/** A fast path for the deep comparison, which is too slow to run on every account after every step. */
const sameAccount = (left: Account | undefined, right: Account): boolean =>
  left !== undefined && Object.keys(left).join() === Object.keys(right).join() && show(left) === show(right);

const snapshot = (ledger: Ledger): Ledger => ({
  states: new Map(ledger.states),
  streams: new Map([...ledger.streams].map(([id, stream]) => [id, [...stream]])),
});

const OUTCOMES_TO_SEE = [
  'AccountOpened',
  'AccountFrozen',
  'AccountUnfrozen',
  'AccountClosed',
  'TransferPosted',
  'nothing',
  'account-not-found',
  'already-open',
  'same-account',
  'account-not-open',
  'currency-mismatch',
  'effective-time-out-of-range',
  'insufficient-funds',
  'huge posting',
  'total beyond 2^127 − 1',
  'debited bounded account',
  'credited bounded account',
] as const;

const label = (outcome: ReturnType<typeof run>): string => {
  if (typeof outcome === 'string') return outcome;
  if (outcome.kind === 'refused') return outcome.slug;
  return outcome.kind === 'recorded' ? outcome.event.type : 'nothing';
};

const seen = new Map<string, number>();
const see = (label: string): void => {
  seen.set(label, (seen.get(label) ?? 0) + 1);
};

describe('the ledger under random command sequences', () => {
  it('keeps debits = credits, every bound, replay = state, and refusals change nothing, after every step', () => {
    fc.assert(
      fc.property(scenario, ({ prelude, steps }) => {
        const ledger: Ledger = { states: new Map(), streams: new Map() };
        prelude.forEach((spec, tick) => {
          append(ledger, decideOpenAccount(openCommand(ACCOUNT_IDS[tick] as string, spec), clock(tick)));
        });
        steps.forEach((step, index) => {
          const before = snapshot(ledger);
          const outcome = run(ledger, step, prelude.length + index);

          if (typeof outcome === 'string' || outcome.kind !== 'recorded') {
            // (d) a refused (or no-op) command changes nothing: the very same (deep-frozen, so untouched)
            // states, and not one event more in any stream.
            assert.equal(ledger.states.size, before.states.size, 'no account opened');
            for (const [id, state] of before.states) {
              if (ledger.states.get(id) !== state) expect(ledger.states.get(id), id).toStrictEqual(state);
              assert.equal(ledger.streams.get(id)?.length, before.streams.get(id)?.length, `${id}'s stream grew`);
            }
          } else {
            // A recorded event lands in the stream of each account it names, and only there.
            const named = new Set(accountsNamedBy(outcome.event));
            for (const [id, stream] of ledger.streams) {
              const grown = stream.length - (before.streams.get(id)?.length ?? 0);
              assert.equal(grown, named.has(id) ? 1 : 0, `${outcome.event.type} in ${id}'s stream`);
            }
          }
          checkInvariants(ledger);

          see(label(outcome));
          if (typeof outcome !== 'string' && outcome.kind === 'recorded' && outcome.event.type === 'TransferPosted') {
            if (BigInt(outcome.event.data.amount) > AMOUNT_MAX - 1000n) see('huge posting');
          }
        });
        for (const account of ledger.states.values()) {
          if (account.debitsPosted > AMOUNT_MAX || account.creditsPosted > AMOUNT_MAX) see('total beyond 2^127 − 1');
          if (account.flags.debitsMustNotExceedCredits && account.debitsPosted > 0n) see('debited bounded account');
          if (account.flags.creditsMustNotExceedDebits && account.creditsPosted > 0n) see('credited bounded account');
        }
      }),
      { seed: SEED, numRuns: NUM_RUNS },
    );

    // Every kind of outcome must have come up, or the generators have drifted and the property proves little.
    if (process.env.LEDGER_PROPERTY_STATS) console.log(show([...seen]));
    for (const label of OUTCOMES_TO_SEE) {
      expect(seen.get(label) ?? 0, `outcome "${label}" never came up: ${show([...seen])}`).toBeGreaterThan(0);
    }
  });
});
