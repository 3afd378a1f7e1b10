/**
 * The tree's storage unit: a complete (perfect) subtree of 2^level leaves, aligned on its size.
 * Subtree (level, index) covers leaves [index·2^level, (index+1)·2^level); level 0 is one leaf.
 * Once all its leaves exist its hash never changes, so it is written once and read ever after.
 *
 * Leaf counts are JavaScript numbers: exact up to 2^53 leaves, far beyond any log we keep.
 */
export interface Subtree {
  readonly level: number;
  readonly index: number;
}

/** Reads the hashes of complete subtrees that exist, in the order asked (one round trip for a whole proof). */
export interface SubtreeStore {
  hashes(subtrees: readonly Subtree[]): Promise<readonly Uint8Array[]>;
}

/** The largest power of two strictly less than n (n ≥ 2): RFC 9162's split point k. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * The complete subtrees that make up leaves [start, end), left to right, largest first. In every
 * range the RFC's recursion meets, `start` is a multiple of a power of two ≥ end − start, so the
 * binary digits of the size, high to low, give aligned subtrees, and MTH of the range is their
 * hashes folded from the right: MTH = H(s1, H(s2, … H(s_{k−1}, s_k))).
 */
export function decompose(start: number, end: number): Subtree[] {
  const parts: Subtree[] = [];
  let at = start;
  let remaining = end - start;
  while (remaining > 0) {
    let level = 0;
    while (2 ** (level + 1) <= remaining) level++;
    const size = 2 ** level;
    if (at % size !== 0) throw new RangeError(`leaves [${start}, ${end}) are not an RFC 9162 subtree range`);
    parts.push({ level, index: at / size });
    at += size;
    remaining -= size;
  }
  return parts;
}
