import type { TreeEnsemble, TreeNode } from './tree-ensemble';
import { Prng } from './prng';

/**
 * Gradient-boosted decision trees for the logistic loss, histogram-based (features binned at
 * quantiles once; each level of a tree is one pass over the rows), in plain TypeScript. Small
 * on purpose: depth-limited trees, shrinkage, row subsampling, L2 on leaves.
 */
export interface GbdtOptions {
  readonly rounds: number;
  readonly maxDepth: number;
  readonly learningRate: number;
  readonly lambda: number;
  readonly minChildHessian: number;
  readonly minChildRows: number;
  readonly rowSample: number;
  readonly bins: number;
  readonly seed: number;
}

export const DEFAULT_GBDT: GbdtOptions = {
  rounds: 100,
  maxDepth: 4,
  learningRate: 0.1,
  lambda: 1,
  minChildHessian: 0.05,
  minChildRows: 10,
  rowSample: 0.8,
  bins: 48,
  seed: 7,
};

/** `rows` is row-major float32, `featureCount` columns; labels 0/1. */
export function trainGbdt(
  rows: Float32Array,
  labels: Uint8Array,
  featureCount: number,
  options: GbdtOptions = DEFAULT_GBDT,
): TreeEnsemble {
  const n = labels.length;
  const rng = new Prng(options.seed);
  const cuts = quantileCuts(rows, n, featureCount, options.bins, rng);
  // Column-major bins: bin b of feature f means x <= cuts[f][b] (and > cuts[f][b-1]); the last bin is above all cuts.
  const binned = cuts.map((featureCuts, f) => {
    const column = new Uint8Array(n);
    for (let r = 0; r < n; r++) column[r] = binOf(featureCuts, rows[r * featureCount + f]!);
    return column;
  });
  const positives = labels.reduce((a, b) => a + b, 0);
  const prior = Math.min(Math.max(positives / n, 1e-6), 1 - 1e-6);
  const baseMargin = Math.log(prior / (1 - prior));
  const margin = new Float64Array(n).fill(baseMargin);
  const grad = new Float64Array(n);
  const hess = new Float64Array(n);
  const nodeOf = new Int32Array(n);
  const trees: TreeNode[][] = [];

  for (let round = 0; round < options.rounds; round++) {
    for (let r = 0; r < n; r++) {
      const p = 1 / (1 + Math.exp(-margin[r]!));
      grad[r] = p - labels[r]!;
      hess[r] = Math.max(p * (1 - p), 1e-9);
      nodeOf[r] = rng.next() < options.rowSample ? 0 : -1;
    }
    const tree = growTree(binned, cuts, grad, hess, nodeOf, options);
    trees.push(tree);
    for (let r = 0; r < n; r++) {
      let node = tree[0]!;
      while (node.kind === 'split')
        node = tree[binned[node.feature]![r]! <= binIndexOf(cuts[node.feature]!, node.threshold) ? node.yes : node.no]!;
      margin[r] = margin[r]! + node.value;
    }
  }
  return { baseMargin, trees, featureCount };
}

interface Open {
  readonly id: number;
  readonly depth: number;
  readonly g: number;
  readonly h: number;
  readonly count: number;
}

function growTree(
  binned: readonly Uint8Array[],
  cuts: readonly Float32Array[],
  grad: Float64Array,
  hess: Float64Array,
  nodeOf: Int32Array,
  options: GbdtOptions,
): TreeNode[] {
  const n = nodeOf.length;
  const features = binned.length;
  const nodes: TreeNode[] = [];
  let G = 0;
  let H = 0;
  let C = 0;
  for (let r = 0; r < n; r++) {
    if (nodeOf[r] !== 0) continue;
    G += grad[r]!;
    H += hess[r]!;
    C++;
  }
  nodes.push({ kind: 'leaf', value: 0 });
  let level: Open[] = [{ id: 0, depth: 0, g: G, h: H, count: C }];
  const leafValue = (g: number, h: number) => (-g / (h + options.lambda)) * options.learningRate;

  while (level.length > 0) {
    const splittable = level.filter((node) => node.depth < options.maxDepth && node.count >= 2 * options.minChildRows);
    for (const node of level) nodes[node.id] = { kind: 'leaf', value: leafValue(node.g, node.h) };
    if (splittable.length === 0) break;
    // Histograms of every splittable node of this level, in one pass over the rows.
    const slot = new Map(splittable.map((node, i) => [node.id, i]));
    const maxBins = Math.max(...cuts.map((c) => c.length + 1));
    const stride = features * maxBins;
    const hg = new Float64Array(splittable.length * stride);
    const hh = new Float64Array(splittable.length * stride);
    const hc = new Uint32Array(splittable.length * stride);
    for (let r = 0; r < n; r++) {
      const s = slot.get(nodeOf[r]!);
      if (s === undefined) continue;
      const g = grad[r]!;
      const h = hess[r]!;
      const base = s * stride;
      for (let f = 0; f < features; f++) {
        const at = base + f * maxBins + binned[f]![r]!;
        hg[at] = hg[at]! + g;
        hh[at] = hh[at]! + h;
        hc[at] = hc[at]! + 1;
      }
    }
    const next: Open[] = [];
    const decided = new Map<number, { feature: number; bin: number; yes: number; no: number }>();
    splittable.forEach((node, s) => {
      let best = { gain: 1e-9, feature: -1, bin: -1, gl: 0, hl: 0, cl: 0 };
      const parentScore = (node.g * node.g) / (node.h + options.lambda);
      for (let f = 0; f < features; f++) {
        const bins = cuts[f]!.length;
        let gl = 0;
        let hl = 0;
        let cl = 0;
        for (let b = 0; b < bins; b++) {
          const at = s * stride + f * maxBins + b;
          gl += hg[at]!;
          hl += hh[at]!;
          cl += hc[at]!;
          const gr = node.g - gl;
          const hr = node.h - hl;
          const cr = node.count - cl;
          if (cl < options.minChildRows || cr < options.minChildRows) continue;
          if (hl < options.minChildHessian || hr < options.minChildHessian) continue;
          const gain = (gl * gl) / (hl + options.lambda) + (gr * gr) / (hr + options.lambda) - parentScore;
          if (gain > best.gain) best = { gain, feature: f, bin: b, gl, hl, cl };
        }
      }
      if (best.feature < 0) return;
      const yes = nodes.length;
      const no = yes + 1;
      nodes.push({ kind: 'leaf', value: 0 }, { kind: 'leaf', value: 0 });
      nodes[node.id] = { kind: 'split', feature: best.feature, threshold: cuts[best.feature]![best.bin]!, yes, no };
      decided.set(node.id, { feature: best.feature, bin: best.bin, yes, no });
      next.push(
        { id: yes, depth: node.depth + 1, g: best.gl, h: best.hl, count: best.cl },
        { id: no, depth: node.depth + 1, g: node.g - best.gl, h: node.h - best.hl, count: node.count - best.cl },
      );
    });
    for (let r = 0; r < n; r++) {
      const split = decided.get(nodeOf[r]!);
      if (split) nodeOf[r] = binned[split.feature]![r]! <= split.bin ? split.yes : split.no;
    }
    level = next;
  }
  return nodes;
}

/** Up to `bins - 1` distinct float32 cut points per feature, at quantiles of a sample of rows. */
function quantileCuts(rows: Float32Array, n: number, featureCount: number, bins: number, rng: Prng): Float32Array[] {
  const sampleSize = Math.min(n, 50_000);
  const sample = Array.from({ length: sampleSize }, () => Math.floor(rng.next() * n));
  return Array.from({ length: featureCount }, (_, f) => {
    const values = Float32Array.from(sample, (r) => rows[r * featureCount + f]!).sort();
    const cuts: number[] = [];
    for (let q = 1; q < bins; q++) {
      const v = values[Math.min(values.length - 1, Math.floor((q / bins) * values.length))]!;
      if (cuts.length === 0 || v > cuts[cuts.length - 1]!) cuts.push(v);
    }
    // Drop a cut equal to the maximum: nothing would go right of it.
    if (cuts.length > 0 && cuts[cuts.length - 1]! >= values[values.length - 1]!) cuts.pop();
    return Float32Array.from(cuts);
  });
}

/** The bin of x: the first cut with x <= cut, or the bin above them all. */
function binOf(cuts: Float32Array, x: number): number {
  let lo = 0;
  let hi = cuts.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (x <= cuts[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function binIndexOf(cuts: Float32Array, threshold: number): number {
  return binOf(cuts, threshold);
}
