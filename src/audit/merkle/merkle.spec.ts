import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MemorySubtreeStore } from './memory-store';
import { consistencyProof, inclusionProof, rootHash } from './proofs';
import { TreeBuilder, edgeOf } from './tree-builder';
import { verifyConsistency, verifyInclusion } from './verify';
import { leafHash } from './hashes';

// ---------------------------------------------------------------------------------------------
// An independent reference, written from RFC 9162 alone (it imports nothing from this folder):
// MTH, PATH and PROOF straight from their recursive definitions in §2.1.1, §2.1.3.1 and §2.1.4.1
// over an array of leaves, and the verifiers of §2.1.3.2 and §2.1.4.2 step by step.
// ---------------------------------------------------------------------------------------------
const sha256 = (...parts: Uint8Array[]): Buffer => {
  const h = createHash('sha256');
  for (const part of parts) h.update(part);
  return h.digest();
};
const HASH_LEAF = (leaf: Uint8Array) => sha256(Uint8Array.of(0), leaf);
const HASH_NODE = (l: Uint8Array, r: Uint8Array) => sha256(Uint8Array.of(1), l, r);
const largestPowerOfTwoBelow = (n: number) => 2 ** Math.floor(Math.log2(n - 1));

function MTH(D: readonly Uint8Array[]): Buffer {
  if (D.length === 0) return sha256();
  if (D.length === 1) return HASH_LEAF(D[0]!);
  const k = largestPowerOfTwoBelow(D.length);
  return HASH_NODE(MTH(D.slice(0, k)), MTH(D.slice(k)));
}

function PATH(m: number, D: readonly Uint8Array[]): Buffer[] {
  if (D.length <= 1) return [];
  const k = largestPowerOfTwoBelow(D.length);
  return m < k ? [...PATH(m, D.slice(0, k)), MTH(D.slice(k))] : [...PATH(m - k, D.slice(k)), MTH(D.slice(0, k))];
}

function SUBPROOF(m: number, D: readonly Uint8Array[], b: boolean): Buffer[] {
  const n = D.length;
  if (m === n) return b ? [] : [MTH(D)];
  const k = largestPowerOfTwoBelow(n);
  return m <= k
    ? [...SUBPROOF(m, D.slice(0, k), b), MTH(D.slice(k))]
    : [...SUBPROOF(m - k, D.slice(k), false), MTH(D.slice(0, k))];
}
const PROOF = (m: number, D: readonly Uint8Array[]) => SUBPROOF(m, D, true);

const isSet = (x: number) => x % 2 === 1;
const shift = (x: number) => Math.floor(x / 2);

/** §2.1.3.2, step for step. */
function rfcVerifyInclusion(leafIndex: number, treeSize: number, hash: Buffer, path: Buffer[], root: Buffer): boolean {
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
function rfcVerifyConsistency(first: number, second: number, firstHash: Buffer, secondHash: Buffer, proof: Buffer[]) {
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
// ---------------------------------------------------------------------------------------------

const leafBytes = (i: number): Buffer => Buffer.from(`{"event":${i},"pad":"${'x'.repeat(i % 7)}"}`);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function buildTree(leaves: readonly Uint8Array[]) {
  const store = new MemorySubtreeStore();
  const builder = new TreeBuilder(0, []);
  for (const leaf of leaves) store.put(builder.append(leafHash(leaf)));
  return store;
}

describe('Merkle tree (RFC 9162 §2.1)', () => {
  it('gives the roots of the Certificate Transparency test vectors', async () => {
    // The eight leaves and roots of RFC 6962's reference tests (certificate-transparency, merkle_tree_test).
    const leaves = [
      '',
      '00',
      '10',
      '2021',
      '3031',
      '40414243',
      '5051525354555657',
      '606162636465666768696a6b6c6d6e6f',
    ].map((h) => Buffer.from(h, 'hex'));
    const roots = [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
      'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
      '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
      '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
      'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
      '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
    ];
    const store = buildTree(leaves);
    for (let size = 1; size <= 8; size++)
      expect(hex(await rootHash(store, size)), `size ${size}`).toBe(roots[size - 1]);
    expect(hex(await rootHash(store, 0))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('serves, for every size 1..64, the RFC root, audit paths and consistency proofs, and the RFC verifier accepts them', async () => {
    const leaves = Array.from({ length: 64 }, (_, i) => leafBytes(i));
    const store = buildTree(leaves); // one store of 64 leaves answers every smaller tree too
    for (let n = 1; n <= 64; n++) {
      const D = leaves.slice(0, n);
      const root = await rootHash(store, n);
      expect(hex(root), `MTH of ${n}`).toBe(hex(MTH(D)));
      for (let m = 0; m < n; m++) {
        const path = await inclusionProof(store, m, n);
        expect(path.map(hex), `PATH(${m}, D[${n}])`).toEqual(PATH(m, D).map(hex));
        expect(rfcVerifyInclusion(m, n, HASH_LEAF(leaves[m]!), path, root)).toBe(true);
        expect(verifyInclusion(BigInt(m), BigInt(n), HASH_LEAF(leaves[m]!), path, root)).toBe(true);
      }
      for (let m = 1; m <= n; m++) {
        const proof = await consistencyProof(store, m, n);
        expect(proof.map(hex), `PROOF(${m}, D[${n}])`).toEqual(PROOF(m, D).map(hex));
        const fromRoot = MTH(leaves.slice(0, m));
        expect(rfcVerifyConsistency(m, n, fromRoot, root, proof), `consistency ${m}→${n}`).toBe(true);
        expect(verifyConsistency(BigInt(m), BigInt(n), fromRoot, root, proof)).toBe(true);
      }
    }
  });

  it('fails both verifiers when one leaf changes: its inclusion against the old root, and the old root against the new tree', async () => {
    const leaves = Array.from({ length: 37 }, (_, i) => leafBytes(i));
    const honest = buildTree(leaves);
    const signedRoot = await rootHash(honest, 30); // a head an auditor kept
    const tampered = [...leaves];
    tampered[12] = Buffer.from('{"event":12,"amount":"999999"}');
    const forged = buildTree(tampered);

    const path = await inclusionProof(forged, 12, 30);
    expect(rfcVerifyInclusion(12, 30, HASH_LEAF(tampered[12]!), path, signedRoot)).toBe(false);
    expect(verifyInclusion(12n, 30n, HASH_LEAF(tampered[12]!), path, signedRoot)).toBe(false);
    // …while an untouched leaf of the forged tree also fails: its path passes the changed subtree.
    expect(rfcVerifyInclusion(13, 30, HASH_LEAF(tampered[13]!), await inclusionProof(forged, 13, 30), signedRoot)).toBe(
      false,
    );

    const proof = await consistencyProof(forged, 30, 37);
    const forgedRoot = await rootHash(forged, 37);
    expect(rfcVerifyConsistency(30, 37, signedRoot, forgedRoot, proof)).toBe(false);
    expect(verifyConsistency(30n, 37n, signedRoot, forgedRoot, proof)).toBe(false);
  });

  it('refuses proofs for the wrong index, size or a truncated path', async () => {
    const leaves = Array.from({ length: 21 }, (_, i) => leafBytes(i));
    const store = buildTree(leaves);
    const root = await rootHash(store, 21);
    const path = await inclusionProof(store, 5, 21);
    expect(verifyInclusion(6n, 21n, HASH_LEAF(leaves[5]!), path, root)).toBe(false);
    expect(verifyInclusion(5n, 40n, HASH_LEAF(leaves[5]!), path, root)).toBe(false); // a tree whose path to leaf 5 is longer
    expect(verifyInclusion(5n, 21n, HASH_LEAF(leaves[5]!), path.slice(1), root)).toBe(false);
    expect(verifyInclusion(21n, 21n, HASH_LEAF(leaves[5]!), path, root)).toBe(false);
    const proof = await consistencyProof(store, 7, 21);
    expect(verifyConsistency(7n, 21n, MTH(leaves.slice(0, 7)), root, proof.slice(0, -1))).toBe(false);
    expect(verifyConsistency(8n, 21n, MTH(leaves.slice(0, 7)), root, proof)).toBe(false);
    await expect(inclusionProof(store, 21, 21)).rejects.toThrow(RangeError);
    await expect(consistencyProof(store, 0, 21)).rejects.toThrow(RangeError);
    await expect(consistencyProof(store, 22, 21)).rejects.toThrow(RangeError);
  });

  it('resumes from the right edge alone: a builder restarted at any size makes the same subtrees', () => {
    const leaves = Array.from({ length: 50 }, (_, i) => leafHash(leafBytes(i)));
    const whole = new Map<string, string>();
    const one = new TreeBuilder(0, []);
    for (const leaf of leaves) for (const s of one.append(leaf)) whole.set(`${s.level}/${s.index}`, hex(s.hash));
    for (const cut of [1, 2, 3, 7, 8, 31, 32, 33]) {
      const before = new TreeBuilder(0, []);
      const made = new Map<string, Buffer>();
      for (const leaf of leaves.slice(0, cut))
        for (const s of before.append(leaf)) made.set(`${s.level}/${s.index}`, s.hash);
      const edge = edgeOf(cut).map((s) => ({ ...s, hash: made.get(`${s.level}/${s.index}`)! }));
      const resumed = new TreeBuilder(cut, edge);
      for (const leaf of leaves.slice(cut))
        for (const s of resumed.append(leaf)) expect(hex(s.hash)).toBe(whole.get(`${s.level}/${s.index}`));
    }
    expect(() => new TreeBuilder(5, [])).toThrow(/right edge/);
  });
});
