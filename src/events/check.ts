import { z } from 'zod';

/**
 * A zod schema turned, once, into a plain predicate that says what `schema.safeParse(value).success`
 * would say, without zod's parse: no copy of the value, no issue list. Readers decode every event
 * they read (the projector and the relay, the whole log), so this is on their hot path; zod itself
 * is kept for the explanation when a value fails (see decode.ts) and for the published JSON Schemas.
 *
 * It knows the kinds the event schemas use (objects, strings with patterns, numbers with bounds,
 * booleans, enums, literals, optionals, string-keyed records, arrays) and throws when it meets
 * another, so a schema it cannot check fails at start, never by accepting too much.
 * src/events/check.spec.ts holds it to zod's answer.
 */
export type Check = (value: unknown) => boolean;

/** A predicate that narrows: true only for what the schema accepts. */
export type Guard<T> = (value: unknown) => value is T;

export function guardOf<S extends z.ZodType>(schema: S): Guard<z.output<S>> {
  const check = compileCheck(schema);
  return (value: unknown): value is z.output<S> => check(value);
}

export function compileCheck(schema: z.core.$ZodType): Check {
  if (schema instanceof z.ZodObject) {
    if (schema.def.catchall !== undefined) unsupported(schema, 'an object with a catchall (strict or loose)');
    const keys = Object.keys(schema.shape);
    const checks = Object.values(schema.shape).map((field) => compileCheck(field));
    return (value) => {
      if (!isObject(value)) return false;
      for (let i = 0; i < keys.length; i++) if (!checks[i]!(value[keys[i]!])) return false;
      return true;
    };
  }
  if (schema instanceof z.ZodString) {
    const patterns = (schema.def.checks ?? []).map((check) => {
      if (check instanceof z.core.$ZodCheckRegex) return check._zod.def.pattern;
      return unsupported(schema, `the string check ${check._zod.def.check}`);
    });
    const [only] = patterns;
    if (patterns.length === 0) return (value) => typeof value === 'string';
    if (patterns.length === 1 && !only!.global && !only!.sticky) {
      return (value) => typeof value === 'string' && only!.test(value);
    }
    return (value) => typeof value === 'string' && patterns.every((pattern) => matches(pattern, value));
  }
  if (schema instanceof z.ZodNumber) {
    const bounds = (schema.def.checks ?? []).map((check): Check => {
      if (check instanceof z.core.$ZodCheckGreaterThan) {
        const min = Number(check._zod.def.value);
        return check._zod.def.inclusive ? (n) => Number(n) >= min : (n) => Number(n) > min;
      }
      if (check instanceof z.core.$ZodCheckLessThan) {
        const max = Number(check._zod.def.value);
        return check._zod.def.inclusive ? (n) => Number(n) <= max : (n) => Number(n) < max;
      }
      return unsupported(schema, `the number check ${check._zod.def.check}`);
    });
    // zod refuses NaN and ±Infinity for z.number().
    return (value) => {
      if (typeof value !== 'number' || !Number.isFinite(value)) return false;
      for (let i = 0; i < bounds.length; i++) if (!bounds[i]!(value)) return false;
      return true;
    };
  }
  if (schema instanceof z.ZodBoolean) return (value) => typeof value === 'boolean';
  if (schema instanceof z.ZodEnum || schema instanceof z.ZodLiteral) {
    const allowed: ReadonlySet<unknown> = new Set(schema instanceof z.ZodEnum ? schema.options : schema.values);
    return (value) => allowed.has(value);
  }
  if (schema instanceof z.ZodOptional) {
    const inner = compileCheck(schema.unwrap());
    return (value) => value === undefined || inner(value);
  }
  if (schema instanceof z.ZodRecord) {
    const key = schema.def.keyType;
    if (!(key instanceof z.ZodString) || (key.def.checks ?? []).length > 0) {
      unsupported(schema, 'a record whose keys are not plain strings');
    }
    const entry = compileCheck(schema.def.valueType);
    return (value) => {
      if (!isObject(value)) return false;
      for (const name in value) if (Object.hasOwn(value, name) && !entry(value[name])) return false;
      return true;
    };
  }
  if (schema instanceof z.ZodArray) {
    const element = compileCheck(schema.element);
    return (value) => {
      if (!Array.isArray(value)) return false;
      // By index, as zod reads it: `every` would pass over the holes of a sparse array.
      for (let i = 0; i < value.length; i++) if (!element(value[i])) return false;
      return true;
    };
  }
  return unsupported(schema, 'this kind of schema');
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function matches(pattern: RegExp, value: string): boolean {
  pattern.lastIndex = 0; // as zod does: a /g or /y pattern must not carry state from the last value
  return pattern.test(value);
}

function unsupported(schema: z.core.$ZodType, what: string): never {
  throw new Error(
    `compileCheck: ${what} (zod type ${schema._zod.def.type}) is not supported; teach src/events/check.ts`,
  );
}
