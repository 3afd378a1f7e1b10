import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expect as expectRevision } from '../../src/eventstore/port';
import { FraudConsumer } from '../../src/fraud/consumer';
import { FEATURE_COUNT, FEATURE_NAMES } from '../../src/fraud/features';
import { FraudStore } from '../../src/fraud/fraud-store';
import { defaultModelPath } from '../../src/fraud/fraud-role';
import { GuardedScorer } from '../../src/fraud/guarded-scorer';
import { InferencePool } from '../../src/fraud/inference-pool';
import { startTestApp, type TestApp } from '../support/app';
import { expectProblem, expectValidation } from '../api/api-helpers';
import { expectScoredOnce, fraudScores, openAccounts, postTransfers, until } from './fraud-helpers';

let pool: InferencePool;
beforeAll(async () => {
  Logger.overrideLogger(false);
  pool = await InferencePool.start({
    modelPath: defaultModelPath(),
    providers: ['cpu'],
    featureCount: FEATURE_COUNT,
    workers: 1,
  });
});
afterAll(() => pool.close());

/** A TransferPosted the scorer cannot read (amount as a JSON number), appended behind the API's back. */
async function appendMalformedTransfer(app: TestApp, transferId: string): Promise<void> {
  await app.ledger.store.append({
    events: [
      {
        eventId: randomUUID(),
        streamId: `transfer-${transferId}`,
        type: 'TransferPosted',
        data: {
          transferId,
          debitAccountId: 'bank',
          creditAccountId: 'hana',
          amount: 1234,
          currency: 'USD',
          metadata: {},
        },
        metadata: { correlationId: randomUUID(), causationId: randomUUID() },
      },
    ],
    expected: new Map([[`transfer-${transferId}`, expectRevision.noStream]]),
    recordedAt: new Date().toISOString(),
  });
}

describe('dead letters', () => {
  it('an event that fails N times goes to the dead-letter table with its error; the rest are scored; admins list and retry it', async () => {
    const app = await startTestApp({
      LEDGER_ROLES: 'api,projector,fraud',
      FRAUD_POISON_ATTEMPTS: '2',
      FRAUD_POLL_MS: '10',
      FRAUD_BATCH_WAIT_MS: '0',
    });
    try {
      await openAccounts(app, 'bank', 'hana');
      await postTransfers(app, [['d-1', 'bank', 'hana', '1000']]);
      await appendMalformedTransfer(app, 'd-poison');
      await postTransfers(app, [['d-2', 'bank', 'hana', '2000']]);

      const listed = await until('the dead letter', async () => {
        const response = await app.request('GET', '/v1/fraud/dead-letters');
        return response.body.items.length > 0 ? response : undefined;
      });
      expect(listed.status).toBe(200);
      expect(listed.body).toMatchObject({
        items: [
          {
            transferId: 'd-poison',
            status: 'dead',
            attempts: 2,
            error: expect.stringContaining('does not decode: amount: Invalid input: expected string, received number'),
          },
        ],
        nextCursor: null,
      });
      // The read models stop at the malformed event and name it (they never skip one).
      const stalled = await until('the projector to name the event', () => app.ledger.projector?.lastError);
      expect(String(stalled)).toMatch(
        /UndecodableEventError: recorded event TransferPosted at position \d+ in transfer-d-poison does not decode: amount/,
      );
      await until('d-2 to be scored', async () => (await fraudScores(app.tdb)).has('d-2'));
      const scores = await fraudScores(app.tdb);
      expect([...scores.keys()].sort()).toEqual(['d-1', 'd-2']);

      const id = listed.body.items[0].id as string;
      const retried = await app.request('POST', `/v1/fraud/dead-letters/${id}/retry`);
      expect(retried.status).toBe(202);
      expect(retried.body.status).toBe('retry-requested');
      // Still unreadable: the scorer puts it back, with one attempt more and the error.
      const back = await until('the retry to be taken up', async () => {
        const response = await app.request('GET', '/v1/fraud/dead-letters?status=dead');
        return response.body.items[0]?.attempts === 3 ? response.body.items[0] : undefined;
      });
      expect(back.error).toContain('does not decode: amount: Invalid input: expected string, received number');
      expect((await fraudScores(app.tdb)).has('d-poison')).toBe(false);

      expectProblem(await app.request('POST', '/v1/fraud/dead-letters/999999/retry'), 404, 'dead-letter-not-found');
      expectValidation(await app.request('POST', '/v1/fraud/dead-letters/abc/retry'), 'path.id');
      expectValidation(await app.request('GET', '/v1/fraud/dead-letters?limit=0'), 'query.limit');
    } finally {
      await app.close();
    }
  });

  it('a transfer the model fails on, while others score, is isolated and dead-lettered; a retry once the model copes resolves it', async () => {
    const app = await startTestApp({ LEDGER_ROLES: 'api,projector' });
    const db = app.ledger.database.db;
    const fraudStore = new FraudStore(db);
    // The real model, but failing any batch that holds a transfer of exactly 6,666.66 while `poisoned`.
    const real = new GuardedScorer(pool, { timeoutMs: 10_000, failuresToOpen: 5, halfOpenAfterMs: 60_000 });
    const marker = Math.fround(Math.log1p(666_666));
    const amountAt = FEATURE_NAMES.indexOf('log_amount');
    let poisoned = true;
    const scorer = {
      get state() {
        return real.state;
      },
      get probeDueAt() {
        return real.probeDueAt;
      },
      get modelVersion() {
        return real.modelVersion;
      },
      score(features: Float32Array, rows: number) {
        for (let r = 0; r < rows; r++) {
          if (poisoned && features[r * FEATURE_COUNT + amountAt] === marker)
            return Promise.reject(new Error('the model chokes on this one'));
        }
        return real.score(features, rows);
      },
    };
    const consumer = new FraudConsumer(db, app.ledger.store, fraudStore, scorer, app.ledger.writer, undefined, {
      batchSizeMax: 100,
      batchWaitMs: 0,
      pollMs: 10,
      reviewThreshold: 0.5,
      poisonAttempts: 3,
    });
    try {
      await openAccounts(app, 'bank', 'ivan', 'jo');
      await postTransfers(app, [
        ['p-1', 'bank', 'ivan', '5000'],
        ['p-2', 'bank', 'jo', '666666'],
        ['p-3', 'bank', 'jo', '7000'],
        ['p-4', 'ivan', 'jo', '100'],
      ]);
      // Each pass scores what comes before the poison and counts one failure against it.
      for (let pass = 0; pass < 6; pass++) await consumer.catchUp();
      expect([...(await fraudScores(app.tdb)).keys()].sort()).toEqual(['p-1', 'p-3', 'p-4']);
      const [letter] = await fraudStore.listDeadLetters({ limit: 10 });
      expect(letter).toMatchObject({
        transferId: 'p-2',
        attempts: 3,
        status: 'dead',
        error: 'the model chokes on this one',
      });
      expect(real.state).toBe('closed');

      poisoned = false;
      expect((await app.request('POST', `/v1/fraud/dead-letters/${letter!.id}/retry`)).status).toBe(202);
      await consumer.catchUp();
      const resolved = await fraudStore.getDeadLetter(letter!.id);
      expect(resolved).toMatchObject({ status: 'resolved', score: expect.any(Number) });
      await expectScoredOnce(app.tdb, 4);
      expectProblem(
        await app.request('POST', `/v1/fraud/dead-letters/${letter!.id}/retry`),
        409,
        'dead-letter-resolved',
      );
    } finally {
      await consumer.stop();
      await app.close();
    }
  });
});
