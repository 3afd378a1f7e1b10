import { PERIODS_STREAM } from '../domain/closed-period';
import { decodeEvent } from '../events/decode';
import type { EventStore } from '../eventstore/port';

/** Most closes read in one page of the periods stream. */
const PAGE = 1000;

/**
 * The instant the books were closed through as the ledger knew it at `knownAt` (the latest close
 * recorded by then), from the event store's periods stream; null where nothing was closed yet.
 * A statement says it, so a reader knows which of its entries belong to closed books (ADR 0033).
 */
export async function closedThroughAsKnownAt(store: EventStore, knownAt: string): Promise<string | null> {
  let through: string | null = null;
  for (let from = 0n; ; ) {
    const slice = await store.readStream(PERIODS_STREAM, { fromRevision: from, limit: PAGE });
    for (const recorded of slice.events) {
      const event = decodeEvent(recorded);
      if (event.type === 'PeriodClosed' && recorded.recordedAt <= knownAt) through = event.data.through;
    }
    if (slice.events.length < PAGE) return through;
    from = slice.events.at(-1)!.revision + 1n;
  }
}
