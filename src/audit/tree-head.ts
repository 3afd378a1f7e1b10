import { type KeyObject, createPublicKey, sign, verify } from 'node:crypto';

/**
 * A signed tree head (ADR 0021): "the first `treeSize` events of this ledger's log have the
 * RFC 9162 Merkle root `rootHash`", signed with Ed25519 by key `keyId`. Hashes and the signature
 * are lowercase hex.
 */
export interface SignedTreeHead {
  readonly treeSize: number;
  readonly rootHash: string;
  readonly signedAt: string;
  readonly keyId: string;
  readonly signature: string;
}

/** What is signed: the UTF-8 bytes of `ledger-tree-head:v1:<treeSize>:<rootHash>`. */
export const treeHeadMessage = (treeSize: number, rootHash: string): Buffer =>
  Buffer.from(`ledger-tree-head:v1:${treeSize}:${rootHash}`, 'utf8');

export function signTreeHead(
  key: { keyId: string; privateKey: KeyObject },
  treeSize: number,
  rootHash: string,
  signedAt: string,
): SignedTreeHead {
  const signature = sign(null, treeHeadMessage(treeSize, rootHash), key.privateKey).toString('hex');
  return { treeSize, rootHash, signedAt, keyId: key.keyId, signature };
}

/**
 * Why a tree head cannot be trusted, or undefined when its signature holds under the public key
 * its keyId names in `publicKeys` (keyId → PEM).
 */
export function treeHeadProblem(head: unknown, publicKeys: ReadonlyMap<string, string>): string | undefined {
  const h = head as Partial<SignedTreeHead> | null;
  if (!h || typeof h !== 'object') return 'the tree head is not a JSON object';
  if (!Number.isSafeInteger(h.treeSize) || (h.treeSize as number) < 0)
    return 'the tree head has no treeSize (an integer ≥ 0)';
  if (typeof h.rootHash !== 'string' || !/^[0-9a-f]{64}$/.test(h.rootHash))
    return 'the tree head rootHash is not 64 lowercase hex digits';
  if (typeof h.keyId !== 'string') return 'the tree head has no keyId';
  if (typeof h.signature !== 'string' || !/^[0-9a-f]{128}$/.test(h.signature))
    return 'the tree head signature is not 128 lowercase hex digits';
  const pem = publicKeys.get(h.keyId);
  if (pem === undefined)
    return `the tree head was signed with key ${h.keyId}, which is not among the public keys given`;
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey(pem);
  } catch (error) {
    return `the public key ${h.keyId} cannot be read: ${error instanceof Error ? error.message : error}`;
  }
  if (publicKey.asymmetricKeyType !== 'ed25519')
    return `the public key ${h.keyId} is ${publicKey.asymmetricKeyType}, not Ed25519`;
  const ok = verify(null, treeHeadMessage(h.treeSize!, h.rootHash), publicKey, Buffer.from(h.signature, 'hex'));
  return ok ? undefined : 'the signature does not match the tree head: it was altered or forged';
}
