import { type Kysely, sql } from 'kysely';
import type { FraudDecision, ReviewOutcome } from '../domain/fraud';
import type { Tables } from '../platform/tables';
import { isoTimestamp } from '../platform/sql';

/** `risk` of a transfer (docs/contract.md, "Fraud reviews"). */
export interface Risk {
  readonly score: number;
  readonly decision: FraudDecision;
  readonly modelVersion: string;
  readonly scoredAt: string;
}

export type ReviewStatus = 'open' | 'resolved';

export interface ReviewView {
  readonly transferId: string;
  readonly status: ReviewStatus;
  readonly recordedAt: string;
  readonly debitAccountId: string;
  readonly creditAccountId: string;
  readonly amount: bigint;
  readonly currency: string;
  readonly risk: Risk;
  readonly resolution: {
    readonly id: string;
    readonly outcome: ReviewOutcome;
    readonly note: string;
    readonly resolvedAt: string;
    readonly actor: string | null;
  } | null;
}

/** A review queue's sort key: the transfer's recordedAt, then its id. */
export interface ReviewKeyset {
  readonly at: string;
  readonly id: string;
}

const ts = (column: string) => isoTimestamp(column);

/** Reads of the risk and review read models (written by review-projection.ts). */
export class ReviewReadModel {
  constructor(private readonly db: Kysely<Tables>) {}

  /** The risk of each of these transfers that was scored. */
  async risks(transferIds: readonly string[]): Promise<Map<string, Risk>> {
    if (transferIds.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('rm_fraud_risk')
      .select(['transfer_id', 'score', 'decision', 'model_version', ts('scored_at').as('scored_at')])
      .where('transfer_id', 'in', [...transferIds])
      .execute();
    return new Map(
      rows.map((row) => [
        row.transfer_id,
        { score: Number(row.score), decision: row.decision, modelVersion: row.model_version, scoredAt: row.scored_at },
      ]),
    );
  }

  async review(transferId: string): Promise<ReviewView | undefined> {
    const [row] = await this.selectReviews().where('v.transfer_id', '=', transferId).execute();
    return row && reviewView(row);
  }

  /** A page of the queue, oldest first by (recordedAt, transferId), after `after`; `limit + 1` tells if there is more. */
  async reviews(options: {
    status: ReviewStatus;
    limit: number;
    after?: ReviewKeyset;
  }): Promise<{ items: ReviewView[]; next: ReviewKeyset | undefined }> {
    let query = this.selectReviews().where('v.status', '=', options.status);
    if (options.after) {
      const { at, id } = options.after;
      query = query.where(sql<boolean>`(v.transfer_recorded_at, v.transfer_id) > (${at}::timestamptz, ${id})`);
    }
    const rows = await query
      .orderBy('v.transfer_recorded_at')
      .orderBy('v.transfer_id')
      .limit(options.limit + 1)
      .execute();
    const items = rows.slice(0, options.limit).map(reviewView);
    const last = items.at(-1);
    return {
      items,
      next: rows.length > options.limit && last ? { at: last.recordedAt, id: last.transferId } : undefined,
    };
  }

  private selectReviews() {
    return this.db
      .selectFrom('rm_fraud_reviews as v')
      .innerJoin('rm_fraud_risk as r', 'r.transfer_id', 'v.transfer_id')
      .select([
        'v.transfer_id',
        'v.status',
        ts('v.transfer_recorded_at').as('recorded_at'),
        'v.debit_account_id',
        'v.credit_account_id',
        sql<string>`v.amount::text`.as('amount'),
        'v.currency',
        'v.review_id',
        'v.outcome',
        'v.note',
        ts('v.resolved_at').as('resolved_at'),
        'v.actor',
        'r.score',
        'r.decision',
        'r.model_version',
        ts('r.scored_at').as('scored_at'),
      ]);
  }
}

type ReviewRow = Awaited<ReturnType<ReturnType<ReviewReadModel['selectReviews']>['execute']>>[number];

function reviewView(row: ReviewRow): ReviewView {
  return {
    transferId: row.transfer_id,
    status: row.status,
    recordedAt: row.recorded_at,
    debitAccountId: row.debit_account_id,
    creditAccountId: row.credit_account_id,
    amount: BigInt(row.amount),
    currency: row.currency,
    risk: {
      score: Number(row.score),
      decision: row.decision,
      modelVersion: row.model_version,
      scoredAt: row.scored_at,
    },
    resolution:
      row.status === 'resolved' && row.review_id && row.outcome && row.note !== null && row.resolved_at
        ? { id: row.review_id, outcome: row.outcome, note: row.note, resolvedAt: row.resolved_at, actor: row.actor }
        : null,
  };
}
