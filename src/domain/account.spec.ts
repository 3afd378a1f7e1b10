import { describe, expect, it } from 'vitest';
import { type Account, balanceOf, decideOpenAccount, evolveAccount, openedAccount, replayAccount } from './account';
import type { LedgerEvent } from './events';
import {
  NOW,
  OPENED_AT,
  close,
  closed,
  credited,
  debited,
  freeze,
  frozen,
  given,
  openAccount,
  opened,
  posted,
  postTransfer,
  unfreeze,
  unfrozen,
} from '../../test/domain-support/given';
import { AMOUNT_MAX } from './money';

const a = 'acc-a';
const b = 'acc-b';

describe('opening an account', () => {
  it('records AccountOpened with what was asked and the clock as openedAt', () => {
    given([])
      .when(
        openAccount(a, {
          currency: 'POINTS',
          normalSide: 'debit',
          flags: { creditsMustNotExceedDebits: true },
          code: 'loyalty',
          metadata: { owner: 'o-1' },
        }),
        '2025-05-05T05:05:05.005Z',
      )
      .then(
        opened(a, {
          currency: 'POINTS',
          normalSide: 'debit',
          flags: { creditsMustNotExceedDebits: true },
          code: 'loyalty',
          metadata: { owner: 'o-1' },
          openedAt: '2025-05-05T05:05:05.005Z',
        }),
      );
  });

  it('leaves code out of the event and the account when the command has none (no `code: undefined`)', () => {
    const event = decideOpenAccount(openAccount(a), NOW);
    expect(Object.keys(event.data)).not.toContain('code');
    expect(Object.keys(openedAccount(event))).not.toContain('code');
  });

  it('starts open, empty, at version 1, with the event’s currency, side, flags, code and metadata', () => {
    const account = openedAccount(
      opened(a, {
        currency: 'EUR',
        normalSide: 'debit',
        flags: { debitsMustNotExceedCredits: true },
        code: 'cash',
        metadata: { k: 'v' },
        openedAt: OPENED_AT,
      }),
    );
    expect(account).toStrictEqual<Account>({
      id: a,
      currency: 'EUR',
      normalSide: 'debit',
      flags: { debitsMustNotExceedCredits: true, creditsMustNotExceedDebits: false },
      status: 'open',
      debitsPosted: 0n,
      creditsPosted: 0n,
      debitsPending: 0n,
      creditsPending: 0n,
      version: 1,
      openedAt: OPENED_AT,
      code: 'cash',
      metadata: { k: 'v' },
    });
  });

  it('cannot happen twice in one stream', () => {
    expect(() => evolveAccount(openedAccount(opened(a)), opened(a))).toThrow(/opened twice/);
    expect(() => replayAccount([opened(a), opened(a)])).toThrow(/opened twice/);
  });
});

describe('freeze, unfreeze, close', () => {
  const history = {
    open: [opened(a)],
    frozen: [opened(a), frozen(a)],
    closed: [opened(a), closed(a)],
  } as const;

  // Every status × every command: the event it records, null when the account already is as asked,
  // or the refusal. Closed is final.
  it.each([
    ['open', 'FreezeAccount', frozen(a, 'why')],
    ['open', 'UnfreezeAccount', null],
    ['open', 'CloseAccount', closed(a, 'why')],
    ['frozen', 'FreezeAccount', null],
    ['frozen', 'UnfreezeAccount', unfrozen(a, 'why')],
    ['frozen', 'CloseAccount', closed(a, 'why')],
    ['closed', 'FreezeAccount', 'account-not-open'],
    ['closed', 'UnfreezeAccount', 'account-not-open'],
    ['closed', 'CloseAccount', null],
  ] as const)('%s account, %s → %j', (status, commandType, expected) => {
    const when = given(history[status]).when({ type: commandType, accountId: a, reason: 'why' });
    if (expected === null) when.thenNothing();
    else if (expected === 'account-not-open') expect(when.thenFails('account-not-open').detail).toContain(a);
    else when.then(expected);
  });

  it('moves the status and counts one more version per recorded change', () => {
    const afterFreeze = given([opened(a)])
      .when(freeze(a))
      .then(frozen(a))
      .account(a);
    expect(afterFreeze).toMatchObject({ status: 'frozen', version: 2 });

    const afterUnfreeze = given([opened(a), frozen(a)])
      .when(unfreeze(a))
      .then(unfrozen(a))
      .account(a);
    expect(afterUnfreeze).toMatchObject({ status: 'open', version: 3 });

    const afterClose = given([opened(a), frozen(a)])
      .when(close(a))
      .then(closed(a))
      .account(a);
    expect(afterClose).toMatchObject({ status: 'closed', version: 3 });
  });

  it('keeps everything but status and version as it was', () => {
    const before = given([opened(a, { code: 'c', metadata: { m: '1' } }), credited(a, 7n), debited(a, 3n)]).account(a);
    const after = given([opened(a, { code: 'c', metadata: { m: '1' } }), credited(a, 7n), debited(a, 3n)])
      .when(freeze(a))
      .then(frozen(a))
      .account(a);
    expect(after).toStrictEqual({ ...before, status: 'frozen', version: before.version + 1 });
  });

  it('keeps a closed account closed, whatever is asked of it afterwards', () => {
    const closedAccount = [opened(a), opened(b), frozen(a), unfrozen(a), closed(a)];
    given(closedAccount).when(freeze(a)).thenFails('account-not-open');
    given(closedAccount).when(unfreeze(a)).thenFails('account-not-open');
    given(closedAccount).when(close(a)).thenNothing();
    given(closedAccount)
      .when(postTransfer({ debit: a, credit: b, amount: 1n }))
      .thenFails('account-not-open');
    given(closedAccount)
      .when(postTransfer({ debit: b, credit: a, amount: 1n }))
      .thenFails('account-not-open');
    expect(given(closedAccount).account(a).status).toBe('closed');
  });
});

describe('balanceOf', () => {
  it('is creditsPosted − debitsPosted for a credit-normal account, signed', () => {
    expect(balanceOf(given([opened(a), credited(a, 100n), debited(a, 30n)]).account(a))).toBe(70n);
    expect(balanceOf(given([opened(a), credited(a, 30n), debited(a, 100n)]).account(a))).toBe(-70n);
  });

  it('is debitsPosted − creditsPosted for a debit-normal account, signed', () => {
    const debitNormal = opened(a, { normalSide: 'debit' });
    expect(balanceOf(given([debitNormal, credited(a, 100n), debited(a, 30n)]).account(a))).toBe(-70n);
    expect(balanceOf(given([debitNormal, credited(a, 30n), debited(a, 100n)]).account(a))).toBe(70n);
  });

  it('is zero for a new account and when debits equal credits', () => {
    expect(balanceOf(given([opened(a)]).account(a))).toBe(0n);
    expect(balanceOf(given([opened(a, { normalSide: 'debit' }), credited(a, 5n), debited(a, 5n)]).account(a))).toBe(0n);
  });

  it('stays exact beyond 2^127 − 1 (totals may exceed one posting’s maximum)', () => {
    const account = given([opened(a), credited(a, AMOUNT_MAX), credited(a, AMOUNT_MAX), debited(a, 1n)]).account(a);
    expect(account.creditsPosted).toBe(2n * AMOUNT_MAX);
    expect(balanceOf(account)).toBe(2n * AMOUNT_MAX - 1n);
    expect(balanceOf({ ...account, normalSide: 'debit' })).toBe(1n - 2n * AMOUNT_MAX);
  });
});

describe('evolving an account with a TransferPosted', () => {
  const account = openedAccount(opened(a));

  it('adds the amount to debitsPosted when the account is the debit side', () => {
    const next = evolveAccount(account, posted({ debit: a, credit: b, amount: 12n }));
    expect(next).toStrictEqual({ ...account, debitsPosted: 12n, version: 2 });
  });

  it('adds the amount to creditsPosted when the account is the credit side', () => {
    const next = evolveAccount(account, posted({ debit: b, credit: a, amount: 12n }));
    expect(next).toStrictEqual({ ...account, creditsPosted: 12n, version: 2 });
  });

  it('crashes on a transfer that names the account on neither side', () => {
    expect(() => evolveAccount(account, posted({ debit: b, credit: 'acc-c', amount: 1n }))).toThrow(
      /money invariant violated: .*does not post to acc-a once/,
    );
  });

  it('crashes on a transfer that names the account on both sides', () => {
    expect(() => evolveAccount(account, posted({ debit: a, credit: a, amount: 1n }))).toThrow(
      /money invariant violated: .*does not post to acc-a once/,
    );
  });

  it('crashes on a transfer in another currency', () => {
    expect(() => evolveAccount(account, posted({ debit: a, credit: b, amount: 1n, currency: 'EUR' }))).toThrow(
      /money invariant violated: currency/,
    );
  });
});

describe('replayAccount', () => {
  it('folds a whole stream to the state kept event by event', () => {
    const stream: LedgerEvent[] = [
      opened(a, { normalSide: 'debit' }),
      credited(a, 10n),
      frozen(a),
      unfrozen(a),
      debited(a, 4n),
      closed(a),
    ];
    const incremental = stream.slice(1).reduce(evolveAccount, openedAccount(stream[0] as never));
    expect(replayAccount(stream)).toStrictEqual(incremental);
    expect(replayAccount(stream)).toMatchObject({ status: 'closed', debitsPosted: 4n, creditsPosted: 10n, version: 6 });
  });

  it('has no account for an empty stream or one that does not start with AccountOpened', () => {
    expect(replayAccount([])).toBeUndefined();
    expect(replayAccount([frozen(a), opened(a)])).toBeUndefined();
    expect(replayAccount([credited(a, 1n)])).toBeUndefined();
  });
});
