/**
 * A gradient-boosted tree ensemble for binary classification, as the trainer builds it and as it is
 * written to ONNX: score = sigmoid(baseMargin + Σ leaf value of each tree). A node sends x to `yes`
 * when x[feature] <= threshold (both float32, as ONNX Runtime compares them).
 */
export type TreeNode =
  | {
      readonly kind: 'split';
      readonly feature: number;
      readonly threshold: number;
      readonly yes: number;
      readonly no: number;
    }
  | { readonly kind: 'leaf'; readonly value: number };

export interface TreeEnsemble {
  readonly baseMargin: number;
  /** Each tree's nodes; node 0 is the root. */
  readonly trees: ReadonlyArray<readonly TreeNode[]>;
  readonly featureCount: number;
}

/** The raw margin (log-odds) of one row, evaluated in float32 like ONNX Runtime. */
export function ensembleMargin(model: TreeEnsemble, row: ArrayLike<number>): number {
  let margin = model.baseMargin;
  for (const tree of model.trees) {
    let node = tree[0]!;
    while (node.kind === 'split') {
      node = tree[Math.fround(row[node.feature]!) <= Math.fround(node.threshold) ? node.yes : node.no]!;
    }
    margin += node.value;
  }
  return margin;
}

export const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

export function ensembleScore(model: TreeEnsemble, row: ArrayLike<number>): number {
  return sigmoid(ensembleMargin(model, row));
}
