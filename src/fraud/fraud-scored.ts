import { createHash } from 'node:crypto';
import type { CommandContext } from '../commands/write-commands';
import type { TransferPosted } from '../domain/events';
import type { FraudDecision, RecordScore } from '../domain/fraud';
import type { RecordedEvent } from '../eventstore/port';
import { decodeEventOf } from '../events/decode';

/**
 * SHA-256 (hex) of a feature vector as float32 little-endian bytes: the model's exact input, so an
 * auditor who recomputes the features (or takes them from the event) can check they re-score the
 * same input with the same model version.
 */
export function featuresSha256(features: Float32Array): string {
  const bytes = new DataView(new ArrayBuffer(features.length * 4));
  features.forEach((value, i) => {
    bytes.setFloat32(i * 4, value, true);
  });
  return createHash('sha256').update(new Uint8Array(bytes.buffer)).digest('hex');
}

export const decisionFor = (score: number, reviewThreshold: number): FraudDecision =>
  score >= reviewThreshold ? 'review' : 'allow';

/** The command that records a transfer's score, with the transfer's event as its cause. */
export function recordScoreCommand(
  transfer: RecordedEvent,
  score: { transferId: string; score: number; modelVersion: string; decision: FraudDecision; features: Float32Array },
): { command: RecordScore; context: CommandContext } {
  return {
    command: {
      type: 'RecordScore',
      score: {
        transferId: score.transferId,
        score: score.score,
        modelVersion: score.modelVersion,
        decision: score.decision,
        features: Array.from(score.features),
        featuresSha256: featuresSha256(score.features),
      },
    },
    context: {
      correlationId: transfer.metadata.correlationId,
      causationId: transfer.eventId,
      actor: 'fraud-scorer',
      ...(transfer.metadata.traceparent ? { traceparent: transfer.metadata.traceparent } : {}),
    },
  };
}

/** The transfer a TransferPosted (or TransferPending) holds, decoded; throws on a malformed event (a poison). */
export function readTransfer(event: RecordedEvent): TransferPosted['data'] & { amountMinor: number; atMs: number } {
  const { data } = decodeEventOf(event, 'TransferPosted', 'TransferPending');
  const atMs = Date.parse(event.recordedAt);
  if (!Number.isFinite(atMs)) throw new Error(`${event.type} at ${event.position} has no readable recordedAt`);
  return { ...data, amountMinor: Number(data.amount), atMs };
}
