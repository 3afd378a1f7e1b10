import {
  type KeyObject,
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
} from 'node:crypto';
import { canonicalJson } from '../eventstore/hash-chain';

/**
 * Signed chain heads (ADR 0006). A digest says: "the event at `position` of this ledger's log has
 * hash `hash`", signed with Ed25519. Since each hash covers every event before it, a digest
 * commits to the whole history up to `position`; an auditor who kept one can later prove that
 * history was not rewritten, with nothing but the public key.
 */
export interface ChainDigest {
  readonly algorithm: 'Ed25519';
  readonly keyId: string;
  readonly position: string;
  readonly hash: string;
  /** recordedAt of the event at `position` (null for an empty log). */
  readonly recordedAt: string | null;
  readonly signedAt: string;
  /** base64 of the Ed25519 signature over `digestMessage`. */
  readonly signature: string;
}

/** What is signed: a fixed tag and the digest's fields, as canonical JSON (UTF-8). */
export function digestMessage(digest: Omit<ChainDigest, 'signature' | 'algorithm'>): Buffer {
  return Buffer.from(
    canonicalJson({
      type: 'ledger.chain-head.v1',
      keyId: digest.keyId,
      position: digest.position,
      hash: digest.hash,
      recordedAt: digest.recordedAt,
      signedAt: digest.signedAt,
    }),
  );
}

export interface SigningKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** First 16 hex digits of the SHA-256 of the public key (SubjectPublicKeyInfo, DER). */
  readonly keyId: string;
  readonly publicKeyPem: string;
  /** Generated for this process because none was configured. */
  readonly generated: boolean;
}

// PKCS#8 wrapping of a raw 32-byte Ed25519 seed (RFC 8410).
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export class SigningKeyError extends Error {}

/** LEDGER_SIGNING_KEY: an Ed25519 private key as PKCS#8 PEM, or its 32-byte seed in hex or base64. Unset: a new one. */
export function loadSigningKey(configured: string | undefined): SigningKey {
  let privateKey: KeyObject;
  if (configured === undefined || configured.trim() === '') {
    privateKey = generateKeyPairSync('ed25519').privateKey;
  } else {
    const text = configured.trim();
    try {
      if (text.includes('BEGIN')) privateKey = createPrivateKey(text.replace(/\\n/g, '\n'));
      else {
        const seed = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
        if (seed.length !== 32) throw new SigningKeyError(`a seed must be 32 bytes, this one is ${seed.length}`);
        privateKey = createPrivateKey({
          key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]),
          format: 'der',
          type: 'pkcs8',
        });
      }
    } catch (error) {
      throw new SigningKeyError(
        `LEDGER_SIGNING_KEY is not an Ed25519 private key (PKCS#8 PEM, or a 32-byte seed in hex or base64): ${error instanceof Error ? error.message : error}`,
      );
    }
    if (privateKey.asymmetricKeyType !== 'ed25519')
      throw new SigningKeyError(`LEDGER_SIGNING_KEY is a ${privateKey.asymmetricKeyType} key, not Ed25519`);
  }
  const publicKey = createPublicKey(privateKey);
  return {
    privateKey,
    publicKey,
    keyId: keyIdOf(publicKey),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    generated: configured === undefined || configured.trim() === '',
  };
}

export const keyIdOf = (publicKey: KeyObject): string =>
  createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);

export function signDigest(
  key: SigningKey,
  head: { position: bigint; hash: string; recordedAt: string | null },
  signedAt: string,
): ChainDigest {
  const fields = {
    keyId: key.keyId,
    position: head.position.toString(),
    hash: head.hash,
    recordedAt: head.recordedAt,
    signedAt,
  };
  return {
    algorithm: 'Ed25519',
    ...fields,
    signature: sign(null, digestMessage(fields), key.privateKey).toString('base64'),
  };
}

/** Why a digest cannot be trusted, or undefined when its signature holds for this public key. */
export function digestProblem(digest: unknown, publicKeyPem: string): string | undefined {
  const d = digest as Partial<ChainDigest> | null;
  if (!d || typeof d !== 'object') return 'the digest is not a JSON object';
  for (const field of ['keyId', 'position', 'hash', 'signedAt', 'signature'] as const) {
    if (typeof d[field] !== 'string') return `the digest has no ${field}`;
  }
  if (d.algorithm !== 'Ed25519') return `the digest's algorithm is ${String(d.algorithm)}, not Ed25519`;
  if (!/^(0|[1-9][0-9]*)$/.test(d.position!)) return 'the digest position is not a decimal integer';
  if (!/^[0-9a-f]{64}$/.test(d.hash!)) return 'the digest hash is not 64 hex digits';
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey(publicKeyPem);
  } catch (error) {
    return `the public key cannot be read: ${error instanceof Error ? error.message : error}`;
  }
  if (publicKey.asymmetricKeyType !== 'ed25519') return `the public key is ${publicKey.asymmetricKeyType}, not Ed25519`;
  if (keyIdOf(publicKey) !== d.keyId)
    return `the digest was signed with key ${d.keyId}, not with this public key (${keyIdOf(publicKey)})`;
  const fields = {
    keyId: d.keyId!,
    position: d.position!,
    hash: d.hash!,
    recordedAt: d.recordedAt ?? null,
    signedAt: d.signedAt!,
  };
  const ok = verify(null, digestMessage(fields), publicKey, Buffer.from(d.signature!, 'base64'));
  return ok ? undefined : 'the signature does not match the digest: it was altered or forged';
}
