import { z } from 'zod';
import type {
  AccountOpened,
  AccountStatusChanged,
  LedgerEventType,
  PendingTransferExpired,
  PendingTransferPosted,
  PendingTransferVoided,
  TransferPending,
  TransferPosted,
  TransferReversed,
} from '../domain/events';
import { AMOUNT_PATTERN, CURRENCY_PATTERN, ID_PATTERN } from '../domain/money';
import type { AdjustmentApproved, AdjustmentRequested, PeriodClosed, PeriodEventType } from '../domain/closed-period';

/**
 * The published schema of every event on NATS (docs/contract.md, "Events"): zod schemas of each event's
 * `data` and of the envelope around it. The JSON Schemas and the AsyncAPI document are generated
 * from these, and the tests validate every message the relay publishes against them.
 *
 * The domain's TypeScript types (src/domain/events.ts) stay the source of truth for the code; the
 * `Same<…>` checks at the bottom make a drift between the two a compile error.
 */

const Id = z.string().regex(ID_PATTERN);
const Currency = z
  .string()
  .regex(CURRENCY_PATTERN)
  .meta({ examples: ['USD'] });
const Amount = z
  .string()
  .regex(AMOUNT_PATTERN)
  .meta({ description: 'Minor units as a decimal string, 1 to 2^127−1 (never a JSON number)', examples: ['1050'] });
const Timestamp = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
  .meta({ description: 'UTC, milliseconds', examples: ['2026-01-31T23:59:59.999Z'] });
const DecimalString = z.string().regex(/^(0|[1-9][0-9]*)$/);
const Metadata = z.record(z.string(), z.string());

export const AccountOpenedData = z
  .object({
    accountId: Id,
    currency: Currency,
    normalSide: z.enum(['debit', 'credit']),
    flags: z.object({ debitsMustNotExceedCredits: z.boolean(), creditsMustNotExceedDebits: z.boolean() }),
    code: z.string().optional(),
    metadata: Metadata,
    openedAt: Timestamp,
  })
  .meta({ description: 'An account was opened.' });

const statusChanged = (what: string) =>
  z.object({ accountId: Id, reason: z.string() }).meta({ description: `An account was ${what}.` });
export const AccountFrozenData = statusChanged('frozen: it takes neither debits nor credits until unfrozen');
export const AccountUnfrozenData = statusChanged('unfrozen');
export const AccountClosedData = statusChanged('closed for good');

export const TransferPostedData = z
  .object({
    transferId: Id,
    debitAccountId: Id,
    creditAccountId: Id,
    amount: Amount,
    currency: Currency,
    code: z.string().optional(),
    reference: z.string().optional(),
    metadata: Metadata,
    effectiveAt: Timestamp,
  })
  .meta({
    description: 'A transfer was posted: the debit account is debited and the credit account credited by `amount`.',
  });

export const TransferPendingData = TransferPostedData.extend({
  expiresAt: Timestamp.optional().meta({ description: 'When whatever is still held is released on its own.' }),
}).meta({
  description:
    "A hold: `amount` is added to the debit account's debitsPending and the credit account's creditsPending; no posted money moves.",
});

const holdRelease = {
  transferId: Id.meta({ description: 'The hold.' }),
  debitAccountId: Id,
  creditAccountId: Id,
  currency: Currency,
  released: DecimalString.meta({ description: 'Held money given back unposted (minor units; may be 0).' }),
};

export const PendingTransferPostedData = z
  .object({
    ...holdRelease,
    postId: Id.meta({ description: 'The id of the post command.' }),
    amount: Amount.meta({ description: 'Moved from pending to posted on both accounts.' }),
    effectiveAt: Timestamp,
  })
  .meta({ description: 'Part or all of a hold was posted; `released` is what a final post gave back.' });

export const PendingTransferVoidedData = z
  .object({ ...holdRelease, voidId: Id, reason: z.string().optional() })
  .meta({ description: 'A hold was voided: all it still held was released.' });

export const PendingTransferExpiredData = z
  .object({ ...holdRelease, expiresAt: Timestamp })
  .meta({ description: 'A hold reached its expiresAt: all it still held was released.' });

export const TransferReversedData = TransferPostedData.extend({
  reverses: Id.meta({ description: 'The transfer this one reverses.' }),
  reason: z.string(),
}).meta({
  description:
    "A reversal was posted: a new transfer (`transferId`) with the original's accounts swapped; the original's reversedAmount grows by `amount`.",
});

/** docs/contract.md fixes its fields; the fraud scorer appends it (issue 6). */
export const FraudScoredData = z
  .object({
    transferId: Id,
    score: z.number().min(0).max(1),
    modelVersion: z.string(),
    decision: z.enum(['allow', 'review']),
    features: z.array(z.number()).meta({
      description: 'The feature vector the model was given (float32 values, in the order of models/README.md)',
    }),
    featuresSha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .meta({ description: 'SHA-256 (hex) of the feature vector as float32 little-endian bytes' }),
  })
  .meta({ description: 'The fraud model scored a transfer (asynchronously: it never blocks a posting).' });

/** An analyst resolved a transfer's fraud review (ADR 0023); the actor in the metadata is the analyst's key id. */
export const FraudReviewResolvedData = z
  .object({
    transferId: Id,
    reviewId: z.string().meta({ description: "The client's id of the resolution (idempotency key)" }),
    outcome: z.enum(['fraud', 'legitimate']),
    note: z.string(),
    resolvedAt: Timestamp,
  })
  .meta({ description: "An analyst resolved a transfer's fraud review: `fraud` starts its compensation." });

/** The books were closed (ADR 0033); the actor in the metadata is the closing key's id, as closedBy. */
export const PeriodClosedData = z
  .object({
    through: Timestamp.meta({ description: 'Every instant up to and including this one is closed.' }),
    reason: z.string(),
    closedBy: z.string().meta({ description: 'The id of the API key that closed it.' }),
    previousThrough: Timestamp.optional().meta({ description: 'The close it supersedes (absent for the first).' }),
  })
  .meta({
    description:
      'The books were closed through `through`: a posting that counts at or before it is refused unless it is an approved adjustment.',
  });

export const AdjustmentRequestedData = z
  .object({
    adjustmentId: Id.meta({ description: "The client's id; also the id of the transfer it posts once approved." }),
    transfer: TransferPostedData.meta({ description: 'What it posts once approved (nested: it moves no money yet).' }),
    closedThrough: Timestamp.meta({ description: 'The closed period it falls into, as closed when requested.' }),
    requestedBy: z.string().meta({ description: 'The id of the API key that requested it.' }),
  })
  .meta({
    description:
      'A prior-period adjustment was requested: a transfer into a closed period, recorded pending; it moves nothing until another key approves it.',
  });

export const AdjustmentApprovedData = z
  .object({
    adjustmentId: Id,
    transferId: Id.meta({
      description: 'The transfer posted with it (its TransferPosted follows, caused by this event).',
    }),
    requestedBy: z.string(),
    approvedBy: z.string().meta({ description: 'The id of the approving API key: never requestedBy (four eyes).' }),
  })
  .meta({
    description: 'A prior-period adjustment was approved by a second key; its transfer posted in the same append.',
  });

/** Every event type the relay has a schema for, with the aggregate that names its subject. */
export const EVENT_CATALOGUE = {
  AccountOpened: { aggregate: 'account', data: AccountOpenedData },
  AccountFrozen: { aggregate: 'account', data: AccountFrozenData },
  AccountUnfrozen: { aggregate: 'account', data: AccountUnfrozenData },
  AccountClosed: { aggregate: 'account', data: AccountClosedData },
  TransferPosted: { aggregate: 'transfer', data: TransferPostedData },
  TransferPending: { aggregate: 'transfer', data: TransferPendingData },
  PendingTransferPosted: { aggregate: 'transfer', data: PendingTransferPostedData },
  PendingTransferVoided: { aggregate: 'transfer', data: PendingTransferVoidedData },
  PendingTransferExpired: { aggregate: 'transfer', data: PendingTransferExpiredData },
  TransferReversed: { aggregate: 'transfer', data: TransferReversedData },
  FraudScored: { aggregate: 'fraud', data: FraudScoredData },
  FraudReviewResolved: { aggregate: 'fraud', data: FraudReviewResolvedData },
  PeriodClosed: { aggregate: 'period', data: PeriodClosedData },
  AdjustmentRequested: { aggregate: 'adjustment', data: AdjustmentRequestedData },
  AdjustmentApproved: { aggregate: 'adjustment', data: AdjustmentApprovedData },
} as const satisfies Record<string, { aggregate: string; data: z.ZodObject }>;

export type PublishedEventType = keyof typeof EVENT_CATALOGUE;
export const PUBLISHED_EVENT_TYPES = Object.keys(EVENT_CATALOGUE) as PublishedEventType[];
export const isPublishedEventType = (type: string): type is PublishedEventType => Object.hasOwn(EVENT_CATALOGUE, type);

/** The body of every message: the event envelope (docs/contract.md, "Events"). */
export const envelopeSchema = <T extends string, D extends z.ZodType>(type: T, data: D) =>
  z
    .object({
      id: z.uuid().meta({ description: 'The event id; also the Nats-Msg-Id header and ce-id.' }),
      type: z.literal(type),
      stream: z
        .string()
        .meta({ description: 'The event stream it was appended to, e.g. account-alice or transfer-t-1.' }),
      revision: DecimalString.meta({ description: 'Its revision in that stream, from 0.' }),
      position: DecimalString.meta({ description: 'Its position in the global log: commit order, dense, from 1.' }),
      recordedAt: Timestamp.meta({ description: 'When the ledger recorded it (transaction time).' }),
      correlationId: z.string(),
      causationId: z.string(),
      prevHash: z
        .string()
        .regex(/^[0-9a-f]{64}$/)
        .meta({ description: 'SHA-256 of the event before it in the global log (the hash chain).' }),
      hash: z
        .string()
        .regex(/^[0-9a-f]{64}$/)
        .meta({ description: 'SHA-256 of prevHash and this event.' }),
      data,
    })
    .meta({ title: `${type} envelope` });

/** The envelope schema of one published event type. */
export const envelopeOf = (type: PublishedEventType): z.ZodObject => envelopeSchema(type, EVENT_CATALOGUE[type].data);

/**
 * JSON Schema (draft-07, what AsyncAPI 3 and ajv take by default) of each event type's envelope.
 * `closed: false` (published): objects accept fields added later, so adding an optional field is
 * not a breaking change for consumers that validate. `closed: true` (tests): no field beyond the
 * documented ones, to prove the relay sends nothing undocumented.
 */
export function eventJsonSchemas(options: { closed: boolean } = { closed: false }): Record<PublishedEventType, object> {
  return Object.fromEntries(
    PUBLISHED_EVENT_TYPES.map((type) => {
      const { $schema: _dropped, ...schema } = z.toJSONSchema(envelopeOf(type), {
        target: 'draft-7',
        io: options.closed ? 'output' : 'input',
      }) as Record<string, unknown>;
      return [type, schema];
    }),
  ) as Record<PublishedEventType, object>;
}

// ---- the zod schemas describe exactly the domain's event types ----------------------------------
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Plain<T> = { -readonly [K in keyof T]: T[K] extends object ? Plain<T[K]> : T[K] };
const same = <_ extends true>() => undefined;
same<Same<Plain<AccountOpened['data']>, z.infer<typeof AccountOpenedData>>>();
same<Same<Plain<AccountStatusChanged<'AccountFrozen'>['data']>, z.infer<typeof AccountFrozenData>>>();
same<Same<Plain<TransferPosted['data']>, z.infer<typeof TransferPostedData>>>();
same<Same<Plain<TransferPending['data']>, z.infer<typeof TransferPendingData>>>();
same<Same<Plain<PendingTransferPosted['data']>, z.infer<typeof PendingTransferPostedData>>>();
same<Same<Plain<PendingTransferVoided['data']>, z.infer<typeof PendingTransferVoidedData>>>();
same<Same<Plain<PendingTransferExpired['data']>, z.infer<typeof PendingTransferExpiredData>>>();
same<Same<Plain<TransferReversed['data']>, z.infer<typeof TransferReversedData>>>();
same<Same<Plain<PeriodClosed['data']>, z.infer<typeof PeriodClosedData>>>();
same<Same<Plain<AdjustmentRequested['data']>, z.infer<typeof AdjustmentRequestedData>>>();
same<Same<Plain<AdjustmentApproved['data']>, z.infer<typeof AdjustmentApprovedData>>>();
// Every domain event type has a published schema.
same<Same<Exclude<LedgerEventType | PeriodEventType, PublishedEventType>, never>>();

/** The headers of every message (CloudEvents binary mode, W3C trace context, JetStream's own). */
export const MessageHeaders = z
  .object({
    'Nats-Msg-Id': z
      .uuid()
      .meta({ description: 'The event id: JetStream drops a re-publish within the duplicate window.' }),
    'Nats-Expected-Last-Msg-Id': z
      .uuid()
      .optional()
      .meta({ description: 'Set by the relay to keep log order (the previous event id); consumers ignore it.' }),
    'ce-specversion': z.literal('1.0'),
    'ce-id': z.uuid(),
    'ce-source': z.literal('/ledger'),
    'ce-type': z
      .string()
      .regex(/^ledger\.[a-z_]+\.[A-Za-z]+$/)
      .meta({ examples: ['ledger.transfer.TransferPosted'] }),
    'ce-subject': z.string().meta({ description: 'The event stream, e.g. account-alice.' }),
    'ce-time': Timestamp,
    'ce-sequence': DecimalString.meta({ description: 'The global-log position (CloudEvents sequence extension).' }),
    'ce-correlationid': z.string(),
    'ce-causationid': z.string(),
    'content-type': z.literal('application/json'),
    traceparent: z
      .string()
      .regex(/^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/)
      .meta({ description: 'W3C trace context: the request that caused the event, when it carried one.' }),
    tracestate: z.string().optional(),
  })
  .meta({ title: 'Ledger message headers' });

export const messageHeadersJsonSchema = (options: { closed: boolean } = { closed: false }): object => {
  const { $schema: _dropped, ...schema } = z.toJSONSchema(MessageHeaders, {
    target: 'draft-7',
    io: options.closed ? 'output' : 'input',
  }) as Record<string, unknown>;
  return schema;
};
