import { createHash } from 'node:crypto';

// ---------------------------------------------------------------------------------------------
// An independent reference, written from RFC 9162 alone (it imports nothing from src/):
// MTH, PATH and PROOF straight from their recursive definitions in §2.1.1, §2.1.3.1 and §2.1.4.1
// over an array of leaves, and the verifiers of §2.1.3.2 and §2.1.4.2 step by step.
// ---------------------------------------------------------------------------------------------
const sha256 = (...parts: Uint8Array[]): Buffer => {
  const h = createHash('sha256');
  for (const part of parts) h.update(part);
  return h.digest();
};
export const HASH_LEAF = (leaf: Uint8Array) => sha256(Uint8Array.of(0), leaf);
export const HASH_NODE = (l: Uint8Array, r: Uint8Array) => sha256(Uint8Array.of(1), l, r);
const largestPowerOfTwoBelow = (n: number) => 2 ** Math.floor(Math.log2(n - 1));

export function MTH(D: readonly Uint8Array[]): Buffer {
  if (D.length === 0) return sha256();
  if (D.length === 1) return HASH_LEAF(D[0]!);
  const k = largestPowerOfTwoBelow(D.length);
  return HASH_NODE(MTH(D.slice(0, k)), MTH(D.slice(k)));
}

export function PATH(m: number, D: readonly Uint8Array[]): Buffer[] {
  if (D.length <= 1) return [];
  const k = largestPowerOfTwoBelow(D.length);
  return m < k ? [...PATH(m, D.slice(0, k)), MTH(D.slice(k))] : [...PATH(m - k, D.slice(k)), MTH(D.slice(0, k))];
}

export function SUBPROOF(m: number, D: readonly Uint8Array[], b: boolean): Buffer[] {
  const n = D.length;
  if (m === n) return b ? [] : [MTH(D)];
  const k = largestPowerOfTwoBelow(n);
  return m <= k
    ? [...SUBPROOF(m, D.slice(0, k), b), MTH(D.slice(k))]
    : [...SUBPROOF(m - k, D.slice(k), false), MTH(D.slice(0, k))];
}
export const PROOF = (m: number, D: readonly Uint8Array[]) => SUBPROOF(m, D, true);

const isSet = (x: number) => x % 2 === 1;
const shift = (x: number) => Math.floor(x / 2);

/** §2.1.3.2, step for step. */
export function rfcVerifyInclusion(
  leafIndex: number,
  treeSize: number,
  hash: Buffer,
  path: Buffer[],
  root: Buffer,
): boolean {
  if (leafIndex >= treeSize) return false; // 1
  let fn = leafIndex; // 2
  let sn = treeSize - 1;
  let r = hash; // 3
  for (const p of path) {
    // 4
    if (sn === 0) return false; // 4a
    if (isSet(fn) || fn === sn) {
      // 4b
      r = HASH_NODE(p, r); // 4b i
      if (!isSet(fn)) while (!(isSet(fn) || fn === 0)) [fn, sn] = [shift(fn), shift(sn)]; // 4b ii
    } else {
      r = HASH_NODE(r, p);
    }
    [fn, sn] = [shift(fn), shift(sn)]; // 4c
  }
  return sn === 0 && r.equals(root); // 5
}

/** §2.1.4.2, step for step (for first < second; equal sizes need an empty proof and equal roots). */
export function rfcVerifyConsistency(
  first: number,
  second: number,
  firstHash: Buffer,
  secondHash: Buffer,
  proof: Buffer[],
) {
  if (first === second) return proof.length === 0 && firstHash.equals(secondHash);
  if (proof.length === 0) return false; // 1
  const path = Number.isInteger(Math.log2(first)) ? [firstHash, ...proof] : [...proof]; // 2
  let fn = first - 1; // 3
  let sn = second - 1;
  if (isSet(fn)) while (isSet(fn)) [fn, sn] = [shift(fn), shift(sn)]; // 4
  let fr = path[0]!; // 5
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    // 6
    if (sn === 0) return false; // 6a
    if (isSet(fn) || fn === sn) {
      fr = HASH_NODE(c, fr); // 6b i
      sr = HASH_NODE(c, sr);
      if (!isSet(fn)) while (!(isSet(fn) || fn === 0)) [fn, sn] = [shift(fn), shift(sn)]; // 6b ii
    } else {
      sr = HASH_NODE(sr, c);
    }
    [fn, sn] = [shift(fn), shift(sn)]; // 6c
  }
  return fr.equals(firstHash) && sr.equals(secondHash) && sn === 0; // 7
}
