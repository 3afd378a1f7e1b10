import { z } from 'zod';
import {
  AccountIdParams,
  AccountResponse,
  BalanceQuery,
  BalanceResponse,
  BatchResponse,
  DigestResponse,
  PublicKeyResponse,
  ReplayBody,
  ReplayResponse,
  VerifyResponse,
  EntriesQuery,
  EntriesResponse,
  OpenAccountBody,
  Problem,
  ReadQuery,
  StatusChangeBody,
  PostTransferBody,
  TransferBatchBody,
  TransferResponse,
  PostPendingBody,
  VoidPendingBody,
  ReverseBody,
} from './schemas';
import { listOperations } from './lists.openapi';
import {
  ConsistencyQuery,
  ConsistencyResponse,
  InclusionQuery,
  InclusionResponse,
  PublicKeysResponse,
  StatementQuery,
  StatementResponse,
  TreeHeadQuery,
  TreeHeadResponse,
} from './audit-schemas';
import { completeOperations } from './openapi-conventions';
import { fraudPaths } from './fraud.openapi';
import { periodPaths } from './periods.openapi';
import { AdjustmentResponse } from './period-schemas';

type Schema = z.ZodType;

const json = (schema: Schema) => z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
const out = (schema: Schema) => z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' });

const problemResponse = () => ({
  description: 'Problem (RFC 9457)',
  content: { 'application/problem+json': { schema: out(Problem) } },
});
const problemResponses = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((status) => [String(status), problemResponse()]));

function queryParameters(schema: z.ZodObject) {
  const jsonSchema = json(schema) as { properties?: Record<string, object>; required?: string[] };
  return Object.entries(jsonSchema.properties ?? {}).map(([name, property]) => ({
    name,
    in: 'query',
    required: jsonSchema.required?.includes(name) ?? false,
    schema: property,
  }));
}

const idParameter = {
  name: 'id',
  in: 'path',
  required: true,
  schema: json(AccountIdParams).properties?.id,
};

const body = (schema: Schema) => ({ required: true, content: { 'application/json': { schema: json(schema) } } });
const ok = (status: string, schema: Schema, description: string) => ({
  [status]: { description, content: { 'application/json': { schema: out(schema) } } },
});

/**
 * The OpenAPI 3.1 document, built from the same zod schemas that validate requests, so the two
 * cannot drift apart.
 */
export function openApiDocument(version: string) {
  const statusChange = (verb: string) => ({
    post: {
      summary: `${verb} an account`,
      parameters: [idParameter],
      requestBody: body(StatusChangeBody),
      responses: {
        ...ok('200', AccountResponse, 'The account after the change'),
        ...problemResponses(400, 401, 403, 404, 422),
      },
    },
  });
  const lists = listOperations({ ok, problemResponses, queryParameters, idParameter });
  const document = {
    openapi: '3.1.0',
    info: {
      title: 'Ledger',
      version,
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
      description:
        'Event-sourced double-entry ledger. Amounts are decimal strings of minor units. Every command answers with a `position`; pass it as `minPosition` to a query to read your own write.',
    },
    components: {
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'LEDGER_API_KEYS' } },
    },
    // Relative: the document describes the service that serves it, wherever it runs.
    servers: [{ url: '/', description: 'this service' }],
    security: [{ apiKey: [] }],
    paths: {
      '/v1/accounts': {
        get: lists.listAccounts,
        post: {
          summary: 'Open an account (idempotent by id)',
          requestBody: body(OpenAccountBody),
          responses: {
            ...ok('201', AccountResponse, 'Opened'),
            ...ok('200', AccountResponse, 'Opened before with the same body'),
            ...problemResponses(400, 401, 403, 409, 413, 415, 429),
          },
        },
      },
      '/v1/accounts/{id}': {
        get: {
          summary: 'Read an account',
          parameters: [idParameter, ...queryParameters(ReadQuery)],
          responses: { ...ok('200', AccountResponse, 'The account'), ...problemResponses(400, 401, 403, 404, 503) },
        },
      },
      '/v1/accounts/{id}/balance': {
        get: {
          summary: 'Balance at asOf (effective time) as known at knownAt (record time)',
          parameters: [idParameter, ...queryParameters(BalanceQuery)],
          responses: { ...ok('200', BalanceResponse, 'The balance'), ...problemResponses(400, 401, 403, 404, 503) },
        },
      },
      '/v1/accounts/{id}/entries': {
        get: {
          summary: "An account's entries, oldest first, in cursor pages",
          parameters: [idParameter, ...queryParameters(EntriesQuery)],
          responses: {
            ...ok('200', EntriesResponse, 'A page of entries'),
            ...problemResponses(400, 401, 403, 404, 503),
          },
        },
      },
      '/v1/accounts/{id}/balance-history': { get: lists.balanceHistory },
      '/v1/accounts/{id}/freeze': statusChange('Freeze'),
      '/v1/accounts/{id}/unfreeze': statusChange('Unfreeze'),
      '/v1/accounts/{id}/close': statusChange('Close'),
      '/v1/transfers': {
        get: lists.listTransfers,
        post: {
          summary: 'Post a transfer (idempotent by id), or request a prior-period adjustment (adjustment: true)',
          requestBody: body(PostTransferBody),
          responses: {
            ...ok('201', TransferResponse, 'Posted'),
            ...ok(
              '200',
              z.union([TransferResponse, AdjustmentResponse]),
              'Posted before with the same body (an adjustment sent again: the adjustment as it stands)',
            ),
            ...ok(
              '202',
              AdjustmentResponse,
              'A prior-period adjustment, recorded pending: it posts once another key approves it',
            ),
            ...problemResponses(400, 401, 403, 404, 409, 413, 415, 422, 429, 503),
          },
        },
      },
      '/v1/transfers/batch': {
        post: {
          summary: 'Post up to 8,000 transfers; atomic: all or none',
          requestBody: body(TransferBatchBody),
          responses: {
            ...ok('200', BatchResponse, 'One result per transfer'),
            ...problemResponses(400, 401, 403, 413, 415, 429, 503),
          },
        },
      },
      '/v1/transfers/{id}/events': { get: lists.transferEvents },
      '/v1/transfers/{id}': {
        get: {
          summary: 'Read a transfer',
          parameters: [idParameter, ...queryParameters(ReadQuery)],
          responses: { ...ok('200', TransferResponse, 'The transfer'), ...problemResponses(400, 401, 403, 404, 503) },
        },
      },
      '/v1/transfers/{id}/post': {
        post: {
          summary: 'Post part or all of a hold (idempotent by the body id); final (default) releases the rest',
          parameters: [idParameter],
          requestBody: body(PostPendingBody),
          responses: {
            ...ok('200', TransferResponse, 'The hold as this post left it (the first answer again for a repeat)'),
            ...problemResponses(400, 401, 403, 404, 409, 413, 415, 422, 429, 503),
          },
        },
      },
      '/v1/transfers/{id}/void': {
        post: {
          summary: 'Release all a hold still holds (idempotent by the body id)',
          parameters: [idParameter],
          requestBody: body(VoidPendingBody),
          responses: {
            ...ok('200', TransferResponse, 'The hold as this void left it (the first answer again for a repeat)'),
            ...problemResponses(400, 401, 403, 404, 409, 413, 415, 422, 429, 503),
          },
        },
      },
      '/v1/transfers/{id}/reverse': {
        post: {
          summary: 'Reverse part or all of a posted transfer with a new transfer the other way (its id: the body id)',
          parameters: [idParameter],
          requestBody: body(ReverseBody),
          responses: {
            ...ok('201', TransferResponse, 'The reversal'),
            ...ok('200', TransferResponse, 'Reversed before with the same id and body'),
            ...problemResponses(400, 401, 403, 404, 409, 413, 415, 422, 429, 503),
          },
        },
      },
      '/v1/audit/replay': {
        post: {
          summary:
            'Balances at asOf as known at knownAt, replayed from the event store alone, compared with the read models',
          requestBody: body(ReplayBody),
          responses: {
            ...ok('200', ReplayResponse, 'The replay report'),
            ...problemResponses(400, 401, 403, 404, 413, 415, 429, 503),
          },
        },
      },
      '/v1/audit/digest': {
        get: {
          summary: 'The latest signed head of the hash chain (Ed25519)',
          responses: { ...ok('200', DigestResponse, 'The signed chain head'), ...problemResponses(400, 401, 403) },
        },
      },
      '/v1/audit/public-key': {
        get: {
          summary: 'The public key that verifies digests',
          responses: { ...ok('200', PublicKeyResponse, 'The public key'), ...problemResponses(401, 403) },
        },
      },
      '/v1/audit/public-keys': {
        get: {
          summary: 'Every key that ever signed a digest or a tree head, with the period it signed in (ADR 0022)',
          responses: {
            ...ok('200', PublicKeysResponse, 'The keys, oldest first'),
            ...problemResponses(400, 401, 403, 429),
          },
        },
      },
      '/v1/accounts/{id}/statement': {
        get: {
          summary:
            'Statement of a period as known at knownAt: opening balance, every entry, closing balance, and a signed tree head',
          parameters: [idParameter, ...queryParameters(StatementQuery)],
          responses: {
            '200': {
              description: 'The statement (format=json), or the same as CSV (format=csv)',
              content: {
                'application/json': { schema: out(StatementResponse) },
                'text/csv': { schema: { type: 'string' } },
              },
            },
            ...problemResponses(400, 401, 403, 404, 422, 429, 503),
          },
        },
      },
      '/v1/audit/tree-head': {
        get: {
          summary: 'The signed head of the Merkle tree of the first `size` events (RFC 9162; ADR 0021)',
          parameters: queryParameters(TreeHeadQuery),
          responses: {
            ...ok('200', TreeHeadResponse, 'The signed tree head'),
            ...problemResponses(400, 401, 403, 422, 429, 503),
          },
        },
      },
      '/v1/audit/proofs/inclusion': {
        get: {
          summary: 'RFC 9162 inclusion proof of the event at `position` in the tree of `treeSize` events',
          parameters: queryParameters(InclusionQuery),
          responses: {
            ...ok('200', InclusionResponse, 'The leaf and its audit path'),
            ...problemResponses(400, 401, 403, 422, 429, 503),
          },
        },
      },
      '/v1/audit/proofs/consistency': {
        get: {
          summary: 'RFC 9162 consistency proof from the tree of `from` events to the tree of `to` events',
          parameters: queryParameters(ConsistencyQuery),
          responses: {
            ...ok('200', ConsistencyResponse, 'The consistency proof'),
            ...problemResponses(400, 401, 403, 422, 429, 503),
          },
        },
      },
      '/v1/audit/verify': {
        get: {
          summary: 'Re-walks the hash chain and reports the first broken link, if any',
          responses: { ...ok('200', VerifyResponse, 'The walk of the chain'), ...problemResponses(400, 401, 403) },
        },
      },
      ...periodPaths({
        ok,
        problemResponses,
        queryParameters,
        body,
        pathParameter: (name, schema) => ({ name, in: 'path', required: true, schema: json(schema) }),
      }),
      ...fraudPaths({
        ok,
        problemResponses,
        queryParameters,
        body,
        pathParameter: (name, schema) => ({ name, in: 'path', required: true, schema: json(schema) }),
      }),
      '/health/live': { get: { summary: 'Liveness', security: [], responses: { '200': { description: 'Alive' } } } },
      '/health/ready': {
        get: {
          summary: 'Readiness of every dependency and role',
          security: [],
          responses: { '200': { description: 'Ready' }, '503': { description: 'Not ready' } },
        },
      },
      '/metrics': {
        get: { summary: 'Prometheus metrics', security: [], responses: { '200': { description: 'Prometheus text' } } },
      },
    },
  };
  return hoistDefinitions(completeOperations(document, problemResponse));
}

/**
 * zod puts each named schema (`.meta({ id })`) in a `$defs` of the schema that uses it and refers
 * to it as `#/$defs/Name`. Inside an OpenAPI 3.1 document such a ref resolves from the document's
 * root, where there is no `$defs`: every named schema would be unresolvable. So the definitions
 * move to `components.schemas` and the refs follow them.
 */
function hoistDefinitions<D extends { components: Record<string, unknown> }>(document: D): D {
  const schemas: Record<string, string> = {};
  const strip = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(strip);
    if (value === null || typeof value !== 'object') return value;
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      if (key === '$schema') continue;
      if (key === '$defs') {
        for (const [name, definition] of Object.entries(inner as Record<string, unknown>)) {
          const text = JSON.stringify(strip(definition));
          if (schemas[name] !== undefined && schemas[name] !== text)
            throw new Error(`two different schemas are named ${name}`);
          schemas[name] = text;
        }
        continue;
      }
      out[key] =
        key === '$ref' && typeof inner === 'string'
          ? inner.replace(/^#\/\$defs\//, '#/components/schemas/')
          : strip(inner);
    }
    return out;
  };
  const hoisted = strip(document) as D;
  hoisted.components.schemas = Object.fromEntries(
    Object.entries(schemas).map(([name, text]) => [name, JSON.parse(text)]),
  );
  return hoisted;
}
