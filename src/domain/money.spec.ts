import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AMOUNT_MAX, AMOUNT_PATTERN, CURRENCY_PATTERN, ID_PATTERN, assertMoney, parseAmount } from './money';

const MAX_TEXT = '170141183460469231731687303715884105727'; // 2^127 − 1, 39 digits
const TWO_TO_127 = '170141183460469231731687303715884105728';

describe('AMOUNT_MAX', () => {
  it('is 2^127 − 1', () => {
    expect(AMOUNT_MAX).toBe(2n ** 127n - 1n);
    expect(AMOUNT_MAX.toString()).toBe(MAX_TEXT);
  });
});

describe('parseAmount', () => {
  it.each([
    ['1', 1n],
    ['1050', 1050n],
    ['10', 10n],
    [MAX_TEXT, AMOUNT_MAX],
    ['99999999999999999999999999999999999999', 10n ** 38n - 1n], // 38 digits
  ])('accepts %j', (text, amount) => {
    expect(parseAmount(text)).toBe(amount);
  });

  it.each([
    ['zero', '0'],
    ['a leading zero', '01'],
    ['a run of zeros', '000'],
    ['a minus sign', '-1'],
    ['a plus sign', '+1'],
    ['a decimal point', '1.0'],
    ['a decimal fraction', '0.5'],
    ['exponent notation', '1e3'],
    ['hex', '0x10'],
    ['a leading space', ' 1'],
    ['a trailing space', '1 '],
    ['a trailing newline', '1\n'],
    ['digit group separators', '1_000'],
    ['non-ASCII digits', '١٢'],
    ['the empty string', ''],
    ['2^127', TWO_TO_127],
    ['39 nines', '9'.repeat(39)],
    ['40 digits', `1${'0'.repeat(39)}`],
    ['2^127 − 1 with a leading zero', `0${MAX_TEXT}`],
  ])('refuses %s', (_name, text) => {
    expect(parseAmount(text)).toBeUndefined();
  });

  it('has a pattern that alone bounds the length at 39 digits, for schemas that cannot compare numbers', () => {
    expect(AMOUNT_PATTERN.test('9'.repeat(39))).toBe(true);
    expect(AMOUNT_PATTERN.test(`1${'0'.repeat(39)}`)).toBe(false);
  });

  it('round-trips every amount from 1 to 2^127 − 1 exactly', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: AMOUNT_MAX }), (amount) => parseAmount(amount.toString()) === amount),
      { seed: 20250630, numRuns: 2000 },
    );
  });

  it('refuses every integer above 2^127 − 1 up to 40 digits', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: AMOUNT_MAX + 1n, max: 10n ** 40n - 1n }),
        (amount) => parseAmount(amount.toString()) === undefined,
      ),
      { seed: 20250630, numRuns: 500 },
    );
  });
});

describe('assertMoney', () => {
  it('passes when the invariant holds and crashes loudly when it does not', () => {
    expect(() => assertMoney(true, 'fine')).not.toThrow();
    expect(() => assertMoney(false, 'debits ≠ credits')).toThrow('money invariant violated: debits ≠ credits');
  });
});

describe('CURRENCY_PATTERN', () => {
  it.each(['USD', 'EUR', 'POINTS', 'A12', 'X_Y', 'ABCDEFGHIJKL'])('accepts %j', (code) => {
    expect(CURRENCY_PATTERN.test(code)).toBe(true);
  });
  it.each(['US', 'usd', '1AB', '_AB', 'ABCDEFGHIJKLM', 'US D', 'USD\n', ''])('refuses %j', (code) => {
    expect(CURRENCY_PATTERN.test(code)).toBe(false);
  });
});

describe('ID_PATTERN', () => {
  it.each(['a', 'acc-1', 'A.b_c:d-e', 'x'.repeat(128)])('accepts %j', (id) => {
    expect(ID_PATTERN.test(id)).toBe(true);
  });
  it.each(['', 'x'.repeat(129), 'a b', 'a/b', 'ä', 'a\n'])('refuses %j', (id) => {
    expect(ID_PATTERN.test(id)).toBe(false);
  });
});
