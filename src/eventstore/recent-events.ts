import type { LogSource } from '../platform/log-follower';
import type { RecordedEvent } from './port';

/**
 * The events this process appended last, kept for its own readers of the log (the projector, the
 * Merkle tree, the review queue: ADR 0038), so a page they read right after a commit costs neither a
 * round trip nor a parse of rows they all read again.
 *
 * It only ever holds a run of consecutive positions: on PostgreSQL positions are dense and given in
 * commit order under the log head's lock (ADR 0002), so an append whose first position follows the
 * run's last is the next part of the log, and one that does not (another process appended between)
 * starts a new run. A page is served only when its first event is in the run; otherwise the reader
 * goes to the store. It is never a cache of anything it has not seen committed: an append is
 * remembered once its statement returned, in autocommit.
 */
export class RecentEvents {
  private run: RecordedEvent[] = [];
  private first = 0n;

  /** `capacity`: events kept at most (the run is cut from its oldest end beyond twice that). */
  constructor(private readonly capacity: number) {}

  remember(appended: readonly RecordedEvent[]): void {
    const head = appended[0];
    if (!head) return;
    if (this.run.length === 0 || head.position !== this.first + BigInt(this.run.length)) {
      this.run = [];
      this.first = head.position;
    }
    for (const event of appended) this.run.push(event);
    if (this.run.length > 2 * this.capacity) {
      const cut = this.run.length - this.capacity;
      this.run = this.run.slice(cut);
      this.first += BigInt(cut);
    }
  }

  /** Up to `limit` events after `after` when the first of them is here; undefined: read the store. */
  read(after: bigint, limit: number): RecordedEvent[] | undefined {
    const index = after + 1n - this.first;
    if (index < 0n || index >= BigInt(this.run.length)) return undefined;
    const start = Number(index);
    return this.run.slice(start, start + limit);
  }

  get size(): number {
    return this.run.length;
  }
}

/** The log as this process's readers follow it: from `recent` when it has the page, else from the store. */
export function recentFirst(recent: RecentEvents, store: LogSource<RecordedEvent>): LogSource<RecordedEvent> {
  return {
    readAll: async (range) => recent.read(range.after, range.limit) ?? store.readAll(range),
  };
}
