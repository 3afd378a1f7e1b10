import type { Account } from './account';

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
  const snapshot = data as Partial<AccountSnapshotData> | null;
  if (!snapshot || snapshot.schema !== ACCOUNT_SNAPSHOT_SCHEMA || typeof snapshot.account !== 'object') {
    return undefined;
  }
  const decoded: Record<string, unknown> = { ...snapshot.account };
  for (const field of AMOUNT_FIELDS) {
    const value = decoded[field];
    if (typeof value !== 'string' || !/^-?\d+$/.test(value)) {
      throw new Error(`account snapshot of ${String(decoded.id)}: ${field} is not a decimal string`);
    }
    decoded[field] = BigInt(value);
  }
  return decoded as unknown as Account;
}
