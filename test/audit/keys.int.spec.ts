/**
 * Keys that rotate and survive restarts (ADR 0022): every key that ever signed stays listed with
 * its period, so every tree head and digest signed before a rotation or a restart still verifies.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { digestProblem } from '../../src/audit/digest';
import { treeHeadProblem } from '../../src/audit/tree-head';
import { postTransfer } from '../api/api-helpers';
import { startTestApp, type TestApp } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { rfcVerifyConsistency } from '../support/rfc9162-reference';
import { caughtUpTreeHead, seedLedger } from './audit-helpers';

const SEED_1 = '01'.repeat(32);
const SEED_2 = '02'.repeat(32);

describe('signing keys rotate and survive restarts', () => {
  let tdb: TestDatabase;
  const apps: TestApp[] = [];
  afterAll(async () => {
    for (const app of apps) await app.close();
    await tdb?.drop();
  });

  async function start(env: Record<string, string>): Promise<TestApp> {
    const app = await startTestApp(env, tdb);
    apps.push(app);
    return app;
  }

  it('every head signed before a rotation and a restart verifies after, with the keys listed then', async () => {
    tdb = await createTestDatabase();
    const signed: Array<{ head: any; digest: any }> = [];

    const first = await start({ LEDGER_SIGNING_KEYS: `k1:${SEED_1}` });
    await seedLedger(first, 'r');
    signed.push({ head: await caughtUpTreeHead(first), digest: (await first.request('GET', '/v1/audit/digest')).body });
    await first.close();

    // Rotation: k2 signs now, k1 is no longer configured at all.
    const second = await start({ LEDGER_SIGNING_KEYS: `k2:${SEED_2}` });
    await postTransfer(second, {
      id: 'r-after-rotation',
      debitAccountId: 'r-bank',
      creditAccountId: 'r-bob',
      amount: '5',
    });
    signed.push({
      head: await caughtUpTreeHead(second),
      digest: (await second.request('GET', '/v1/audit/digest')).body,
    });
    await second.close();

    // A restart with no key configured: a generated key (in memory here) signs the same head again.
    const third = await start({});
    signed.push({ head: await caughtUpTreeHead(third), digest: (await third.request('GET', '/v1/audit/digest')).body });

    expect(signed.map((s) => s.head.keyId).slice(0, 2)).toEqual(['k1', 'k2']);
    expect(signed[2]!.head.keyId).toMatch(/^[0-9a-f]{16}$/);
    expect(signed[2]!.head.treeSize).toBe(signed[1]!.head.treeSize);
    expect(signed[2]!.head.rootHash).toBe(signed[1]!.head.rootHash);

    const listed = await third.request('GET', '/v1/audit/public-keys');
    expect(listed.status).toBe(200);
    const keys = listed.body.keys as Array<{
      keyId: string;
      publicKey: string;
      firstSignedAt: string;
      lastSignedAt: string;
      active: boolean;
    }>;
    expect(keys.map((k) => k.keyId)).toEqual(['k1', 'k2', signed[2]!.head.keyId]);
    expect(keys.map((k) => k.active)).toEqual([false, false, true]);
    for (const key of keys) expect(key.firstSignedAt <= key.lastSignedAt).toBe(true);
    expect(keys[0]!.lastSignedAt <= keys[1]!.firstSignedAt).toBe(true);

    const byId = new Map(keys.map((k) => [k.keyId, k.publicKey]));
    for (const { head, digest } of signed) {
      expect(treeHeadProblem(head, byId), `tree head by ${head.keyId}`).toBeUndefined();
      expect(digestProblem(digest, byId), `digest by ${digest.keyId}`).toBeUndefined();
    }
    // The tree signed by k1 is a prefix of the one signed after both restarts.
    const [from, to] = [signed[0]!.head, signed[2]!.head];
    const proof = await third.request('GET', `/v1/audit/proofs/consistency?from=${from.treeSize}&to=${to.treeSize}`);
    const unhex = (h: string) => Buffer.from(h, 'hex');
    expect(
      rfcVerifyConsistency(
        from.treeSize,
        to.treeSize,
        unhex(from.rootHash),
        unhex(to.rootHash),
        proof.body.proof.map(unhex),
      ),
    ).toBe(true);
    await third.close();
  });

  it('refuses to start with a key id that named another key before', async () => {
    await expect(startTestApp({ LEDGER_SIGNING_KEYS: `k1:${SEED_2}` }, tdb)).rejects.toThrow(
      /key id k1 named a different key/,
    );
  });
});
