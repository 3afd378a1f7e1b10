import { createHash, hash } from 'node:crypto';

/** RFC 9162 §2.1.1: the hash of a leaf, SHA-256(0x00 ‖ leaf). The prefix keeps a leaf from passing for a node. */
export function leafHash(leaf: Uint8Array): Buffer {
  // One-shot on the bytes joined: cheaper than a Hash object fed them in parts, for every event.
  return hash('sha256', Buffer.concat([LEAF_PREFIX, leaf]), 'buffer');
}

/** RFC 9162 §2.1.1: the hash of an interior node, SHA-256(0x01 ‖ left ‖ right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return hash('sha256', Buffer.concat([NODE_PREFIX, left, right]), 'buffer');
}

/** RFC 9162 §2.1.1: the root of the empty tree, SHA-256 of nothing. */
export const EMPTY_TREE_HASH: Buffer = createHash('sha256').digest();

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);
