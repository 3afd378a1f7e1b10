import { z } from 'zod';
import { AMOUNT_MAX, AMOUNT_PATTERN, CURRENCY_PATTERN, ID_PATTERN } from '../domain/money';

/** Limits on what can grow in a request (each has a test at its edge). */
export const LIMITS = {
  metadataKeysMax: 32,
  metadataKeyLengthMax: 64,
  metadataValueLengthMax: 512,
  codeLengthMax: 64,
  referenceLengthMax: 256,
  reasonLengthMax: 512,
  batchTransfersMax: 8000,
  entriesPageMax: 1000,
  entriesPageDefault: 100,
  replayAccountsMax: 10_000,
} as const;

const TIMESTAMP_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export const Id = z
  .string()
  .regex(ID_PATTERN, 'must be 1–128 characters of A–Z, a–z, 0–9, ".", "_", ":" or "-"')
  // "." and ".." match the pattern but URLs normalise them away: /v1/accounts/.. could never be read.
  .refine((id) => id !== '.' && id !== '..', 'may not be "." or "..": such an id cannot appear in a URL path')
  .meta({ example: 'acct:alice' });

export const Currency = z
  .string()
  .regex(CURRENCY_PATTERN, 'must be 3–12 characters of A–Z, 0–9 or "_", starting with a letter (e.g. USD)')
  .meta({ example: 'USD' });

export const Amount = z
  .string({ error: 'must be a string of decimal digits (minor units), not a JSON number' })
  .regex(
    AMOUNT_PATTERN,
    'must be a positive integer of minor units written as decimal digits, no sign, no leading zero',
  )
  // zod runs this even when the pattern failed: BigInt('1.5') would throw and answer 500.
  .refine(
    (text) => !AMOUNT_PATTERN.test(text) || BigInt(text) <= AMOUNT_MAX,
    'must be at most 2^127 − 1 (170141183460469231731687303715884105727)',
  )
  .meta({ description: 'Minor units as a decimal string, 1 to 2^127−1', example: '1050' });

export const SignedAmount = z
  .string()
  .regex(/^-?(0|[1-9][0-9]*)$/)
  .meta({ example: '-1050' });

/** A non-negative total of minor units (what a hold still holds may be 0). */
export const MinorUnits = z
  .string()
  .regex(/^(0|[1-9][0-9]*)$/)
  .meta({ example: '0' });

export const Timestamp = z
  .string()
  .regex(TIMESTAMP_PATTERN, 'must be a UTC timestamp like 2026-01-31T23:59:59.999Z')
  .refine(
    (text) => !Number.isNaN(Date.parse(text)) && new Date(text).toISOString() === text,
    'is not a real date and time',
  )
  .meta({ example: '2026-09-30T23:59:59.999Z' });

// Up to 39 digits: on EventStoreDB a position packs $all's (commit, prepare) into 128 bits (ADR 0007).
export const Position = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,38})$/, 'must be a position as returned by a command (decimal digits)')
  .meta({ example: '42' });

export const Metadata = z
  .record(z.string().min(1).max(LIMITS.metadataKeyLengthMax), z.string().max(LIMITS.metadataValueLengthMax))
  .refine((record) => Object.keys(record).length <= LIMITS.metadataKeysMax, `at most ${LIMITS.metadataKeysMax} keys`)
  .meta({ example: { customer: 'c-123' } });

export const Side = z.enum(['debit', 'credit']);

export const OpenAccountBody = z
  .strictObject({
    id: Id,
    currency: Currency,
    normalSide: Side.default('credit'),
    flags: z
      .strictObject({
        debitsMustNotExceedCredits: z.boolean().default(false),
        creditsMustNotExceedDebits: z.boolean().default(false),
      })
      .refine(
        (flags) => !(flags.debitsMustNotExceedCredits && flags.creditsMustNotExceedDebits),
        'debitsMustNotExceedCredits and creditsMustNotExceedDebits cannot both be set: the account could never move',
      )
      .default({ debitsMustNotExceedCredits: false, creditsMustNotExceedDebits: false }),
    code: z.string().min(1).max(LIMITS.codeLengthMax).optional(),
    metadata: Metadata.default({}),
  })
  .meta({ id: 'OpenAccountRequest' });
export type OpenAccountBody = z.infer<typeof OpenAccountBody>;

export const StatusChangeBody = z
  .strictObject({ reason: z.string().min(1).max(LIMITS.reasonLengthMax) })
  .meta({ id: 'AccountStatusChangeRequest' });

const transferFields = {
  id: Id,
  debitAccountId: Id,
  creditAccountId: Id,
  amount: Amount,
  currency: Currency,
  code: z.string().min(1).max(LIMITS.codeLengthMax).optional(),
  reference: z.string().min(1).max(LIMITS.referenceLengthMax).optional(),
  metadata: Metadata.default({}),
  effectiveAt: Timestamp.optional(),
  pending: z.boolean().optional().meta({
    description: 'A hold: reserve the amount now; post or void it later (POST /v1/transfers/{id}/post, /void)',
  }),
  expiresAt: Timestamp.optional().meta({
    description: 'Only with pending: true; after now. Whatever is still held then is released on its own',
  }),
};

const holdChecks = (
  body: { expiresAt?: string | undefined; pending?: boolean | undefined },
  context: z.RefinementCtx,
) => {
  if (body.expiresAt === undefined) return;
  if (body.pending !== true) {
    context.addIssue({ code: 'custom', path: ['expiresAt'], message: 'is only for a hold (pending: true)' });
  } else if (Date.parse(body.expiresAt) <= Date.now()) {
    context.addIssue({ code: 'custom', path: ['expiresAt'], message: 'must be after now' });
  }
};

export const TransferBody = z.strictObject(transferFields).superRefine(holdChecks).meta({ id: 'TransferRequest' });
export type TransferBody = z.infer<typeof TransferBody>;

/**
 * POST /v1/transfers: a transfer, or a prior-period adjustment into a closed period (docs/contract.md,
 * "Closed periods"), which is recorded pending and posts once a second API key approves it.
 */
export const PostTransferBody = z
  .strictObject({
    ...transferFields,
    adjustment: z.boolean().optional().meta({
      description:
        'A prior-period adjustment: effectiveAt falls into a closed period; answered 202 pending, posted once another key approves it (POST /v1/adjustments/{id}/approve)',
    }),
  })
  .superRefine((body, context) => {
    holdChecks(body, context);
    if (body.adjustment !== true) return;
    if (body.pending === true) {
      context.addIssue({ code: 'custom', path: ['adjustment'], message: 'is for a plain transfer, not a hold' });
    }
    if (body.effectiveAt === undefined) {
      context.addIssue({
        code: 'custom',
        path: ['effectiveAt'],
        message: 'is needed for an adjustment: the instant in the closed period it counts at',
      });
    }
  })
  .meta({ id: 'PostTransferRequest' });

export const TransferBatchBody = z
  .strictObject({
    transfers: z.array(TransferBody).min(1).max(LIMITS.batchTransfersMax),
    atomic: z.boolean().default(false),
  })
  .meta({ id: 'TransferBatchRequest' });

export const PostPendingBody = z
  .strictObject({
    id: Id.meta({ description: "This command's own id: a retry with the same id and body answers the first response" }),
    amount: Amount.optional().meta({ description: 'Default: all that is still held' }),
    final: z.boolean().default(true).meta({ description: 'Release whatever remains after this post (default true)' }),
    effectiveAt: Timestamp.optional().meta({ description: "When the posted money counts; not before the hold's" }),
  })
  .meta({ id: 'PostPendingTransferRequest' });

export const VoidPendingBody = z
  .strictObject({
    id: Id.meta({ description: "This command's own id" }),
    reason: z.string().min(1).max(LIMITS.reasonLengthMax).optional(),
  })
  .meta({ id: 'VoidPendingTransferRequest' });

export const ReverseBody = z
  .strictObject({
    id: Id.meta({ description: "This command's own id, and the reversal's transfer id" }),
    amount: Amount.optional().meta({ description: 'Default: all that is still reversible' }),
    reason: z.string().min(1).max(LIMITS.reasonLengthMax),
    effectiveAt: Timestamp.optional(),
  })
  .meta({ id: 'ReverseTransferRequest' });

export const AccountIdParams = z.strictObject({ id: Id });

export const ReadQuery = z.strictObject({ minPosition: Position.optional() });

export const EntriesQuery = z.strictObject({
  limit: z.coerce
    .number()
    .int('must be an integer')
    .min(1)
    .max(LIMITS.entriesPageMax)
    .default(LIMITS.entriesPageDefault),
  cursor: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,32}$/, 'is not a cursor this service gave out')
    .optional(),
  minPosition: Position.optional(),
});

export const BalanceQuery = z.strictObject({
  asOf: Timestamp.optional(),
  knownAt: Timestamp.optional(),
  minPosition: Position.optional(),
});

// Responses (for the OpenAPI document; the presenters build them).
export const AccountResponse = z
  .object({
    id: Id,
    currency: Currency,
    normalSide: Side,
    flags: z.object({ debitsMustNotExceedCredits: z.boolean(), creditsMustNotExceedDebits: z.boolean() }),
    status: z.enum(['open', 'frozen', 'closed']),
    debitsPosted: SignedAmount,
    creditsPosted: SignedAmount,
    debitsPending: MinorUnits.meta({ description: 'Held by pending transfers that debit it' }),
    creditsPending: MinorUnits.meta({ description: 'Held by pending transfers that credit it' }),
    balance: SignedAmount,
    available: SignedAmount.meta({
      description: 'credit-normal: creditsPosted − debitsPosted − debitsPending; debit-normal: the mirror',
    }),
    version: z.number().int(),
    openedAt: Timestamp,
    code: z.string().optional(),
    metadata: z.record(z.string(), z.string()),
    position: Position,
  })
  .meta({ id: 'Account' });

/** A scored transfer's risk (docs/contract.md, "Fraud reviews"); absent until the scorer scored it. */
export const RiskResponse = z
  .object({
    score: z.number().min(0).max(1),
    decision: z.enum(['allow', 'review']),
    modelVersion: z.string(),
    scoredAt: Timestamp,
  })
  .meta({ id: 'Risk' });

export const TransferResponse = z
  .object({
    id: Id,
    debitAccountId: Id,
    creditAccountId: Id,
    amount: Amount,
    currency: Currency,
    status: z.enum(['pending', 'posted', 'voided', 'expired']),
    pendingAmount: MinorUnits.meta({ description: 'Still held' }),
    postedAmount: MinorUnits.meta({ description: 'Posted so far: the whole amount for a plain transfer' }),
    reversedAmount: MinorUnits.meta({ description: 'Undone so far by reversals' }),
    expiresAt: Timestamp.optional(),
    reverses: Id.optional().meta({ description: 'The transfer this reversal undoes' }),
    code: z.string().optional(),
    reference: z.string().optional(),
    metadata: z.record(z.string(), z.string()),
    effectiveAt: Timestamp,
    recordedAt: Timestamp,
    position: Position,
    risk: RiskResponse.optional(),
  })
  .meta({ id: 'Transfer' });

export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: 'Problem' });

export const BatchResponse = z
  .object({
    results: z.array(
      z.object({
        id: z.string(),
        status: z.enum(['created', 'duplicate', 'failed']),
        transfer: TransferResponse.optional(),
        problem: Problem.optional(),
      }),
    ),
    position: Position,
  })
  .meta({ id: 'TransferBatchResult' });

export const EntriesResponse = z
  .object({
    items: z.array(
      z.object({
        transferId: Id,
        side: Side,
        amount: Amount,
        balanceAfter: SignedAmount,
        effectiveAt: Timestamp,
        recordedAt: Timestamp,
      }),
    ),
    nextCursor: z.string().nullable(),
  })
  .meta({ id: 'EntriesPage' });

export const BalanceResponse = z
  .object({
    accountId: Id,
    currency: Currency,
    asOf: Timestamp,
    knownAt: Timestamp,
    debitsPosted: SignedAmount,
    creditsPosted: SignedAmount,
    debitsPending: MinorUnits,
    creditsPending: MinorUnits,
    balance: SignedAmount,
    available: SignedAmount,
  })
  .meta({ id: 'Balance' });

// The audit routes (/v1/audit).
export const ReplayBody = z
  .strictObject({
    asOf: Timestamp,
    knownAt: Timestamp.optional().meta({ description: 'Defaults to now' }),
    accountIds: z
      .array(Id)
      .min(1)
      .max(LIMITS.replayAccountsMax)
      .optional()
      .meta({ description: 'Defaults to every account known at knownAt' }),
  })
  .meta({ id: 'ReplayRequest' });

export const ReplayResponse = z
  .object({
    asOf: Timestamp,
    knownAt: Timestamp,
    eventsReplayed: z.number().int(),
    accounts: z.array(
      z.object({
        accountId: Id,
        currency: Currency,
        balance: SignedAmount,
        debitsPosted: SignedAmount,
        creditsPosted: SignedAmount,
        readModelBalance: SignedAmount.nullable(),
        matches: z.boolean(),
      }),
    ),
    mismatches: z.number().int(),
  })
  .meta({ id: 'ReplayReport' });

export const DigestResponse = z
  .object({
    algorithm: z.literal('Ed25519'),
    keyId: z.string(),
    position: Position,
    hash: z.string().regex(/^[0-9a-f]{64}$/),
    recordedAt: Timestamp.nullable(),
    signedAt: Timestamp,
    signature: z.string().meta({
      description:
        'base64 Ed25519 signature over the canonical JSON of {type: "ledger.chain-head.v1", keyId, position, hash, recordedAt, signedAt}',
    }),
  })
  .meta({ id: 'ChainDigest' });

export const PublicKeyResponse = z
  .object({
    algorithm: z.literal('Ed25519'),
    keyId: z.string(),
    publicKey: z.string().meta({ description: 'SubjectPublicKeyInfo, PEM' }),
  })
  .meta({ id: 'SigningPublicKey' });

const ChainBreak = z.object({
  position: Position,
  eventId: z.string().optional(),
  reason: z.enum([
    'missing-event',
    'out-of-order',
    'content-changed',
    'link-broken',
    'head-mismatch',
    'digest-mismatch',
  ]),
  detail: z.string(),
});

export const VerifyResponse = z
  .object({
    intact: z.boolean(),
    eventsChecked: z.number().int(),
    head: z.object({ position: Position, hash: z.string() }),
    last: z.object({ position: Position, hash: z.string() }),
    firstBroken: ChainBreak.nullable(),
    breaks: z.array(ChainBreak),
  })
  .meta({ id: 'ChainVerification' });

export const EmptyQuery = z.strictObject({});
