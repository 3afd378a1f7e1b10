import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FEATURE_COUNT, FEATURE_NAMES } from '../../src/fraud/features';
import { defaultModelPath } from '../../src/fraud/fraud-role';
import { GuardedScorer, isBrokenCircuit } from '../../src/fraud/guarded-scorer';
import { InferencePool, ModelLoadError } from '../../src/fraud/inference-pool';
import { Prng } from '../../tools/fraud-training/prng';
import { readReferenceModel, wrongShapeModel } from './onnx-reference';

const SHIPPED = defaultModelPath();

/** Feature vectors of recognisable transfers, in FEATURE_NAMES order. */
const row = (values: Partial<Record<(typeof FEATURE_NAMES)[number], number>>) =>
  FEATURE_NAMES.map((name) => values[name] ?? 0);
const FIXED = [
  row({}),
  // A 23.45 purchase at a known shop at 14:00 by an account with a long, steady history.
  row({
    log_amount: Math.log1p(2345),
    out_count_24h: 2,
    out_log_sum_24h: Math.log1p(5000),
    out_count_7d: 12,
    out_log_sum_7d: Math.log1p(40_000),
    amount_zscore: 0.1,
    log_history_count: Math.log1p(300),
    log_seconds_since_last_out: Math.log1p(20_000),
    amount_to_balance: 0.01,
    credit_log_age_hours: Math.log1p(5000),
    credit_in_count_24h: 30,
    hour_of_day: 14,
  }),
  // 2,500.00, round, at 03:10 to an account first seen a minute ago, the third in ten minutes, most of the balance.
  row({
    log_amount: Math.log1p(250_000),
    out_count_1h: 2,
    out_log_sum_1h: Math.log1p(300_000),
    out_count_24h: 2,
    out_log_sum_24h: Math.log1p(300_000),
    out_count_7d: 8,
    out_log_sum_7d: Math.log1p(350_000),
    amount_zscore: 4.5,
    log_history_count: Math.log1p(80),
    new_counterparty: 1,
    log_seconds_since_last_out: Math.log1p(300),
    amount_to_balance: 0.9,
    credit_log_age_hours: Math.log1p(0.02),
    credit_in_count_24h: 2,
    hour_of_day: 3.17,
    is_night: 1,
    is_round_amount: 1,
  }),
];

let dir: string;
let pool: InferencePool;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'fraud-model-'));
  pool = await InferencePool.start({ modelPath: SHIPPED, providers: ['cpu'], featureCount: FEATURE_COUNT, workers: 1 });
});
afterAll(async () => {
  await pool.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the shipped model (models/fraud-v1.onnx)', () => {
  it('takes float[N, 17] features and gives scores that match the trees evaluated in TypeScript', async () => {
    const reference = readReferenceModel(SHIPPED);
    expect(reference.featureCount).toBe(FEATURE_COUNT);
    expect(reference.trees).toBeGreaterThan(10);
    const rng = new Prng(42);
    const random = Array.from({ length: 200 }, () =>
      FEATURE_NAMES.map((name) =>
        name.startsWith('is_') || name === 'new_counterparty'
          ? rng.int(0, 1)
          : rng.next() * (name === 'hour_of_day' ? 24 : 12),
      ),
    );
    const rows = [...FIXED, ...random];
    const scores = await pool.score(Float32Array.from(rows.flat()), rows.length);
    expect(scores).toHaveLength(rows.length);
    for (const [i, r] of rows.entries()) expect(scores[i]).toBeCloseTo(reference.score(r), 5);
  });

  it('tells an ordinary purchase from a night-time drain to a new account', async () => {
    const scores = await pool.score(Float32Array.from([FIXED[1]!, FIXED[2]!].flat()), 2);
    expect(scores[0]).toBeLessThan(0.05);
    expect(scores[1]).toBeGreaterThan(0.5);
  });

  it('has a version made of its name and the hash of its bytes', () => {
    expect(pool.modelVersion).toMatch(/^fraud-v1@[0-9a-f]{12}$/);
  });
});

describe('model files that do not work', () => {
  it('a corrupt file stops the start with a message naming it', async () => {
    const corrupt = path.join(dir, 'corrupt.onnx');
    writeFileSync(corrupt, Buffer.from('this is not an ONNX model at all'));
    const started = InferencePool.start({
      modelPath: corrupt,
      providers: ['cpu'],
      featureCount: FEATURE_COUNT,
      workers: 1,
    });
    await expect(started).rejects.toBeInstanceOf(ModelLoadError);
    await expect(started).rejects.toThrow(`the fraud model ${corrupt} could not be loaded`);
  });

  it('a missing file stops the start with a message naming it', async () => {
    const missing = path.join(dir, 'missing.onnx');
    await expect(
      InferencePool.start({ modelPath: missing, providers: ['cpu'], featureCount: FEATURE_COUNT, workers: 1 }),
    ).rejects.toThrow(/fraud model .*missing\.onnx could not be loaded: ENOENT/);
  });

  it('a model that fails at run time opens the breaker; a half-open probe reloads the file and closes it', async () => {
    const file = path.join(dir, 'swapped.onnx');
    writeFileSync(file, wrongShapeModel());
    const broken = await InferencePool.start({
      modelPath: file,
      providers: ['cpu'],
      featureCount: FEATURE_COUNT,
      workers: 1,
    });
    const scorer = new GuardedScorer(broken, { timeoutMs: 10_000, failuresToOpen: 2, halfOpenAfterMs: 50 });
    const states: string[] = [];
    scorer.onStateChange = (state) => states.push(state);
    const features = Float32Array.from(FIXED[1]!);
    try {
      await expect(scorer.score(features, 1)).rejects.toThrow(/inference failed/);
      expect(scorer.state).toBe('closed');
      await expect(scorer.score(features, 1)).rejects.toThrow(/inference failed/);
      expect(scorer.state).toBe('open');
      // Open: fails fast without reaching the model.
      const fast = await scorer.score(features, 1).catch((error) => error);
      expect(isBrokenCircuit(fast)).toBe(true);
      // The model is put right; the next probe (after halfOpenAfterMs) reloads it and succeeds.
      copyFileSync(SHIPPED, file);
      let result: Float32Array | undefined;
      while (!result) {
        await new Promise((r) => setTimeout(r, 20));
        result = await scorer.score(features, 1).catch((error) => {
          if (!isBrokenCircuit(error)) throw error;
          return undefined;
        });
      }
      expect(result[0]).toBeCloseTo(readReferenceModel(SHIPPED).score(FIXED[1]!), 5);
      expect(states).toEqual(['open', 'half-open', 'closed']);
      expect(scorer.state).toBe('closed');
      expect(scorer.modelVersion.split('@')[1]).toBe(pool.modelVersion.split('@')[1]);
    } finally {
      await broken.close();
    }
  });

  it('an inference that is aborted (a timeout) replaces its process, and the next one works', async () => {
    const own = await InferencePool.start({
      modelPath: SHIPPED,
      providers: ['cpu'],
      featureCount: FEATURE_COUNT,
      workers: 1,
    });
    try {
      const controller = new AbortController();
      const rows = 4096;
      const pending = own.score(new Float32Array(rows * FEATURE_COUNT), rows, controller.signal);
      controller.abort();
      await expect(pending).rejects.toThrow(/aborted/);
      const scores = await own.score(Float32Array.from(FIXED[0]!), 1);
      expect(scores).toHaveLength(1);
    } finally {
      await own.close();
    }
  });
});
