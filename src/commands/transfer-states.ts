import { transferStream } from '../domain/events';
import { type TransferState, evolveTransfer } from '../domain/transfer-state';
import type { EventStore, RecordedEvent } from '../eventstore/port';
import { decodeEventOf, decodeLedgerEvent } from '../events/decode';
import { RecentlyUsed } from './recently-used';
import type { TransferRecord } from './write-commands';

/** A transfer as the write side knows it, with where its stream stood. */
export interface TransferEntry {
  readonly state: TransferState;
  /** When its first event was recorded (the contract's Transfer.recordedAt). */
  readonly recordedAt: string;
  /** Revision of the transfer's stream that `state` reflects. */
  readonly revision: bigint;
}

/**
 * The write side's cache of transfer states (holds and the transfers reversals undo), folded from
 * their own streams. Like the account states it may be stale when another process writes: the
 * expected revision of the transfer's stream catches that, and `refresh` reads it forward.
 */
export class TransferStates extends RecentlyUsed<TransferEntry> {
  constructor(
    private readonly store: EventStore,
    /** Most transfers kept in memory; the least recently used go first. */
    entriesMax = 100_000,
  ) {
    super(entriesMax);
  }

  /** Loads the transfers not in the cache from their streams; absent ones stay absent. */
  async ensure(transferIds: Iterable<string>): Promise<void> {
    const missing = this.missing(transferIds);
    await Promise.all(missing.map((id) => this.load(id)));
  }

  /** Reads these transfers' streams forward from the cached revision (after a conflict). */
  async refresh(transferIds: Iterable<string>): Promise<void> {
    await Promise.all(
      [...new Set(transferIds)].map(async (id) => {
        const cached = this.peek(id);
        if (!cached) return this.load(id);
        const slice = await this.store.readStream(transferStream(id), { fromRevision: cached.revision + 1n });
        if (slice.events.length === 0) return;
        const state = slice.events.map(decodeLedgerEvent).reduce(evolveTransfer, cached.state);
        this.set(id, { ...cached, state, revision: slice.revision });
      }),
    );
  }

  private async load(transferId: string): Promise<void> {
    const slice = await this.store.readStream(transferStream(transferId));
    const first = slice.events[0];
    if (!first) return;
    const state = slice.events.map(decodeLedgerEvent).reduce<TransferState | undefined>(evolveTransfer, undefined)!;
    this.set(transferId, { state, recordedAt: first.recordedAt, revision: slice.revision });
  }

  /**
   * The first answer of a post or void found again by its id: the hold as that command left it,
   * folded from the hold's stream up to the command's event (later posts do not change a repeat's answer).
   */
  async answerAt(commandEvent: RecordedEvent): Promise<TransferRecord> {
    const holdId = decodeEventOf(commandEvent, 'PendingTransferPosted', 'PendingTransferVoided').data.transferId;
    const slice = await this.store.readStream(transferStream(holdId));
    const upTo = slice.events.filter((event) => event.position <= commandEvent.position);
    const state = upTo.map(decodeLedgerEvent).reduce<TransferState | undefined>(evolveTransfer, undefined);
    if (!state || !upTo[0]) throw new Error(`hold ${holdId} of command event ${commandEvent.eventId} has no stream`);
    return { state, recordedAt: upTo[0].recordedAt, position: commandEvent.position };
  }
}
