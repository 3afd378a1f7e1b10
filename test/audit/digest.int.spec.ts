import { createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChainDigest, digestMessage, digestProblem, keyIdOf } from '../../src/audit/digest';
import { startTestApp, type TestApp } from '../support/app';
import { logHead, postTransfer } from '../api/api-helpers';
import { seedLedger } from './audit-helpers';

const SEED_HEX = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60'; // RFC 8032 test 1

describe('signed chain heads: GET /v1/audit/digest and /v1/audit/public-key', () => {
  let t: TestApp;
  let seed: Awaited<ReturnType<typeof seedLedger>>;
  beforeAll(async () => {
    t = await startTestApp({ LEDGER_SIGNING_KEY: SEED_HEX });
    seed = await seedLedger(t, 'd');
  });
  afterAll(() => t.close());

  it('signs the head of the log; the signature verifies with the published key', async () => {
    const key = await t.request('GET', '/v1/audit/public-key');
    expect(key.status, key.text).toBe(200);
    expect(key.body).toMatchObject({ algorithm: 'Ed25519', keyId: expect.stringMatching(/^[0-9a-f]{16}$/) });
    // RFC 8032 test vector 1: this seed's public key is d75a9801…
    expect(createPublicKey(key.body.publicKey).export({ type: 'spki', format: 'der' }).toString('hex')).toMatch(
      /d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a$/,
    );
    const digest = await t.request('GET', '/v1/audit/digest');
    expect(digest.status, digest.text).toBe(200);
    const [head] = await t.tdb.query<{ position: string; hash: string }>(
      `select position::text as position, encode(hash, 'hex') as hash from log_head`,
    );
    expect(digest.body).toMatchObject({
      algorithm: 'Ed25519',
      keyId: key.body.keyId,
      position: seed.head,
      hash: head!.hash,
    });
    expect(digestProblem(digest.body, key.body.publicKey)).toBeUndefined();
  });

  it('gives the same digest until the log moves, then a new one', async () => {
    const first = (await t.request('GET', '/v1/audit/digest')).body;
    expect((await t.request('GET', '/v1/audit/digest')).body).toEqual(first);
    await postTransfer(t, { id: 'd-more', debitAccountId: seed.ids.bank, creditAccountId: seed.ids.bob, amount: '3' });
    const next = (await t.request('GET', '/v1/audit/digest')).body;
    expect(next.position).toBe(await logHead(t));
    expect(next.position).not.toBe(first.position);
  });

  it('keeps one key across processes with LEDGER_SIGNING_KEY', async () => {
    const other = await startTestApp({ LEDGER_SIGNING_KEY: Buffer.from(SEED_HEX, 'hex').toString('base64') }, t.tdb);
    try {
      expect((await other.request('GET', '/v1/audit/public-key')).body).toEqual(
        (await t.request('GET', '/v1/audit/public-key')).body,
      );
    } finally {
      await other.ledger.close();
    }
  });

  describe('a forged digest is refused', () => {
    let digest: ChainDigest;
    let publicKey: string;
    beforeAll(async () => {
      digest = (await t.request('GET', '/v1/audit/digest')).body;
      publicKey = (await t.request('GET', '/v1/audit/public-key')).body.publicKey;
    });

    it.each([
      [
        'another hash',
        (d: ChainDigest) => ({ ...d, hash: d.hash.replace(/^./, (c) => (c === '0' ? '1' : '0')) }),
        /signature does not match/,
      ],
      [
        'another position',
        (d: ChainDigest) => ({ ...d, position: String(BigInt(d.position) + 1n) }),
        /signature does not match/,
      ],
      [
        'another signing time',
        (d: ChainDigest) => ({ ...d, signedAt: '2020-01-01T00:00:00.000Z' }),
        /signature does not match/,
      ],
      [
        'a signature cut short',
        (d: ChainDigest) => ({ ...d, signature: d.signature.slice(4) }),
        /signature does not match/,
      ],
      ['no signature', (d: ChainDigest) => ({ ...d, signature: undefined }), /no signature/],
    ])('%s', (_, forge, reason) => {
      expect(digestProblem(forge(digest), publicKey)).toMatch(reason);
    });

    it('signed by another key that claims ours', () => {
      const forger = generateKeyPairSync('ed25519');
      const fields = {
        keyId: digest.keyId,
        position: digest.position,
        hash: '0'.repeat(64),
        recordedAt: digest.recordedAt,
        signedAt: digest.signedAt,
      };
      const forged = {
        algorithm: 'Ed25519',
        ...fields,
        signature: sign(null, digestMessage(fields), forger.privateKey).toString('base64'),
      };
      expect(digestProblem(forged, publicKey)).toMatch(/signature does not match/);
      // And honestly signed by the other key: not ours.
      const theirs = { ...forged, keyId: keyIdOf(forger.publicKey) };
      expect(digestProblem(theirs, publicKey)).toMatch(/not with this public key/);
    });
  });
});
