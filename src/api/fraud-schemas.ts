import { z } from 'zod';
import { Amount, Currency, Id, RiskResponse, Timestamp } from './schemas';

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

export const ReviewTransferParams = z.strictObject({ transferId: Id });

export const ReviewsQuery = z.strictObject({
  status: z.enum(['open', 'resolved']).default('open'),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().max(512).optional(),
});

export const ResolveReviewBody = z
  .strictObject({
    id: Id.meta({ description: 'Your id of this resolution: a repeat with the same id and body answers the same' }),
    outcome: z.enum(['fraud', 'legitimate']),
    note: z.string().min(1).max(2000),
  })
  .meta({ id: 'ResolveReview' });

const Compensation = z.object({
  state: z.enum(['none', 'pending', 'done']).meta({
    description:
      '`none`: nothing to undo (legitimate); `pending`: the saga is under way; `done`: reversed/voided and frozen',
  }),
});

export const ResolveReviewResponse = z
  .object({
    transferId: Id,
    status: z.literal('resolved'),
    outcome: z.enum(['fraud', 'legitimate']),
    note: z.string(),
    resolvedAt: Timestamp,
    actor: z.string().nullable().meta({ description: "The analyst's API key id" }),
    compensation: Compensation,
  })
  .meta({ id: 'ReviewResolution' });

export const ReviewResponse = z
  .object({
    transferId: Id,
    status: z.enum(['open', 'resolved']),
    recordedAt: Timestamp.meta({ description: "The transfer's recordedAt (the queue's order)" }),
    debitAccountId: Id,
    creditAccountId: Id,
    amount: Amount,
    currency: Currency,
    risk: RiskResponse,
    resolution: z
      .object({
        id: z.string(),
        outcome: z.enum(['fraud', 'legitimate']),
        note: z.string(),
        resolvedAt: Timestamp,
        actor: z.string().nullable(),
      })
      .nullable(),
    compensation: Compensation,
  })
  .meta({ id: 'Review' });

export const ReviewsResponse = z.object({ items: z.array(ReviewResponse), nextCursor: z.string().nullable() });
