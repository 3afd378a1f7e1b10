import { EMPTY_TREE_HASH, nodeHash } from './hashes';
import { type SubtreeStore, decompose, splitPoint } from './subtrees';

/** Leaves [start, end) of the log: a range whose MTH is one element of a proof. */
export interface LeafRange {
  readonly start: number;
  readonly end: number;
}

/**
 * RFC 9162 §2.1.3.1, PATH(m, D[n]) as the ranges whose hashes make the audit path, leaf to root:
 * for k the largest power of two below n, PATH(m, D[0:k]) : MTH(D[k:n]) when m < k, else
 * PATH(m − k, D[k:n]) : MTH(D[0:k]). Walked top-down here, so the siblings come out root first and
 * are reversed.
 */
export function inclusionRanges(leafIndex: number, treeSize: number): LeafRange[] {
  assertLeafCount(treeSize);
  if (!Number.isSafeInteger(leafIndex) || leafIndex < 0 || leafIndex >= treeSize)
    throw new RangeError(`leaf ${leafIndex} is not in a tree of ${treeSize} leaves`);
  const siblings: LeafRange[] = [];
  let start = 0;
  let end = treeSize;
  while (end - start > 1) {
    const k = splitPoint(end - start);
    if (leafIndex - start < k) {
      siblings.push({ start: start + k, end });
      end = start + k;
    } else {
      siblings.push({ start, end: start + k });
      start += k;
    }
  }
  return siblings.reverse();
}

/**
 * RFC 9162 §2.1.4.1, PROOF(m, D[n]) = SUBPROOF(m, D[n], true) as ranges, for 0 < m ≤ n:
 * SUBPROOF(m, D[m], true) = {}, SUBPROOF(m, D[m], false) = {MTH(D[m])}; for m < n and k the largest
 * power of two below n, SUBPROOF(m, D[0:k], b) : MTH(D[k:n]) when m ≤ k, else
 * SUBPROOF(m − k, D[k:n], false) : MTH(D[0:k]). Equal sizes give the empty proof.
 */
export function consistencyRanges(fromSize: number, toSize: number): LeafRange[] {
  assertLeafCount(fromSize);
  assertLeafCount(toSize);
  if (fromSize < 1 || fromSize > toSize)
    throw new RangeError(`no consistency proof from ${fromSize} to ${toSize} leaves: need 1 ≤ from ≤ to`);
  const out: LeafRange[] = [];
  let start = 0;
  let end = toSize;
  let m = fromSize;
  let whole = true;
  for (;;) {
    const n = end - start;
    if (m === n) {
      if (!whole) out.push({ start, end });
      break;
    }
    const k = splitPoint(n);
    if (m <= k) {
      out.push({ start: start + k, end });
      end = start + k;
    } else {
      out.push({ start, end: start + k });
      m -= k;
      start += k;
      whole = false;
    }
  }
  return out.reverse();
}

/**
 * MTH of each range, from the complete subtrees that make it up, read in one call to the store.
 * A range of n leaves is at most ⌈log2 n⌉ subtrees; a whole proof is O(log² n) in the worst case
 * of the reads and usually O(log n), since the ranges of a proof are mostly complete subtrees.
 */
export async function rangeHashes(store: SubtreeStore, ranges: readonly LeafRange[]): Promise<Buffer[]> {
  const parts = ranges.map((range) => decompose(range.start, range.end));
  const hashes = await store.hashes(parts.flat());
  let at = 0;
  return parts.map((subtrees) => {
    const mine = hashes.slice(at, at + subtrees.length);
    at += subtrees.length;
    if (mine.length !== subtrees.length) throw new Error('the subtree store answered fewer hashes than asked');
    let folded: Buffer = Buffer.from(mine.at(-1)!);
    for (let i = mine.length - 2; i >= 0; i--) folded = nodeHash(mine[i]!, folded);
    return folded;
  });
}

/** RFC 9162 §2.1.1: MTH of the first `treeSize` leaves (the empty tree's hash for 0). */
export async function rootHash(store: SubtreeStore, treeSize: number): Promise<Buffer> {
  assertLeafCount(treeSize);
  if (treeSize === 0) return EMPTY_TREE_HASH;
  const [root] = await rangeHashes(store, [{ start: 0, end: treeSize }]);
  return root!;
}

export async function inclusionProof(store: SubtreeStore, leafIndex: number, treeSize: number): Promise<Buffer[]> {
  return rangeHashes(store, inclusionRanges(leafIndex, treeSize));
}

export async function consistencyProof(store: SubtreeStore, fromSize: number, toSize: number): Promise<Buffer[]> {
  return rangeHashes(store, consistencyRanges(fromSize, toSize));
}

function assertLeafCount(size: number): void {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`${size} is not a tree size`);
}
