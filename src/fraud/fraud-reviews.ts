import type { Writer } from '../commands/writer';
import type { CommandContext } from '../commands/write-commands';
import type { LedgerError } from '../domain/errors';
import type { ReviewOutcome } from '../domain/fraud';
import type { Kysely } from 'kysely';
import type { Tables } from '../platform/tables';
import { type ReviewKeyset, ReviewReadModel, type ReviewStatus, type Risk } from './review-read-model';

export type CompensationState = 'none' | 'pending' | 'done';

export interface ReviewResolution {
  readonly transferId: string;
  readonly status: 'resolved';
  readonly outcome: ReviewOutcome;
  readonly note: string;
  readonly resolvedAt: string;
  readonly actor: string | null;
  readonly compensation: { readonly state: CompensationState };
}

/**
 * What the API does with fraud reviews (docs/contract.md, "Fraud reviews"): reads the risk and the
 * queue, and resolves a review through the command side's writer like any client (ADR 0023).
 */
export class FraudReviews {
  private readonly readModel: ReviewReadModel;

  constructor(
    private readonly db: Kysely<Tables>,
    private readonly writer: Writer,
  ) {
    this.readModel = new ReviewReadModel(db);
  }

  risks(transferIds: readonly string[]): Promise<Map<string, Risk>> {
    return this.readModel.risks(transferIds);
  }

  async list(options: { status: ReviewStatus; limit: number; after?: ReviewKeyset }) {
    const page = await this.readModel.reviews(options);
    const done = await this.compensated(page.items.map((r) => r.transferId));
    return {
      items: page.items.map((review) => ({
        review,
        compensation: compensationOf(review.resolution?.outcome, done.has(review.transferId)),
      })),
      next: page.next,
    };
  }

  async resolve(
    transferId: string,
    resolution: { id: string; outcome: ReviewOutcome; note: string },
    context: CommandContext,
  ): Promise<ReviewResolution | LedgerError> {
    const outcome = await this.writer.submit({
      kind: 'fraud',
      commands: [
        {
          command: {
            type: 'ResolveReview',
            transferId,
            reviewId: resolution.id,
            outcome: resolution.outcome,
            note: resolution.note,
          },
          context,
        },
      ],
      context,
    });
    const item = outcome.items[0]!;
    if (item.outcome === 'failed') return item.error;
    const resolved = item.event;
    if (resolved.type !== 'FraudReviewResolved') throw new Error(`a review resolution answered ${resolved.type}`);
    const done = await this.compensated([transferId]);
    return {
      transferId,
      status: 'resolved',
      outcome: resolved.data.outcome,
      note: resolved.data.note,
      resolvedAt: resolved.data.resolvedAt,
      actor: item.actor ?? null,
      compensation: compensationOf(resolved.data.outcome, done.has(transferId)),
    };
  }

  /** The transfers among these whose compensation saga finished. */
  private async compensated(transferIds: readonly string[]): Promise<Set<string>> {
    if (transferIds.length === 0) return new Set();
    const rows = await this.db
      .selectFrom('fraud_compensations')
      .select('transfer_id')
      .where('transfer_id', 'in', [...transferIds])
      .execute();
    return new Set(rows.map((r) => r.transfer_id));
  }
}

const compensationOf = (outcome: ReviewOutcome | undefined, done: boolean): { state: CompensationState } => ({
  state: outcome !== 'fraud' ? 'none' : done ? 'done' : 'pending',
});
