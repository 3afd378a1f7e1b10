/**
 * What every operation of the OpenAPI document says the same way, filled in after the routes are
 * described (src/api/openapi.ts and the files beside it), so a route added later cannot forget it:
 * an operationId (generated clients get real method names), and every status the service can answer
 * whatever the route, with the problem schema (docs/contract.md, "Errors"). A test compares the
 * document with what the fuzz test observes, and lints it with Redocly's recommended rules.
 */

type Responses = Record<string, unknown>;
interface Operation {
  operationId?: string;
  security?: unknown[];
  parameters?: Array<{ name: string; in: string }>;
  requestBody?: unknown;
  responses: Responses;
}

/** Names for the v1 routes; a route not named here gets one from its method and path. */
const OPERATION_IDS: Record<string, string> = {
  'get /v1/accounts': 'listAccounts',
  'post /v1/accounts': 'openAccount',
  'get /v1/accounts/{id}': 'getAccount',
  'get /v1/accounts/{id}/balance': 'getBalance',
  'get /v1/accounts/{id}/entries': 'listEntries',
  'get /v1/accounts/{id}/balance-history': 'getBalanceHistory',
  'post /v1/accounts/{id}/freeze': 'freezeAccount',
  'post /v1/accounts/{id}/unfreeze': 'unfreezeAccount',
  'post /v1/accounts/{id}/close': 'closeAccount',
  'get /v1/transfers': 'listTransfers',
  'post /v1/transfers': 'postTransfer',
  'post /v1/transfers/batch': 'postTransferBatch',
  'get /v1/transfers/{id}': 'getTransfer',
  'get /v1/transfers/{id}/events': 'listTransferEvents',
  'post /v1/audit/replay': 'replayBalances',
  'get /v1/audit/digest': 'getDigest',
  'get /v1/audit/public-key': 'getPublicKey',
  'get /v1/audit/verify': 'verifyChain',
  'get /health/live': 'getLiveness',
  'get /health/ready': 'getReadiness',
  'get /metrics': 'getMetrics',
};

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;
const WITH_BODY = new Set(['post', 'put', 'patch', 'delete']);

/** `post /v1/fraud/dead-letters/{id}/retry` → `postFraudDeadLettersByIdRetry`. */
export function derivedOperationId(method: string, path: string): string {
  const words = path
    .split('/')
    .filter((segment) => segment !== '' && segment !== 'v1')
    .map((segment) => (segment.startsWith('{') ? `by-${segment.slice(1, -1)}` : segment))
    .flatMap((segment) => segment.split(/[-_.]/))
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1));
  return method + words.join('');
}

/**
 * The statuses any operation may answer besides its own: 400 (a path that is not valid
 * percent-encoding), 415 (a body, or a Content-Type, that is not JSON: refused before any route),
 * 431 (request line and headers over the limit); with a key: 401, 403, 429 (the per-key rate
 * limit); with a body: 413; reading with `minPosition`: 503 `not-caught-up`.
 */
export function commonStatuses(method: string, operation: Operation): number[] {
  const statuses = [400, 415, 431];
  const open = Array.isArray(operation.security) && operation.security.length === 0;
  if (!open) statuses.push(401, 403, 429);
  if (WITH_BODY.has(method)) statuses.push(413);
  if (operation.parameters?.some((p) => p.in === 'query' && p.name === 'minPosition')) statuses.push(503);
  return statuses;
}

export function completeOperations<D extends { paths: Record<string, Record<string, unknown>> }>(
  document: D,
  problemResponse: () => unknown,
): D {
  const seen = new Set<string>();
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method] as Operation | undefined;
      if (!operation) continue;
      operation.operationId ??= OPERATION_IDS[`${method} ${path}`] ?? derivedOperationId(method, path);
      if (seen.has(operation.operationId)) throw new Error(`operationId ${operation.operationId} is used twice`);
      seen.add(operation.operationId);
      for (const status of commonStatuses(method, operation)) {
        operation.responses[String(status)] ??= problemResponse();
      }
      operation.responses = Object.fromEntries(
        Object.entries(operation.responses).sort(([a], [b]) => a.localeCompare(b)),
      );
    }
  }
  return document;
}
