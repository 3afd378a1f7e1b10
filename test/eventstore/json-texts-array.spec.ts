import fc from 'fast-check';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/eventstore/hash-chain';
import { jsonTextsArray } from '../../src/eventstore/postgres-event-store';

/** pg's own serialisation of a parameter (what a text[] parameter was sent as before). */
const { prepareValue } = createRequire(__filename)('pg/lib/utils') as { prepareValue: (v: unknown) => string };

const text = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.constantFrom('"', '\\', '\\"', '\n', '\u0000', '\u001f', '\u2028', '\ud800', 'a\udc00b', '😀', '{}', 'NULL', ' '),
);
const value = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: 'small' },
    text,
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('node')),
    fc.dictionary(text, tie('node')),
  ),
})).node;

describe('jsonTextsArray: the text[] literal of JSON texts', () => {
  it('is what pg writes for the same array, for canonical JSON and JSON.stringify texts', () => {
    fc.assert(
      fc.property(
        fc.array(fc.dictionary(text, value), { maxLength: 8 }),
        fc.array(text, { maxLength: 8 }),
        (objects, strings) => {
          const texts = objects.map((o) => canonicalJson(o));
          expect(jsonTextsArray(texts)).toBe(prepareValue(texts));
          const quoted = strings.map((s) => JSON.stringify(s));
          expect(jsonTextsArray(quoted)).toBe(prepareValue(quoted));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('writes an empty array as {}', () => {
    expect(jsonTextsArray([])).toBe('{}');
  });
});
