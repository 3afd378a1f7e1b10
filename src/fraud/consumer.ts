import { type Kysely, sql } from 'kysely';
import type { Writer } from '../commands/writer';
import type { EventStore } from '../eventstore/port';
import type { Tables } from '../platform/tables';
import { WakeSignal } from '../platform/wake-signal';
import { BatchScorer } from './batch-scorer';
import { processRetries } from './dead-letter-retries';
import type { FraudMetrics } from './fraud-metrics';
import { FRAUD_CHECKPOINT, type FraudStore } from './fraud-store';
import { FEATURE_COUNT } from './features';
import { type Scorer, isBrokenCircuit } from './guarded-scorer';
import { type DeadLetterInput, PoisonTracker } from './poison-tracker';
import { ScoreRecorder } from './score-recorder';
import { type PreparedFeatures, type ScoringItem, prepareFeatures, readItems } from './scoring-items';

export interface FraudConsumerOptions {
  readonly batchSizeMax: number;
  readonly batchWaitMs: number;
  readonly pollMs: number;
  readonly reviewThreshold: number;
  /** Unset: no auto-freeze. */
  readonly autoFreezeThreshold?: number | undefined;
  /** Failures, with the breaker closed, after which an event is dead-lettered. */
  readonly poisonAttempts: number;
  /** Events scored one by one to find a poison when a batch fails. */
  readonly isolateMax?: number;
  /** Test hook: runs after the scores are appended, before the checkpoint transaction commits. */
  readonly beforeCheckpoint?: () => Promise<void>;
  readonly log?: (message: string) => void;
}

type StepResult = 'progress' | 'idle' | 'paused' | 'blocked';

/**
 * The fraud scorer's reader of the global log (ADR 0010). Each step reads a batch of events after
 * its checkpoint, computes the features of its transfers from the scorer's own tables, scores them
 * in a worker thread behind the circuit breaker, appends one FraudScored per transfer to
 * `fraud-<transferId>` with expected revision no-stream, and only then moves its checkpoint, with
 * the feature state, in one PostgreSQL transaction. A crash in between re-runs the batch: the same
 * features give the same scores and the appends are refused as already there, so nothing is lost
 * and nothing is scored twice. While the breaker is open nothing is read and the checkpoint stays.
 *
 * This file is the loop and the order of a step; features (scoring-items.ts), inference and the
 * poison search (batch-scorer.ts), the appends and the freeze policy (score-recorder.ts) and
 * dead-letter retries (dead-letter-retries.ts) live beside it.
 */
export class FraudConsumer {
  private position = 0n;
  private checkpointLoaded = false;
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly wakeSignal = new WakeSignal();
  private readonly poisons: PoisonTracker;
  private readonly batchScorer: BatchScorer;
  private readonly recorder: ScoreRecorder;
  lastError: unknown;
  lastLagMs = 0;

  constructor(
    private readonly db: Kysely<Tables>,
    private readonly store: EventStore,
    private readonly fraudStore: FraudStore,
    private readonly scorer: Scorer,
    writer: Writer,
    private readonly metrics: FraudMetrics | undefined,
    private readonly options: FraudConsumerOptions,
  ) {
    this.poisons = new PoisonTracker(options.poisonAttempts, options.log);
    this.batchScorer = new BatchScorer(scorer, this.poisons, metrics, options.isolateMax ?? 32);
    this.recorder = new ScoreRecorder(writer, metrics, options);
  }

  get checkpoint(): bigint {
    return this.position;
  }

  get isRunning(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wakeSignal.interrupt();
    await this.loop;
  }

  /** New events were appended in this process: look now rather than at the next poll. */
  wake(): void {
    this.wakeSignal.wake();
  }

  /**
   * Scores everything up to the log's head now (tests, tools). Returns the number of events passed;
   * stops early, without error, when the breaker is open or an event is held back for a retry.
   */
  async catchUp(): Promise<number> {
    let passed = 0;
    for (;;) {
      const before = this.position;
      const result = await this.step();
      passed += Number(this.position - before);
      if (result !== 'progress') return passed;
    }
  }

  private async run(): Promise<void> {
    const baseMs = this.options.pollMs;
    let backoffMs = baseMs;
    let wasIdle = false;
    while (this.running) {
      let result: StepResult;
      try {
        if (wasIdle && this.options.batchWaitMs > 0) await sleep(this.options.batchWaitMs);
        result = await this.step();
        this.lastError = undefined;
      } catch (error) {
        this.lastError = error;
        this.metrics?.failures.inc();
        this.options.log?.(
          `fraud scoring failed, will retry: ${error instanceof Error ? error.message : String(error)}`,
        );
        result = 'blocked';
      }
      wasIdle = result === 'idle';
      if (result === 'progress') {
        backoffMs = baseMs;
        continue;
      }
      let waitMs: number;
      if (result === 'idle') {
        backoffMs = baseMs;
        waitMs = baseMs;
      } else if (result === 'paused') {
        waitMs = Math.max(10, this.scorer.probeDueAt - Date.now());
      } else {
        backoffMs = Math.min(backoffMs * 2, 5000);
        waitMs = backoffMs;
      }
      // Only an idle scorer is woken by new events: a paused breaker or a backoff runs its course.
      await this.wakeSignal.wait(waitMs, { wakeable: result === 'idle' });
    }
  }

  private async loadCheckpoint(): Promise<void> {
    await sql`insert into checkpoints (name, position) values (${FRAUD_CHECKPOINT}, 0) on conflict (name) do nothing`.execute(
      this.db,
    );
    const rows = await sql<{ position: string }>`
      select position::text as position from checkpoints where name = ${FRAUD_CHECKPOINT}`.execute(this.db);
    this.position = BigInt(rows.rows[0]!.position);
    this.checkpointLoaded = true;
  }

  /** One batch: read, score, append, move the checkpoint. */
  private async step(): Promise<StepResult> {
    if (!this.checkpointLoaded) await this.loadCheckpoint();
    if (this.scorer.state === 'open' && Date.now() < this.scorer.probeDueAt) return 'paused';
    const events = await this.store.readAll({ after: this.position, limit: this.options.batchSizeMax });
    if (events.length === 0) {
      if (this.scorer.state === 'closed') {
        await processRetries({
          store: this.store,
          fraudStore: this.fraudStore,
          batchScorer: this.batchScorer,
          recorder: this.recorder,
          modelVersion: () => this.scorer.modelVersion,
        });
      }
      return 'idle';
    }

    // Events this step passes: events[0 .. end). A transfer that cannot be read stops the batch.
    const read = readItems(events);
    let items: ScoringItem[] = read.items;
    let end = events.length;
    let dead: DeadLetterInput | undefined;
    if (read.unreadable) {
      dead = this.poisons.fail(read.unreadable.event, read.unreadable.error);
      end = dead ? read.unreadable.index + 1 : read.unreadable.index;
    }

    let prepared = await prepareFeatures(this.fraudStore, items);
    let scores: Float32Array;
    try {
      const result = await this.batchScorer.score(items, prepared.rows);
      scores = result.scores;
      if (result.kind === 'isolated') {
        items = items.slice(0, result.scoredCount);
        scores = result.scores.subarray(0, result.scoredCount);
        end = result.dead ? result.failedIndex + 1 : result.failedIndex;
        dead = result.dead;
        // The feature state to save is that after the items passed, not after the whole batch.
        prepared = await prepareFeatures(this.fraudStore, items);
      }
    } catch (error) {
      if (isBrokenCircuit(error)) return 'paused';
      throw error;
    }
    if (end === 0) return 'blocked';

    const modelVersion = this.scorer.modelVersion;
    const scored = items.map((item, k) =>
      this.recorder.scored(
        item,
        scores[k]!,
        modelVersion,
        prepared.rows.subarray(k * FEATURE_COUNT, (k + 1) * FEATURE_COUNT),
      ),
    );
    const recorded = await this.recorder.record(scored);
    await this.recorder.freezeIfNeeded(
      scored,
      recorded.map((r) => r.eventId),
      modelVersion,
    );

    const last = events[end - 1]!;
    if (!(await this.commitCheckpoint(last.position, prepared, dead))) return 'progress';

    this.position = last.position;
    this.poisons.passed(last.position);
    if (dead) {
      this.metrics?.deadLettered.inc();
      this.options.log?.(`dead-lettered the event at ${dead.position} after ${dead.attempts} attempts: ${dead.error}`);
    }
    this.metrics?.position.set(Number(this.position));
    const lastTransfer = items.at(-1);
    if (lastTransfer) {
      this.lastLagMs = Math.max(0, Date.now() - lastTransfer.transfer.atMs);
      this.metrics?.lagSeconds.set(this.lastLagMs / 1000);
    }
    return 'progress';
  }

  /**
   * Moves the checkpoint to `position` with the feature state and the dead letter, in one
   * transaction, if it is still where this step read from; false when another scorer moved it
   * (its appends and ours agree: continue from there).
   */
  private async commitCheckpoint(
    position: bigint,
    prepared: PreparedFeatures,
    dead: DeadLetterInput | undefined,
  ): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const locked = await sql<{ position: string }>`
        select position::text as position from checkpoints where name = ${FRAUD_CHECKPOINT} for update`.execute(trx);
      const stored = BigInt(locked.rows[0]!.position);
      if (stored !== this.position) {
        this.position = stored;
        return false;
      }
      const changed = new Map([...prepared.changedAccounts].map((id) => [id, prepared.state.profiles.get(id)!]));
      await this.fraudStore.saveState(trx, changed, prepared.newPairs, position);
      if (dead) await this.fraudStore.addDeadLetter(trx, dead);
      await this.options.beforeCheckpoint?.();
      await sql`update checkpoints set position = ${position.toString()}::numeric, updated_at = now()
                where name = ${FRAUD_CHECKPOINT}`.execute(trx);
      return true;
    });
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
