import { describe, expect, it } from 'vitest';
import { MemorySubtreeStore } from './memory-store';
import { consistencyProof, inclusionProof, rootHash } from './proofs';
import { TreeBuilder, edgeOf } from './tree-builder';
import { verifyConsistency, verifyInclusion } from './verify';
import { leafHash } from './hashes';
import {
  HASH_LEAF,
  MTH,
  PATH,
  PROOF,
  rfcVerifyConsistency,
  rfcVerifyInclusion,
} from '../../../test/support/rfc9162-reference';

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
