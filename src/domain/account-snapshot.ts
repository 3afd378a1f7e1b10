import type { Account, AccountFlags, AccountStatus, Side } from './account';

/**
 * An account's whole state as the write side keeps it beside its stream (ADR 0013), so a cold
 * account loads in O(1) whatever its history. JSON-safe: every bigint as a decimal string.
 *
 * Adding a field to `Account`: a bigint field must be named in AMOUNT_FIELDS (the compiler says
 * so), and SCHEMA bumped whenever an older snapshot would decode wrong. A snapshot of another
 * schema decodes as absent: the account is folded from its events once and a fresh snapshot kept.
 */
export const ACCOUNT_SNAPSHOT_SCHEMA = 1;

type BigintKeys<T> = { [K in keyof T]-?: T[K] extends bigint ? K : never }[keyof T];

const AMOUNT_FIELDS = [
  'debitsPosted',
  'creditsPosted',
  'debitsPending',
  'creditsPending',
] as const satisfies readonly BigintKeys<Account>[];

// Fails to compile when Account gains a bigint field that AMOUNT_FIELDS does not name.
type Unlisted = Exclude<BigintKeys<Account>, (typeof AMOUNT_FIELDS)[number]>;
const everyAmountListed: [Unlisted] extends [never] ? true : Unlisted = true;
void everyAmountListed;

export type AccountSnapshotData = {
  readonly schema: number;
  readonly account: { readonly [K in keyof Account]: Account[K] extends bigint ? string : Account[K] };
};

export function encodeAccountSnapshot(account: Account): AccountSnapshotData {
  const encoded: Record<string, unknown> = { ...account };
  for (const field of AMOUNT_FIELDS) encoded[field] = account[field].toString();
  return { schema: ACCOUNT_SNAPSHOT_SCHEMA, account: encoded as AccountSnapshotData['account'] };
}

/** The account a snapshot holds; undefined for a snapshot of another schema (fold the events instead). */
export function decodeAccountSnapshot(data: unknown): Account | undefined {
  if (!isObject(data) || data.schema !== ACCOUNT_SNAPSHOT_SCHEMA) return undefined;
  const { account } = data;
  if (!isObject(account)) throw new AccountSnapshotError('?', 'account', 'an object');
  const id = typeof account.id === 'string' ? account.id : '?';
  const read = <T>(field: string, what: string, ok: (value: unknown) => value is T): T => {
    const value = account[field];
    if (!ok(value)) throw new AccountSnapshotError(id, field, what);
    return value;
  };
  const amount = (field: (typeof AMOUNT_FIELDS)[number]): bigint => BigInt(read(field, 'a decimal string', isDecimal));
  const flags = read('flags', 'the two balance flags', isFlags);
  const code = read('code', 'a string or absent', isOptionalString);
  return {
    id: read('id', 'a string', isString),
    currency: read('currency', 'a string', isString),
    normalSide: read('normalSide', 'debit or credit', isSide),
    flags: {
      debitsMustNotExceedCredits: flags.debitsMustNotExceedCredits,
      creditsMustNotExceedDebits: flags.creditsMustNotExceedDebits,
    },
    status: read('status', 'open, frozen or closed', isStatus),
    debitsPosted: amount('debitsPosted'),
    creditsPosted: amount('creditsPosted'),
    debitsPending: amount('debitsPending'),
    creditsPending: amount('creditsPending'),
    version: read('version', 'a whole number', isWholeNumber),
    openedAt: read('openedAt', 'a string', isString),
    ...(code === undefined ? {} : { code }),
    metadata: read('metadata', 'an object of strings', isStringRecord),
  };
}

/** A stored snapshot that has the current schema but not its shape: damage, not an older schema. */
export class AccountSnapshotError extends Error {
  constructor(accountId: string, field: string, what: string) {
    super(`account snapshot of ${accountId}: ${field} is not ${what}`);
    this.name = 'AccountSnapshotError';
  }
}

const isObject = (value: unknown): value is Readonly<Record<string, unknown>> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isString = (value: unknown): value is string => typeof value === 'string';
const isOptionalString = (value: unknown): value is string | undefined => value === undefined || isString(value);
const isDecimal = (value: unknown): value is string => isString(value) && /^-?\d+$/.test(value);
const isWholeNumber = (value: unknown): value is number => Number.isSafeInteger(value);
const isSide = (value: unknown): value is Side => value === 'debit' || value === 'credit';
const isStatus = (value: unknown): value is AccountStatus =>
  value === 'open' || value === 'frozen' || value === 'closed';
const isFlags = (value: unknown): value is AccountFlags =>
  isObject(value) &&
  typeof value.debitsMustNotExceedCredits === 'boolean' &&
  typeof value.creditsMustNotExceedDebits === 'boolean';
const isStringRecord = (value: unknown): value is Readonly<Record<string, string>> =>
  isObject(value) && Object.values(value).every(isString);
