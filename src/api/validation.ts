import type { z } from 'zod';
import { ProblemException, problem } from './problem';

/** Parses input against a schema, or throws a 400 problem that lists every issue with its path. */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  input: unknown,
  where: 'body' | 'query' | 'path',
): z.infer<S> {
  const parsed = schema.safeParse(input ?? (where === 'body' ? undefined : {}));
  if (parsed.success) return parsed.data;
  const errors = parsed.error.issues.map((issue) => ({
    path: [where, ...issue.path.map(String)].join('.'),
    message: issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : issue.message,
  }));
  const detail =
    input === undefined && where === 'body'
      ? 'the request needs a JSON body'
      : `${errors.length} problem(s) in the ${where}: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}`;
  throw new ProblemException(problem('validation', detail, { errors }));
}
