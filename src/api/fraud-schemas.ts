import { z } from 'zod';

/** Requests and responses of the fraud admin endpoints (dead letters). */
export const DeadLetterIdParams = z.strictObject({
  id: z.string().regex(/^[1-9][0-9]{0,17}$/, 'must be a dead letter id (a positive integer)'),
});

export const DeadLettersQuery = z.strictObject({
  status: z.enum(['dead', 'retry-requested', 'resolved']).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z
    .string()
    .regex(/^[0-9]{1,18}$/, 'must be a cursor this service gave out')
    .optional(),
});

export const DeadLetterResponse = z.object({
  id: z.string(),
  position: z.string(),
  eventId: z.string(),
  transferId: z.string().nullable(),
  error: z.string(),
  attempts: z.number().int(),
  status: z.enum(['dead', 'retry-requested', 'resolved']),
  deadAt: z.string(),
  retryRequestedAt: z.string().nullable(),
  resolvedAt: z.string().nullable(),
  score: z.number().nullable(),
});

export const DeadLettersResponse = z.object({ items: z.array(DeadLetterResponse), nextCursor: z.string().nullable() });
