import type { LedgerError } from '../domain/errors';
import { isLedgerError, ledgerError } from '../domain/errors';
import {
  type FraudEvent,
  type FraudReviewResolved,
  type FraudScored,
  decideRecordScore,
  decideResolveReview,
  fraudReviewStream,
  fraudStream,
} from '../domain/fraud';
import { type ExpectedRevision, type RecordedEvent, expect } from '../eventstore/port';
import { decodeEventOf } from '../events/decode';
import type { CommandContext, FraudCommandOutcome, WriteJob } from './write-commands';

type FraudJob = Extract<WriteJob, { kind: 'fraud' }>;
type Pending<T> = (recorded: readonly RecordedEvent[], batchPosition: bigint) => T;

/** The streams whose first event the fraud commands of these jobs are decided against. */
export function fraudStreamsOf(job: FraudJob): string[] {
  return job.commands.flatMap(({ command }) =>
    command.type === 'RecordScore'
      ? [fraudStream(command.score.transferId)]
      : [fraudStream(command.transferId), fraudReviewStream(command.transferId)],
  );
}

/**
 * The fraud part of a batch decision (ADR 0023): scores and review resolutions, each the one event
 * of its stream, decided against that stream's first event (as found before the batch, or added
 * earlier in it), appended with expected revision no-stream.
 */
export class FraudDecisions {
  /** Fraud streams this batch appends to, with their event and its index. */
  private readonly added = new Map<string, { event: FraudEvent; index: number; actor: string | undefined }>();

  constructor(
    private readonly existing: ReadonlyMap<string, RecordedEvent>,
    private readonly recordedAt: string,
    private readonly expected: Map<string, ExpectedRevision>,
    private readonly append: (event: FraudEvent, streamId: string, context: CommandContext) => number,
  ) {}

  decide(job: FraudJob): Pending<{ items: FraudCommandOutcome[]; position: bigint }> {
    const outcomes = job.commands.map(({ command, context }) =>
      command.type === 'RecordScore'
        ? this.once(fraudStream(command.score.transferId), context, (first) =>
            decideRecordScore(command, scoreIn(first)),
          )
        : this.once(fraudReviewStream(command.transferId), context, (first) => {
            const score = scoreIn(this.first(fraudStream(command.transferId))?.event);
            const decided = decideResolveReview(command, score, resolutionIn(first), this.recordedAt);
            return isLedgerError(decided) ? decided : decided.duplicate ? null : decided.event;
          }),
    );
    return (recorded, batchPosition) => {
      const items = outcomes.map((pending) => pending(recorded));
      const written = items.flatMap((item) => (item.outcome === 'failed' ? [] : [item.position]));
      const position = written.length > 0 ? written.reduce((max, p) => (p > max ? p : max)) : batchPosition;
      return { items, position };
    };
  }

  /** The first event of a fraud stream: added in this batch, or stored before it. */
  private first(
    streamId: string,
  ): { event: FraudEvent; actor: string | undefined; index?: number; stored?: RecordedEvent } | undefined {
    const added = this.added.get(streamId);
    if (added !== undefined) return added;
    const stored = this.existing.get(streamId);
    if (!stored) return undefined;
    return { event: decodeEventOf(stored, 'FraudScored', 'FraudReviewResolved'), actor: stored.metadata.actor, stored };
  }

  /**
   * Decides the one event of `streamId`: `decide` returns it, null for "the stream's first event
   * stands" (a repeat), or a refusal.
   */
  private once(
    streamId: string,
    context: CommandContext,
    decide: (first: FraudEvent | undefined) => FraudEvent | null | LedgerError,
  ): (recorded: readonly RecordedEvent[]) => FraudCommandOutcome {
    const found = this.first(streamId);
    const decided = decide(found?.event);
    if (isLedgerError(decided)) return () => ({ outcome: 'failed', error: decided });
    if (decided === null) {
      if (!found) throw new Error(`fraud decision: nothing to append to ${streamId} and nothing there`);
      const { event, actor, index, stored } = found;
      return (recorded) =>
        stored
          ? {
              outcome: 'duplicate',
              event,
              eventId: stored.eventId,
              actor,
              recordedAt: stored.recordedAt,
              position: stored.position,
            }
          : {
              outcome: 'duplicate',
              event,
              eventId: recorded[index!]!.eventId,
              actor,
              recordedAt: this.recordedAt,
              position: recorded[index!]!.position,
            };
    }
    this.expected.set(streamId, expect.noStream);
    const index = this.append(decided, streamId, context);
    this.added.set(streamId, { event: decided, index, actor: context.actor });
    return (recorded) => ({
      outcome: 'created',
      event: decided,
      eventId: recorded[index]!.eventId,
      actor: context.actor,
      recordedAt: this.recordedAt,
      position: recorded[index]!.position,
    });
  }
}

/** The streams a post of hold `transferId` is decided against, besides its own: its score and review. */
export const reviewStreamsOf = (transferId: string): string[] => [
  fraudStream(transferId),
  fraudReviewStream(transferId),
];

/**
 * A hold scored `review` cannot be posted until its review is resolved `legitimate` (ADR 0024);
 * resolved `fraud`, the saga is voiding it. No score yet: not held up (scoring never blocks posting).
 */
export function underReview(existing: ReadonlyMap<string, RecordedEvent>, transferId: string): LedgerError | undefined {
  const scored = existing.get(fraudStream(transferId));
  if (!scored || decodeEventOf(scored, 'FraudScored').data.decision !== 'review') return undefined;
  const resolved = existing.get(fraudReviewStream(transferId));
  if (!resolved) {
    return ledgerError(
      'under-review',
      `hold ${transferId} is under fraud review; it can be posted once an analyst resolves it legitimate`,
    );
  }
  if (decodeEventOf(resolved, 'FraudReviewResolved').data.outcome === 'fraud') {
    return ledgerError('under-review', `hold ${transferId} was resolved fraud; it is being voided`);
  }
  return undefined;
}

/** The first event of a transfer's fraud stream is its score; anything else there is damage. */
function scoreIn(event: FraudEvent | undefined): FraudScored | undefined {
  if (event === undefined || event.type === 'FraudScored') return event;
  throw new Error(`a fraud stream starts with ${event.type}, not FraudScored`);
}

/** The first event of a transfer's fraud-review stream is its resolution; anything else there is damage. */
function resolutionIn(event: FraudEvent | undefined): FraudReviewResolved | undefined {
  if (event === undefined || event.type === 'FraudReviewResolved') return event;
  throw new Error(`a fraud-review stream starts with ${event.type}, not FraudReviewResolved`);
}
