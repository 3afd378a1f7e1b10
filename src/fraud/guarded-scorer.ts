import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  TimeoutStrategy,
  circuitBreaker,
  handleAll,
  timeout,
} from 'cockatiel';
import type { InferencePool } from './inference-pool';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface GuardedScorerOptions {
  readonly timeoutMs: number;
  readonly failuresToOpen: number;
  readonly halfOpenAfterMs: number;
}

/** Scores through the inference pool behind a timeout and a circuit breaker (cockatiel). */
export interface Scorer {
  score(features: Float32Array, rows: number): Promise<Float32Array>;
  readonly state: BreakerState;
  /** When an open breaker lets the next probe through (ms since the epoch); 0 when closed. */
  readonly probeDueAt: number;
  readonly modelVersion: string;
}

/**
 * Consecutive failures (errors or timeouts) open the breaker; while it is open `score` fails fast
 * with BrokenCircuitError and the caller pauses. After `halfOpenAfterMs` one call is let through as
 * a probe; before it runs, the model file is loaded again, so a model that was replaced (or came
 * back) is picked up. Its success closes the breaker, its failure opens it again.
 */
export class GuardedScorer implements Scorer {
  private readonly breaker;
  private readonly deadline;
  private reloadBeforeProbe = false;
  private openedAt = 0;
  /** Called whenever the state changes (metrics, logs). */
  onStateChange: (state: BreakerState, reason?: string) => void = () => {};

  constructor(
    private readonly pool: InferencePool,
    private readonly options: GuardedScorerOptions,
  ) {
    this.breaker = circuitBreaker(handleAll, {
      halfOpenAfter: options.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(options.failuresToOpen),
    });
    this.deadline = timeout(options.timeoutMs, TimeoutStrategy.Aggressive);
    this.breaker.onBreak((reason) => {
      this.openedAt = Date.now();
      const error = 'error' in reason ? reason.error : undefined;
      this.onStateChange('open', error instanceof Error ? error.message : undefined);
    });
    this.breaker.onHalfOpen(() => {
      this.reloadBeforeProbe = true;
      this.onStateChange('half-open');
    });
    this.breaker.onReset(() => {
      this.openedAt = 0;
      this.onStateChange('closed');
    });
  }

  get state(): BreakerState {
    switch (this.breaker.state) {
      case CircuitState.Closed:
        return 'closed';
      case CircuitState.HalfOpen:
        return 'half-open';
      default:
        return 'open';
    }
  }

  get probeDueAt(): number {
    return this.state === 'closed' ? 0 : this.openedAt + this.options.halfOpenAfterMs;
  }

  get modelVersion(): string {
    return this.pool.modelVersion;
  }

  score(features: Float32Array, rows: number): Promise<Float32Array> {
    return this.breaker.execute(async () => {
      if (this.reloadBeforeProbe) {
        this.reloadBeforeProbe = false;
        await this.pool.reload();
      }
      return this.deadline.execute(({ signal }) => this.pool.score(features, rows, signal));
    });
  }
}

export const isBrokenCircuit = (error: unknown): boolean => error instanceof BrokenCircuitError;
