import { z } from 'zod';
import { RevisionPageQuery } from './list-schemas';
import { Amount, Currency, Id, LIMITS, Metadata, Position, Timestamp } from './schemas';

/** POST /v1/periods/close (docs/contract.md, "Closed periods"). */
export const ClosePeriodBody = z
  .strictObject({
    through: Timestamp.meta({
      description: 'Close the books through this instant (inclusive); in the past, and later than any close before',
    }),
    reason: z.string().min(1).max(LIMITS.reasonLengthMax),
  })
  .meta({ id: 'ClosePeriodRequest' });

export const ClosedPeriodResponse = z
  .object({
    through: Timestamp,
    reason: z.string(),
    closedBy: z.string().meta({ description: 'The id of the API key that closed it' }),
    closedAt: Timestamp.meta({ description: 'When the close was recorded' }),
    position: Position,
  })
  .meta({ id: 'ClosedPeriod' });

export const PeriodsQuery = RevisionPageQuery;

export const PeriodsResponse = z
  .object({
    closedThrough: Timestamp.nullable().meta({
      description: 'The books are closed through this instant (the latest close); null: nothing is closed',
    }),
    items: z.array(ClosedPeriodResponse).meta({ description: 'Every close, oldest first' }),
    nextCursor: z.string().nullable(),
  })
  .meta({ id: 'ClosedPeriodsPage' });

export const AdjustmentParams = z.strictObject({ id: Id });

export const AdjustmentResponse = z
  .object({
    id: Id,
    status: z.enum(['pending', 'approved']),
    transfer: z
      .object({
        id: Id,
        debitAccountId: Id,
        creditAccountId: Id,
        amount: Amount,
        currency: Currency,
        code: z.string().optional(),
        reference: z.string().optional(),
        metadata: Metadata,
        effectiveAt: Timestamp,
      })
      .meta({ description: 'What it posts once approved (a transfer with the same id)' }),
    closedThrough: Timestamp.meta({ description: 'The closed period it falls into, as closed when requested' }),
    requestedBy: z.string().meta({ description: 'The id of the API key that requested it' }),
    requestedAt: Timestamp,
    approvedBy: z.string().optional().meta({ description: 'The id of the other key that approved it' }),
    approvedAt: Timestamp.optional(),
    position: Position.meta({ description: "Of the adjustment's last event (once approved: its posted transfer's)" }),
  })
  .meta({ id: 'Adjustment' });
