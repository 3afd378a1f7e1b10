/** Largest amount of one posting, in minor units: 2^127 − 1 (docs/contract.md, guarantee 8). */
export const AMOUNT_MAX = (1n << 127n) - 1n;

/** A positive amount in minor units: decimal digits, no sign, no leading zero, at most 2^127 − 1. */
export const AMOUNT_PATTERN = /^[1-9][0-9]{0,38}$/;

/** ISO 4217 codes or asset codes such as POINTS: 3–12 of [A-Z0-9_], starting with a letter. */
export const CURRENCY_PATTERN = /^[A-Z][A-Z0-9_]{2,11}$/;

/** Ids of accounts and transfers: 1–128 of [A-Za-z0-9._:-]. */
export const ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** Parses a contract amount string; undefined when it is not one. */
export function parseAmount(text: string): bigint | undefined {
  if (!AMOUNT_PATTERN.test(text)) return undefined;
  const amount = BigInt(text);
  return amount <= AMOUNT_MAX ? amount : undefined;
}

/** A money invariant did not hold for the state a decision or a fold was given. */
export class MoneyInvariantError extends Error {
  constructor(message: string) {
    super(`money invariant violated: ${message}`);
    this.name = 'MoneyInvariantError';
  }
}

/** Crash rather than write wrong money: a violated invariant here is a bug, never user input. */
export function assertMoney(condition: boolean, message: string): asserts condition {
  if (!condition) throw new MoneyInvariantError(message);
}
