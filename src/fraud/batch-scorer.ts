import { FEATURE_COUNT } from './features';
import type { FraudMetrics } from './fraud-metrics';
import { type Scorer, isBrokenCircuit } from './guarded-scorer';
import type { DeadLetterInput, PoisonTracker } from './poison-tracker';
import type { ScoringItem } from './scoring-items';

/** What scoring a batch came to: scores for `items[0 .. scoredCount)`, and a poison if one was found. */
export type BatchScores =
  | { readonly kind: 'scored'; readonly scores: Float32Array; readonly scoredCount: number }
  | {
      readonly kind: 'isolated';
      readonly scores: Float32Array;
      /** Items before this one were scored. */
      readonly scoredCount: number;
      /** The index in the page of the first event not passed (or, with a dead letter, the dead one). */
      readonly failedIndex: number;
      readonly dead: DeadLetterInput | undefined;
    };

/**
 * Inference of a batch through the breaker, with the poison search of ADR 0010: when a batch fails
 * with the breaker closed, the first few transfers are scored one by one to tell a failing model
 * from one failing event. Throws BrokenCircuitError while the breaker is open.
 */
export class BatchScorer {
  constructor(
    private readonly scorer: Scorer,
    private readonly poisons: PoisonTracker,
    private readonly metrics: FraudMetrics | undefined,
    /** Events scored one by one to find a poison when a batch fails. */
    private readonly isolateMax: number,
  ) {}

  async score(items: readonly ScoringItem[], rows: Float32Array): Promise<BatchScores> {
    try {
      const scores = await this.timed(rows, items.length);
      return { kind: 'scored', scores, scoredCount: items.length };
    } catch (error) {
      if (isBrokenCircuit(error)) throw error;
      return this.isolate(items, rows, error);
    }
  }

  /** Scores one prepared row (dead-letter retries). */
  async scoreOne(row: Float32Array): Promise<number> {
    const [score] = await this.timed(row, 1);
    return score!;
  }

  private async timed(rows: Float32Array, count: number): Promise<Float32Array> {
    if (count === 0) return new Float32Array(0);
    const started = performance.now();
    const scores = await this.scorer.score(rows, count);
    this.metrics?.inferenceSeconds.observe((performance.now() - started) / 1000);
    this.metrics?.batchSize.observe(count);
    return scores;
  }

  /**
   * If none of the first few succeeds alone, the model itself is failing (rethrow: the breaker
   * counts it, nothing is blamed); if some succeed, the first that fails is a poison candidate and
   * the step passes what is before it.
   */
  private async isolate(items: readonly ScoringItem[], rows: Float32Array, batchError: unknown): Promise<BatchScores> {
    const limit = Math.min(items.length, this.isolateMax);
    const scores = new Float32Array(items.length);
    let failedAt = -1;
    let failure: unknown;
    let succeeded = 0;
    for (let k = 0; k < limit; k++) {
      try {
        const [score] = await this.timed(rows.slice(k * FEATURE_COUNT, (k + 1) * FEATURE_COUNT), 1);
        scores[k] = score!;
        succeeded++;
      } catch (error) {
        if (isBrokenCircuit(error)) throw error;
        if (failedAt < 0) {
          failedAt = k;
          failure = error;
        }
      }
    }
    if (succeeded === 0) throw batchError;
    if (failedAt < 0) {
      // Every one scored alone: pass those, the rest go in the next batch.
      return {
        kind: 'isolated',
        scores,
        scoredCount: limit,
        failedIndex: limit < items.length ? items[limit]!.index : items.at(-1)!.index + 1,
        dead: undefined,
      };
    }
    const dead = this.poisons.fail(items[failedAt]!.event, failure);
    return { kind: 'isolated', scores, scoredCount: failedAt, failedIndex: items[failedAt]!.index, dead };
  }
}
