import { describe, expect, it } from 'vitest';
import { balanceOf, evolveAccount, openedAccount } from './account';
import {
  EARLIER,
  NOW,
  OPENED_AT,
  closed,
  credited,
  debited,
  frozen,
  given,
  opened,
  posted,
  postTransfer,
  unfrozen,
} from '../../test/domain-support/given';
import { AMOUNT_MAX } from './money';
import { decideTransfer } from './transfer';

const payer = 'payer';
const payee = 'payee';
const accounts = [opened(payer), opened(payee)];

describe('posting a transfer', () => {
  // `then` compares strictly: no `code: undefined` or `reference: undefined` keys in the stored event.
  it('records TransferPosted with effectiveAt defaulting to recordedAt', () => {
    given(accounts)
      .when(postTransfer({ debit: payer, credit: payee, amount: 1050n }), NOW)
      .then(posted({ debit: payer, credit: payee, amount: 1050n, effectiveAt: NOW }));
  });

  it('carries transfer id, code, reference and metadata through', () => {
    const transfer = {
      debit: payer,
      credit: payee,
      amount: 5n,
      transferId: 'tr-42',
      code: 'fee',
      reference: 'invoice 7',
      metadata: { channel: 'web' },
    };
    given(accounts)
      .when(postTransfer(transfer))
      .then(posted({ ...transfer, effectiveAt: NOW }));
  });

  it('keeps a backdated effectiveAt', () => {
    given(accounts)
      .when(postTransfer({ debit: payer, credit: payee, amount: 5n, effectiveAt: EARLIER }), NOW)
      .then(posted({ debit: payer, credit: payee, amount: 5n, effectiveAt: EARLIER }));
  });

  it('debits one account and credits the other by the same amount', () => {
    const history = [...accounts, credited(payer, 100n)];
    const after = given(history)
      .when(postTransfer({ debit: payer, credit: payee, amount: 40n }))
      .then(posted({ debit: payer, credit: payee, amount: 40n, effectiveAt: NOW }));
    const before = given(history);
    expect(after.account(payer)).toStrictEqual({
      ...before.account(payer),
      debitsPosted: before.account(payer).debitsPosted + 40n,
      version: before.account(payer).version + 1,
    });
    expect(after.account(payee)).toStrictEqual({
      ...before.account(payee),
      creditsPosted: before.account(payee).creditsPosted + 40n,
      version: before.account(payee).version + 1,
    });
  });

  it('lets an unconstrained account go below zero', () => {
    const after = given(accounts)
      .when(postTransfer({ debit: payer, credit: payee, amount: 7n }))
      .then(posted({ debit: payer, credit: payee, amount: 7n, effectiveAt: NOW }));
    expect(balanceOf(after.account(payer))).toBe(-7n);
    expect(balanceOf(after.account(payee))).toBe(7n);
  });
});

describe('same-account', () => {
  it('refuses a transfer that debits and credits one account', () => {
    given(accounts)
      .when(postTransfer({ debit: payer, credit: payer, amount: 1n }))
      .thenFails('same-account');
  });
});

describe('account-not-open', () => {
  it.each([
    ['frozen debit account', [...accounts, frozen(payer)], payer],
    ['frozen credit account', [...accounts, frozen(payee)], payee],
    ['closed debit account', [...accounts, closed(payer)], payer],
    ['closed credit account', [...accounts, closed(payee)], payee],
    ['closed after being frozen', [...accounts, frozen(payee), closed(payee)], payee],
  ])('refuses a transfer with a %s', (_name, history, culprit) => {
    const error = given(history)
      .when(postTransfer({ debit: payer, credit: payee, amount: 1n }))
      .thenFails('account-not-open');
    expect(error.detail).toContain(culprit);
  });

  it('takes postings again once unfrozen', () => {
    given([...accounts, frozen(payer), unfrozen(payer), frozen(payee), unfrozen(payee)])
      .when(postTransfer({ debit: payer, credit: payee, amount: 1n }))
      .then(posted({ debit: payer, credit: payee, amount: 1n, effectiveAt: NOW }));
  });
});

describe('currency-mismatch', () => {
  it.each([
    ['debit', [opened(payer, { currency: 'EUR' }), opened(payee)], payer],
    ['credit', [opened(payer), opened(payee, { currency: 'EUR' })], payee],
    ['both', [opened(payer, { currency: 'EUR' }), opened(payee, { currency: 'EUR' })], payer],
  ])('refuses a USD transfer when the %s side is in EUR', (_side, history, culprit) => {
    const error = given(history)
      .when(postTransfer({ debit: payer, credit: payee, amount: 1n, currency: 'USD' }))
      .thenFails('currency-mismatch');
    expect(error.detail).toContain(culprit);
  });

  it('posts when both accounts and the transfer share a currency other than the default', () => {
    given([opened(payer, { currency: 'POINTS' }), opened(payee, { currency: 'POINTS' })])
      .when(postTransfer({ debit: payer, credit: payee, amount: 3n, currency: 'POINTS' }))
      .then(posted({ debit: payer, credit: payee, amount: 3n, currency: 'POINTS', effectiveAt: NOW }));
  });
});

describe('effective-time-out-of-range', () => {
  const lateOpened = '2025-04-01T00:00:00.000Z';
  const justBefore = '2025-03-31T23:59:59.999Z';

  it('refuses an effectiveAt in the future, by one millisecond', () => {
    given(accounts)
      .when(postTransfer({ debit: payer, credit: payee, amount: 1n, effectiveAt: '2025-06-30T12:00:00.001Z' }), NOW)
      .thenFails('effective-time-out-of-range');
  });

  it('accepts an effectiveAt equal to recordedAt', () => {
    given(accounts)
      .when(postTransfer({ debit: payer, credit: payee, amount: 1n, effectiveAt: NOW }), NOW)
      .then(posted({ debit: payer, credit: payee, amount: 1n, effectiveAt: NOW }));
  });

  it.each([
    ['debit', [opened(payer, { openedAt: lateOpened }), opened(payee)], payer],
    ['credit', [opened(payer), opened(payee, { openedAt: lateOpened })], payee],
  ])('refuses an effectiveAt before the %s account was opened', (_side, history, culprit) => {
    const error = given(history)
      .when(postTransfer({ debit: payer, credit: payee, amount: 1n, effectiveAt: justBefore }), NOW)
      .thenFails('effective-time-out-of-range');
    expect(error.detail).toContain(culprit);
  });

  it('accepts an effectiveAt equal to the later openedAt', () => {
    given([opened(payer), opened(payee, { openedAt: lateOpened })])
      .when(postTransfer({ debit: payer, credit: payee, amount: 1n, effectiveAt: lateOpened }), NOW)
      .then(posted({ debit: payer, credit: payee, amount: 1n, effectiveAt: lateOpened }));
  });

  it('holds the default (recordedAt) to the same rule: a clock behind an openedAt is refused', () => {
    given([opened(payer), opened(payee, { openedAt: lateOpened })])
      .when(postTransfer({ debit: payer, credit: payee, amount: 1n }), justBefore)
      .thenFails('effective-time-out-of-range');
    given([opened(payer), opened(payee, { openedAt: lateOpened })])
      .when(postTransfer({ debit: payer, credit: payee, amount: 1n }), lateOpened)
      .then(posted({ debit: payer, credit: payee, amount: 1n, effectiveAt: lateOpened }));
  });

  it('uses OPENED_AT and EARLIER in the order the fixtures assume', () => {
    expect(OPENED_AT < EARLIER && EARLIER < justBefore && lateOpened < NOW).toBe(true);
  });
});

describe('insufficient-funds', () => {
  describe('debitsMustNotExceedCredits on the debit account', () => {
    const wallet = [
      opened(payer, { flags: { debitsMustNotExceedCredits: true } }),
      opened(payee),
      credited(payer, 100n),
      debited(payer, 30n),
    ];

    it('posts when debits + amount == credits, exactly', () => {
      const after = given(wallet)
        .when(postTransfer({ debit: payer, credit: payee, amount: 70n }))
        .then(posted({ debit: payer, credit: payee, amount: 70n, effectiveAt: NOW }));
      expect(balanceOf(after.account(payer))).toBe(0n);
    });

    it('refuses one minor unit more', () => {
      const error = given(wallet)
        .when(postTransfer({ debit: payer, credit: payee, amount: 71n }))
        .thenFails('insufficient-funds');
      expect(error.detail).toContain(payer);
    });

    it('refuses any debit of an empty account', () => {
      given([opened(payer, { flags: { debitsMustNotExceedCredits: true } }), opened(payee)])
        .when(postTransfer({ debit: payer, credit: payee, amount: 1n }))
        .thenFails('insufficient-funds');
    });

    it('does not limit credits to that account', () => {
      given([opened(payer), opened(payee, { flags: { debitsMustNotExceedCredits: true } })])
        .when(postTransfer({ debit: payer, credit: payee, amount: AMOUNT_MAX }))
        .then(posted({ debit: payer, credit: payee, amount: AMOUNT_MAX, effectiveAt: NOW }));
    });
  });

  describe('creditsMustNotExceedDebits on the credit account', () => {
    const limit = [
      opened(payer),
      opened(payee, { normalSide: 'debit', flags: { creditsMustNotExceedDebits: true } }),
      debited(payee, 100n),
      credited(payee, 30n),
    ];

    it('posts when credits + amount == debits, exactly', () => {
      const after = given(limit)
        .when(postTransfer({ debit: payer, credit: payee, amount: 70n }))
        .then(posted({ debit: payer, credit: payee, amount: 70n, effectiveAt: NOW }));
      expect(balanceOf(after.account(payee))).toBe(0n);
    });

    it('refuses one minor unit more', () => {
      const error = given(limit)
        .when(postTransfer({ debit: payer, credit: payee, amount: 71n }))
        .thenFails('insufficient-funds');
      expect(error.detail).toContain(payee);
    });

    it('does not limit debits to that account', () => {
      given([opened(payer, { flags: { creditsMustNotExceedDebits: true } }), opened(payee)])
        .when(postTransfer({ debit: payer, credit: payee, amount: AMOUNT_MAX }))
        .then(posted({ debit: payer, credit: payee, amount: AMOUNT_MAX, effectiveAt: NOW }));
    });
  });

  it('checks both sides: a funded debit account does not carry a full credit account', () => {
    given([
      opened(payer, { flags: { debitsMustNotExceedCredits: true } }),
      opened(payee, { flags: { creditsMustNotExceedDebits: true } }),
      credited(payer, 100n),
    ])
      .when(postTransfer({ debit: payer, credit: payee, amount: 1n }))
      .thenFails('insufficient-funds');
  });
});

describe('money stays exact up to 2^127 − 1', () => {
  const maxText = '170141183460469231731687303715884105727';

  it('carries AMOUNT_MAX from command (bigint) to event (decimal string) to state (bigint)', () => {
    const after = given(accounts)
      .when(postTransfer({ debit: payer, credit: payee, amount: AMOUNT_MAX }))
      .then(posted({ debit: payer, credit: payee, amount: AMOUNT_MAX, effectiveAt: NOW }));
    const event = decideTransfer(
      postTransfer({ debit: payer, credit: payee, amount: AMOUNT_MAX }),
      openedAccount(opened(payer)),
      openedAccount(opened(payee)),
      NOW,
    );
    expect(event).toMatchObject({ type: 'TransferPosted', data: { amount: maxText } });
    expect(after.account(payer).debitsPosted).toBe(AMOUNT_MAX);
    expect(after.account(payee).creditsPosted).toBe(AMOUNT_MAX);
  });

  it('checks a constraint exactly at that size: AMOUNT_MAX of credits covers AMOUNT_MAX, not one more', () => {
    const full = [
      opened(payer, { flags: { debitsMustNotExceedCredits: true } }),
      opened(payee),
      credited(payer, AMOUNT_MAX),
    ];
    given(full)
      .when(postTransfer({ debit: payer, credit: payee, amount: AMOUNT_MAX }))
      .then(posted({ debit: payer, credit: payee, amount: AMOUNT_MAX, effectiveAt: NOW }));
    given([...full, debited(payer, 1n)])
      .when(postTransfer({ debit: payer, credit: payee, amount: AMOUNT_MAX }))
      .thenFails('insufficient-funds');
    given([...full, debited(payer, AMOUNT_MAX)])
      .when(postTransfer({ debit: payer, credit: payee, amount: 1n }))
      .thenFails('insufficient-funds');
  });

  it('adds two maximal postings without losing a unit (beyond any JS number)', () => {
    const payeeState = [posted({ debit: payer, credit: payee, amount: AMOUNT_MAX })].reduce(
      evolveAccount,
      openedAccount(opened(payee)),
    );
    const twice = evolveAccount(payeeState, posted({ debit: payer, credit: payee, amount: AMOUNT_MAX }));
    expect(twice.creditsPosted).toBe(2n * AMOUNT_MAX);
    expect(twice.creditsPosted.toString()).toBe('340282366920938463463374607431768211454');
  });
});

describe('an amount outside 1 … 2^127 − 1 is a bug in the caller, not a refusal', () => {
  it.each([
    ['zero', 0n],
    ['negative', -1n],
    ['2^127', AMOUNT_MAX + 1n],
  ])('crashes for %s', (_name, amount) => {
    given(accounts)
      .when(postTransfer({ debit: payer, credit: payee, amount }))
      .thenCrashes(/^money invariant violated: amount .* out of range$/);
  });

  it('crashes before looking at anything else', () => {
    given([...accounts, frozen(payer)])
      .when(postTransfer({ debit: payer, credit: payer, amount: 0n }))
      .thenCrashes(/money invariant violated/);
  });
});
