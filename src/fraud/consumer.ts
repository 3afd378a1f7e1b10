import type { Kysely } from 'kysely';
import type { Writer } from '../commands/writer';
import type { EventStore, RecordedEvent } from '../eventstore/port';
import type { Prepared } from '../platform/log-follower';
import { LogReader } from '../platform/log-reader';
import type { Tables } from '../platform/tables';
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
  /** Failures, with the breaker closed, after which an event is dead-lettered. */
  readonly poisonAttempts: number;
  /** Events scored one by one to find a poison when a batch fails. */
  readonly isolateMax?: number;
  /** Test hook: runs after the scores are appended, before the checkpoint transaction commits. */
  readonly beforeCheckpoint?: () => Promise<void>;
  readonly log?: (message: string) => void;
}

/** What a page's scoring hands to the checkpoint's transaction. */
interface Scored {
  readonly prepared: PreparedFeatures;
  readonly dead: DeadLetterInput | undefined;
  readonly lastTransfer: ScoringItem | undefined;
}

/**
 * The fraud scorer, a reader of the global log on the common follower (ADR 0010, ADR 0016). For each
 * page after its checkpoint it computes the features of the transfers from the scorer's own tables,
 * scores them in an inference process behind the circuit breaker and records one FraudScored per transfer
 * through the command side's writer (`prepare`); then the feature state, any dead letter and the
 * checkpoint commit in one PostgreSQL transaction (`handle`). A crash in between re-runs the page:
 * the same features give the same scores and the writer answers `duplicate` for the transfers
 * scored already, so nothing is lost and nothing is scored twice. While the breaker is open nothing
 * is read and the checkpoint stays.
 *
 * Beside it: features (scoring-items.ts), inference and the poison search (batch-scorer.ts), the
 * records (score-recorder.ts) and dead-letter retries (dead-letter-retries.ts). What follows from a
 * score or a review (auto-freeze, compensation) is the saga's (compensation-saga.ts).
 */
export class FraudConsumer extends LogReader<RecordedEvent, Scored> {
  private readonly poisons: PoisonTracker;
  private readonly batchScorer: BatchScorer;
  private readonly recorder: ScoreRecorder;
  /** The last read found nothing: let the next batch gather for FRAUD_BATCH_WAIT_MS first. */
  private wasIdle = false;
  lastLagMs = 0;

  constructor(
    db: Kysely<Tables>,
    private readonly store: EventStore,
    private readonly fraudStore: FraudStore,
    private readonly scorer: Scorer,
    writer: Writer,
    private readonly metrics: FraudMetrics | undefined,
    private readonly options: FraudConsumerOptions,
  ) {
    super(db, store, {
      name: FRAUD_CHECKPOINT,
      batchSizeMax: options.batchSizeMax,
      pollMs: options.pollMs,
      ...(options.beforeCheckpoint ? { beforeCheckpoint: options.beforeCheckpoint } : {}),
    });
    this.poisons = new PoisonTracker(options.poisonAttempts, options.log);
    this.batchScorer = new BatchScorer(scorer, this.poisons, metrics, options.isolateMax ?? 32);
    this.recorder = new ScoreRecorder(writer, metrics, options);
  }

  /**
   * Scores everything up to the log's head now (tests, tools). Returns the number of events passed;
   * stops early, without error, when the breaker is open or an event is held back for a retry.
   */
  override catchUp(onPage?: (position: bigint, passed: number) => void): Promise<number> {
    this.wasIdle = false;
    return super.catchUp(onPage);
  }

  /** An open breaker pauses reading until its probe is due; after an idle read a batch may gather. */
  pausedForMs(): number | undefined {
    if (this.scorer.state === 'open' && Date.now() < this.scorer.probeDueAt) {
      return Math.max(10, this.scorer.probeDueAt - Date.now());
    }
    if (this.wasIdle && this.options.batchWaitMs > 0) {
      this.wasIdle = false;
      return this.options.batchWaitMs;
    }
    return undefined;
  }

  async idle(): Promise<void> {
    this.wasIdle = true;
    if (this.scorer.state !== 'closed') return;
    await processRetries({
      store: this.store,
      fraudStore: this.fraudStore,
      batchScorer: this.batchScorer,
      recorder: this.recorder,
      modelVersion: () => this.scorer.modelVersion,
    });
  }

  /**
   * Scores the page's transfers and records the scores (before the checkpoint's transaction: the
   * writer's appends are idempotent). Passes the page up to the first event held back: one the
   * scorer cannot read or score yet (a poison candidate), or, once dead-lettered, through it.
   */
  override async prepare(events: readonly RecordedEvent[]): Promise<Prepared<Scored>> {
    this.wasIdle = false;
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
        // The feature state to save is that after the items passed, not after the whole page.
        prepared = await prepareFeatures(this.fraudStore, items);
      }
    } catch (error) {
      // The breaker opened: hold the page (passed 0); reading pauses until the probe is due.
      if (isBrokenCircuit(error)) return { passed: 0, value: { prepared, dead: undefined, lastTransfer: undefined } };
      throw error;
    }
    if (end === 0) return { passed: 0, value: { prepared, dead, lastTransfer: undefined } };

    const modelVersion = this.scorer.modelVersion;
    const scored = items.map((item, k) =>
      this.recorder.scored(
        item,
        scores[k]!,
        modelVersion,
        prepared.rows.subarray(k * FEATURE_COUNT, (k + 1) * FEATURE_COUNT),
      ),
    );
    await this.recorder.record(scored);
    return { passed: end, value: { prepared, dead, lastTransfer: items.at(-1) } };
  }

  /** The feature state after the page and its dead letter, in the transaction that moves the checkpoint. */
  override async handle(
    events: readonly RecordedEvent[],
    tx: Kysely<Tables>,
    scored: Scored | undefined,
  ): Promise<void> {
    if (!scored) return;
    const { prepared, dead } = scored;
    const changed = new Map([...prepared.changedAccounts].map((id) => [id, prepared.state.profiles.get(id)!]));
    await this.fraudStore.saveState(tx, changed, prepared.newPairs, events.at(-1)!.position);
    if (dead) await this.fraudStore.addDeadLetter(tx, dead);
  }

  committed(events: readonly RecordedEvent[], scored: Scored | undefined): void {
    const position = events.at(-1)!.position;
    this.poisons.passed(position);
    if (scored?.dead) {
      const { dead } = scored;
      this.metrics?.deadLettered.inc();
      this.options.log?.(`dead-lettered the event at ${dead.position} after ${dead.attempts} attempts: ${dead.error}`);
    }
    this.metrics?.position.set(Number(position));
    if (scored?.lastTransfer) {
      this.lastLagMs = Math.max(0, Date.now() - scored.lastTransfer.transfer.atMs);
      this.metrics?.lagSeconds.set(this.lastLagMs / 1000);
    }
  }

  failed(error: unknown): void {
    this.metrics?.failures.inc();
    this.options.log?.(`fraud scoring failed, will retry: ${error instanceof Error ? error.message : String(error)}`);
  }
}
