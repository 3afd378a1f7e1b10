import { session } from './session';

/** An RFC 9457 problem the ledger answered with, or one made up for a network failure. */
export class Problem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly slug: string,
    readonly errors: Array<{ path: string; message: string }> = [],
  ) {
    super(`${title}: ${detail}`);
  }
}

type Query = Record<string, string | number | undefined | null>;

export const query = (params: Query): string => {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
};

/** Calls the ledger with the session's key; any non-2xx answer becomes a Problem. */
export async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const key = session.key();
  if (key) headers.authorization = `Bearer ${key}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: 'omit',
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch (error) {
    throw new Problem(0, 'The ledger did not answer', String(error), 'network');
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!response.ok) {
    const p = (parsed ?? {}) as { title?: string; detail?: string; type?: string; errors?: Problem['errors'] };
    throw new Problem(
      response.status,
      p.title ?? `HTTP ${response.status}`,
      p.detail ?? (text.slice(0, 200) || response.statusText),
      (p.type ?? '').split('/').pop() ?? '',
      p.errors ?? [],
    );
  }
  return parsed as T;
}

export const get = <T>(path: string, params: Query = {}) => call<T>('GET', `${path}${query(params)}`);
export const post = <T>(path: string, body: unknown) => call<T>('POST', path, body);

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface Account {
  id: string;
  currency: string;
  normalSide: 'debit' | 'credit';
  status: 'open' | 'frozen' | 'closed';
  debitsPosted: string;
  creditsPosted: string;
  balance: string;
  debitsPending?: string;
  creditsPending?: string;
  available?: string;
  version: number;
  openedAt: string;
  code?: string;
  metadata: Record<string, string>;
  position: string;
  flags: { debitsMustNotExceedCredits: boolean; creditsMustNotExceedDebits: boolean };
}

export interface Risk {
  score: number;
  decision: string;
  modelVersion: string;
  scoredAt: string;
}

export interface Transfer {
  id: string;
  debitAccountId: string;
  creditAccountId: string;
  amount: string;
  currency: string;
  status: string;
  code?: string;
  reference?: string;
  metadata: Record<string, string>;
  effectiveAt: string;
  recordedAt: string;
  position: string;
  pendingAmount?: string;
  postedAmount?: string;
  reversedAmount?: string;
  expiresAt?: string;
  reverses?: string;
  risk?: Risk;
}

export interface Entry {
  transferId: string;
  side: 'debit' | 'credit';
  amount: string;
  balanceAfter: string;
  effectiveAt: string;
  recordedAt: string;
}

export interface HistoryPoint {
  at: string;
  balance: string;
  debitsPosted: string;
  creditsPosted: string;
}

export interface History {
  accountId: string;
  currency: string;
  from: string;
  to: string;
  knownAt: string;
  points: HistoryPoint[];
}

export interface RecordedEvent {
  position: string;
  revision: string;
  type: string;
  recordedAt: string;
  prevHash: string;
  hash: string;
  data: Record<string, unknown>;
}

export interface ReplayReport {
  asOf: string;
  knownAt: string;
  eventsReplayed: number;
  accounts: Array<{
    accountId: string;
    currency: string;
    balance: string;
    debitsPosted: string;
    creditsPosted: string;
    readModelBalance: string | null;
    matches: boolean;
  }>;
  mismatches: number;
}

export interface Verification {
  intact: boolean;
  eventsChecked: number;
  head: { position: string; hash: string };
  last: { position: string; hash: string };
  firstBroken: { position: string; reason: string; detail: string } | null;
}

export interface Review {
  transferId: string;
  status: 'open' | 'resolved';
  recordedAt: string;
  debitAccountId: string;
  creditAccountId: string;
  amount: string;
  currency: string;
  risk: Risk;
  resolution: {
    id: string;
    outcome: 'fraud' | 'legitimate';
    note: string;
    resolvedAt: string;
    actor: string | null;
  } | null;
  compensation: { state: 'none' | 'pending' | 'done' };
}

export interface TreeHead {
  treeSize: number;
  rootHash: string;
  signedAt: string;
  keyId: string;
  signature: string;
}

export interface InclusionProof {
  leafIndex: number;
  treeSize: number;
  leaf: string;
  leafHash: string;
  auditPath: string[];
}

export interface PublicKeys {
  keys: Array<{ keyId: string; algorithm: 'Ed25519'; publicKey: string; active: boolean }>;
}
