import type { Writer } from '../commands/writer';
import type { CommandContext } from '../commands/write-commands';
import type { RecordScore } from '../domain/fraud';
import type { FraudMetrics } from './fraud-metrics';
import { decisionFor, recordScoreCommand } from './fraud-scored';
import type { ScoringItem } from './scoring-items';

export interface ScoredItem {
  readonly item: ScoringItem;
  readonly score: number;
  readonly record: { readonly command: RecordScore; readonly context: CommandContext };
}

export interface ScoreRecorderOptions {
  readonly reviewThreshold: number;
  readonly log?: (message: string) => void;
}

/**
 * Writes what the scorer decided, through the command side's writer like any client (ADR 0023):
 * one FraudScored per transfer, recorded at most once. What follows from a score (the auto-freeze
 * policy) is the compensation saga's (compensation-saga.ts), a reader of the log like any other.
 */
export class ScoreRecorder {
  constructor(
    private readonly writer: Writer,
    private readonly metrics: FraudMetrics | undefined,
    private readonly options: ScoreRecorderOptions,
  ) {}

  scored(item: ScoringItem, score: number, modelVersion: string, features: Float32Array): ScoredItem {
    return {
      item,
      score,
      record: recordScoreCommand(item.event, {
        transferId: item.transfer.transferId,
        score,
        modelVersion,
        decision: decisionFor(score, this.options.reviewThreshold),
        features,
      }),
    };
  }

  /**
   * Records the scores. A transfer scored already (a re-run after a crash, or another scorer) keeps
   * its first score: the writer answers `duplicate` and nothing is written twice. Returns, per item,
   * the FraudScored event's id and whether this call wrote it.
   */
  async record(scored: readonly ScoredItem[]): Promise<Array<{ eventId: string; created: boolean }>> {
    if (scored.length === 0) return [];
    const outcome = await this.writer.submit({
      kind: 'fraud',
      commands: scored.map((s) => s.record),
      context: scored[0]!.record.context,
    });
    return outcome.items.map((item, i) => {
      // RecordScore is never refused: a refusal here is a bug in the decision, not a user error.
      if (item.outcome === 'failed')
        throw new Error(`RecordScore of ${scored[i]!.item.transfer.transferId} refused: ${item.error.detail}`);
      if (item.outcome === 'duplicate') this.metrics?.alreadyScored.inc();
      else this.metrics?.scored.inc({ decision: scored[i]!.record.command.score.decision });
      return { eventId: item.eventId, created: item.outcome === 'created' };
    });
  }
}
