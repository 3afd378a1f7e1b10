import type { Kysely } from 'kysely';
import { commandHash } from '../commands/command-hash';
import type { Writer } from '../commands/writer';
import type { CommandContext } from '../commands/write-commands';
import { isLedgerError } from '../domain/errors';
import { type TransferPending, type TransferPosted, transferStream } from '../domain/events';
import type { FraudScored } from '../domain/fraud';
import type { EventStore, RecordedEvent } from '../eventstore/port';
import { decodeEvent, decodeEventOf } from '../events/decode';
import type { Prepared } from '../platform/log-follower';
import { LogReader } from '../platform/log-reader';
import type { Tables } from '../platform/tables';

export const COMPENSATION_CHECKPOINT = 'fraud-compensation';

/** What one compensation did, step by step: kept on its row, shown nowhere else. */
export interface CompensationSteps {
  readonly transferId: string;
  void?: string;
  reverse?: string;
  freeze?: string;
}

export interface CompensationOptions {
  readonly batchSizeMax: number;
  readonly pollMs: number;
  /** Unset: no auto-freeze. A score at or above it freezes the debited account (ADR 0024). */
  readonly autoFreezeThreshold?: number | undefined;
  /** Test hook for the crash tests: a pause after each step of a compensation. */
  readonly stepPauseMs?: number;
  /** Each FreezeAccount the auto-freeze policy sends (metrics). */
  readonly onFreeze?: () => void;
  readonly log?: (message: string) => void;
}

/** Command ids derived from the transfer: a re-run of a step is its own retry (idempotent by id). */
export const compensationIds = (transferId: string) => ({
  voidId: `fraud-void-${transferId}`,
  reversalId: `fraud-reversal-${transferId}`,
});

/**
 * The fraud saga (ADR 0024): a reader of the global log whose reactions go through the command
 * side's writer like any client's commands. Two policies:
 *
 * - a review resolved `fraud` compensates the transfer: a hold still pending is voided; a posted
 *   transfer (or a hold posted meanwhile) has what remains reversible reversed and its debit
 *   account frozen. Each step's command id comes from the transfer id, so a step done before a
 *   crash is answered `duplicate` when the page is read again; the row in `fraud_compensations`
 *   commits with the checkpoint, after every step, and is what `compensation.state: done` reads.
 * - a score at or above FRAUD_AUTO_FREEZE_THRESHOLD freezes the debited account (freezing a frozen
 *   account changes nothing, so a re-run is harmless).
 */
export class CompensationSaga extends LogReader<RecordedEvent, CompensationSteps[]> {
  constructor(
    db: Kysely<Tables>,
    private readonly store: EventStore,
    private readonly writer: Writer,
    private readonly options: CompensationOptions,
  ) {
    super(db, store, {
      name: COMPENSATION_CHECKPOINT,
      batchSizeMax: options.batchSizeMax,
      pollMs: options.pollMs,
    });
  }

  override async prepare(events: readonly RecordedEvent[]): Promise<Prepared<CompensationSteps[]>> {
    const done: CompensationSteps[] = [];
    for (const recorded of events) {
      const event = decodeEvent(recorded);
      if (event.type === 'FraudScored') await this.autoFreeze(recorded, event.data);
      else if (event.type === 'FraudReviewResolved' && event.data.outcome === 'fraud') {
        done.push(await this.compensate(recorded, event.data.transferId));
      }
    }
    return { value: done };
  }

  override async handle(
    _events: readonly RecordedEvent[],
    tx: Kysely<Tables>,
    done: CompensationSteps[] | undefined,
  ): Promise<void> {
    for (const steps of done ?? []) {
      await tx
        .insertInto('fraud_compensations')
        .values({
          transfer_id: steps.transferId,
          steps: JSON.stringify(steps),
          position: _events.at(-1)!.position.toString(),
        })
        .onConflict((c) => c.column('transfer_id').doNothing())
        .execute();
    }
  }

  failed(error: unknown): void {
    this.options.log?.(
      `fraud compensation failed, will retry: ${error instanceof Error ? error.message : String(error)}`,
    );
  }

  private async compensate(resolution: RecordedEvent, transferId: string): Promise<CompensationSteps> {
    const context: CommandContext = {
      correlationId: resolution.metadata.correlationId,
      causationId: resolution.eventId,
      actor: 'fraud-compensation',
    };
    const reason = `fraud review of transfer ${transferId} resolved fraud`;
    const steps: CompensationSteps = { transferId };
    const first = await this.transferOf(transferId);
    const { voidId, reversalId } = compensationIds(transferId);

    if (first.type === 'TransferPending') {
      const voided = await this.writer.submit({
        kind: 'hold',
        command: { type: 'VoidPendingTransfer', voidId, transferId, reason },
        commandHash: commandHash('VoidPendingTransfer', { id: voidId, transferId, reason }),
        context,
      });
      steps.void = isLedgerError(voided) ? voided.slug : voided.outcome;
      await this.pause();
      // Voided (now or before a crash): nothing was posted, nothing to reverse or freeze. A hold
      // posted (or expired) before the resolution falls through to the posted transfer's steps.
      if (!isLedgerError(voided)) return steps;
    }

    const reversed = await this.writer.submit({
      kind: 'reverse',
      command: { type: 'ReverseTransfer', reversalId, transferId, reason },
      commandHash: commandHash('ReverseTransfer', { id: reversalId, transferId, reason }),
      context,
    });
    // exceeds-reversible: nothing left to reverse (reversed by hand, or an expired hold); any other
    // refusal (the credited account spent the money) is recorded, and the freeze still follows.
    steps.reverse = isLedgerError(reversed) ? reversed.slug : reversed.outcome;
    await this.pause();

    const { debitAccountId } = first.data;
    const frozen = await this.writer.submit({
      kind: 'status',
      command: { type: 'FreezeAccount', accountId: debitAccountId, reason },
      context,
    });
    steps.freeze = isLedgerError(frozen) ? frozen.slug : 'frozen';
    await this.pause();
    this.options.log?.(`fraud compensation of ${transferId}: ${JSON.stringify(steps)}`);
    return steps;
  }

  /** The auto-freeze policy: the debited account of a transfer scored at or above the threshold. */
  private async autoFreeze(scored: RecordedEvent, score: FraudScored['data']): Promise<void> {
    const threshold = this.options.autoFreezeThreshold;
    if (threshold === undefined || score.score < threshold) return;
    const { debitAccountId } = (await this.transferOf(score.transferId)).data;
    const outcome = await this.writer.submit({
      kind: 'status',
      command: {
        type: 'FreezeAccount',
        accountId: debitAccountId,
        reason: `fraud score ${score.score.toFixed(4)} on transfer ${score.transferId} (model ${score.modelVersion})`,
      },
      context: { correlationId: scored.metadata.correlationId, causationId: scored.eventId, actor: 'fraud-scorer' },
    });
    this.options.onFreeze?.();
    if (isLedgerError(outcome)) this.options.log?.(`auto-freeze of ${debitAccountId} refused: ${outcome.detail}`);
  }

  /** The scored transfer: the first event of its stream, a posting or a hold. */
  private async transferOf(transferId: string): Promise<TransferPosted | TransferPending> {
    const stream = transferStream(transferId);
    const first = (await this.store.readFirstEvents([stream])).get(stream);
    if (!first) throw new Error(`fraud compensation: no transfer ${transferId}`);
    return decodeEventOf(first, 'TransferPosted', 'TransferPending');
  }

  private async pause(): Promise<void> {
    if (this.options.stepPauseMs) await new Promise((r) => setTimeout(r, this.options.stepPauseMs));
  }
}
