import type { Account } from '../domain/account';
import { decodeAccountSnapshot, encodeAccountSnapshot } from '../domain/account-snapshot';
import { accountStream } from '../domain/events';
import { canonicalJson } from '../eventstore/hash-chain';
import type { EventStore } from '../eventstore/port';
import { foldAccountStream } from './account-states';

export interface SnapshotCheck {
  readonly accountId: string;
  /** `missing`: no usable snapshot; `differs`: the snapshot is not what the events fold to. */
  readonly verdict: 'matches' | 'missing' | 'differs';
  readonly snapshotRevision?: bigint;
  /** The account as its events fold, from the start (page by page) up to the snapshot's revision. */
  readonly folded?: Account;
  readonly snapshot?: Account;
  /** Whether a fresh snapshot was kept (with `rebuild`). */
  readonly rebuilt: boolean;
}

/**
 * Holds each account's snapshot against its events (ADR 0013): folds the stream from its first
 * event to the snapshot's revision and compares the whole state. With `rebuild`, a missing or
 * differing snapshot is replaced by the fold of the whole stream. Reads only the event store.
 */
export async function checkAccountSnapshots(
  store: EventStore,
  accountIds: readonly string[],
  options: { rebuild?: boolean } = {},
): Promise<SnapshotCheck[]> {
  const snapshots = await store.readSnapshots(accountIds.map(accountStream));
  const checks: SnapshotCheck[] = [];
  for (const accountId of accountIds) {
    const stored = snapshots.get(accountStream(accountId));
    const snapshot = stored ? decodeAccountSnapshot(stored.data) : undefined;
    const whole = await foldAccountStream(store, accountId, undefined);
    let folded = whole;
    if (stored && snapshot && whole && whole.revision > stored.revision) {
      folded = await foldAccountStream(store, accountId, undefined, stored.revision);
    }
    const verdict: SnapshotCheck['verdict'] = !snapshot
      ? 'missing'
      : folded && same(folded.account, snapshot)
        ? 'matches'
        : 'differs';
    let rebuilt = false;
    if (options.rebuild && verdict !== 'matches' && whole) {
      rebuilt = await store.saveSnapshot(
        accountStream(accountId),
        whole.revision,
        encodeAccountSnapshot(whole.account),
      );
    }
    checks.push({
      accountId,
      verdict,
      ...(stored ? { snapshotRevision: stored.revision } : {}),
      ...(folded ? { folded: folded.account } : {}),
      ...(snapshot ? { snapshot } : {}),
      rebuilt,
    });
  }
  return checks;
}

const same = (a: Account, b: Account): boolean =>
  canonicalJson(encodeAccountSnapshot(a)) === canonicalJson(encodeAccountSnapshot(b));
