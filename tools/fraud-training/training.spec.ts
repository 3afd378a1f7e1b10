import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { FEATURE_COUNT, type FeatureState, featuresInOrder } from '../../src/fraud/features';
import { treeEnsembleToOnnx } from './onnx-writer';
import { ensembleScore } from './tree-ensemble';
import { evaluate } from './evaluation';
import { DEFAULT_GBDT, trainGbdt } from './gbdt';
import { DEFAULT_SYNTHETIC, syntheticHistory } from './synthetic';

describe('training, on a small synthetic history', () => {
  const history = syntheticHistory({ ...DEFAULT_SYNTHETIC, customers: 300, seed: 11 });
  const { rows } = featuresInOrder(history, { profiles: new Map(), pairs: new Set() } satisfies FeatureState);
  const labels = Uint8Array.from(history, (t) => (t.fraud ? 1 : 0));

  it('is reproducible and keeps fraud rare (< 1%), in time order', () => {
    expect(syntheticHistory({ ...DEFAULT_SYNTHETIC, customers: 300, seed: 11 })).toEqual(history);
    const rate = labels.reduce((a, b) => a + b, 0) / labels.length;
    expect(rate).toBeGreaterThan(0.001);
    expect(rate).toBeLessThan(0.01);
    for (let i = 1; i < history.length; i++) expect(history[i]!.atMs).toBeGreaterThanOrEqual(history[i - 1]!.atMs);
  });

  it('gives trees that rank fraud well, and an ONNX file that ONNX Runtime scores exactly like TypeScript', async () => {
    const model = trainGbdt(rows, labels, FEATURE_COUNT, { ...DEFAULT_GBDT, rounds: 30 });
    const scores = Array.from({ length: labels.length }, (_, i) =>
      ensembleScore(model, rows.subarray(i * FEATURE_COUNT, (i + 1) * FEATURE_COUNT)),
    );
    expect(evaluate(scores, labels).auprc).toBeGreaterThan(0.5);

    const dir = mkdtempSync(path.join(os.tmpdir(), 'fraud-train-'));
    try {
      const file = path.join(dir, 'small.onnx');
      writeFileSync(file, treeEnsembleToOnnx(model, { modelVersion: 'test' }));
      const session = await ort.InferenceSession.create(file, { executionProviders: ['cpu'] });
      const n = 500;
      const output = await session.run({
        features: new ort.Tensor('float32', rows.slice(0, n * FEATURE_COUNT), [n, FEATURE_COUNT]),
      });
      const onnxScores = output.score!.data as Float32Array;
      for (let i = 0; i < n; i++) expect(onnxScores[i]).toBeCloseTo(scores[i]!, 5);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('evaluation figures', () => {
  it('average precision and recall at 1% false-positive rate', () => {
    // 2 positives ranked 1st and 3rd among 200: AP = (1/1 + 2/3) / 2.
    const scores = Array.from({ length: 200 }, (_, i) => 1 - i / 200);
    const labels = scores.map((_, i) => (i === 0 || i === 2 ? 1 : 0));
    const e = evaluate(scores, labels);
    expect(e.auprc).toBeCloseTo((1 + 2 / 3) / 2, 10);
    // 1% of 198 negatives is 1.98: one false positive allowed, which reaches the 3rd place.
    expect(e.recallAt1PctFpr).toBe(1);
    expect(
      evaluate(
        scores,
        scores.map((_, i) => (i === 0 || i === 5 ? 1 : 0)),
      ).recallAt1PctFpr,
    ).toBe(0.5);
  });
});
