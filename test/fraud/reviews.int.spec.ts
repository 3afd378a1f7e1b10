import { Logger } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKeyId } from '../../src/api/auth/api-keys';
import { FEATURE_COUNT, type FeatureState, featuresInOrder } from '../../src/fraud/features';
import { defaultModelPath } from '../../src/fraud/fraud-role';
import { featuresSha256 } from '../../src/fraud/fraud-scored';
import { InferencePool } from '../../src/fraud/inference-pool';
import { expectProblem, expectValidation } from '../api/api-helpers';
import { type TestApp, startTestApp } from '../support/app';
import { TEST_KEYS, bearer } from '../support/keys';
import { openAccounts, postTransfers, transferEvents, until } from './fraud-helpers';

const analyst = bearer(TEST_KEYS.analyst);
const operator = bearer(TEST_KEYS.operator);

/** Risk on transfers and the review queue (docs/contract.md, "Fraud reviews"; ADR 0023). */
describe('fraud reviews', () => {
  let app: TestApp;
  beforeAll(async () => {
    Logger.overrideLogger(false);
    // Every transfer goes to review: the queue's behaviour, not the model's, is under test here.
    app = await startTestApp({
      LEDGER_ROLES: 'api,projector,fraud',
      FRAUD_REVIEW_THRESHOLD: '0',
      FRAUD_POLL_MS: '10',
      FRAUD_BATCH_WAIT_MS: '0',
    });
    await openAccounts(app, 'bank', 'rita', 'sam');
    await postTransfers(app, [['r-1', 'bank', 'rita', '5000']]);
    await postTransfers(app, [['r-2', 'bank', 'sam', '7000']]);
    await postTransfers(app, [['r-3', 'rita', 'sam', '100']]);
    await until('three open reviews', async () => {
      const response = await app.request('GET', '/v1/fraud/reviews?status=open', undefined, analyst);
      return response.body.items?.length === 3 ? response : undefined;
    });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('a scored transfer shows its risk, alone and in the list', async () => {
    const one = await app.request('GET', '/v1/transfers/r-1', undefined, analyst);
    expect(one.status).toBe(200);
    expect(one.body.risk).toEqual({
      score: expect.any(Number),
      decision: 'review',
      modelVersion: app.ledger.fraud!.pool.modelVersion,
      scoredAt: expect.stringMatching(/Z$/),
    });
    const list = await app.request('GET', '/v1/transfers?limit=10', undefined, analyst);
    expect(list.status).toBe(200);
    expect(list.body.items.map((t: { id: string; risk?: { score: number } }) => [t.id, t.risk?.score])).toEqual([
      ['r-1', one.body.risk.score],
      ['r-2', expect.any(Number)],
      ['r-3', expect.any(Number)],
    ]);
  });

  it('an auditor re-scores a decision from the log and gets the same score', async () => {
    const events = await app.ledger.store.readAll({ after: 0n, limit: 1000 });
    const scores = events.filter((e) => e.type === 'FraudScored');
    // The features recomputed from the log with the scorer's own code, independently of the event.
    const posted = transferEvents(events);
    const state: FeatureState = { profiles: new Map(), pairs: new Set() };
    const { rows } = featuresInOrder(
      posted.map((e) => {
        const d = e.data as { debitAccountId: string; creditAccountId: string; amount: string };
        return {
          debitAccountId: d.debitAccountId,
          creditAccountId: d.creditAccountId,
          amount: Number(d.amount),
          atMs: Date.parse(e.recordedAt),
        };
      }),
      state,
    );
    const pool = await InferencePool.start({
      modelPath: defaultModelPath(),
      providers: ['cpu'],
      featureCount: FEATURE_COUNT,
      workers: 1,
    });
    try {
      expect(scores.length).toBe(3);
      for (const [i, transfer] of posted.entries()) {
        const id = (transfer.data as { transferId: string }).transferId;
        const scored = scores.find((e) => e.data.transferId === id)!.data as {
          score: number;
          modelVersion: string;
          features: number[];
          featuresSha256: string;
        };
        const recomputed = rows.subarray(i * FEATURE_COUNT, (i + 1) * FEATURE_COUNT);
        expect(featuresSha256(recomputed)).toBe(scored.featuresSha256);
        expect(featuresSha256(Float32Array.from(scored.features))).toBe(scored.featuresSha256);
        expect(scored.modelVersion).toBe(pool.modelVersion);
        const [again] = await pool.score(Float32Array.from(scored.features), 1);
        expect(again).toBe(scored.score);
      }
    } finally {
      await pool.close();
    }
  });

  it('lists open reviews oldest first in cursor pages, with their risk and amounts', async () => {
    const first = await app.request('GET', '/v1/fraud/reviews?status=open&limit=2', undefined, analyst);
    expect(first.status).toBe(200);
    expect(first.body.items.map((r: { transferId: string }) => r.transferId)).toEqual(['r-1', 'r-2']);
    expect(first.body.items[0]).toMatchObject({
      status: 'open',
      debitAccountId: 'bank',
      creditAccountId: 'rita',
      amount: '5000',
      currency: 'USD',
      risk: { decision: 'review' },
      resolution: null,
      compensation: { state: 'none' },
    });
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await app.request(
      'GET',
      `/v1/fraud/reviews?status=open&limit=2&cursor=${first.body.nextCursor}`,
      undefined,
      analyst,
    );
    expect(second.body.items.map((r: { transferId: string }) => r.transferId)).toEqual(['r-3']);
    expect(second.body.nextCursor).toBeNull();
    expectValidation(await app.request('GET', '/v1/fraud/reviews?limit=0', undefined, analyst), 'query.limit');
    expectValidation(await app.request('GET', '/v1/fraud/reviews?status=closed', undefined, analyst), 'query.status');
    expectValidation(await app.request('GET', '/v1/fraud/reviews?cursor=nonsense', undefined, analyst), 'query.cursor');
  });

  it('an analyst resolves a review once, idempotently by id; the log records the analyst as actor', async () => {
    const body = { id: 'res-1', outcome: 'legitimate', note: 'known customer' };
    const resolved = await app.request('POST', '/v1/fraud/reviews/r-2', body, analyst);
    expect(resolved.status, resolved.text).toBe(200);
    expect(resolved.body).toEqual({
      transferId: 'r-2',
      status: 'resolved',
      outcome: 'legitimate',
      note: 'known customer',
      resolvedAt: expect.stringMatching(/Z$/),
      actor: apiKeyId(TEST_KEYS.analyst),
      compensation: { state: 'none' },
    });
    const again = await app.request('POST', '/v1/fraud/reviews/r-2', body, analyst);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(resolved.body);
    expectProblem(
      await app.request('POST', '/v1/fraud/reviews/r-2', { ...body, id: 'res-2', outcome: 'fraud' }, analyst),
      409,
      'review-resolved',
    );
    expectProblem(
      await app.request('POST', '/v1/fraud/reviews/r-2', { ...body, note: 'other' }, analyst),
      409,
      'idempotency-conflict',
    );

    const log = (await app.ledger.store.readStream('fraud-review-r-2')).events;
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({
      type: 'FraudReviewResolved',
      data: { transferId: 'r-2', reviewId: 'res-1', outcome: 'legitimate', note: 'known customer' },
      metadata: { actor: apiKeyId(TEST_KEYS.analyst) },
    });
    const queue = await until('the resolution in the queue', async () => {
      const response = await app.request('GET', '/v1/fraud/reviews?status=resolved', undefined, analyst);
      return response.body.items?.length === 1 ? response : undefined;
    });
    expect(queue.body.items[0]).toMatchObject({
      transferId: 'r-2',
      status: 'resolved',
      resolution: { id: 'res-1', outcome: 'legitimate', note: 'known customer', actor: apiKeyId(TEST_KEYS.analyst) },
    });
  });

  it('refuses what it must, changing nothing: roles, bad bodies, transfers without a review', async () => {
    const before = await app.ledger.store.headPosition();
    expectProblem(
      await app.request('POST', '/v1/fraud/reviews/r-3', { id: 'op-1', outcome: 'fraud', note: 'x' }, operator),
      403,
      'forbidden',
    );
    expectProblem(
      await app.request(
        'POST',
        '/v1/transfers',
        { id: 'by-analyst', debitAccountId: 'bank', creditAccountId: 'rita', amount: '1', currency: 'USD' },
        analyst,
      ),
      403,
      'forbidden',
    );
    expectValidation(
      await app.request('POST', '/v1/fraud/reviews/r-3', { id: 'v-1', outcome: 'maybe', note: 'x' }, analyst),
      'body.outcome',
    );
    expectValidation(
      await app.request('POST', '/v1/fraud/reviews/r-3', { id: 'v-1', outcome: 'fraud' }, analyst),
      'body.note',
    );
    expectValidation(
      await app.request('POST', '/v1/fraud/reviews/r-3', { id: 'v-1', outcome: 'fraud', note: 'x', extra: 1 }, analyst),
      'body',
    );
    expectProblem(
      await app.request('POST', '/v1/fraud/reviews/nobody', { id: 'v-2', outcome: 'fraud', note: 'x' }, analyst),
      404,
      'review-not-found',
    );
    expect(await app.ledger.store.headPosition()).toBe(before);
  });
});
