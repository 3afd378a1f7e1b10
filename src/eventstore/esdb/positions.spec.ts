import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodePosition, encodePosition } from './positions';

const U64_MAX = (1n << 64n) - 1n;
const u64 = fc.bigInt({ min: 0n, max: U64_MAX });
const position = fc.record({ commit: u64, prepare: u64 });

describe('$all positions packed into one bigint', () => {
  it('round-trip, commit and prepare alike, up to 2^64 - 1 each', () => {
    fc.assert(
      fc.property(position, (p) => {
        expect(decodePosition(encodePosition(p))).toEqual(p);
      }),
    );
    for (const p of [
      { commit: 0n, prepare: 0n },
      { commit: U64_MAX, prepare: U64_MAX },
      { commit: 1n, prepare: 0n },
    ]) {
      expect(decodePosition(encodePosition(p))).toEqual(p);
    }
  });

  it('keep the order of $all: by commit, then by prepare', () => {
    const compare = (a: { commit: bigint; prepare: bigint }, b: { commit: bigint; prepare: bigint }) =>
      a.commit === b.commit ? Math.sign(Number(a.prepare - b.prepare)) : a.commit < b.commit ? -1 : 1;
    fc.assert(
      fc.property(position, position, (a, b) => {
        const [x, y] = [encodePosition(a), encodePosition(b)];
        expect(x === y ? 0 : x < y ? -1 : 1).toBe(compare(a, b));
      }),
    );
    // A later commit beats any prepare of an earlier one.
    expect(encodePosition({ commit: 2n, prepare: 0n })).toBeGreaterThan(
      encodePosition({ commit: 1n, prepare: U64_MAX }),
    );
  });

  it('are decimal strings at the edges, exact beyond 2^53', () => {
    const p = { commit: 9_007_199_254_740_993n, prepare: 9_007_199_254_740_995n };
    const text = encodePosition(p).toString();
    expect(text).toMatch(/^[1-9]\d*$/);
    expect(decodePosition(BigInt(text))).toEqual(p);
  });

  it('refuse what is not a position', () => {
    expect(() => encodePosition({ commit: -1n, prepare: 0n })).toThrow(RangeError);
    expect(() => encodePosition({ commit: 0n, prepare: U64_MAX + 1n })).toThrow(RangeError);
    expect(() => decodePosition(-1n)).toThrow(RangeError);
    expect(() => decodePosition(1n << 128n)).toThrow(RangeError);
  });
});
