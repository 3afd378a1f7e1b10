/**
 * Proofs of the log (ADR 0021): signed tree heads and RFC 9162 proofs served over HTTP, checked
 * here with the RFC's own algorithms (test/support/rfc9162-reference.ts, which shares no code
 * with src/) and the public keys alone.
 */
import { createHash, createPublicKey, verify } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem, expectValidation, logHead, postTransfer } from '../api/api-helpers';
import { startTestApp, type TestApp } from '../support/app';
import { HASH_LEAF, rfcVerifyConsistency, rfcVerifyInclusion } from '../support/rfc9162-reference';
import { caughtUpTreeHead, seedLedger } from './audit-helpers';

const unhex = (text: string) => Buffer.from(text, 'hex');

describe('Merkle proofs of the log', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
    await seedLedger(t, 'p');
  });
  afterAll(async () => t?.close());

  it('signs tree heads over `ledger-tree-head:v1:<treeSize>:<rootHash>` with a key GET /v1/audit/public-keys lists', async () => {
    const head = await caughtUpTreeHead(t);
    expect(head).toMatchObject({ treeSize: expect.any(Number), rootHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const keys = await t.request('GET', '/v1/audit/public-keys');
    expect(keys.status).toBe(200);
    const key = keys.body.keys.find((k: { keyId: string }) => k.keyId === head.keyId);
    expect(key).toMatchObject({ active: true, algorithm: 'Ed25519', firstSignedAt: expect.any(String) });
    const message = Buffer.from(`ledger-tree-head:v1:${head.treeSize}:${head.rootHash}`, 'utf8');
    expect(verify(null, message, createPublicKey(key.publicKey), unhex(head.signature))).toBe(true);
    // On demand again: the same signed document, not a new signature each time.
    expect((await t.request('GET', `/v1/audit/tree-head?size=${head.treeSize}`)).body).toEqual(head);
  });

  it('proves every event of the log into the signed root, its leaf being the bytes its chain hash covers', async () => {
    const head = await caughtUpTreeHead(t);
    const events = await t.tdb.query<{ position: string; prev_hash: string; hash: string }>(
      `select position::text as position, encode(prev_hash, 'hex') as prev_hash, encode(hash, 'hex') as hash from events order by position`,
    );
    expect(events).toHaveLength(head.treeSize);
    for (const event of events) {
      const proof = await t.request(
        'GET',
        `/v1/audit/proofs/inclusion?position=${event.position}&treeSize=${head.treeSize}`,
      );
      expect(proof.status, proof.text).toBe(200);
      const leaf = Buffer.from(proof.body.leaf, 'base64');
      expect(proof.body.leafIndex).toBe(Number(event.position) - 1);
      expect(proof.body.leafHash).toBe(HASH_LEAF(leaf).toString('hex'));
      const chained = createHash('sha256').update(unhex(event.prev_hash)).update(leaf).digest('hex');
      expect(chained, 'the leaf is what the chain hashes').toBe(event.hash);
      const path = proof.body.auditPath.map(unhex);
      expect(rfcVerifyInclusion(proof.body.leafIndex, head.treeSize, HASH_LEAF(leaf), path, unhex(head.rootHash))).toBe(
        true,
      );
    }
  });

  it('proves each earlier tree head consistent with the later one', async () => {
    const later = await caughtUpTreeHead(t);
    for (let from = 1; from <= later.treeSize; from++) {
      const earlier = (await t.request('GET', `/v1/audit/tree-head?size=${from}`)).body;
      const proof = await t.request('GET', `/v1/audit/proofs/consistency?from=${from}&to=${later.treeSize}`);
      expect(proof.status, proof.text).toBe(200);
      expect(proof.body).toMatchObject({ from, to: later.treeSize });
      const ok = rfcVerifyConsistency(
        from,
        later.treeSize,
        unhex(earlier.rootHash),
        unhex(later.rootHash),
        proof.body.proof.map(unhex),
      );
      expect(ok, `${from} → ${later.treeSize}`).toBe(true);
    }
  });

  it('keeps the tree growing with the log', async () => {
    const before = await caughtUpTreeHead(t);
    await postTransfer(t, { id: 'p-more', debitAccountId: 'p-bank', creditAccountId: 'p-bob', amount: '3' });
    const after = await caughtUpTreeHead(t);
    expect(after.treeSize).toBe(before.treeSize + 1);
    const proof = (await t.request('GET', `/v1/audit/proofs/consistency?from=${before.treeSize}&to=${after.treeSize}`))
      .body;
    expect(
      rfcVerifyConsistency(
        before.treeSize,
        after.treeSize,
        unhex(before.rootHash),
        unhex(after.rootHash),
        proof.proof.map(unhex),
      ),
    ).toBe(true);
  });

  it('answers sizes and positions beyond the log with 422, and malformed ones with 400, changing nothing', async () => {
    const head = Number(await logHead(t));
    expectProblem(await t.request('GET', `/v1/audit/tree-head?size=${head + 1}`), 422, 'tree-size-out-of-range');
    expectProblem(
      await t.request('GET', `/v1/audit/proofs/consistency?from=1&to=${head + 5}`),
      422,
      'tree-size-out-of-range',
    );
    expectProblem(
      await t.request('GET', `/v1/audit/proofs/inclusion?position=${head + 1}`),
      422,
      'position-out-of-range',
    );
    expectProblem(
      await t.request('GET', '/v1/audit/proofs/inclusion?position=3&treeSize=2'),
      422,
      'position-out-of-range',
    );
    expectProblem(await t.request('GET', '/v1/audit/proofs/inclusion?position=0'), 422, 'position-out-of-range');
    expectValidation(await t.request('GET', '/v1/audit/proofs/consistency?from=3&to=2'), 'query.from');
    expectValidation(await t.request('GET', '/v1/audit/proofs/consistency?from=0&to=2'), 'query.from');
    expectValidation(await t.request('GET', '/v1/audit/tree-head?size=-1'), 'query.size');
    expectValidation(await t.request('GET', '/v1/audit/tree-head?size=1.5'), 'query.size');
    expectValidation(await t.request('GET', '/v1/audit/proofs/inclusion'), 'query.position');
    expectValidation(await t.request('GET', '/v1/audit/tree-head?sizes=1'), 'query');
    const empty = await t.request('GET', '/v1/audit/tree-head?size=0');
    expect(empty.body.rootHash).toBe(createHash('sha256').digest('hex'));
  });
});
