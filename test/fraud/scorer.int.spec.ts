import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Logger } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLedgerApp } from '../../src/app';
import { loadConfig } from '../../src/config';
import { FEATURE_COUNT, type FeatureState, featuresInOrder } from '../../src/fraud/features';
import { createFraudRole, defaultModelPath } from '../../src/fraud/fraud-role';
import { startTestApp, type TestApp } from '../support/app';
import { createTestDatabase } from '../support/database';
import { expectProblem } from '../api/api-helpers';
import { readReferenceModel, wrongShapeModel } from './onnx-reference';
import { expectScoredOnce, fraudScores, openAccounts, postTransfers, transferEvents, until } from './fraud-helpers';

const SHIPPED = defaultModelPath();
const FRAUD = { LEDGER_ROLES: 'api,projector,fraud', FRAUD_POLL_MS: '10', FRAUD_BATCH_WAIT_MS: '1' };
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'fraud-int-'));
  Logger.overrideLogger(false);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Waits until the scorer has passed the head of the log (its own appends included). */
async function settled(app: TestApp): Promise<void> {
  const fraud = app.ledger.fraud!;
  await until('the scorer to reach the head of the log', async () => {
    const head = await app.ledger.store.headPosition();
    return fraud.consumer.checkpoint === head && head > 0n;
  });
}

describe('the fraud scorer, in the ledger process', () => {
  it('scores every transfer once, with the score the model gives its features', async () => {
    const app = await startTestApp({ ...FRAUD, FRAUD_BATCH_MAX: '16' });
    try {
      await openAccounts(app, 'bank', 'alice', 'bob', 'carol');
      const transfers: Array<[string, string, string, string]> = [];
      for (let i = 0; i < 60; i++) {
        const [d, c] =
          i < 3
            ? ['bank', ['alice', 'bob', 'carol'][i]!]
            : [['alice', 'bob', 'carol'][i % 3]!, ['bob', 'carol', 'alice'][i % 3]!];
        transfers.push([`t-${i}`, d, c, i < 3 ? '100000000' : String(100 + ((i * 7919) % 90_000))]);
      }
      await postTransfers(app, transfers.slice(0, 30));
      await postTransfers(app, transfers.slice(30));
      await settled(app);
      await expectScoredOnce(app.tdb, 60);

      // The same features, computed here from the log, through the trees evaluated in TypeScript.
      const posted = transferEvents(await app.ledger.store.readAll({ after: 0n, limit: 10_000 }));
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
      const reference = readReferenceModel(SHIPPED);
      const scores = await fraudScores(app.tdb);
      posted.forEach((e, i) => {
        const [scored] = scores.get((e.data as { transferId: string }).transferId)!;
        expect(scored!.score).toBeCloseTo(
          reference.score(rows.subarray(i * FEATURE_COUNT, (i + 1) * FEATURE_COUNT)),
          5,
        );
        expect(scored!.decision).toBe(scored!.score >= 0.5 ? 'review' : 'allow');
        expect(scored!.modelVersion).toBe(app.ledger.fraud!.pool.modelVersion);
      });

      const ready = await app.request('GET', '/health/ready');
      expect(ready.status).toBe(200);
      expect(ready.body.checks.fraud).toMatchObject({
        status: 'up',
        provider: 'cpu',
        breaker: 'closed',
        modelVersion: expect.stringMatching(/^fraud-v1@/),
      });
      const metrics = await app.request('GET', '/metrics');
      expect(metrics.text).toContain('ledger_fraud_execution_provider{provider="cpu"} 1');
      expect(metrics.text).toContain('ledger_fraud_breaker_state 0');
      expect(metrics.text).toMatch(/ledger_fraud_scored_total\{decision="allow"\} \d+/);
    } finally {
      await app.close();
    }
  });

  it('after a crash between the append and the checkpoint, the restarted scorer scores nothing twice and loses nothing', async () => {
    const app = await startTestApp({ LEDGER_ROLES: 'api,projector' });
    const config = loadConfig({ ...app.tdb.env, LOG_LEVEL: 'error', FRAUD_BATCH_MAX: '25' });
    const parts = {
      config,
      db: app.ledger.database.db,
      store: app.ledger.store,
      writer: app.ledger.writer,
      log: () => {},
      warn: () => {},
    };
    try {
      await openAccounts(app, 'bank', 'dave', 'erin');
      await postTransfers(
        app,
        Array.from(
          { length: 40 },
          (_, i) =>
            [`c-${i}`, i % 2 ? 'dave' : 'bank', i % 2 ? 'erin' : 'dave', '2500'] as [string, string, string, string],
        ),
      );

      let crashes = 0;
      const first = await createFraudRole({
        ...parts,
        metrics: new (await import('../../src/platform/metrics')).Metrics(),
        consumerOptions: {
          beforeCheckpoint: async () => {
            crashes++;
            throw new Error('crash after the append, before the checkpoint');
          },
        },
      });
      await expect(first.consumer.catchUp()).rejects.toThrow('crash after the append');
      await first.close();
      expect(crashes).toBe(1);
      // The first batch's scores are in the log (its 25 events hold 3 AccountOpened); the checkpoint did not move.
      const firstBatch = transferEvents(await app.ledger.store.readAll({ after: 0n, limit: 25 })).length;
      expect(firstBatch).toBe(22);
      expect((await fraudScores(app.tdb)).size).toBe(firstBatch);
      const checkpoint = await app.tdb.query<{ position: string }>(
        `select position::text as position from checkpoints where name = 'fraud-scorer'`,
      );
      expect(checkpoint[0]!.position).toBe('0');

      const metrics = new (await import('../../src/platform/metrics')).Metrics();
      const second = await createFraudRole({ ...parts, metrics });
      await second.consumer.catchUp();
      await second.close();
      await expectScoredOnce(app.tdb, 40);
      expect(await metrics.registry.getSingleMetricAsString('ledger_fraud_already_scored_total')).toContain(
        `ledger_fraud_already_scored_total ${firstBatch}`,
      );
    } finally {
      await app.close();
    }
  });

  it('a model that fails at run time opens the breaker, the ledger keeps posting, and a half-open probe recovers', async () => {
    const modelPath = path.join(dir, 'failing.onnx');
    writeFileSync(modelPath, wrongShapeModel());
    const app = await startTestApp({
      ...FRAUD,
      FRAUD_MODEL_PATH: modelPath,
      FRAUD_BREAKER_FAILURES: '2',
      FRAUD_BREAKER_HALF_OPEN_MS: '150',
    });
    try {
      await openAccounts(app, 'bank', 'frank');
      await postTransfers(app, [['b-1', 'bank', 'frank', '1000']]);
      await until('the breaker to open', () => app.ledger.fraud!.scorer.state === 'open');
      // Open: the ledger still posts, reads and reports ready; nothing is scored, the checkpoint waits.
      await postTransfers(app, [
        ['b-2', 'bank', 'frank', '2000'],
        ['b-3', 'frank', 'bank', '500'],
      ]);
      expect((await app.request('GET', '/v1/accounts/frank')).status).toBe(200);
      const ready = await app.request('GET', '/health/ready');
      expect(ready.status).toBe(200);
      expect(ready.body.checks.fraud.breaker).toMatch(/open/);
      expect((await app.request('GET', '/metrics')).text).toMatch(/ledger_fraud_breaker_state [12]/);
      expect((await fraudScores(app.tdb)).size).toBe(0);
      const firstTransfer = (await app.ledger.store.readAll({ after: 0n, limit: 100 })).find(
        (e) => e.type === 'TransferPosted',
      )!;
      expect(app.ledger.fraud!.consumer.checkpoint).toBeLessThan(firstTransfer.position);

      copyFileSync(SHIPPED, modelPath);
      await until('the breaker to close', () => app.ledger.fraud!.scorer.state === 'closed');
      await settled(app);
      await expectScoredOnce(app.tdb, 3);
    } finally {
      await app.close();
    }
  });

  it('freezes the debited account through the write path when the score reaches FRAUD_AUTO_FREEZE_THRESHOLD', async () => {
    const app = await startTestApp({ ...FRAUD, FRAUD_AUTO_FREEZE_THRESHOLD: '0' });
    try {
      await openAccounts(app, 'bank', 'gina');
      await postTransfers(app, [['f-1', 'bank', 'gina', '5000']]);
      await settled(app);
      const frozen = await until('the AccountFrozen event', async () => {
        const stream = await app.ledger.store.readStream('account-bank');
        return stream.events.find((e) => e.type === 'AccountFrozen');
      });
      expect((frozen.data as { reason: string }).reason).toMatch(
        /fraud score \d\.\d{4} on transfer f-1 \(model fraud-v1@/,
      );
      const [score] = (await app.ledger.store.readStream('fraud-f-1')).events;
      expect(frozen.metadata.causationId).toBe(score!.eventId);
      const refused = await app.request('POST', '/v1/transfers', {
        id: 'f-2',
        debitAccountId: 'bank',
        creditAccountId: 'gina',
        amount: '1',
        currency: 'USD',
      });
      expectProblem(refused, 422, 'account-not-open');
    } finally {
      await app.close();
    }
  });

  it('a corrupt model file stops the start with a message naming it', async () => {
    const corrupt = path.join(dir, 'corrupt.onnx');
    writeFileSync(corrupt, 'not a model');
    const tdb = await createTestDatabase();
    try {
      const config = loadConfig({ ...tdb.env, ...FRAUD, LOG_LEVEL: 'silent', FRAUD_MODEL_PATH: corrupt });
      await expect(createLedgerApp(config, tdb.env.DATABASE_URL ? undefined : tdb.database)).rejects.toThrow(
        `the fraud model ${corrupt} could not be loaded`,
      );
    } finally {
      await tdb.drop();
    }
  });

  it('a process with CUDA alone in ONNX_EXECUTION_PROVIDERS and no CUDA provider installed refuses to start', async () => {
    const tdb = await createTestDatabase();
    try {
      const config = loadConfig({ ...tdb.env, ...FRAUD, LOG_LEVEL: 'silent', ONNX_EXECUTION_PROVIDERS: 'cuda' });
      await expect(createLedgerApp(config, tdb.env.DATABASE_URL ? undefined : tdb.database)).rejects.toThrow(
        /none of ONNX_EXECUTION_PROVIDERS \(cuda\)/,
      );
    } finally {
      await tdb.drop();
    }
  });
});
