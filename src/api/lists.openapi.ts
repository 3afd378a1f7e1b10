import type { z } from 'zod';
import {
  AccountsPageResponse,
  BalanceHistoryQuery,
  BalanceHistoryResponse,
  ListAccountsQuery,
  ListTransfersQuery,
  TransfersPageResponse,
} from './list-schemas';
import { TransferEventsQuery, TransferEventsResponse } from './transfer-events.controller';

/** What openapi.ts lends to build an operation from zod schemas. */
export interface OperationKit {
  readonly ok: (status: string, schema: z.ZodType, description: string) => Record<string, unknown>;
  readonly problemResponses: (...statuses: number[]) => Record<string, unknown>;
  readonly queryParameters: (schema: z.ZodObject) => object[];
  readonly idParameter: object;
}

/** What the path builders of other route groups get: bodies and path parameters, no list id. */
export type PathKit = Omit<OperationKit, 'idParameter'> & {
  readonly body: (schema: z.ZodType) => object;
  readonly pathParameter: (name: string, schema: z.ZodType) => object;
};

const METADATA_FILTER =
  'Filter on metadata with query keys `metadata.<key>=<value>` (any number, up to 32): only rows whose metadata holds every pair.';

/** The list and history operations (ADR 0025). */
export function listOperations(kit: OperationKit) {
  const { ok, problemResponses, queryParameters, idParameter } = kit;
  return {
    listAccounts: {
      summary: 'Accounts, oldest first (openedAt, id), in cursor pages',
      description: METADATA_FILTER,
      parameters: queryParameters(ListAccountsQuery),
      responses: {
        ...ok('200', AccountsPageResponse, 'A page of accounts'),
        ...problemResponses(400, 401, 403, 429, 503),
      },
    },
    listTransfers: {
      summary: 'Transfers, oldest first (recordedAt, id), in cursor pages; from/to bound recordedAt',
      description: METADATA_FILTER,
      parameters: queryParameters(ListTransfersQuery),
      responses: {
        ...ok('200', TransfersPageResponse, 'A page of transfers'),
        ...problemResponses(400, 401, 403, 429, 503),
      },
    },
    transferEvents: {
      summary: "A transfer's own events from the event store, with each one's hash-chain link, in cursor pages",
      parameters: [idParameter, ...queryParameters(TransferEventsQuery)],
      responses: {
        ...ok('200', TransferEventsResponse, 'A page of events, in stream order'),
        ...problemResponses(400, 401, 403, 404, 429),
      },
    },
    balanceHistory: {
      summary:
        'Balance at `points` evenly spaced instants from `from` to `to` (both included), as known at knownAt, from the time index',
      description: 'at_i = from + floor(i × (to − from) / (points − 1)) milliseconds.',
      parameters: [idParameter, ...queryParameters(BalanceHistoryQuery)],
      responses: {
        ...ok('200', BalanceHistoryResponse, 'The balance at each instant'),
        ...problemResponses(400, 401, 403, 404, 429, 503),
      },
    },
  };
}
