import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ConfigError } from '../../config';

/** docs/contract.md, "Auth": what a key may do is decided by its role (see role-policy.ts). */
export const API_ROLES = ['operator', 'auditor', 'analyst', 'admin'] as const;
export type ApiRole = (typeof API_ROLES)[number];

/** A configured key as the process keeps it: its digest, never the key itself. */
export interface ApiKey {
  /** What events' metadata (`actor`), logs and metrics name the key by: a short digest, not the key. */
  readonly id: string;
  readonly role: ApiRole;
  readonly digest: Buffer;
}

/** One-shot (crypto.hash): it runs for every request, and needs no Hash object. */
const digestOf = (key: string): Buffer => hash('sha256', key, 'buffer');

/**
 * The key's public name: `key-` and the first 12 hex digits of its SHA-256. 48 bits say nothing
 * about a random key (a generated one has 256 bits), and stay the same when the list is reordered.
 */
export const apiKeyId = (key: string): string => `key-${digestOf(key).toString('hex').slice(0, 12)}`;

/** Parses `LEDGER_API_KEYS` (`key:role,key:role`). A key may itself contain ':'; the role is after the last one. */
export function parseApiKeys(value: string | undefined): ApiKey[] {
  if (value === undefined || value.trim() === '') return [];
  const keys: ApiKey[] = [];
  const seen = new Set<string>();
  value.split(',').forEach((entry, index) => {
    const pair = entry.trim();
    const colon = pair.lastIndexOf(':');
    // The message names the entry by position only: a key must never reach a log.
    const where = `LEDGER_API_KEYS entry ${index + 1}`;
    if (colon <= 0) throw new ConfigError(`${where} is not key:role (roles: ${API_ROLES.join(', ')})`);
    const key = pair.slice(0, colon);
    const role = pair.slice(colon + 1);
    if (!(API_ROLES as readonly string[]).includes(role)) {
      throw new ConfigError(`${where} has role "${role}"; use one of ${API_ROLES.join(', ')}`);
    }
    if (/\s/.test(key)) throw new ConfigError(`${where}: a key may not contain white space`);
    if (seen.has(key)) throw new ConfigError(`${where} repeats a key given before`);
    seen.add(key);
    keys.push({ id: apiKeyId(key), role: role as ApiRole, digest: digestOf(key) });
  });
  return keys;
}

/** A fresh admin key: 32 random bytes, URL-safe. */
export const generateApiKey = (): string => randomBytes(32).toString('base64url');

/**
 * The configured keys. `find` compares the presented key's digest with every configured digest in
 * constant time and looks at all of them whatever matches, so neither a key's content nor its
 * place in the list shows in the time it takes.
 */
export class ApiKeys {
  constructor(private readonly keys: readonly ApiKey[]) {}

  static fromConfig(value: string | undefined): ApiKeys {
    return new ApiKeys(parseApiKeys(value));
  }

  get size(): number {
    return this.keys.length;
  }

  find(presented: string): ApiKey | undefined {
    const digest = digestOf(presented);
    let found: ApiKey | undefined;
    for (const key of this.keys) {
      if (timingSafeEqual(digest, key.digest) && found === undefined) found = key;
    }
    return found;
  }
}

/** The key from `Authorization: Bearer <key>`; undefined when the header is absent or another scheme. */
export function bearerToken(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer[ ]+([^\s]+)[ ]*$/i.exec(header);
  return match?.[1];
}
