/**
 * The given/when/then helper fails where it should: a helper that passes everything would make every
 * spec built on it pass too.
 */
import { describe, expect, it } from 'vitest';
import { closed, credited, freeze, frozen, given, opened, posted, postTransfer } from '../../test/domain-support/given';

const a = 'acc-a';
const b = 'acc-b';

describe('given / when / then', () => {
  it('then: fails on other events, on a refusal and on nothing', () => {
    expect(() =>
      given([opened(a)])
        .when(freeze(a))
        .then(closed(a)),
    ).toThrow(/strictly deep-equal/);
    expect(() =>
      given([opened(a)])
        .when(freeze(a))
        .then(),
    ).toThrow();
    expect(() =>
      given([opened(a), closed(a)])
        .when(freeze(a))
        .then(frozen(a)),
    ).toThrow(/got refusal account-not-open/);
    expect(() =>
      given([opened(a), frozen(a)])
        .when(freeze(a))
        .then(frozen(a)),
    ).toThrow(/got nothing/);
  });

  it('thenFails: fails on another slug and on success', () => {
    const history = [opened(a, { flags: { debitsMustNotExceedCredits: true } }), opened(b), credited(a, 5n)];
    const overdraw = given(history).when(postTransfer({ debit: a, credit: b, amount: 6n }));
    expect(() => overdraw.thenFails('same-account')).toThrow(/insufficient-funds/);
    const fine = given(history).when(postTransfer({ debit: a, credit: b, amount: 5n }));
    expect(() => fine.thenFails('insufficient-funds')).toThrow(/got events/);
  });

  it('thenNothing: fails on an event', () => {
    expect(() =>
      given([opened(a)])
        .when(freeze(a))
        .thenNothing(),
    ).toThrow(/got events/);
  });

  it('thenCrashes: fails when nothing is thrown or the message differs; other then… rethrow a crash', () => {
    const accounts = [opened(a), opened(b)];
    const fine = given(accounts).when(postTransfer({ debit: a, credit: b, amount: 1n }));
    expect(() => fine.thenCrashes(/./)).toThrow(/got events/);
    const zero = given(accounts).when(postTransfer({ debit: a, credit: b, amount: 0n }));
    expect(() => zero.thenCrashes(/overdraft/)).toThrow(/did not match/);
    expect(() => zero.thenFails('insufficient-funds')).toThrow(/money invariant violated/);
  });

  it('given: folds a transfer into every opened account it names, and refuses a history that names none', () => {
    const both = given([opened(a), opened(b), posted({ debit: a, credit: b, amount: 3n })]);
    expect(both.account(a).debitsPosted).toBe(3n);
    expect(both.account(b).creditsPosted).toBe(3n);
    expect(() => given([opened(a), credited(b, 1n)])).toThrow(/names no opened account/);
    expect(() => given([opened(a), opened(a)])).toThrow(/opened twice/);
  });

  it('when: hands decide states it cannot change', () => {
    expect(Object.isFrozen(given([opened(a)]).account(a).flags)).toBe(true);
  });
});
