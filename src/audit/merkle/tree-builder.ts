import { EMPTY_TREE_HASH, nodeHash } from './hashes';
import { type Subtree, decompose } from './subtrees';

export interface SubtreeHash extends Subtree {
  readonly hash: Buffer;
}

/**
 * Grows the tree one leaf at a time, producing each complete subtree the moment its last leaf
 * arrives. It keeps only the right edge (the complete subtrees of the current size, largest
 * first: at most log2 n of them), so appending is O(1) amortized hashes and needs no reads.
 * Appending is binary increment: a new leaf merges with the edge's last subtree while they are
 * the same size.
 */
export class TreeBuilder {
  private readonly edge: SubtreeHash[];
  private leaves: number;

  /** `edge`: the hashes of `decompose(0, size)`, in that order (what `edgeOf` names). */
  constructor(size: number, edge: readonly SubtreeHash[]) {
    const expected = edgeOf(size);
    if (
      edge.length !== expected.length ||
      edge.some((s, i) => s.level !== expected[i]!.level || s.index !== expected[i]!.index)
    )
      throw new Error(`the right edge given does not match a tree of ${size} leaves`);
    this.edge = [...edge];
    this.leaves = size;
  }

  get size(): number {
    return this.leaves;
  }

  /** MTH of the leaves so far: the right edge folded from the right (RFC 9162 §2.1.1). */
  root(): Buffer {
    if (this.edge.length === 0) return EMPTY_TREE_HASH;
    let folded = this.edge.at(-1)!.hash;
    for (let i = this.edge.length - 2; i >= 0; i--) folded = nodeHash(this.edge[i]!.hash, folded);
    return folded;
  }

  /** Adds the next leaf by its leaf hash; returns the complete subtrees it completes, the leaf first. */
  append(leafHashValue: Buffer): SubtreeHash[] {
    let node: SubtreeHash = { level: 0, index: this.leaves, hash: leafHashValue };
    const made = [node];
    while (this.edge.length > 0 && this.edge.at(-1)!.level === node.level) {
      const left = this.edge.pop()!;
      node = { level: node.level + 1, index: left.index / 2, hash: nodeHash(left.hash, node.hash) };
      made.push(node);
    }
    this.edge.push(node);
    this.leaves++;
    return made;
  }
}

/** The complete subtrees on the right edge of a tree of `size` leaves: what a TreeBuilder resumes from. */
export const edgeOf = (size: number): Subtree[] => decompose(0, size);
