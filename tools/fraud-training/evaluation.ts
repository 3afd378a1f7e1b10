/** Figures for an imbalanced problem: area under the precision-recall curve, recall at a false-positive rate. */
export interface Evaluation {
  readonly auprc: number;
  readonly recallAt1PctFpr: number;
  /** The score above which at most 1% of legitimate transfers fall (the threshold for that recall). */
  readonly thresholdAt1PctFpr: number;
  readonly positives: number;
  readonly negatives: number;
}

export function evaluate(scores: ArrayLike<number>, labels: ArrayLike<number>, fpr = 0.01): Evaluation {
  const order = Array.from({ length: labels.length }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  let positives = 0;
  for (let i = 0; i < labels.length; i++) positives += labels[i]!;
  const negatives = labels.length - positives;
  // Average precision: Σ over each positive of the precision at its rank (ties broken pessimistically by groups).
  let tp = 0;
  let fp = 0;
  let ap = 0;
  let recallAtFpr = 0;
  let thresholdAtFpr = Number.POSITIVE_INFINITY;
  for (let i = 0; i < order.length; ) {
    const score = scores[order[i]!]!;
    let groupTp = 0;
    let groupFp = 0;
    while (i < order.length && scores[order[i]!] === score) {
      if (labels[order[i]!]) groupTp++;
      else groupFp++;
      i++;
    }
    tp += groupTp;
    fp += groupFp;
    if (groupTp > 0) ap += (groupTp / positives) * (tp / (tp + fp));
    if (fp <= fpr * negatives) {
      recallAtFpr = tp / positives;
      thresholdAtFpr = score;
    }
  }
  return { auprc: ap, recallAt1PctFpr: recallAtFpr, thresholdAt1PctFpr: thresholdAtFpr, positives, negatives };
}
