import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type KeyObject, createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';

export interface SigningKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** The id LEDGER_SIGNING_KEYS gives it, else the first 16 hex digits of the SHA-256 of the public key (SubjectPublicKeyInfo, DER). */
  readonly keyId: string;
  readonly publicKeyPem: string;
  /** Generated for this process because none was configured. */
  readonly generated: boolean;
}

export class SigningKeyError extends Error {}

export const keyIdOf = (publicKey: KeyObject): string =>
  createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);

// PKCS#8 wrapping of a raw 32-byte Ed25519 seed (RFC 8410).
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** The keys a process holds: the one it signs with now, and the others configured (rotated out, or not yet in use). */
export interface KeyRing {
  readonly active: SigningKey;
  readonly all: readonly SigningKey[];
  /** Where the key came from, for the start-up log (never the key itself). */
  readonly source: 'LEDGER_SIGNING_KEYS' | 'LEDGER_SIGNING_KEY' | 'generated' | 'data-dir';
  /** The file that keeps a generated key, when there is one. */
  readonly file?: string;
}

/** A key id as LEDGER_SIGNING_KEYS names it: what tree heads and digests carry as keyId. */
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** An Ed25519 private key as PKCS#8 PEM (`\n` may be written as the two characters), or its 32-byte seed in hex or base64. */
export function parsePrivateKey(text: string, where: string): KeyObject {
  let privateKey: KeyObject;
  const trimmed = text.trim();
  try {
    if (trimmed.includes('BEGIN')) privateKey = createPrivateKey(trimmed.replace(/\\n/g, '\n'));
    else {
      const seed = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
      if (seed.length !== 32) throw new SigningKeyError(`a seed must be 32 bytes, this one is ${seed.length}`);
      privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
    }
  } catch (error) {
    // The message never repeats the key.
    throw new SigningKeyError(
      `${where} is not an Ed25519 private key (PKCS#8 PEM, or a 32-byte seed in hex or base64): ${error instanceof Error ? error.message : error}`,
    );
  }
  if (privateKey.asymmetricKeyType !== 'ed25519')
    throw new SigningKeyError(`${where} is a ${privateKey.asymmetricKeyType} key, not Ed25519`);
  return privateKey;
}

export function signingKey(privateKey: KeyObject, options: { keyId?: string; generated: boolean }): SigningKey {
  const publicKey = createPublicKey(privateKey);
  return {
    privateKey,
    publicKey,
    keyId: options.keyId ?? keyIdOf(publicKey),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    generated: options.generated,
  };
}

/**
 * `LEDGER_SIGNING_KEYS`: `id:key,id:key,…` (key as for `parsePrivateKey`); the FIRST entry signs,
 * the others are kept so their public parts are published (a key rotated out, or one about to
 * take over). Rotating is: put the new key first and keep the old one after it (or drop it: its
 * public part stays in the database either way, ADR 0022).
 */
export function parseSigningKeys(value: string): SigningKey[] {
  const keys: SigningKey[] = [];
  value.split(',').forEach((entry, index) => {
    const where = `LEDGER_SIGNING_KEYS entry ${index + 1}`;
    const colon = entry.indexOf(':');
    if (colon <= 0) throw new SigningKeyError(`${where} is not id:key`);
    const keyId = entry.slice(0, colon).trim();
    if (!KEY_ID.test(keyId)) throw new SigningKeyError(`${where}: the id must be 1–64 characters of [A-Za-z0-9._-]`);
    if (keys.some((k) => k.keyId === keyId)) throw new SigningKeyError(`${where} repeats the id ${keyId}`);
    keys.push(signingKey(parsePrivateKey(entry.slice(colon + 1), where), { keyId, generated: false }));
  });
  if (keys.length === 0) throw new SigningKeyError('LEDGER_SIGNING_KEYS names no key');
  return keys;
}

export interface KeySettings {
  readonly LEDGER_SIGNING_KEYS?: string | undefined;
  readonly LEDGER_SIGNING_KEY?: string | undefined;
  /** Set: the database is a server, and a generated key lives only as long as the process. */
  readonly DATABASE_URL?: string | undefined;
  readonly LEDGER_DATA_DIR: string;
}

const GENERATED_KEY_FILE = 'signing-key.pem';

/**
 * The signing keys of a process: LEDGER_SIGNING_KEYS, else LEDGER_SIGNING_KEY (one key, named by
 * its fingerprint as before), else a generated key. In the embedded default (no DATABASE_URL, a
 * data directory on disk) the generated key is kept in LEDGER_DATA_DIR/signing-key.pem, mode
 * 0600, and read back at the next start, so the ledger keeps signing with one key.
 */
export function loadKeyRing(settings: KeySettings): KeyRing {
  if (settings.LEDGER_SIGNING_KEYS?.trim()) {
    const all = parseSigningKeys(settings.LEDGER_SIGNING_KEYS);
    return { active: all[0]!, all, source: 'LEDGER_SIGNING_KEYS' };
  }
  if (settings.LEDGER_SIGNING_KEY?.trim()) {
    const key = signingKey(parsePrivateKey(settings.LEDGER_SIGNING_KEY, 'LEDGER_SIGNING_KEY'), { generated: false });
    return { active: key, all: [key], source: 'LEDGER_SIGNING_KEY' };
  }
  const onDisk = !settings.DATABASE_URL && !settings.LEDGER_DATA_DIR.startsWith('memory://');
  if (!onDisk) {
    const key = signingKey(generateKeyPairSync('ed25519').privateKey, { generated: true });
    return { active: key, all: [key], source: 'generated' };
  }
  const file = path.resolve(settings.LEDGER_DATA_DIR, GENERATED_KEY_FILE);
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
    // Someone loosened the file's mode: tighten it again rather than go on signing with a key others may read.
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    mkdirSync(path.dirname(file), { recursive: true });
    pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    // 'wx': two processes starting at once on one directory keep the first one's key.
    try {
      writeFileSync(file, pem, { mode: 0o600, flag: 'wx' });
    } catch (raced) {
      if ((raced as NodeJS.ErrnoException).code !== 'EEXIST') throw raced;
      pem = readFileSync(file, 'utf8');
    }
  }
  const key = signingKey(parsePrivateKey(pem, file), { generated: true });
  return { active: key, all: [key], source: 'data-dir', file };
}
