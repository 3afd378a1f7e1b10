import { z } from 'zod';
import {
  AccountResponse,
  Currency,
  Id,
  LIMITS,
  Metadata,
  Position,
  SignedAmount,
  Timestamp,
  TransferResponse,
} from './schemas';

/** Limits of the list and history routes (each has a test at its edge). */
export const LIST_LIMITS = {
  pageMax: 1000,
  pageDefault: 100,
  historyPointsMin: 2,
  historyPointsMax: 1000,
  historyPointsDefault: 100,
  cursorLengthMax: 400,
} as const;

/** Query keys `metadata.<key>` filter on metadata: the record must contain key = value. */
export const METADATA_PREFIX = 'metadata.';

const Limit = z.coerce
  .number({ error: 'must be an integer from 1 to 1000' })
  .int('must be an integer')
  .min(1, 'must be at least 1')
  .max(LIST_LIMITS.pageMax, `must be at most ${LIST_LIMITS.pageMax}: page with nextCursor`)
  .default(LIST_LIMITS.pageDefault);

const ListCursor = z
  .string()
  .regex(
    new RegExp(`^[A-Za-z0-9_-]{1,${LIST_LIMITS.cursorLengthMax}}$`),
    'is not a cursor this service gave out (pass nextCursor as it came)',
  );

/** A page of one stream's events by revision, `cursor` being `r<revision>`: a transfer's events, the closes. */
export const RevisionPageQuery = z.strictObject({
  limit: Limit,
  cursor: z
    .string()
    .regex(/^r(0|[1-9][0-9]{0,18})$/, 'is not a cursor this service gave out (pass nextCursor as it came)')
    .optional(),
});

export const MetadataFilter = Metadata.meta({
  description: 'From the query keys metadata.<key>=<value>: only rows whose metadata holds every such pair',
});

export const ListAccountsQuery = z.strictObject({
  limit: Limit,
  cursor: ListCursor.optional(),
  currency: Currency.optional(),
  status: z.enum(['open', 'frozen', 'closed']).optional(),
  code: z.string().min(1).max(LIMITS.codeLengthMax).optional(),
  minPosition: Position.optional(),
});

export const TransferStatus = z.enum(['pending', 'posted', 'voided', 'expired']);

export const ListTransfersQuery = z
  .strictObject({
    accountId: Id.optional(),
    status: TransferStatus.optional(),
    from: Timestamp.optional().meta({ description: 'recordedAt at or after' }),
    to: Timestamp.optional().meta({ description: 'recordedAt at or before' }),
    limit: Limit,
    cursor: ListCursor.optional(),
    minPosition: Position.optional(),
  })
  .refine((q) => q.from === undefined || q.to === undefined || q.from <= q.to, {
    message: 'from must not be after to',
    path: ['from'],
  });

export const BalanceHistoryQuery = z
  .strictObject({
    from: Timestamp.optional().meta({ description: "Defaults to the account's openedAt" }),
    to: Timestamp.optional().meta({ description: 'Defaults to now' }),
    points: z.coerce
      .number({ error: 'must be an integer from 2 to 1000' })
      .int('must be an integer')
      .min(LIST_LIMITS.historyPointsMin, `must be at least ${LIST_LIMITS.historyPointsMin} (from and to)`)
      .max(LIST_LIMITS.historyPointsMax, `must be at most ${LIST_LIMITS.historyPointsMax}`)
      .default(LIST_LIMITS.historyPointsDefault),
    knownAt: Timestamp.optional().meta({ description: 'Defaults to now' }),
    minPosition: Position.optional(),
  })
  .refine((q) => q.from === undefined || q.to === undefined || q.from <= q.to, {
    message: 'from must not be after to',
    path: ['from'],
  });

export const AccountsPageResponse = z
  .object({ items: z.array(AccountResponse), nextCursor: z.string().nullable() })
  .meta({ id: 'AccountsPage' });

export const TransfersPageResponse = z
  .object({ items: z.array(TransferResponse), nextCursor: z.string().nullable() })
  .meta({ id: 'TransfersPage' });

export const BalanceHistoryResponse = z
  .object({
    accountId: Id,
    currency: Currency,
    from: Timestamp,
    to: Timestamp,
    knownAt: Timestamp,
    points: z.array(
      z.object({
        at: Timestamp,
        balance: SignedAmount,
        debitsPosted: SignedAmount,
        creditsPosted: SignedAmount,
      }),
    ),
  })
  .meta({ id: 'BalanceHistory' });
