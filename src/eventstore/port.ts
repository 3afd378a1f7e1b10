/**
 * The event store port. The command side appends through it; the projector, the NATS relay and
 * the fraud scorer read the global log through it. Adapters: PostgreSQL (and PGlite) here, and
 * EventStoreDB. Positions and revisions are bigint inside and decimal strings at the edges.
 */

/** What a stream must look like for an append to go through. */
export type ExpectedRevision =
  | { kind: 'any' }
  | { kind: 'no-stream' }
  | { kind: 'exists' }
  | { kind: 'at'; revision: bigint };

export const expect = {
  any: { kind: 'any' } as ExpectedRevision,
  noStream: { kind: 'no-stream' } as ExpectedRevision,
  exists: { kind: 'exists' } as ExpectedRevision,
  at: (revision: bigint): ExpectedRevision => ({ kind: 'at', revision }),
  /** `-1n` (the revision of a stream that does not exist) means no-stream. */
  revision: (revision: bigint): ExpectedRevision => (revision < 0n ? { kind: 'no-stream' } : { kind: 'at', revision }),
};

/** Who and what caused an event. Travels with it to every reader (and on to NATS). */
export interface EventMetadata {
  readonly correlationId: string;
  readonly causationId: string;
  /** SHA-256 of the command that produced the event, for idempotent retries. */
  readonly commandHash?: string;
  /** The id of the API key that caused it (never the key itself). */
  readonly actor?: string;
  readonly traceparent?: string;
  readonly [key: string]: string | undefined;
}

export interface EventToAppend {
  /** A UUID chosen by the writer; a second event with the same id is refused. */
  readonly eventId: string;
  readonly streamId: string;
  readonly type: string;
  readonly data: Readonly<Record<string, unknown>>;
  readonly metadata: EventMetadata;
  /** Other streams this event also belongs to (an account's stream holds its transfers). */
  readonly alsoIn?: readonly string[];
}

export interface AppendRequest {
  /** In order; all of them commit together or none does. */
  readonly events: readonly EventToAppend[];
  /**
   * Expected revision, before this append, of streams it touches; a stream not named here is
   * appended to whatever its revision (any).
   */
  readonly expected: ReadonlyMap<string, ExpectedRevision>;
  /** Transaction time of every event in the request (ISO 8601, milliseconds, UTC). */
  readonly recordedAt: string;
  /**
   * Snapshots kept with the append, atomically: each is the caller's state of its stream's
   * aggregate *after* this append (the caller's expected revision for the stream makes that
   * exact). A stream appended to without one keeps its older snapshot; loaders fold what follows.
   */
  readonly snapshots?: readonly SnapshotToWrite[];
  /**
   * Sent while another append may not have committed yet: the id of that append's first event.
   * The store appends only if that event is in the log by the time this append holds the log's
   * lock, else it appends nothing and throws PredecessorNotCommittedError (ADR 0041). Only for a
   * store whose `appendsAfter` is true.
   */
  readonly after?: string;
}

export interface SnapshotToWrite {
  readonly streamId: string;
  /** JSON-safe state (bigints as decimal strings), with a schema version of the caller's own. */
  readonly data: Readonly<Record<string, unknown>>;
}

export interface StreamSnapshot {
  readonly data: Readonly<Record<string, unknown>>;
  /** The stream revision the snapshot reflects: fold events after it. */
  readonly revision: bigint;
  /** Position of the stream's event at `revision`, where the store knows it (not on EventStoreDB). */
  readonly position?: bigint;
}

export interface RecordedEvent {
  readonly position: bigint;
  readonly eventId: string;
  readonly streamId: string;
  readonly revision: bigint;
  readonly type: string;
  readonly data: Readonly<Record<string, unknown>>;
  readonly metadata: EventMetadata;
  readonly recordedAt: string;
  /** Hex SHA-256 of the event before it in the global log, and of this one (see hash-chain.ts). */
  readonly prevHash: string;
  readonly hash: string;
}

/** What a replay of balances reads of each event (a lean read of the global log). */
export type ReplayEvent = Pick<RecordedEvent, 'position' | 'type' | 'recordedAt' | 'data'>;

export interface AppendResult {
  readonly events: readonly RecordedEvent[];
  /** Revision of every stream touched, after the append. */
  readonly revisions: ReadonlyMap<string, bigint>;
  /** Position of the last event appended (the log's position when the request held none). */
  readonly position: bigint;
}

export interface StreamSlice {
  /** Events of the stream, its own and linked ones, in stream order. */
  readonly events: readonly RecordedEvent[];
  /** The stream's revision in the store: -1n when it does not exist. */
  readonly revision: bigint;
}

export interface EventStore {
  /** Atomic append to one or several streams, with expected revisions. */
  append(request: AppendRequest): Promise<AppendResult>;
  /**
   * Whether `append` honours `after` in the store itself, under the log's lock, so that a writer
   * may send an append before the one it follows has committed (ADR 0041).
   */
  readonly appendsAfter?: boolean;
  /**
   * Events of a stream from a revision (inclusive) on, at most `limit` of them. Without a limit
   * the whole rest of the stream is read, and a stream with more than STREAM_READ_UNPAGED_MAX
   * events from there throws StreamTooLongError: page with a limit, nothing is cut silently.
   */
  readStream(streamId: string, options?: { fromRevision?: bigint; limit?: number }): Promise<StreamSlice>;
  /** The current revision of each of these streams that exists (one round trip on PostgreSQL). */
  streamRevisions(streamIds: readonly string[]): Promise<Map<string, bigint>>;
  /** The latest snapshot of each of these streams that has one (one round trip on PostgreSQL). */
  readSnapshots(streamIds: readonly string[]): Promise<Map<string, StreamSnapshot>>;
  /**
   * Keeps `data` as the snapshot of a stream at `revision` (a rebuild or a first fold of a stream
   * without one, or in place of a damaged one), unless the stored snapshot is newer or the stream
   * is not that far. The caller folded the events through `revision`. Answers whether it was kept.
   */
  saveSnapshot(streamId: string, revision: bigint, data: Readonly<Record<string, unknown>>): Promise<boolean>;
  /** The first event of each of these streams that exists (one round trip, for idempotency). */
  readFirstEvents(streamIds: readonly string[]): Promise<Map<string, RecordedEvent>>;
  /** Events of the global log with position > `after`, in commit order. */
  readAll(options: { after: bigint; limit: number }): Promise<readonly RecordedEvent[]>;
  /** Position of the last committed event (0n for an empty log). */
  headPosition(): Promise<bigint>;
}

/** The expected revision of one or more streams did not hold: nothing was appended. */
export class WrongExpectedRevisionError extends Error {
  constructor(readonly conflicts: ReadonlyArray<{ streamId: string; expected: ExpectedRevision; actual: bigint }>) {
    super(
      `wrong expected revision: ${conflicts
        .map((c) => `${c.streamId} expected ${describeExpected(c.expected)}, is at ${c.actual}`)
        .join('; ')}`,
    );
    this.name = 'WrongExpectedRevisionError';
  }
}

/**
 * An append sent with `after` found that event not in the log when it held the log's lock (the
 * append before it failed, or had not reached the lock yet): nothing was appended.
 */
export class PredecessorNotCommittedError extends Error {
  constructor(readonly after: string) {
    super(`the append this one was sent after (its first event ${after}) had not committed: nothing was appended`);
    this.name = 'PredecessorNotCommittedError';
  }
}

/** Most events a readStream without a limit reads: beyond it the caller must page. */
export const STREAM_READ_UNPAGED_MAX = 10_000;

/** A read without a limit met a stream longer than STREAM_READ_UNPAGED_MAX: nothing was cut, page it. */
export class StreamTooLongError extends Error {
  constructor(readonly streamId: string) {
    super(`stream ${streamId} has more than ${STREAM_READ_UNPAGED_MAX} events to read: read it in pages with a limit`);
    this.name = 'StreamTooLongError';
  }
}

/** An event id was appended before: nothing was appended. */
export class DuplicateEventError extends Error {
  constructor(readonly eventId: string) {
    super(`event ${eventId} was appended before`);
    this.name = 'DuplicateEventError';
  }
}

export function describeExpected(expected: ExpectedRevision): string {
  return expected.kind === 'at' ? String(expected.revision) : expected.kind;
}

/** Whether a stream at `actual` (-1n: absent) satisfies `expected`. */
export function satisfies(expected: ExpectedRevision, actual: bigint): boolean {
  switch (expected.kind) {
    case 'any':
      return true;
    case 'no-stream':
      return actual === -1n;
    case 'exists':
      return actual >= 0n;
    case 'at':
      return actual === expected.revision;
  }
}
