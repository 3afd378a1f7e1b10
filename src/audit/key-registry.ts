import { type Kysely, sql } from 'kysely';
import { isoTimestamp } from '../platform/sql';
import { type SigningKey, SigningKeyError } from './signing-keys';

export interface PublishedKey {
  readonly keyId: string;
  readonly algorithm: 'Ed25519';
  /** SubjectPublicKeyInfo, PEM. */
  readonly publicKey: string;
  /** The first and last time it signed a digest or a tree head; null until it signs. */
  readonly firstSignedAt: string | null;
  readonly lastSignedAt: string | null;
  /** Whether this process signs with it now. */
  readonly active: boolean;
}

/**
 * Every key that ever signed, kept in the database (migrations/0041, ADR 0022): a key's public
 * part outlives its configuration, so what it signed still verifies after a rotation or a restart.
 */
export class KeyRegistry {
  constructor(
    // biome-ignore lint/suspicious/noExplicitAny: any schema holding migrations/0041
    private readonly db: Kysely<any>,
    private readonly activeKeyId: string,
  ) {}

  /** Registers the keys a process holds; refuses a known id that now stands for another key. */
  async register(keys: readonly SigningKey[]): Promise<void> {
    for (const key of keys) {
      await sql`insert into audit_signing_keys (key_id, public_key) values (${key.keyId}, ${key.publicKeyPem})
                on conflict (key_id) do nothing`.execute(this.db);
      const kept = await sql<{ public_key: string }>`
        select public_key from audit_signing_keys where key_id = ${key.keyId}`.execute(this.db);
      if (kept.rows[0]?.public_key.trim() !== key.publicKeyPem.trim())
        throw new SigningKeyError(
          `signing key id ${key.keyId} named a different key before: a key id is never reused (give the new key a new id)`,
        );
    }
  }

  /** Widens the key's signing period to include `at`. */
  async signedWith(keyId: string, at: string): Promise<void> {
    await sql`update audit_signing_keys
              set first_signed_at = least(coalesce(first_signed_at, ${at}::timestamptz), ${at}::timestamptz),
                  last_signed_at = greatest(coalesce(last_signed_at, ${at}::timestamptz), ${at}::timestamptz)
              where key_id = ${keyId}`.execute(this.db);
  }

  async list(): Promise<PublishedKey[]> {
    const rows = await sql<{ key_id: string; public_key: string; first: string | null; last: string | null }>`
      select key_id, public_key, ${isoTimestamp('first_signed_at')} as first, ${isoTimestamp('last_signed_at')} as last
      from audit_signing_keys order by registered_at, key_id`.execute(this.db);
    return rows.rows.map((row) => ({
      keyId: row.key_id,
      algorithm: 'Ed25519',
      publicKey: row.public_key,
      firstSignedAt: row.first,
      lastSignedAt: row.last,
      active: row.key_id === this.activeKeyId,
    }));
  }
}
