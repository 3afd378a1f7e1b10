import { createHash } from 'node:crypto';
import type { EventToAppend, RecordedEvent } from '../eventstore/port';
import type { TransferPosted } from '../domain/events';

/** The scorer's event (docs/contract.md, "Events"): one per transfer, in its own stream. */
export interface FraudScored {
  readonly type: 'FraudScored';
  readonly data: {
    readonly transferId: string;
    /** 0–1, the model's probability that the transfer is fraudulent. */
    readonly score: number;
    readonly modelVersion: string;
    readonly decision: 'allow' | 'review';
  };
}

export const fraudStream = (transferId: string): string => `fraud-${transferId}`;

/** The same transfer always gets the same event id, so a second append of its score is refused. */
export function fraudEventId(transferId: string): string {
  const hex = createHash('sha256').update(`FraudScored\u0000${transferId}`).digest('hex');
  // A UUID (version 8, "custom") made from the hash.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export function fraudScoredEvent(transfer: RecordedEvent, data: FraudScored['data']): EventToAppend {
  return {
    eventId: fraudEventId(data.transferId),
    streamId: fraudStream(data.transferId),
    type: 'FraudScored',
    data,
    metadata: { correlationId: transfer.metadata.correlationId, causationId: transfer.eventId, actor: 'fraud-scorer' },
  };
}

/** The fields of a TransferPosted the features need, checked; throws on a malformed event (a poison). */
export function readTransfer(event: RecordedEvent): TransferPosted['data'] & { amountMinor: number; atMs: number } {
  const data = event.data as Partial<TransferPosted['data']>;
  const ok = (v: unknown) => typeof v === 'string' && v.length > 0;
  if (!ok(data.transferId) || !ok(data.debitAccountId) || !ok(data.creditAccountId)) {
    throw new Error(`TransferPosted at ${event.position} lacks transferId, debitAccountId or creditAccountId`);
  }
  if (typeof data.amount !== 'string' || !/^[1-9][0-9]*$/.test(data.amount)) {
    throw new Error(
      `TransferPosted at ${event.position} has an amount that is not a positive integer string: ${JSON.stringify(data.amount)}`,
    );
  }
  const atMs = Date.parse(event.recordedAt);
  if (!Number.isFinite(atMs)) throw new Error(`TransferPosted at ${event.position} has no readable recordedAt`);
  return { ...(data as TransferPosted['data']), amountMinor: Number(data.amount), atMs };
}
