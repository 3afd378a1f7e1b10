import { z } from 'zod';
import { Position, Timestamp } from './schemas';

/** A count of events as a query parameter: decimal digits, at most 2^53 − 1. */
const TreeSize = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,15})$/, 'must be a tree size (a count of events, decimal digits)')
  .refine((text) => !/^\d+$/.test(text) || Number(text) <= Number.MAX_SAFE_INTEGER, 'must be at most 2^53 − 1')
  .transform(Number)
  .meta({ example: '1000' });

const Hex32 = z.string().regex(/^[0-9a-f]{64}$/);

export const TreeHeadQuery = z.strictObject({
  size: TreeSize.optional().meta({ description: 'Events the tree covers (default: all the tree holds now)' }),
});

export const InclusionQuery = z.strictObject({
  position: Position.meta({ description: 'The event’s position in the log; its leaf index is position − 1' }),
  treeSize: TreeSize.optional().meta({
    description: 'Size of the tree to prove against (default: all the tree holds now)',
  }),
});

export const ConsistencyQuery = z
  .strictObject({
    from: TreeSize.meta({ description: 'The earlier tree size, at least 1' }),
    to: TreeSize.meta({ description: 'The later tree size, at least from' }),
  })
  .refine((q) => q.from >= 1 && q.from <= q.to, { message: 'needs 1 ≤ from ≤ to', path: ['from'] });

export const TreeHeadResponse = z
  .object({
    treeSize: z.number().int(),
    rootHash: Hex32.meta({ description: 'RFC 9162 Merkle tree hash of the first treeSize events, lowercase hex' }),
    signedAt: Timestamp,
    keyId: z.string(),
    signature: z
      .string()
      .regex(/^[0-9a-f]{128}$/)
      .meta({
        description: 'Ed25519 over the UTF-8 bytes of `ledger-tree-head:v1:<treeSize>:<rootHash>`, lowercase hex',
      }),
  })
  .meta({ id: 'SignedTreeHead' });

export const InclusionResponse = z
  .object({
    leafIndex: z.number().int(),
    treeSize: z.number().int(),
    leaf: z
      .string()
      .meta({ description: 'base64 of the leaf: the event’s canonical bytes (those its chain hash covers)' }),
    leafHash: Hex32.meta({ description: 'SHA-256(0x00 ‖ leaf), lowercase hex' }),
    auditPath: z.array(Hex32).meta({ description: 'RFC 9162 §2.1.3 inclusion path, leaf to root' }),
  })
  .meta({ id: 'InclusionProof' });

export const ConsistencyResponse = z
  .object({
    from: z.number().int(),
    to: z.number().int(),
    proof: z.array(Hex32).meta({ description: 'RFC 9162 §2.1.4 consistency proof' }),
  })
  .meta({ id: 'ConsistencyProof' });

export const PublicKeysResponse = z
  .object({
    keys: z.array(
      z.object({
        keyId: z.string(),
        algorithm: z.literal('Ed25519'),
        publicKey: z.string().meta({ description: 'SubjectPublicKeyInfo, PEM' }),
        firstSignedAt: Timestamp.nullable(),
        lastSignedAt: Timestamp.nullable(),
        active: z.boolean(),
      }),
    ),
  })
  .meta({ id: 'SigningPublicKeys' });

export const StatementQuery = z
  .strictObject({
    from: Timestamp.meta({ description: 'First instant of the period (effective time), inclusive' }),
    to: Timestamp.meta({ description: 'Last instant of the period (effective time), inclusive' }),
    knownAt: Timestamp.optional().meta({ description: 'As the ledger knew it then (recorded time); default now' }),
    format: z.enum(['json', 'csv']).default('json'),
    minPosition: Position.optional(),
  })
  .refine((q) => q.from <= q.to, { message: 'from must not be after to', path: ['from'] });

const SignedAmountText = z.string().regex(/^-?(0|[1-9][0-9]*)$/);

export const StatementResponse = z
  .object({
    accountId: z.string(),
    currency: z.string(),
    normalSide: z.enum(['debit', 'credit']),
    from: Timestamp,
    to: Timestamp,
    knownAt: Timestamp,
    openingBalance: SignedAmountText,
    entries: z.array(
      z.object({
        transferId: z.string(),
        side: z.enum(['debit', 'credit']),
        amount: z.string(),
        effectiveAt: Timestamp,
        recordedAt: Timestamp,
        position: Position,
        balanceAfter: SignedAmountText,
      }),
    ),
    closingBalance: SignedAmountText,
    position: Position.meta({ description: 'The read models’ place in the log the statement was read at' }),
    treeHead: TreeHeadResponse.nullable().meta({
      description: 'A signed tree head covering every event the statement rests on (null on EventStoreDB)',
    }),
    closedThrough: Timestamp.nullable().meta({
      description:
        'The books were closed through this instant as known at knownAt (null: nothing closed); entries effective at or before it change only by approved adjustments',
    }),
  })
  .meta({
    id: 'Statement',
    description:
      'Posted entries only: a pending hold is not an entry (it moves no posted money) until it is posted; its post is an entry at the post’s effectiveAt',
  });
