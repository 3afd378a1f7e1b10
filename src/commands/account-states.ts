import { type Account, evolveAccount, replayAccount } from '../domain/account';
import type { LedgerEvent } from '../domain/events';
import { accountStream } from '../domain/events';
import type { EventStore, RecordedEvent } from '../eventstore/port';

/** An account as the write side knows it, with where its stream stood. */
export interface AccountState {
  readonly account: Account;
  /** Revision of the account's stream that `account` reflects. */
  readonly revision: bigint;
  /** Position of the last event of the stream that `account` reflects. */
  readonly position: bigint;
}

const asLedgerEvent = (event: RecordedEvent): LedgerEvent => ({ type: event.type, data: event.data }) as LedgerEvent;

/**
 * The write side's cache of account states, folded from their streams. It may be stale when
 * another process writes to the same database: the append's expected revisions catch that, and
 * `refresh` reads the streams forward from where the cache stands.
 */
export class AccountStates {
  private readonly entries = new Map<string, AccountState>();

  constructor(
    private readonly store: EventStore,
    /** Most accounts kept in memory; the least recently used go first. */
    private readonly entriesMax = 100_000,
  ) {}

  get(accountId: string): AccountState | undefined {
    const entry = this.entries.get(accountId);
    if (entry) {
      // Map keeps insertion order: re-inserting marks it most recently used.
      this.entries.delete(accountId);
      this.entries.set(accountId, entry);
    }
    return entry;
  }

  set(accountId: string, state: AccountState): void {
    this.entries.delete(accountId);
    this.entries.set(accountId, state);
    while (this.entries.size > this.entriesMax) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  /** Loads the accounts not in the cache from their streams; absent accounts stay absent. */
  async ensure(accountIds: Iterable<string>): Promise<void> {
    const missing = [...new Set(accountIds)].filter((id) => !this.entries.has(id));
    await Promise.all(missing.map((id) => this.load(id)));
  }

  /** Reads the streams of these accounts forward from the cached revision (after a conflict). */
  async refresh(accountIds: Iterable<string>): Promise<void> {
    await Promise.all(
      [...new Set(accountIds)].map(async (id) => {
        const cached = this.entries.get(id);
        if (!cached) return this.load(id);
        const slice = await this.store.readStream(accountStream(id), { fromRevision: cached.revision + 1n });
        if (slice.events.length === 0) return;
        const account = slice.events.map(asLedgerEvent).reduce(evolveAccount, cached.account);
        this.set(id, { account, revision: slice.revision, position: slice.events.at(-1)!.position });
      }),
    );
  }

  private async load(accountId: string): Promise<void> {
    const slice = await this.store.readStream(accountStream(accountId));
    const account = replayAccount(slice.events.map(asLedgerEvent));
    if (!account) return;
    this.set(accountId, { account, revision: slice.revision, position: slice.events.at(-1)!.position });
  }

  forget(accountId: string): void {
    this.entries.delete(accountId);
  }
}
