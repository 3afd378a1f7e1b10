import type { Writer } from '../commands/writer';
import { isLedgerError } from '../domain/errors';
import {
  DuplicateEventError,
  type EventStore,
  type EventToAppend,
  type ExpectedRevision,
  WrongExpectedRevisionError,
  expect as expectRevision,
} from '../eventstore/port';
import type { FraudMetrics } from './fraud-metrics';
import { fraudScoredEvent } from './fraud-scored';
import type { ScoringItem } from './scoring-items';

export interface ScoredItem {
  readonly item: ScoringItem;
  readonly score: number;
  readonly event: EventToAppend;
}

export interface ScoreRecorderOptions {
  readonly reviewThreshold: number;
  /** Unset: no auto-freeze. */
  readonly autoFreezeThreshold?: number | undefined;
  readonly log?: (message: string) => void;
}

/**
 * Writes what the scorer decided: one FraudScored per transfer, appended at most once, and the
 * auto-freeze policy through the command side's writer.
 */
export class ScoreRecorder {
  constructor(
    private readonly store: EventStore,
    private readonly writer: Writer | undefined,
    private readonly metrics: FraudMetrics | undefined,
    private readonly options: ScoreRecorderOptions,
  ) {}

  scored(item: ScoringItem, score: number, modelVersion: string): ScoredItem {
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
  }

  /**
   * Appends each score with expected revision no-stream on its own stream; a score that is there
   * already (a re-run after a crash, or another scorer) is left out, never written twice. Returns
   * the events this call appended.
   */
  async appendOnce(events: EventToAppend[]): Promise<EventToAppend[]> {
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
   * The auto-freeze policy: a score at or above FRAUD_AUTO_FREEZE_THRESHOLD freezes the debited
   * account through the write path. Sent before the checkpoint moves, so a crash re-sends it
   * (freezing a frozen account changes nothing).
   */
  async freezeIfNeeded(scored: readonly ScoredItem[], modelVersion: string): Promise<void> {
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
          reason: `fraud score ${score.toFixed(4)} on transfer ${transferId} (model ${modelVersion})`,
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
}
