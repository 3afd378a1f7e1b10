import type { LedgerError, LedgerErrorSlug } from '../domain/errors';

export type ProblemSlug =
  | LedgerErrorSlug
  | 'validation'
  | 'unauthenticated'
  | 'forbidden'
  | 'not-found'
  | 'method-not-allowed'
  | 'payload-too-large'
  | 'headers-too-large'
  | 'malformed-request'
  | 'request-timeout'
  | 'unsupported-media-type'
  | 'rate-limited'
  | 'not-caught-up'
  | 'overloaded'
  | 'unavailable'
  | 'internal'
  | 'dead-letter-not-found'
  | 'dead-letter-resolved'
  | 'tree-size-out-of-range'
  | 'position-out-of-range'
  | 'statement-too-large';

/** Every problem a client can see: its HTTP status and a title that does not change. */
const CATALOGUE: Record<ProblemSlug, { status: number; title: string }> = {
  validation: { status: 400, title: 'The request is not valid' },
  unauthenticated: { status: 401, title: 'An API key is needed' },
  forbidden: { status: 403, title: 'This key may not do that' },
  'malformed-request': { status: 400, title: 'The request is not valid HTTP' },
  'request-timeout': { status: 408, title: 'The request took too long to arrive' },
  'headers-too-large': { status: 431, title: 'The request line or headers are too large' },
  'not-found': { status: 404, title: 'No such route' },
  'account-not-found': { status: 404, title: 'No such account' },
  'transfer-not-found': { status: 404, title: 'No such transfer' },
  'method-not-allowed': { status: 405, title: 'Method not allowed here' },
  'idempotency-conflict': { status: 409, title: 'That id was used for a different command' },
  'payload-too-large': { status: 413, title: 'The request body is too large' },
  'unsupported-media-type': { status: 415, title: 'The body must be application/json' },
  'insufficient-funds': { status: 422, title: 'The account cannot go beyond its balance constraint' },
  'currency-mismatch': { status: 422, title: 'Currencies do not match' },
  'account-not-open': { status: 422, title: 'The account is not open' },
  'same-account': { status: 422, title: 'Debit and credit accounts are the same' },
  'batch-aborted': { status: 422, title: 'The atomic batch was not posted' },
  'effective-time-out-of-range': { status: 422, title: 'effectiveAt is out of range' },
  'exceeds-pending': { status: 422, title: 'The post is more than the hold still holds' },
  'transfer-not-pending': { status: 422, title: 'The transfer is not a pending hold' },
  'exceeds-reversible': { status: 422, title: 'The reversal is more than is left to reverse' },
  'dead-letter-not-found': { status: 404, title: 'No such dead letter' },
  'dead-letter-resolved': { status: 409, title: 'The dead letter was scored already' },
  'tree-size-out-of-range': { status: 422, title: 'The log does not hold that many events' },
  'position-out-of-range': { status: 422, title: 'No event at that position in that tree' },
  'statement-too-large': { status: 422, title: 'The statement holds too many entries' },
  'review-not-found': { status: 404, title: 'No open or resolved review for this transfer' },
  'review-resolved': { status: 409, title: 'The review was resolved already' },
  'under-review': { status: 422, title: 'The transfer is under fraud review' },
  'period-closed': { status: 422, title: 'The posting falls into a closed period' },
  'period-not-over': { status: 422, title: 'A period closes only once it is over' },
  'period-close-not-later': { status: 422, title: 'The books are closed through a later instant already' },
  'not-in-closed-period': { status: 422, title: 'An adjustment must fall into a closed period' },
  'adjustment-not-found': { status: 404, title: 'No such adjustment' },
  'self-approval': { status: 403, title: 'An adjustment needs a second key to approve it' },
  'actor-required': { status: 403, title: 'The command needs an API key' },
  'rate-limited': { status: 429, title: 'Too many requests' },
  internal: { status: 500, title: 'Something went wrong on our side' },
  'not-caught-up': { status: 503, title: 'The read models have not caught up yet' },
  overloaded: { status: 503, title: 'The ledger is saturated' },
  unavailable: { status: 503, title: 'A dependency is unavailable' },
};

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  errors?: Array<{ path: string; message: string }>;
  [extension: string]: unknown;
}

export const problemType = (slug: ProblemSlug): string => `/problems/${slug}`;

export function problem(
  slug: ProblemSlug,
  detail: string,
  extensions: Partial<Pick<ProblemDocument, 'errors' | 'instance'>> & Record<string, unknown> = {},
): ProblemDocument {
  const { status, title } = CATALOGUE[slug];
  return { type: problemType(slug), title, status, detail, ...extensions };
}

export const problemFromLedgerError = (error: LedgerError): ProblemDocument => problem(error.slug, error.detail);

/** Thrown inside the API layer; the exception filter writes it as application/problem+json. */
export class ProblemException extends Error {
  constructor(
    readonly problem: ProblemDocument,
    readonly headers: Record<string, string> = {},
  ) {
    super(problem.detail);
    this.name = 'ProblemException';
  }
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';
