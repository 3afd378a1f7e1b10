/**
 * The baseline: logistic regression on standardised features, full-batch gradient descent with
 * Adam and a little L2. What the tree model must beat.
 */
export interface LogisticModel {
  readonly mean: Float64Array;
  readonly std: Float64Array;
  readonly weights: Float64Array;
  readonly bias: number;
}

export function trainLogistic(
  rows: Float32Array,
  labels: Uint8Array,
  featureCount: number,
  epochs = 300,
): LogisticModel {
  const n = labels.length;
  const mean = new Float64Array(featureCount);
  const std = new Float64Array(featureCount);
  for (let r = 0; r < n; r++)
    for (let f = 0; f < featureCount; f++) mean[f] = mean[f]! + rows[r * featureCount + f]! / n;
  for (let r = 0; r < n; r++)
    for (let f = 0; f < featureCount; f++) std[f] = std[f]! + (rows[r * featureCount + f]! - mean[f]!) ** 2 / n;
  for (let f = 0; f < featureCount; f++) std[f] = Math.sqrt(std[f]!) || 1;
  const w = new Float64Array(featureCount + 1);
  const m = new Float64Array(featureCount + 1);
  const v = new Float64Array(featureCount + 1);
  const lr = 0.05;
  const l2 = 1e-4;
  const x = new Float64Array(featureCount);
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const grad = new Float64Array(featureCount + 1);
    for (let r = 0; r < n; r++) {
      let z = w[featureCount]!;
      for (let f = 0; f < featureCount; f++) {
        x[f] = (rows[r * featureCount + f]! - mean[f]!) / std[f]!;
        z += w[f]! * x[f]!;
      }
      const err = 1 / (1 + Math.exp(-z)) - labels[r]!;
      for (let f = 0; f < featureCount; f++) grad[f] = grad[f]! + (err * x[f]!) / n;
      grad[featureCount] = grad[featureCount]! + err / n;
    }
    for (let k = 0; k <= featureCount; k++) {
      const g = grad[k]! + (k < featureCount ? l2 * w[k]! : 0);
      m[k] = 0.9 * m[k]! + 0.1 * g;
      v[k] = 0.999 * v[k]! + 0.001 * g * g;
      w[k] = w[k]! - (lr * (m[k]! / (1 - 0.9 ** epoch))) / (Math.sqrt(v[k]! / (1 - 0.999 ** epoch)) + 1e-8);
    }
  }
  return { mean, std, weights: w.subarray(0, featureCount), bias: w[featureCount]! };
}

export function logisticScore(model: LogisticModel, row: ArrayLike<number>): number {
  let z = model.bias;
  for (let f = 0; f < model.weights.length; f++) z += model.weights[f]! * ((row[f]! - model.mean[f]!) / model.std[f]!);
  return 1 / (1 + Math.exp(-z));
}
