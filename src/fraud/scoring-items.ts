import type { RecordedEvent } from '../eventstore/port';
import { type FeatureState, type FeatureTransfer, featuresInOrder, pairKey } from './features';
import type { FraudStore } from './fraud-store';
import { readTransfer } from './fraud-scored';

/** A transfer of a page of the log, as the scorer reads it. */
export interface ScoringItem {
  /** Its index in the page read. */
  readonly index: number;
  readonly event: RecordedEvent;
  readonly transfer: ReturnType<typeof readTransfer>;
}

/** The events that make a transfer: a posting, or a hold. */
const SCORED_TYPES = new Set(['TransferPosted', 'TransferPending']);

/** The transfers of a page, up to the first the scorer cannot read (a poison candidate). */
export function readItems(events: readonly RecordedEvent[]): {
  items: ScoringItem[];
  unreadable?: { index: number; event: RecordedEvent; error: unknown };
} {
  const items: ScoringItem[] = [];
  for (let i = 0; i < events.length; i++) {
    const event = events[i]!;
    // Holds are scored when they are made: a hold under review cannot be posted (ADR 0024).
    if (!SCORED_TYPES.has(event.type)) continue;
    try {
      items.push({ index: i, event, transfer: readTransfer(event) });
    } catch (error) {
      return { items, unreadable: { index: i, event, error } };
    }
  }
  return { items };
}

export const featureTransfer = (transfer: ScoringItem['transfer']): FeatureTransfer => ({
  debitAccountId: transfer.debitAccountId,
  creditAccountId: transfer.creditAccountId,
  amount: transfer.amountMinor,
  atMs: transfer.atMs,
});

export interface PreparedFeatures {
  /** One row of features per item, row-major. */
  readonly rows: Float32Array;
  /** The feature state after the items (what the checkpoint transaction saves). */
  readonly state: FeatureState;
  readonly changedAccounts: ReadonlySet<string>;
  readonly newPairs: ReadonlyArray<readonly [string, string]>;
}

/** Loads the feature state of these transfers' accounts and computes their features in log order. */
export async function prepareFeatures(
  fraudStore: FraudStore,
  items: readonly ScoringItem[],
): Promise<PreparedFeatures> {
  const transfers = items.map((item) => featureTransfer(item.transfer));
  const accounts = new Set<string>();
  const pairs = new Map<string, [string, string]>();
  for (const t of transfers) {
    accounts.add(t.debitAccountId).add(t.creditAccountId);
    pairs.set(pairKey(t.debitAccountId, t.creditAccountId), [t.debitAccountId, t.creditAccountId]);
  }
  const state = await fraudStore.loadState([...accounts], [...pairs.values()]);
  const { rows, changedAccounts, newPairs } = featuresInOrder(transfers, state);
  return { rows, state, changedAccounts, newPairs };
}
