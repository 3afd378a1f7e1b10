import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/eventstore/hash-chain';

/** The definition canonicalJson had before it was written for speed: the chain's bytes must not move. */
function reference(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((item) => reference(item ?? null)).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record)
    .filter((key) => record[key] !== undefined)
    .sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${reference(record[key])}`).join(',')}}`;
}

const text = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.string({ unit: 'grapheme' }),
  fc.constantFrom('', '"', '\\', '\n', '\u0000', '\u001f', '\u007f', '\u2028', '\ud800', 'a\udc00b', '😀', 'é'),
);
const value = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: 'small' },
    text,
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.array(tie('node')),
    fc.dictionary(text, tie('node')),
  ),
})).node;

describe('canonicalJson', () => {
  it('writes what the reference definition writes, for any JSON value with undefined members', () => {
    fc.assert(
      fc.property(fc.dictionary(text, value), (data) => {
        expect(canonicalJson(data)).toBe(reference(data));
      }),
      { numRuns: 2000 },
    );
  });

  it('sorts keys by UTF-16 code unit and leaves undefined members out', () => {
    expect(canonicalJson({ b: 1, a: undefined, B: [undefined, 'x"y'], é: {}, '😀': null })).toBe(
      '{"B":[null,"x\\"y"],"b":1,"é":{},"😀":null}',
    );
  });
});
