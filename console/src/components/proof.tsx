import { type InclusionProof, type PublicKeys, type TreeHead, get } from '../api';
import { canVerify, fromBase64, leafHash, rootFromInclusion, verifyTreeHeadSignature } from '../merkle';

export interface HeadCheck {
  head: TreeHead;
  /** true / false: checked here; undefined: this browser cannot check Ed25519. */
  signature: boolean | undefined;
}

/** Fetches the signed tree head (of `size` events, or the latest) and checks its signature here. */
export async function checkedTreeHead(size?: number): Promise<HeadCheck> {
  const head = await get<TreeHead>('/v1/audit/tree-head', { size });
  const { keys } = await get<PublicKeys>('/v1/audit/public-keys');
  const key = keys.find((k) => k.keyId === head.keyId);
  const signature = key && canVerify() ? await verifyTreeHeadSignature(head, key.publicKey) : undefined;
  return { head, signature: key ? signature : false };
}

export interface InclusionCheck {
  proof: InclusionProof;
  head: HeadCheck;
  /** The leaf's hash recomputed from its bytes equals the proof's; the path leads to the head's root. */
  leafMatches: boolean;
  rootMatches: boolean;
}

/** Proves an event (by log position) is in the latest signed tree, recomputing every hash here. */
export async function checkInclusion(position: string): Promise<InclusionCheck> {
  const head = await checkedTreeHead();
  const proof = await get<InclusionProof>('/v1/audit/proofs/inclusion', {
    position,
    treeSize: head.head.treeSize,
  });
  const leafMatches = (await leafHash(fromBase64(proof.leaf))) === proof.leafHash;
  const root = await rootFromInclusion(proof.leafIndex, proof.treeSize, proof.leafHash, proof.auditPath);
  return { proof, head, leafMatches, rootMatches: root === head.head.rootHash };
}

export const signatureText = (signature: boolean | undefined): string =>
  signature === true
    ? 'signature verified here'
    : signature === false
      ? 'SIGNATURE DOES NOT VERIFY'
      : 'signature not checked (this browser has no Ed25519; use npm run audit)';
