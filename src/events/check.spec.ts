import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { EVENT_SAMPLES } from '../../test/support/event-samples';
import { compileCheck } from './check';
import { EVENT_CATALOGUE, PUBLISHED_EVENT_TYPES } from './event-schemas';

type Json = unknown;

/** Every path to a value inside `value` (objects and arrays), the root excluded. */
function paths(value: Json, prefix: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) return value.flatMap((v, i) => [[...prefix, i], ...paths(v, [...prefix, i])]);
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => [[...prefix, k], ...paths(v, [...prefix, k])]);
  }
  return [];
}

/** A deep copy of `value` with the value at `path` replaced (or removed, for `remove`). */
function replaced(value: Json, path: readonly (string | number)[], replacement: Json | typeof remove): Json {
  if (path.length === 0) return replacement;
  const [head, ...rest] = path;
  const copy = (Array.isArray(value) ? [...value] : { ...(value as object) }) as Record<string | number, Json>;
  const next = replaced(copy[head!], rest, replacement);
  if (next === remove) delete copy[head!];
  else copy[head!] = next;
  return copy;
}
const remove = Symbol('remove');

/** Values that sit at or just across the edges of what the event schemas accept. */
const EDGES: Json[] = [
  undefined,
  null,
  0,
  1,
  -1,
  1.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  '',
  ' ',
  'x',
  '0',
  '1050',
  '01',
  '-5',
  'USD',
  'usd',
  'debit',
  'credit',
  'allow',
  'review',
  'fraud',
  'legitimate',
  '2026-01-31T23:59:59.999Z',
  '2026-01-31T23:59:59Z',
  'a'.repeat(64),
  'a'.repeat(129),
  'bad id!',
  true,
  false,
  [],
  [1],
  ['x'],
  {},
  { k: 'v' },
  { k: 1 },
];

const agree = (schema: z.ZodType, value: Json) => {
  expect(compileCheck(schema)(value), JSON.stringify(value)).toBe(schema.safeParse(value).success);
};

describe('compileCheck: the decoders check says what zod says', () => {
  it.each(PUBLISHED_EVENT_TYPES)('%s: the sample passes, every edge value at every path agrees with zod', (type) => {
    const schema = EVENT_CATALOGUE[type].data;
    const sample = EVENT_SAMPLES[type].data;
    expect(compileCheck(schema)(sample)).toBe(true);
    agree(schema, { ...sample, extra: 'field' }); // accepted by both: consumers allow fields added later
    for (const value of [null, undefined, [], 'x', 1]) agree(schema, value);
    let disagreements = 0;
    for (const path of paths(sample)) {
      agree(schema, replaced(sample, path, remove));
      for (const edge of EDGES) {
        const value = replaced(sample, path, edge);
        if (compileCheck(schema)(value) !== schema.safeParse(value).success) disagreements++;
        agree(schema, value);
      }
    }
    expect(disagreements).toBe(0);
  });

  it('agrees with zod on arbitrary values at arbitrary paths', () => {
    const checks = new Map(PUBLISHED_EVENT_TYPES.map((t) => [t, compileCheck(EVENT_CATALOGUE[t].data)]));
    fc.assert(
      fc.property(
        fc.constantFrom(...PUBLISHED_EVENT_TYPES),
        fc.nat(),
        fc.oneof(fc.jsonValue(), fc.anything()),
        (type, at, value) => {
          const sample = EVENT_SAMPLES[type].data;
          const all = paths(sample);
          const mutated = replaced(sample, all[at % all.length]!, value);
          expect(checks.get(type)!(mutated)).toBe(EVENT_CATALOGUE[type].data.safeParse(mutated).success);
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('holds the kinds it knows to zod: bounds, patterns, enums, literals, arrays, records', () => {
    const schema = z.object({
      gt: z.number().gt(0).optional(),
      lte: z.number().max(1).optional(),
      pattern: z.string().regex(/^a+$/g).optional(),
      literal: z.literal('x').optional(),
      list: z.array(z.boolean()).optional(),
      record: z.record(z.string(), z.number()).optional(),
    });
    for (const value of [
      { gt: 0 },
      { gt: 0.1 },
      { lte: 1 },
      { lte: 1.01 },
      { pattern: 'aa' },
      { pattern: 'aa' }, // a /g pattern carries lastIndex between tests: both must pass
      { pattern: 'ab' },
      { literal: 'x' },
      { literal: 'y' },
      { list: [true, false] },
      { list: [true, 1] },
      { record: { a: 1 } },
      { record: { a: '1' } },
      { record: [] },
    ]) {
      agree(schema, value);
    }
  });

  it('refuses, at compile time, a kind it does not know rather than accept too much', () => {
    expect(() => compileCheck(z.object({ id: z.uuid() }))).toThrow(/not supported/);
    expect(() => compileCheck(z.string().min(3))).toThrow(/min_length/);
    expect(() => compileCheck(z.strictObject({ a: z.string() }))).toThrow(/catchall/);
    expect(() => compileCheck(z.union([z.string(), z.number()]))).toThrow(/not supported/);
  });
});
