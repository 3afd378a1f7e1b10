import { GENESIS_HASH, type StoredChainLink, chainHash } from '../eventstore/hash-chain';

export type ChainBreakReason =
  /** No event at a position the log should hold (deleted, or the tail cut off). */
  | 'missing-event'
  /** An event at a position already seen, or positions going backwards. */
  | 'out-of-order'
  /** The event's bytes do not hash to its stored hash: its content, position or identity changed. */
  | 'content-changed'
  /** The event does not chain to the one before it: something before it was removed, replaced or moved. */
  | 'link-broken'
  /** The log's head (position, hash) is not the last event's. */
  | 'head-mismatch'
  /** A signed digest names a position whose hash in this log is not the signed one. */
  | 'digest-mismatch';

export interface ChainBreak {
  readonly position: string;
  readonly eventId?: string;
  readonly reason: ChainBreakReason;
  readonly detail: string;
}

export interface ChainReport {
  readonly intact: boolean;
  readonly eventsChecked: number;
  /** Last event walked: its position and hash (position "0" and the genesis hash for an empty log). */
  readonly last: { readonly position: string; readonly hash: string };
  /** The first breaks found, in log order (at most BREAKS_MAX). */
  readonly breaks: readonly ChainBreak[];
  readonly firstBroken: ChainBreak | null;
}

const BREAKS_MAX = 20;

/**
 * Walks the hash chain in log order (ADR 0006): positions dense from 1, each event's prevHash the
 * hash of the one before, each hash recomputed from the event's own bytes. Fed one event at a
 * time, so the same code checks the live store (GET /v1/audit/verify) and an export offline. After
 * a break it carries on from the stored hash, so independent breaks further on are found too.
 */
export class ChainVerifier {
  private expectedPosition = 1n;
  private prevHash = GENESIS_HASH;
  private checked = 0;
  private readonly found: ChainBreak[] = [];
  private readonly pins = new Map<bigint, string>();
  private readonly pinsSeen = new Set<bigint>();

  /** Requires the event at `position` to have `hash` (a signed digest's claim). */
  pin(position: bigint, hash: string): void {
    this.pins.set(position, hash);
  }

  push(link: StoredChainLink): void {
    this.checked++;
    const id = link.eventId;
    if (link.position < this.expectedPosition) {
      this.report({
        position: String(link.position),
        eventId: id,
        reason: 'out-of-order',
        detail: `position ${link.position} comes after position ${this.expectedPosition - 1n}`,
      });
    } else if (link.position > this.expectedPosition) {
      const missing = link.position - this.expectedPosition;
      this.report({
        position: String(this.expectedPosition),
        reason: 'missing-event',
        detail: `${missing === 1n ? `no event at position ${this.expectedPosition}` : `no events at positions ${this.expectedPosition}–${link.position - 1n}`}; the next is event ${id} at ${link.position}`,
      });
    } else if (link.prevHash !== this.prevHash) {
      this.report({
        position: String(link.position),
        eventId: id,
        reason: 'link-broken',
        detail: `event ${id} chains to ${link.prevHash}, but the event before it hashes to ${this.prevHash}`,
      });
    }
    const recomputed = chainHash(link.prevHash, link, link.dataJson, link.metadataJson);
    if (recomputed !== link.hash) {
      this.report({
        position: String(link.position),
        eventId: id,
        reason: 'content-changed',
        detail: `event ${id} at position ${link.position} hashes to ${recomputed}, not to its stored hash ${link.hash}`,
      });
    }
    const pinned = this.pins.get(link.position);
    if (pinned !== undefined) {
      this.pinsSeen.add(link.position);
      if (pinned !== link.hash) {
        this.report({
          position: String(link.position),
          eventId: id,
          reason: 'digest-mismatch',
          detail: `the signed digest says position ${link.position} hashes to ${pinned}; this log has ${link.hash}`,
        });
      }
    }
    if (link.position >= this.expectedPosition) this.expectedPosition = link.position + 1n;
    this.prevHash = link.hash;
  }

  /** Ends the walk; `head` is the log head to compare with (the store's log_head), when there is one. */
  finish(head?: { position: bigint; hash: string }): ChainReport {
    const lastPosition = this.expectedPosition - 1n;
    if (head && head.position > lastPosition) {
      this.report({
        position: String(lastPosition + 1n),
        reason: 'missing-event',
        detail: `the log head is at position ${head.position}, but the events end at ${lastPosition}`,
      });
    } else if (head && (head.position !== lastPosition || head.hash !== this.prevHash)) {
      this.report({
        position: String(head.position),
        reason: 'head-mismatch',
        detail: `the log head says position ${head.position} with hash ${head.hash}; the last event is ${lastPosition} with hash ${this.prevHash}`,
      });
    }
    for (const [position, hash] of this.pins) {
      if (!this.pinsSeen.has(position)) {
        this.report({
          position: String(position),
          reason: 'digest-mismatch',
          detail: `the signed digest names position ${position} (hash ${hash}), which this log does not hold`,
        });
      }
    }
    return {
      intact: this.found.length === 0,
      eventsChecked: this.checked,
      last: { position: String(lastPosition), hash: this.prevHash },
      breaks: [...this.found],
      firstBroken: this.found[0] ?? null,
    };
  }

  private report(found: ChainBreak): void {
    if (this.found.length < BREAKS_MAX) this.found.push(found);
  }
}
