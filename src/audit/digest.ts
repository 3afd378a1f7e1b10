import { type KeyObject, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { canonicalJson } from '../eventstore/hash-chain';
import { type SigningKey, keyIdOf, parsePrivateKey, signingKey } from './signing-keys';

export { type SigningKey, SigningKeyError, keyIdOf } from './signing-keys';

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

/** LEDGER_SIGNING_KEY alone (see signing-keys.ts for every way a process gets its keys). Unset: a new one. */
export function loadSigningKey(configured: string | undefined): SigningKey {
  return configured === undefined || configured.trim() === ''
    ? signingKey(generateKeyPairSync('ed25519').privateKey, { generated: true })
    : signingKey(parsePrivateKey(configured, 'LEDGER_SIGNING_KEY'), { generated: false });
}

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
/**
 * `publicKeys`: one public key (PEM), which must be the one the digest's fingerprint keyId names,
 * or every key by id (GET /v1/audit/public-keys), of which the digest's keyId picks one.
 */
export function digestProblem(digest: unknown, publicKeys: string | ReadonlyMap<string, string>): string | undefined {
  const d = digest as Partial<ChainDigest> | null;
  if (!d || typeof d !== 'object') return 'the digest is not a JSON object';
  for (const field of ['keyId', 'position', 'hash', 'signedAt', 'signature'] as const) {
    if (typeof d[field] !== 'string') return `the digest has no ${field}`;
  }
  if (d.algorithm !== 'Ed25519') return `the digest's algorithm is ${String(d.algorithm)}, not Ed25519`;
  if (!/^(0|[1-9][0-9]*)$/.test(d.position!)) return 'the digest position is not a decimal integer';
  if (!/^[0-9a-f]{64}$/.test(d.hash!)) return 'the digest hash is not 64 hex digits';
  const publicKeyPem = typeof publicKeys === 'string' ? publicKeys : publicKeys.get(d.keyId!);
  if (publicKeyPem === undefined)
    return `the digest was signed with key ${d.keyId}, which is not among the public keys given`;
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey(publicKeyPem);
  } catch (error) {
    return `the public key cannot be read: ${error instanceof Error ? error.message : error}`;
  }
  if (publicKey.asymmetricKeyType !== 'ed25519') return `the public key is ${publicKey.asymmetricKeyType}, not Ed25519`;
  if (typeof publicKeys === 'string' && keyIdOf(publicKey) !== d.keyId)
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
