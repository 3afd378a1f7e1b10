import { type Kysely, sql } from 'kysely';
import type { Writer } from '../commands/writer';
import { isLedgerError } from '../domain/errors';
import {
  DuplicateEventError,
  type EventStore,
  type EventToAppend,
  type ExpectedRevision,
  type RecordedEvent,
  WrongExpectedRevisionError,
  expect as expectRevision,
} from '../eventstore/port';
import type { Tables } from '../platform/tables';
import { FEATURE_COUNT, type FeatureTransfer, featuresInOrder, pairKey, transferFeatures } from './features';
import type { FraudMetrics } from './fraud-metrics';
import { fraudScoredEvent, readTransfer } from './fraud-scored';
import { FRAUD_CHECKPOINT, type FraudStore } from './fraud-store';
import { type Scorer, isBrokenCircuit } from './guarded-scorer';
import { WakeSignal } from '../platform/wake-signal';

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

interface Item {
  readonly index: number;
  readonly event: RecordedEvent;
  readonly transfer: ReturnType<typeof readTransfer>;
}

interface DeadLetterInput {
  readonly position: bigint;
  readonly eventId: string;
  readonly transferId: string | undefined;
  readonly error: string;
  readonly attempts: number;
}

const featureTransfer = (item: Item): FeatureTransfer => ({
  debitAccountId: item.transfer.debitAccountId,
  creditAccountId: item.transfer.creditAccountId,
  amount: item.transfer.amountMinor,
  atMs: item.transfer.atMs,
});

/**
 * The fraud scorer's reader of the global log (ADR 0010). Each step reads a batch of events after
 * its checkpoint, computes the features of its transfers from the scorer's own tables, scores them
 * in a worker thread behind the circuit breaker, appends one FraudScored per transfer to
 * `fraud-<transferId>` with expected revision no-stream, and only then moves its checkpoint, with
 * the feature state, in one PostgreSQL transaction. A crash in between re-runs the batch: the same
 * features give the same scores and the appends are refused as already there, so nothing is lost
 * and nothing is scored twice. While the breaker is open nothing is read and the checkpoint stays.
 */
export class FraudConsumer {
  private position = 0n;
  private checkpointLoaded = false;
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly wakeSignal = new WakeSignal();
  /** Failures per event position, with the breaker closed (in memory: a restart starts again). */
  private readonly attempts = new Map<bigint, number>();
  lastError: unknown;
  lastLagMs = 0;

  constructor(
    private readonly db: Kysely<Tables>,
    private readonly store: EventStore,
    private readonly fraudStore: FraudStore,
    private readonly scorer: Scorer,
    private readonly writer: Writer | undefined,
    private readonly metrics: FraudMetrics | undefined,
    private readonly options: FraudConsumerOptions,
  ) {}

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
      await this.processRetries();
      return 'idle';
    }

    // Events this step passes: events[0 .. end). A transfer that cannot be read stops the batch.
    let end = events.length;
    let dead: DeadLetterInput | undefined;
    let items: Item[] = [];
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      if (event.type !== 'TransferPosted') continue;
      try {
        items.push({ index: i, event, transfer: readTransfer(event) });
      } catch (error) {
        const outcome = this.poison(event, error);
        dead = outcome.dead;
        end = dead ? i + 1 : i;
        break;
      }
    }

    let prepared = await this.prepare(items);
    let scores: Float32Array;
    try {
      scores = await this.timedScore(prepared.rows, items.length);
    } catch (error) {
      if (isBrokenCircuit(error)) return 'paused';
      // Find the event that fails (a poison) by scoring a few one by one.
      const isolated = await this.isolate(items, prepared.rows, error);
      items = items.slice(0, isolated.failedAt);
      scores = isolated.scores.subarray(0, isolated.failedAt);
      end = isolated.dead ? isolated.failedIndex + 1 : isolated.failedIndex;
      dead = isolated.dead;
      prepared = await this.prepare(items);
    }
    if (end === 0) return 'blocked';

    const modelVersion = this.scorer.modelVersion;
    const scored = items.map((item, k) => {
      const score = scores[k]!;
      return {
        item,
        score,
        event: fraudScoredEvent(item.event, {
          transferId: item.transfer.transferId,
          score,
          modelVersion,
          decision: score >= this.options.reviewThreshold ? 'review' : 'allow',
        }),
      };
    });
    const appended = await this.appendOnce(scored.map((s) => s.event));
    await this.freezeIfNeeded(scored);

    const last = events[end - 1]!;
    const moved = await this.db.transaction().execute(async (trx) => {
      const locked = await sql<{ position: string }>`
        select position::text as position from checkpoints where name = ${FRAUD_CHECKPOINT} for update`.execute(trx);
      const stored = BigInt(locked.rows[0]!.position);
      if (stored !== this.position) {
        // Another scorer passed these events (its appends and ours agree): continue from there.
        this.position = stored;
        return false;
      }
      const changed = new Map([...prepared.changedAccounts].map((id) => [id, prepared.state.profiles.get(id)!]));
      await this.fraudStore.saveState(trx, changed, prepared.newPairs, last.position);
      if (dead) await this.fraudStore.addDeadLetter(trx, dead);
      await this.options.beforeCheckpoint?.();
      await sql`update checkpoints set position = ${last.position.toString()}::bigint, updated_at = now()
                where name = ${FRAUD_CHECKPOINT}`.execute(trx);
      return true;
    });
    if (!moved) return 'progress';

    this.position = last.position;
    for (const [position] of this.attempts) if (position <= last.position) this.attempts.delete(position);
    for (const s of appended) this.metrics?.scored.inc({ decision: (s.data as { decision: string }).decision });
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

  /** Loads the feature state of these transfers' accounts and computes their features in order. */
  private async prepare(items: readonly Item[]) {
    const transfers = items.map(featureTransfer);
    const accounts = new Set<string>();
    const pairs = new Map<string, [string, string]>();
    for (const t of transfers) {
      accounts.add(t.debitAccountId).add(t.creditAccountId);
      pairs.set(pairKey(t.debitAccountId, t.creditAccountId), [t.debitAccountId, t.creditAccountId]);
    }
    const state = await this.fraudStore.loadState([...accounts], [...pairs.values()]);
    const { rows, changedAccounts, newPairs } = featuresInOrder(transfers, state);
    return { rows, state, changedAccounts, newPairs };
  }

  private async timedScore(rows: Float32Array, count: number): Promise<Float32Array> {
    if (count === 0) return new Float32Array(0);
    const started = performance.now();
    const scores = await this.scorer.score(rows, count);
    this.metrics?.inferenceSeconds.observe((performance.now() - started) / 1000);
    this.metrics?.batchSize.observe(count);
    return scores;
  }

  /** Counts a failure of an event; returns its dead letter once it has failed often enough. */
  private poison(event: RecordedEvent, error: unknown): { dead?: DeadLetterInput } {
    const attempts = (this.attempts.get(event.position) ?? 0) + 1;
    this.attempts.set(event.position, attempts);
    const message = error instanceof Error ? error.message : String(error);
    this.options.log?.(
      `event at ${event.position} failed (attempt ${attempts} of ${this.options.poisonAttempts}): ${message}`,
    );
    if (attempts < this.options.poisonAttempts) return {};
    const transferId = (event.data as { transferId?: unknown }).transferId;
    return {
      dead: {
        position: event.position,
        eventId: event.eventId,
        transferId: typeof transferId === 'string' ? transferId : undefined,
        error: message,
        attempts,
      },
    };
  }

  /**
   * The batch failed with the breaker closed. Scores the first few transfers one by one: if none
   * succeeds the model itself is failing (rethrow: the breaker counts it, nothing is blamed); if
   * some succeed, the first that fails is a poison candidate and the step passes what is before it.
   */
  private async isolate(items: readonly Item[], rows: Float32Array, batchError: unknown) {
    const limit = Math.min(items.length, this.options.isolateMax ?? 32);
    const scores = new Float32Array(items.length);
    let failedAt = -1;
    let failure: unknown;
    let succeeded = 0;
    for (let k = 0; k < limit; k++) {
      try {
        const [score] = await this.timedScore(rows.slice(k * FEATURE_COUNT, (k + 1) * FEATURE_COUNT), 1);
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
        scores,
        failedAt: limit,
        failedIndex: limit < items.length ? items[limit]!.index : items.at(-1)!.index + 1,
        dead: undefined,
      };
    }
    const { dead } = this.poison(items[failedAt]!.event, failure);
    return { scores, failedAt, failedIndex: items[failedAt]!.index, dead };
  }

  /**
   * Appends each score with expected revision no-stream on its own stream; a score that is there
   * already (a re-run after a crash, or another scorer) is left out, never written twice.
   */
  private async appendOnce(events: EventToAppend[]): Promise<EventToAppend[]> {
    let pending = events;
    while (pending.length > 0) {
      const expected = new Map<string, ExpectedRevision>(pending.map((e) => [e.streamId, expectRevision.noStream]));
      try {
        await this.store.append({ events: pending, expected, recordedAt: new Date().toISOString() });
        return pending;
      } catch (error) {
        let there: Set<string>;
        if (error instanceof WrongExpectedRevisionError) there = new Set(error.conflicts.map((c) => c.streamId));
        else if (error instanceof DuplicateEventError)
          there = new Set(pending.filter((e) => e.eventId === error.eventId).map((e) => e.streamId));
        else throw error;
        if (there.size === 0) throw error;
        this.metrics?.alreadyScored.inc(there.size);
        pending = pending.filter((e) => !there.has(e.streamId));
      }
    }
    return [];
  }

  /**
   * The optional saga: a score at or above FRAUD_AUTO_FREEZE_THRESHOLD freezes the debited account
   * through the write path. Sent before the checkpoint moves, so a crash re-sends it (freezing a
   * frozen account changes nothing).
   */
  private async freezeIfNeeded(
    scored: ReadonlyArray<{ item: Item; score: number; event: EventToAppend }>,
  ): Promise<void> {
    const threshold = this.options.autoFreezeThreshold;
    if (threshold === undefined || !this.writer) return;
    for (const { item, score, event } of scored) {
      if (score < threshold) continue;
      const { transferId, debitAccountId } = item.transfer;
      const outcome = await this.writer.submit({
        kind: 'status',
        command: {
          type: 'FreezeAccount',
          accountId: debitAccountId,
          reason: `fraud score ${score.toFixed(4)} on transfer ${transferId} (model ${this.scorer.modelVersion})`,
        },
        context: {
          correlationId: item.event.metadata.correlationId,
          causationId: event.eventId,
          actor: 'fraud-scorer',
        },
      });
      this.metrics?.freezes.inc();
      if (isLedgerError(outcome)) this.options.log?.(`auto-freeze of ${debitAccountId} refused: ${outcome.detail}`);
    }
  }

  /** Dead letters an admin asked to retry: scored now against the current feature state. */
  private async processRetries(): Promise<void> {
    if (this.scorer.state !== 'closed') return;
    for (const letter of await this.fraudStore.retryRequested(16)) {
      try {
        const [event] = await this.store.readAll({ after: letter.position - 1n, limit: 1 });
        if (!event || event.position !== letter.position) throw new Error(`no event at position ${letter.position}`);
        const transfer = readTransfer(event);
        const t: FeatureTransfer = {
          debitAccountId: transfer.debitAccountId,
          creditAccountId: transfer.creditAccountId,
          amount: transfer.amountMinor,
          atMs: transfer.atMs,
        };
        const state = await this.fraudStore.loadState(
          [t.debitAccountId, t.creditAccountId],
          [[t.debitAccountId, t.creditAccountId]],
        );
        const row = transferFeatures(
          t,
          state.profiles.get(t.debitAccountId),
          state.profiles.get(t.creditAccountId),
          state.pairs.has(pairKey(t.debitAccountId, t.creditAccountId)),
        );
        const [score] = await this.timedScore(row, 1);
        const fraudEvent = fraudScoredEvent(event, {
          transferId: transfer.transferId,
          score: score!,
          modelVersion: this.scorer.modelVersion,
          decision: score! >= this.options.reviewThreshold ? 'review' : 'allow',
        });
        await this.appendOnce([fraudEvent]);
        await this.freezeIfNeeded([{ item: { index: 0, event, transfer }, score: score!, event: fraudEvent }]);
        await this.fraudStore.resolveDeadLetter(letter.id, score!);
      } catch (error) {
        if (isBrokenCircuit(error)) return;
        await this.fraudStore.failRetry(letter.id, error instanceof Error ? error.message : String(error));
      }
    }
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
