import { FEATURE_NAMES } from '../../src/fraud/features';
import { DEFAULT_GBDT } from './gbdt';
import { DEFAULT_SYNTHETIC } from './synthetic';
import type { TrainingReport } from './train';

const FEATURE_MEANINGS: Record<(typeof FEATURE_NAMES)[number], string> = {
  log_amount: 'ln(1 + amount in minor units)',
  out_count_1h: "payer's transfers out in the hour before",
  out_log_sum_1h: 'ln(1 + their sum)',
  out_count_24h: 'same over 24 h',
  out_log_sum_24h: 'ln(1 + their sum)',
  out_count_7d: 'same over 7 days (at most 128 kept)',
  out_log_sum_7d: 'ln(1 + their sum)',
  amount_zscore: "z-score of ln(amount) against the payer's own history (Welford), clipped to ±20",
  log_history_count: "ln(1 + payer's transfers out so far)",
  new_counterparty: 'the payer never paid this payee before (1/0)',
  log_seconds_since_last_out: "ln(1 + seconds since the payer's previous transfer out)",
  amount_to_balance: 'amount ÷ what the payer received minus sent, as the scorer saw it (0–10)',
  credit_log_age_hours: 'ln(1 + hours since the scorer first saw the payee)',
  credit_in_count_24h: "payee's transfers in over the last 24 h",
  hour_of_day: 'UTC hour of recordedAt, with minutes as a fraction',
  is_night: 'hour < 6 UTC (1/0)',
  is_round_amount: 'a multiple of 1,000 minor units (1/0)',
};

/** models/README.md, written by `npm run fraud:train` so the figures are always the model's. */
export function modelCard(report: TrainingReport, sha256: string): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const g = DEFAULT_GBDT;
  return `# Fraud model \`fraud-v1\`

Written by \`npm run fraud:train\` (tools/fraud-training/train.ts); do not edit by hand: run it again.
The service loads \`models/fraud-v1.onnx\` unless \`FRAUD_MODEL_PATH\` names another file, and tags each
\`FraudScored\` event with \`modelVersion\` = the file's name and the first 12 hex digits of its SHA-256
(this file: \`fraud-v1@${sha256.slice(0, 12)}\`).

## What it is

- **Task.** The probability that a ledger transfer is fraudulent (an account takeover draining the payer,
  or a mule passing the money on), from what the scorer knows when it scores it.
- **Model.** ${report.trees} gradient-boosted regression trees (depth ≤ ${g.maxDepth}, learning rate ${g.learningRate},
  L2 ${g.lambda}, ${pct(g.rowSample)} row subsampling, features binned at ≤ ${g.bins} quantiles), logistic loss, trained in
  TypeScript (tools/fraud-training/gbdt.ts). Baseline: logistic regression on standardised features
  (tools/fraud-training/logistic.ts).
- **ONNX graph.** \`features\` float32[N, ${FEATURE_NAMES.length}] → \`ai.onnx.ml\` TreeEnsembleRegressor (opset 3, BRANCH_LEQ,
  sum of leaves plus the base log-odds) → Sigmoid → Reshape → \`score\` float32[N]. No ZipMap, no string
  outputs. IR 8, opset 17. Runs on ONNX Runtime's CPU and CUDA providers.
- **Decision.** \`review\` when the score ≥ \`FRAUD_REVIEW_THRESHOLD\` (default 0.5), else \`allow\`. The score
  that keeps the false-positive rate at 1% on the held-out week was ${report.gbdt.thresholdAt1PctFpr.toFixed(4)}; set the threshold
  there if reviewers can take 1% of legitimate traffic.

## Features (src/fraud/features.ts: the same code computes them for training and for scoring)

| # | name | meaning |
| --- | --- | --- |
${FEATURE_NAMES.map((name, i) => `| ${i} | \`${name}\` | ${FEATURE_MEANINGS[name]} |`).join('\n')}

The scorer keeps the state these need per account in PostgreSQL (\`fraud_profiles\`, \`fraud_counterparties\`,
migrations/0004_fraud_features.sql), updated in the transaction that moves its checkpoint.

## Data

No real data: a synthetic, labelled history in the spirit of PaySim (tools/fraud-training/synthetic.ts,
seeded PRNG, seed ${DEFAULT_SYNTHETIC.seed}). ${DEFAULT_SYNTHETIC.customers} customers over ${DEFAULT_SYNTHETIC.days} days: salaries, rent in round amounts,
purchases at their usual shops and sometimes new ones, payments to friends, shopping sprees, rare big
payments to new payees, a few night owls. Account takeovers (mostly at night) drain 60–100% of a victim's
money in a burst of transfers, often round, to one to three new mule accounts that pass it on within the
hour; about 40% are stealthier (one transfer to one mule, a few times the usual amount, unrounded).

- ${report.transfers.toLocaleString('en-US')} transfers, ${report.fraud.toLocaleString('en-US')} fraudulent (${pct(report.fraud / report.transfers)}).
- **Split by time:** the first 21 days train (${report.train.rows.toLocaleString('en-US')} transfers, ${report.train.fraud} fraudulent),
  the last ${DEFAULT_SYNTHETIC.days - 21} days are held out (${report.test.rows.toLocaleString('en-US')} transfers, ${report.test.fraud} fraudulent). Features of the held-out
  week are computed with the state the first three weeks left, as the scorer would.

## Figures on the held-out week

| model | AUPRC | recall at 1% false-positive rate |
| --- | --- | --- |
| gradient-boosted trees (shipped) | **${report.gbdt.auprc.toFixed(3)}** | **${pct(report.gbdt.recallAt1PctFpr)}** |
| logistic regression (baseline) | ${report.logistic.auprc.toFixed(3)} | ${pct(report.logistic.recallAt1PctFpr)} |

AUPRC is average precision (the fraud rate, ${pct(report.test.fraud / report.test.rows)}, is what a random score gets). The trainer
refuses to write a tree model that does not beat the baseline's AUPRC. Training took ${report.seconds.toFixed(0)} s here
(2 shared cores).

## Limits

- Synthetic data is kinder than the real world: the patterns were put there by the generator, so these
  figures say the pipeline learns them, not how the model would do on a bank's traffic. Retrain on
  labelled production history (same features, same script) before relying on the scores.
- Counts over 7 days saturate at 128 transfers per account; amounts are features as floats (never money).
- Scores depend on the order the scorer saw transfers (its own history): an event retried from the
  dead-letter table is scored against the state of the day of the retry and does not update the state.

## Reproduce

\`\`\`sh
npm run fraud:train   # about a minute on two cores; writes models/fraud-v1.onnx and this file
\`\`\`

SHA-256 of models/fraud-v1.onnx: \`${sha256}\`
`;
}
