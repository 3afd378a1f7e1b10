import { PERIODS_STREAM, type PeriodClosed } from '../domain/closed-period';
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
    for (const event of slice.events) {
      if (event.type === 'PeriodClosed' && event.recordedAt <= knownAt) {
        through = (event.data as PeriodClosed['data']).through;
      }
    }
    if (slice.events.length < PAGE) return through;
    from = slice.events.at(-1)!.revision + 1n;
  }
}
