import { type LedgerError, ledgerError } from './errors';

/**
 * The fraud events and their deciders (docs/contract.md, "Fraud reviews"; ADR 0023). A transfer's
 * score lives in `fraud-<transferId>` (one event, ever); an analyst's resolution of its review in
 * `fraud-review-<transferId>` (one event, ever). Both are decided against the first event of those
 * streams, so "scored once" and "resolved once" hold across processes by the streams' expected
 * revision, like a transfer's id.
 */
export type FraudDecision = 'allow' | 'review';
export type ReviewOutcome = 'fraud' | 'legitimate';

export interface FraudScored {
  readonly type: 'FraudScored';
  readonly data: {
    readonly transferId: string;
    /** 0–1, the model's probability that the transfer is fraudulent. */
    readonly score: number;
    /** The model file's name and the first 12 hex digits of its SHA-256 (ADR 0009). */
    readonly modelVersion: string;
    readonly decision: FraudDecision;
    /** The feature vector the model was given, as float32 values (exact in JSON). */
    readonly features: readonly number[];
    /** SHA-256 (hex) of that vector's float32 little-endian bytes: what an auditor re-scores. */
    readonly featuresSha256: string;
  };
}

export interface FraudReviewResolved {
  readonly type: 'FraudReviewResolved';
  readonly data: {
    readonly transferId: string;
    /** The client's id of the resolution: a repeat with the same id is the same resolution. */
    readonly reviewId: string;
    readonly outcome: ReviewOutcome;
    readonly note: string;
    readonly resolvedAt: string;
  };
}

export type FraudEvent = FraudScored | FraudReviewResolved;

export const fraudStream = (transferId: string): string => `fraud-${transferId}`;
export const fraudReviewStream = (transferId: string): string => `fraud-review-${transferId}`;

export interface RecordScore {
  readonly type: 'RecordScore';
  readonly score: FraudScored['data'];
}

export interface ResolveReview {
  readonly type: 'ResolveReview';
  readonly transferId: string;
  readonly reviewId: string;
  readonly outcome: ReviewOutcome;
  readonly note: string;
}

export type FraudCommand = RecordScore | ResolveReview;

/** A score is recorded once: a transfer already scored keeps its first score (null: nothing to append). */
export const decideRecordScore = (command: RecordScore, existing: FraudScored | undefined): FraudScored | null =>
  existing ? null : { type: 'FraudScored', data: command.score };

/**
 * An analyst resolves a transfer's open review. Only a transfer scored `review` has one; once
 * resolved it takes no other resolution (another id: `review-resolved`), but the same resolution
 * again (same `reviewId` and body) is answered as it was. Returns the event to append, or the existing one with `duplicate`.
 */
export function decideResolveReview(
  command: ResolveReview,
  score: FraudScored | undefined,
  resolved: FraudReviewResolved | undefined,
  recordedAt: string,
): { event: FraudReviewResolved; duplicate: boolean } | LedgerError {
  if (score?.data.decision !== 'review') {
    return ledgerError(
      'review-not-found',
      score
        ? `transfer ${command.transferId} was scored ${score.data.decision}: it has no review`
        : `transfer ${command.transferId} has no review (not scored, or no such transfer)`,
    );
  }
  if (resolved) {
    if (resolved.data.reviewId === command.reviewId) {
      if (resolved.data.outcome === command.outcome && resolved.data.note === command.note) {
        return { event: resolved, duplicate: true };
      }
      return ledgerError(
        'idempotency-conflict',
        `resolution ${command.reviewId} exists with a different body; use a new id for a new command`,
      );
    }
    return ledgerError(
      'review-resolved',
      `the review of transfer ${command.transferId} was resolved ${resolved.data.outcome} at ${resolved.data.resolvedAt} (resolution ${resolved.data.reviewId}); it takes no other outcome`,
    );
  }
  return {
    event: {
      type: 'FraudReviewResolved',
      data: {
        transferId: command.transferId,
        reviewId: command.reviewId,
        outcome: command.outcome,
        note: command.note,
        resolvedAt: recordedAt,
      },
    },
    duplicate: false,
  };
}
