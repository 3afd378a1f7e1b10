import {
  type Adjustment,
  type ClosedPeriods,
  NO_CLOSED_PERIODS,
  PERIODS_STREAM,
  adjustmentStream,
  evolveAdjustment,
  evolvePeriods,
} from '../domain/closed-period';
import type { EventStore, RecordedEvent } from '../eventstore/port';
import { decodeEvent, decodeEventOf } from '../events/decode';
import type { AccountStates } from './account-states';
import type { WriteJob } from './write-commands';

/** The latest close, as answered to a close sent again. */
export interface LatestClose {
  readonly through: string;
  readonly reason: string;
  readonly closedBy: string;
  readonly closedAt: string;
  readonly position: bigint;
}

/** The periods stream as a process knows it: its fold and the revision the fold reflects (-1n: no close yet). */
export interface PeriodsEntry {
  readonly state: ClosedPeriods;
  readonly revision: bigint;
  readonly latest?: LatestClose;
}

/** An adjustment's stream as read for one batch. */
export interface LoadedAdjustment {
  readonly adjustment: Adjustment;
  readonly revision: bigint;
  /** Of its request: a request sent again with another body is a conflict. */
  readonly commandHash: string | undefined;
  /** Of its last event (an approval's TransferPosted is linked into it: its position). */
  readonly position: bigint;
}

/** What a batch is decided against for closed periods and adjustments. */
export interface PreparedPeriods {
  readonly periods: PeriodsEntry;
  readonly adjustments: ReadonlyMap<string, LoadedAdjustment>;
}

/** Most closes read from the periods stream in one page. */
const PERIODS_PAGE_MAX = 1000;

export const latestCloseOf = (event: RecordedEvent): LatestClose => {
  const { data } = decodeEventOf(event, 'PeriodClosed');
  return {
    through: data.through,
    reason: data.reason,
    closedBy: data.closedBy,
    closedAt: event.recordedAt,
    position: event.position,
  };
};

/** Folds the whole periods stream (one event per close: short). */
export async function readPeriods(store: EventStore): Promise<PeriodsEntry> {
  let entry: PeriodsEntry = { state: NO_CLOSED_PERIODS, revision: -1n };
  for (let from = 0n; ; ) {
    const slice = await store.readStream(PERIODS_STREAM, { fromRevision: from, limit: PERIODS_PAGE_MAX });
    for (const event of slice.events) {
      const close = decodeEvent(event);
      if (close.type !== 'PeriodClosed') continue;
      entry = {
        state: evolvePeriods(entry.state, close),
        revision: event.revision,
        latest: latestCloseOf(event),
      };
    }
    if (slice.events.length < PERIODS_PAGE_MAX) return { ...entry, revision: slice.revision };
    from = slice.events.at(-1)!.revision + 1n;
  }
}

/** An adjustment from its stream's events (undefined: no such adjustment). */
export function foldAdjustment(events: readonly RecordedEvent[], revision: bigint): LoadedAdjustment | undefined {
  let adjustment: Adjustment | undefined;
  let commandHash: string | undefined;
  let position = 0n;
  for (const recorded of events) {
    position = recorded.position;
    const event = decodeEvent(recorded);
    if (event.type === 'AdjustmentRequested') commandHash = recorded.metadata.commandHash;
    if (event.type !== 'AdjustmentRequested' && event.type !== 'AdjustmentApproved') continue;
    adjustment = evolveAdjustment(adjustment, event, recorded.recordedAt);
  }
  return adjustment ? { adjustment, revision, commandHash, position } : undefined;
}

/**
 * The writer's cache of the periods stream, and the loading of the adjustments a batch names.
 * A cache that is behind is safe: every posting expects the periods stream at the revision it was
 * decided on, so a close appended by another process makes the append fail and the writer refreshes.
 */
export class PeriodStates {
  private entry: Promise<PeriodsEntry> | undefined;

  constructor(private readonly store: EventStore) {}

  /** The periods and the adjustments (with their accounts loaded) that these jobs are decided against. */
  async prepare(jobs: readonly WriteJob[], accounts: AccountStates): Promise<PreparedPeriods> {
    const ids = new Set<string>();
    let fresh = false;
    for (const job of jobs) {
      if (job.kind === 'request-adjustment') ids.add(job.command.transfer.transferId);
      if (job.kind === 'approve-adjustment') ids.add(job.command.adjustmentId);
      // Refusals of these (not in a closed period; not later) would rest on the cache, and a refusal
      // appends nothing for the store to check: they are rare, so they read the periods afresh.
      if (job.kind === 'request-adjustment' || job.kind === 'close-period') fresh = true;
    }
    if (fresh) this.entry = undefined;
    const [periods, adjustments] = await Promise.all([this.current(), this.readAdjustments([...ids])]);
    const named = [...adjustments.values()].flatMap(({ adjustment }) => [
      adjustment.transfer.debitAccountId,
      adjustment.transfer.creditAccountId,
    ]);
    if (named.length > 0) await accounts.ensure(named);
    return { periods, adjustments };
  }

  private current(): Promise<PeriodsEntry> {
    this.entry ??= readPeriods(this.store).catch((error) => {
      this.entry = undefined;
      throw error;
    });
    return this.entry;
  }

  /** Another process appended to a stream this batch expected: read the periods again if it was theirs. */
  async refreshOn(conflicts: ReadonlyArray<{ streamId: string }>): Promise<void> {
    if (!conflicts.some((c) => c.streamId === PERIODS_STREAM)) return;
    this.entry = undefined;
    await this.current();
  }

  /** What a committed batch left the periods at. */
  set(entry: PeriodsEntry): void {
    this.entry = Promise.resolve(entry);
  }

  private async readAdjustments(ids: readonly string[]): Promise<Map<string, LoadedAdjustment>> {
    const loaded = new Map<string, LoadedAdjustment>();
    await Promise.all(
      ids.map(async (id) => {
        const slice = await this.store.readStream(adjustmentStream(id));
        const adjustment = foldAdjustment(slice.events, slice.revision);
        if (adjustment) loaded.set(id, adjustment);
      }),
    );
    return loaded;
  }
}
