import { nodeHash } from './hashes';

/**
 * The RFC 9162 verification algorithms, for the offline auditor: they take a proof as served and
 * need nothing but hashes. (The tests check our proofs with a verifier of their own, written from
 * the RFC apart from this one.)
 */

/** RFC 9162 §2.1.3.2: whether `auditPath` proves `leafHashValue` is leaf `leafIndex` of the tree with `root`. */
export function verifyInclusion(
  leafIndex: bigint,
  treeSize: bigint,
  leafHashValue: Uint8Array,
  auditPath: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (leafIndex < 0n || leafIndex >= treeSize) return false;
  let fn = leafIndex;
  let sn = treeSize - 1n;
  let r: Buffer = Buffer.from(leafHashValue);
  for (const p of auditPath) {
    if (sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      r = nodeHash(p, r);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n && r.equals(root);
}

/** RFC 9162 §2.1.4.2: whether `proof` shows the tree of `toSize` (root `toRoot`) extends the one of `fromSize` (`fromRoot`). */
export function verifyConsistency(
  fromSize: bigint,
  toSize: bigint,
  fromRoot: Uint8Array,
  toRoot: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  if (fromSize < 1n || fromSize > toSize) return false;
  if (fromSize === toSize) return proof.length === 0 && Buffer.from(fromRoot).equals(toRoot);
  if (proof.length === 0) return false;
  const path = (fromSize & (fromSize - 1n)) === 0n ? [fromRoot, ...proof] : [...proof];
  let fn = fromSize - 1n;
  let sn = toSize - 1n;
  while ((fn & 1n) === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  let fr: Buffer = Buffer.from(path[0]!);
  let sr: Buffer = Buffer.from(path[0]!);
  for (const c of path.slice(1)) {
    if (sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return fr.equals(fromRoot) && sr.equals(toRoot) && sn === 0n;
}
