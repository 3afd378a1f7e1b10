import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The fraud scorer's Prometheus metrics, in the process's registry. */
export class FraudMetrics {
  readonly provider;
  readonly breakerState;
  readonly scored;
  readonly alreadyScored;
  readonly failures;
  readonly deadLettered;
  readonly batchSize;
  readonly inferenceSeconds;
  readonly position;
  readonly lagSeconds;
  readonly freezes;

  constructor(registry: Registry) {
    const registers = [registry];
    this.provider = new Gauge({
      name: 'ledger_fraud_execution_provider',
      help: 'ONNX Runtime execution provider in use (1 for the one in use)',
      labelNames: ['provider'] as const,
      registers,
    });
    this.breakerState = new Gauge({
      name: 'ledger_fraud_breaker_state',
      help: 'Circuit breaker around inference: 0 closed, 1 open, 2 half-open',
      registers,
    });
    this.scored = new Counter({
      name: 'ledger_fraud_scored_total',
      help: 'FraudScored events appended, by decision',
      labelNames: ['decision'] as const,
      registers,
    });
    this.alreadyScored = new Counter({
      name: 'ledger_fraud_already_scored_total',
      help: 'Transfers found scored already when their score was appended (a re-run after a crash)',
      registers,
    });
    this.failures = new Counter({
      name: 'ledger_fraud_failures_total',
      help: 'Scoring steps that failed (model errors, timeouts, storage), the checkpoint kept',
      registers,
    });
    this.deadLettered = new Counter({
      name: 'ledger_fraud_dead_lettered_total',
      help: 'Events moved to the dead-letter table',
      registers,
    });
    this.batchSize = new Histogram({
      name: 'ledger_fraud_batch_transfers',
      help: 'Transfers scored per inference call',
      buckets: [1, 4, 16, 64, 256, 1024, 4096],
      registers,
    });
    this.inferenceSeconds = new Histogram({
      name: 'ledger_fraud_inference_duration_seconds',
      help: 'Time of one inference call, in its inference process and back',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
      registers,
    });
    this.position = new Gauge({
      name: 'ledger_fraud_position',
      help: 'Global-log position the scorer has passed',
      registers,
    });
    this.lagSeconds = new Gauge({
      name: 'ledger_fraud_lag_seconds',
      help: 'Age of the last transfer scored, when its score was appended',
      registers,
    });
    this.freezes = new Counter({
      name: 'ledger_fraud_freezes_total',
      help: 'FreezeAccount commands sent by the auto-freeze saga',
      registers,
    });
  }
}
