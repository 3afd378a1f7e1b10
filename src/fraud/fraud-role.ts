import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Kysely } from 'kysely';
import type { Writer } from '../commands/writer';
import type { Config } from '../config';
import type { EventStore } from '../eventstore/port';
import type { Metrics } from '../platform/metrics';
import type { Readiness } from '../platform/readiness';
import type { Tables } from '../platform/tables';
import { CompensationSaga } from './compensation-saga';
import { FraudConsumer, type FraudConsumerOptions } from './consumer';
import { type ProviderChoice, chooseProviders, parseExecutionProviders } from './execution-providers';
import { FEATURE_COUNT } from './features';
import { FraudMetrics } from './fraud-metrics';
import { FraudStore } from './fraud-store';
import { type BreakerState, GuardedScorer } from './guarded-scorer';
import { InferencePool } from './inference-pool';

export const SHIPPED_MODEL = 'models/fraud-v1.onnx';

/** The shipped model, seen from src/fraud (tests) or dist/src/fraud. */
export function defaultModelPath(): string {
  for (const up of ['../..', '../../..']) {
    const candidate = path.resolve(__dirname, up, SHIPPED_MODEL);
    if (existsSync(candidate)) return candidate;
  }
  return path.resolve(__dirname, '../..', SHIPPED_MODEL);
}

export interface FraudRole {
  readonly consumer: FraudConsumer;
  readonly pool: InferencePool;
  readonly scorer: GuardedScorer;
  readonly providers: ProviderChoice;
  readonly modelPath: string;
  /** The fraud saga: compensation of reviews resolved `fraud`, and the auto-freeze policy (ADR 0024). */
  readonly saga: CompensationSaga;
  start(): void;
  /** New events in this process: the scorer and the saga look now. */
  wake(): void;
  close(): Promise<void>;
}

export interface FraudRoleParts {
  readonly config: Config;
  readonly db: Kysely<Tables>;
  readonly store: EventStore;
  readonly writer: Writer;
  readonly metrics: Metrics;
  readonly log: (message: string) => void;
  readonly warn: (message: string) => void;
  /** Test hooks and overrides. */
  readonly consumerOptions?: Partial<FraudConsumerOptions>;
}

const BREAKER_GAUGE: Record<BreakerState, number> = { closed: 0, open: 1, 'half-open': 2 };

/**
 * The `fraud` role: decides the execution provider, loads the model in child processes (a missing
 * or corrupt file stops the start with a message naming it), and builds the log reader. Not started.
 */
export async function createFraudRole(parts: FraudRoleParts): Promise<FraudRole> {
  const { config } = parts;
  const providers = chooseProviders(parseExecutionProviders(config.ONNX_EXECUTION_PROVIDERS));
  for (const { reason } of providers.skipped) parts.log(`fraud scorer: ${reason}`);
  const modelPath = config.FRAUD_MODEL_PATH ?? defaultModelPath();
  const pool = await InferencePool.start({
    modelPath,
    providers: providers.providers,
    featureCount: FEATURE_COUNT,
    workers: config.FRAUD_WORKERS,
  });
  parts.log(
    `fraud scorer: model ${pool.modelVersion} (${modelPath}) on ${providers.active.toUpperCase()} ` +
      `(ONNX_EXECUTION_PROVIDERS=${config.ONNX_EXECUTION_PROVIDERS}), ${config.FRAUD_WORKERS} inference process(es), pid ${pool.pids.join(', ')}`,
  );
  const metrics = new FraudMetrics(parts.metrics.registry);
  for (const provider of ['cuda', 'cpu']) metrics.provider.set({ provider }, provider === providers.active ? 1 : 0);
  const scorer = new GuardedScorer(pool, {
    timeoutMs: config.FRAUD_TIMEOUT_MS,
    failuresToOpen: config.FRAUD_BREAKER_FAILURES,
    halfOpenAfterMs: config.FRAUD_BREAKER_HALF_OPEN_MS,
  });
  metrics.breakerState.set(0);
  scorer.onStateChange = (state, reason) => {
    metrics.breakerState.set(BREAKER_GAUGE[state]);
    const message = `fraud scorer: circuit breaker ${state}${reason ? ` (${reason})` : ''}`;
    if (state === 'open') parts.warn(message);
    else parts.log(message);
  };
  const consumer = new FraudConsumer(parts.db, parts.store, new FraudStore(parts.db), scorer, parts.writer, metrics, {
    batchSizeMax: config.FRAUD_BATCH_MAX,
    batchWaitMs: config.FRAUD_BATCH_WAIT_MS,
    pollMs: config.FRAUD_POLL_MS,
    reviewThreshold: config.FRAUD_REVIEW_THRESHOLD,
    poisonAttempts: config.FRAUD_POISON_ATTEMPTS,
    log: parts.warn,
    ...parts.consumerOptions,
  });
  const saga = new CompensationSaga(parts.db, parts.store, parts.writer, {
    batchSizeMax: config.FRAUD_BATCH_MAX,
    pollMs: config.FRAUD_POLL_MS,
    autoFreezeThreshold: config.FRAUD_AUTO_FREEZE_THRESHOLD,
    stepPauseMs: config.FRAUD_COMPENSATION_STEP_PAUSE_MS,
    onFreeze: () => metrics.freezes.inc(),
    log: parts.warn,
  });
  return {
    consumer,
    pool,
    scorer,
    providers,
    modelPath,
    saga,
    start() {
      consumer.start();
      saga.start();
    },
    wake() {
      consumer.wake();
      saga.wake();
    },
    async close() {
      await consumer.stop();
      await saga.stop();
      await pool.close();
    },
  };
}

/** The `fraud` readiness check: provider, model, breaker, position. */
export function registerFraudReadiness(readiness: Readiness, fraud: FraudRole | null, fraudOnly: boolean): void {
  readiness.register('fraud', () => {
    if (!fraud) return { status: 'off' };
    const breaker = fraud.scorer.state;
    const error = fraud.consumer.lastError;
    // In a process that only scores, an open breaker means it is not doing its job; next to the
    // API it must not take the ledger out of a load balancer (the ledger keeps posting).
    const down = !fraud.consumer.isRunning || (fraudOnly && breaker !== 'closed');
    return {
      status: down ? 'down' : 'up',
      provider: fraud.providers.active,
      modelVersion: fraud.pool.modelVersion,
      breaker,
      position: fraud.consumer.checkpoint.toString(),
      lagMs: fraud.consumer.lastLagMs,
      ...(error !== undefined ? { error: error instanceof Error ? error.message : String(error) } : {}),
    };
  });
}
