import { type Account, evolveAccount, openedAccount } from '../domain/account';
import { decodeAccountSnapshot, encodeAccountSnapshot } from '../domain/account-snapshot';
import { accountStream } from '../domain/events';
import type { EventStore } from '../eventstore/port';
import { decodeLedgerEvent } from '../events/decode';
import { RecentlyUsed } from './recently-used';

/** An account as the write side knows it, with where its stream stood. */
export interface AccountState {
  readonly account: Account;
  /** Revision of the account's stream that `account` reflects. */
  readonly revision: bigint;
  /** Position of the last event of the stream that `account` reflects, where known. */
  readonly position?: bigint;
}

/** Events read per page when folding a stream: bounds the memory of a fold, whatever the history. */
export const FOLD_PAGE_SIZE = 1_000;

/**
 * Folds an account's stream from `from` (the state after revision `from.revision`, or nothing: from
 * the start), page by page, to its end or through revision `through`. Undefined for a stream that
 * does not start with AccountOpened.
 */
export async function foldAccountStream(
  store: EventStore,
  accountId: string,
  from: AccountState | undefined,
  through?: bigint,
): Promise<AccountState | undefined> {
  let state = from;
  let next = from ? from.revision + 1n : 0n;
  for (;;) {
    const room = through === undefined ? FOLD_PAGE_SIZE : Math.min(FOLD_PAGE_SIZE, Number(through - next + 1n));
    if (room <= 0) return state;
    const slice = await store.readStream(accountStream(accountId), { fromRevision: next, limit: room });
    let account = state?.account;
    for (const event of slice.events) {
      const ledgerEvent = decodeLedgerEvent(event);
      if (!account) {
        if (ledgerEvent.type !== 'AccountOpened') return undefined;
        account = openedAccount(ledgerEvent);
      } else {
        account = evolveAccount(account, ledgerEvent);
      }
    }
    if (account && slice.events.length > 0) {
      state = { account, revision: next + BigInt(slice.events.length) - 1n, position: slice.events.at(-1)!.position };
    }
    if (slice.events.length < room) return state;
    next += BigInt(slice.events.length);
  }
}

/**
 * The write side's cache of account states. A cold account loads from the snapshot its last
 * append kept (ADR 0013) plus whatever events follow it: O(1) in its history. The cache may be
 * stale when another process writes to the same database: the append's expected revisions catch
 * that, and `refresh` reads the streams forward from where the cache stands.
 */
export class AccountStates extends RecentlyUsed<AccountState> {
  constructor(
    private readonly store: EventStore,
    /** Most accounts kept in memory; the least recently used go first. */
    entriesMax = 100_000,
  ) {
    super(entriesMax);
  }

  /** Loads the accounts not in the cache; absent accounts stay absent. */
  async ensure(accountIds: Iterable<string>): Promise<void> {
    const missing = this.missing(accountIds);
    if (missing.length > 0) await this.load(missing);
  }

  /** Reads the streams of these accounts forward from the cached revision (after a conflict). */
  async refresh(accountIds: Iterable<string>): Promise<void> {
    const cold: string[] = [];
    await Promise.all(
      [...new Set(accountIds)].map(async (id) => {
        const cached = this.peek(id);
        if (!cached) return void cold.push(id);
        const state = await foldAccountStream(this.store, id, cached);
        if (state && state.revision !== cached.revision) this.set(id, state);
      }),
    );
    if (cold.length > 0) await this.load(cold);
  }

  private async load(accountIds: readonly string[]): Promise<void> {
    const snapshots = await this.store.readSnapshots(accountIds.map(accountStream));
    await Promise.all(
      accountIds.map(async (id) => {
        const snapshot = snapshots.get(accountStream(id));
        const account = snapshot ? decodeAccountSnapshot(snapshot.data) : undefined;
        const from: AccountState | undefined =
          snapshot && account
            ? {
                account,
                revision: snapshot.revision,
                ...(snapshot.position !== undefined ? { position: snapshot.position } : {}),
              }
            : undefined;
        const state = await foldAccountStream(this.store, id, from);
        if (!state) return;
        // No usable snapshot (a stream from before them, or of an older schema): keep one now, so
        // this fold is the last one.
        if (!from)
          await this.store.saveSnapshot(accountStream(id), state.revision, encodeAccountSnapshot(state.account));
        this.set(id, state);
      }),
    );
  }

  forget(accountId: string): void {
    this.delete(accountId);
  }
}
