import type { EventStore } from '../eventstore/port';
import { pairKey, transferFeatures } from './features';
import type { FraudStore } from './fraud-store';
import { readTransfer } from './fraud-scored';
import type { BatchScorer } from './batch-scorer';
import { isBrokenCircuit } from './guarded-scorer';
import type { ScoreRecorder } from './score-recorder';
import { featureTransfer } from './scoring-items';

/** Retries taken up per idle step. */
const RETRIES_PER_STEP_MAX = 16;

/**
 * Dead letters an admin asked to retry (ADR 0010): each is scored against the current feature state
 * (without updating that state), its score appended (no-stream again) and the row resolved, or put
 * back as dead with the new error. Runs when the scorer is idle and its breaker closed.
 */
export async function processRetries(parts: {
  store: EventStore;
  fraudStore: FraudStore;
  batchScorer: BatchScorer;
  recorder: ScoreRecorder;
  modelVersion: () => string;
}): Promise<void> {
  const { store, fraudStore, batchScorer, recorder } = parts;
  for (const letter of await fraudStore.retryRequested(RETRIES_PER_STEP_MAX)) {
    try {
      const [event] = await store.readAll({ after: letter.position - 1n, limit: 1 });
      if (!event || event.position !== letter.position) throw new Error(`no event at position ${letter.position}`);
      const transfer = readTransfer(event);
      const t = featureTransfer(transfer);
      const state = await fraudStore.loadState(
        [t.debitAccountId, t.creditAccountId],
        [[t.debitAccountId, t.creditAccountId]],
      );
      const row = transferFeatures(
        t,
        state.profiles.get(t.debitAccountId),
        state.profiles.get(t.creditAccountId),
        state.pairs.has(pairKey(t.debitAccountId, t.creditAccountId)),
      );
      const score = await batchScorer.scoreOne(row);
      const modelVersion = parts.modelVersion();
      const scored = recorder.scored({ index: 0, event, transfer }, score, modelVersion, row);
      await recorder.record([scored]);
      await fraudStore.resolveDeadLetter(letter.id, score);
    } catch (error) {
      if (isBrokenCircuit(error)) return;
      await fraudStore.failRetry(letter.id, error instanceof Error ? error.message : String(error));
    }
  }
}
