import type { Kysely } from 'kysely';
import { transferStream } from '../domain/events';
import type { EventStore, RecordedEvent } from '../eventstore/port';
import { decodeEvent, decodeEventOf } from '../events/decode';
import type { CheckpointMove, LogSource } from '../platform/log-follower';
import { LogReader } from '../platform/log-reader';
import type { Tables } from '../platform/tables';

export const FRAUD_REVIEWS_CHECKPOINT = 'fraud-reviews';

/** The events this read model is made of; every other event only moves its checkpoint. */
const REVIEW_EVENT_TYPES: ReadonlySet<string> = new Set(['FraudScored', 'FraudReviewResolved']);

/** What the queue shows of a transfer under review, from the transfer's own first event. */
interface ReviewedTransfer {
  readonly recordedAt: string;
  readonly debitAccountId: string;
  readonly creditAccountId: string;
  readonly amount: string;
  readonly currency: string;
}

/**
 * Keeps the risk and review read models (migration 0051) from FraudScored and FraudReviewResolved:
 * a reader of the global log (ADR 0023) whose effect commits with its checkpoint. A transfer scored
 * `review` opens a review with the transfer's accounts, amount and recordedAt (read, before the
 * transaction, from the transfer's first event); a resolution closes it with the analyst's key id
 * (the event's actor). Rows are only inserted once and resolved once, so a page applied again by a
 * rebuild changes nothing.
 */
export class ReviewProjection extends LogReader<RecordedEvent, Map<string, ReviewedTransfer>> {
  constructor(
    db: Kysely<Tables>,
    private readonly store: EventStore,
    source: LogSource<RecordedEvent>,
    options: { batchSizeMax: number; pollMs: number },
  ) {
    super(db, source, { name: FRAUD_REVIEWS_CHECKPOINT, ...options });
  }

  override async prepare(events: readonly RecordedEvent[]): Promise<{ value: Map<string, ReviewedTransfer> }> {
    const reviewed = events
      .map(decodeEvent)
      .flatMap((e) => (e.type === 'FraudScored' && e.data.decision === 'review' ? [e.data.transferId] : []));
    const transfers = new Map<string, ReviewedTransfer>();
    if (reviewed.length === 0) return { value: transfers };
    const first = await this.store.readFirstEvents(reviewed.map(transferStream));
    for (const id of reviewed) {
      const event = first.get(transferStream(id));
      if (!event) throw new Error(`fraud reviews: transfer ${id} was scored but its stream has no event`);
      const { data } = decodeEventOf(event, 'TransferPosted', 'TransferPending');
      transfers.set(id, {
        recordedAt: event.recordedAt,
        debitAccountId: data.debitAccountId,
        creditAccountId: data.creditAccountId,
        amount: data.amount,
        currency: data.currency,
      });
    }
    return { value: transfers };
  }

  /**
   * The page's effect and the checkpoint's move commit together. A page with no fraud event (most
   * of them: it follows every transfer) is the move alone, one statement; one with fraud events
   * moves the checkpoint first (which locks it, ADR 0038) and writes them in the same transaction.
   */
  override async handleMoving(
    events: readonly RecordedEvent[],
    db: Kysely<Tables>,
    move: CheckpointMove,
    transfers: Map<string, ReviewedTransfer> | undefined,
  ): Promise<boolean> {
    const moveIn = async (on: Kysely<Tables>) => (await move.statement.execute(on)).numAffectedRows === 1n;
    if (!events.some((event) => REVIEW_EVENT_TYPES.has(event.type))) return moveIn(db);
    const apply = async (tx: Kysely<Tables>) => {
      if (!(await moveIn(tx))) return false;
      await this.apply(events, tx, transfers);
      return true;
    };
    return db.isTransaction ? apply(db) : db.transaction().execute(apply);
  }

  private async apply(
    events: readonly RecordedEvent[],
    tx: Kysely<Tables>,
    transfers: Map<string, ReviewedTransfer> | undefined,
  ): Promise<void> {
    for (const recorded of events) {
      const event = decodeEvent(recorded);
      if (event.type === 'FraudScored') {
        const score = event.data;
        await tx
          .insertInto('rm_fraud_risk')
          .values({
            transfer_id: score.transferId,
            score: score.score,
            decision: score.decision,
            model_version: score.modelVersion,
            scored_at: recorded.recordedAt,
            position: recorded.position.toString(),
          })
          .onConflict((c) => c.column('transfer_id').doNothing())
          .execute();
        if (score.decision !== 'review') continue;
        const transfer = transfers?.get(score.transferId);
        if (!transfer) throw new Error(`fraud reviews: no transfer read for ${score.transferId}`);
        await tx
          .insertInto('rm_fraud_reviews')
          .values({
            transfer_id: score.transferId,
            status: 'open',
            transfer_recorded_at: transfer.recordedAt,
            debit_account_id: transfer.debitAccountId,
            credit_account_id: transfer.creditAccountId,
            amount: transfer.amount,
            currency: transfer.currency,
            position: recorded.position.toString(),
          })
          .onConflict((c) => c.column('transfer_id').doNothing())
          .execute();
      } else if (event.type === 'FraudReviewResolved') {
        const resolved = event.data;
        await tx
          .updateTable('rm_fraud_reviews')
          .set({
            status: 'resolved',
            review_id: resolved.reviewId,
            outcome: resolved.outcome,
            note: resolved.note,
            resolved_at: resolved.resolvedAt,
            actor: recorded.metadata.actor ?? null,
            position: recorded.position.toString(),
          })
          .where('transfer_id', '=', resolved.transferId)
          .where('status', '=', 'open')
          .execute();
      }
    }
  }
}
