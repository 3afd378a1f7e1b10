import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DAY_MS, FEATURE_COUNT, FEATURE_NAMES, type FeatureState, featuresInOrder } from '../../src/fraud/features';
import { treeEnsembleToOnnx } from './onnx-writer';
import { ensembleScore, type TreeEnsemble } from './tree-ensemble';
import { type Evaluation, evaluate } from './evaluation';
import { DEFAULT_GBDT, trainGbdt } from './gbdt';
import { logisticScore, trainLogistic } from './logistic';
import { DEFAULT_SYNTHETIC, syntheticHistory } from './synthetic';
import { modelCard } from './model-card';

/**
 * `npm run fraud:train`: generates the synthetic history, computes the features with the scorer's
 * own code, trains the tree model and the logistic baseline on the first three weeks, evaluates
 * both on the last week, and writes models/fraud-v1.onnx and models/README.md.
 */
export const TRAIN_DAYS = 21;

export interface TrainingReport {
  readonly transfers: number;
  readonly fraud: number;
  readonly train: { rows: number; fraud: number };
  readonly test: { rows: number; fraud: number };
  readonly gbdt: Evaluation;
  readonly logistic: Evaluation;
  readonly trees: number;
  readonly seconds: number;
}

export function trainFraudModel(): { model: TreeEnsemble; report: TrainingReport } {
  const started = performance.now();
  const history = syntheticHistory(DEFAULT_SYNTHETIC);
  const state: FeatureState = { profiles: new Map(), pairs: new Set() };
  const { rows } = featuresInOrder(history, state);
  const labels = Uint8Array.from(history, (t) => (t.fraud ? 1 : 0));
  const cut = DEFAULT_SYNTHETIC.startMs + TRAIN_DAYS * DAY_MS;
  const split = history.findIndex((t) => t.atMs >= cut);
  const trainRows = rows.subarray(0, split * FEATURE_COUNT);
  const testRows = rows.subarray(split * FEATURE_COUNT);
  const trainLabels = labels.subarray(0, split);
  const testLabels = labels.subarray(split);

  const model = trainGbdt(trainRows, trainLabels, FEATURE_COUNT, DEFAULT_GBDT);
  const baseline = trainLogistic(trainRows, trainLabels, FEATURE_COUNT);
  const testCount = testLabels.length;
  const row = (i: number) => testRows.subarray(i * FEATURE_COUNT, (i + 1) * FEATURE_COUNT);
  const gbdtScores = Float64Array.from({ length: testCount }, (_, i) => ensembleScore(model, row(i)));
  const logisticScores = Float64Array.from({ length: testCount }, (_, i) => logisticScore(baseline, row(i)));
  const sum = (a: Uint8Array) => a.reduce((x, y) => x + y, 0);
  const report: TrainingReport = {
    transfers: history.length,
    fraud: sum(labels),
    train: { rows: split, fraud: sum(trainLabels) },
    test: { rows: testCount, fraud: sum(testLabels) },
    gbdt: evaluate(gbdtScores, testLabels),
    logistic: evaluate(logisticScores, testLabels),
    trees: model.trees.length,
    seconds: (performance.now() - started) / 1000,
  };
  return { model, report };
}

function repositoryRoot(): string {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'migrations'))) return dir;
  }
  throw new Error(`repository root not found above ${__dirname}`);
}

function main(): void {
  const { model, report } = trainFraudModel();
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  console.log(
    `[fraud:train] ${report.transfers} transfers, ${report.fraud} fraudulent (${pct(report.fraud / report.transfers)}); ` +
      `train ${report.train.rows} (${report.train.fraud} fraud), test ${report.test.rows} (${report.test.fraud} fraud)`,
  );
  for (const [name, e] of [
    ['gradient-boosted trees', report.gbdt],
    ['logistic regression', report.logistic],
  ] as const) {
    console.log(`[fraud:train] ${name}: AUPRC ${e.auprc.toFixed(3)}, recall at 1% FPR ${pct(e.recallAt1PctFpr)}`);
  }
  if (report.gbdt.auprc <= report.logistic.auprc) {
    console.error('[fraud:train] the tree model does not beat the baseline: not writing it');
    process.exit(1);
  }
  const bytes = treeEnsembleToOnnx(model, {
    modelVersion: 'fraud-v1',
    features: FEATURE_NAMES.join(','),
    trainedOn: `synthetic seed ${DEFAULT_SYNTHETIC.seed}, ${report.transfers} transfers`,
  });
  const root = repositoryRoot();
  mkdirSync(path.join(root, 'models'), { recursive: true });
  writeFileSync(path.join(root, 'models', 'fraud-v1.onnx'), bytes);
  writeFileSync(
    path.join(root, 'models', 'README.md'),
    modelCard(report, createHash('sha256').update(bytes).digest('hex')),
  );
  console.log(
    `[fraud:train] wrote models/fraud-v1.onnx (${bytes.length} bytes, ${report.trees} trees) and models/README.md in ${report.seconds.toFixed(1)} s`,
  );
}

if (require.main === module) main();
