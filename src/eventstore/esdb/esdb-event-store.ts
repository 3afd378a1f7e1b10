import { randomUUID } from 'node:crypto';
import {
  type AllStreamResolvedEvent,
  type AppendRecordInput,
  BACKWARDS,
  type ConsistencyCheck,
  END,
  type KurrentDBClient,
  type ReadPosition,
  type ResolvedEvent,
  START,
  STREAM_STATE,
} from '@kurrent/kurrentdb-client';
import { GENESIS_HASH, eventHashWithoutPosition } from '../hash-chain';
import {
  type AppendRequest,
  type AppendResult,
  DuplicateEventError,
  type EventStore,
  type ExpectedRevision,
  type RecordedEvent,
  STREAM_READ_UNPAGED_MAX,
  type StreamSlice,
  type StreamSnapshot,
  StreamTooLongError,
  WrongExpectedRevisionError,
  satisfies,
} from '../port';
import {
  CHAIN_EVENT_TYPE,
  CHAIN_STREAM,
  SNAPSHOT_EVENT_TYPE,
  conflictsOf,
  fromResolved,
  isJsonObject,
  isLedgerEventType,
  isStreamNotFound,
  ledgerEventsFilter,
  linkEventData,
  snapshotStream,
  streamRevisionOf,
  toEventData,
  toStreamState,
  wrongExpectedRevision,
} from './mapping';
import { decodePosition } from './positions';

/** The part of the official client the adapter uses; a fake implements it in the unit tests. */
export type EsdbClient = Pick<KurrentDBClient, 'appendRecords' | 'readStream' | 'readAll'>;

export interface EsdbEventStoreOptions {
  /** Tries of an append whose only conflicts were ours (the chain head, a stream read before it). */
  readonly appendAttemptsMax?: number;
  /** Most $all records scanned backwards to find the positions of what an append wrote. */
  readonly readBackMax?: number;
  /** Most stream reads in flight at once (readFirstEvents). */
  readonly readConcurrencyMax?: number;
}

interface ChainHead {
  readonly revision: bigint;
  readonly hash: string;
}

interface Planned {
  readonly records: AppendRecordInput[];
  readonly checks: ConsistencyCheck[];
  /** The port's events, complete but for their positions. */
  readonly events: Array<Omit<RecordedEvent, 'position'>>;
  /** Checks the caller asked for, by stream; other checks are ours and are retried. */
  readonly explicit: ReadonlyMap<string, ExpectedRevision>;
  readonly revisions: Map<string, bigint>;
  readonly chainHash: string;
  readonly chainRevision: bigint;
}

/**
 * The event store on EventStoreDB / KurrentDB 26.1+ (ADR 0007). One port append is one
 * `appendRecords` call: the events in request order, a link (`$>`) in every `alsoIn` stream, one
 * record on the chain stream, and a consistency check for every stream whose revision it relies on.
 */
export class EsdbEventStore implements EventStore {
  private chain: ChainHead | undefined;
  private readonly attemptsMax: number;
  private readonly readBackMax: number;
  private readonly readConcurrencyMax: number;

  constructor(
    private readonly client: EsdbClient,
    options: EsdbEventStoreOptions = {},
  ) {
    this.attemptsMax = options.appendAttemptsMax ?? 50;
    this.readBackMax = options.readBackMax ?? 100_000;
    this.readConcurrencyMax = options.readConcurrencyMax ?? 16;
  }

  async append(request: AppendRequest): Promise<AppendResult> {
    // No check under a lock of the whole log here: `appendsAfter` is not set, so no writer sends one.
    if (request.after !== undefined) throw new Error('EventStoreDB appends do not take `after` (ADR 0041)');
    const ids = new Set<string>();
    for (const event of request.events) {
      // EventStoreDB does not keep event ids unique across streams: within a request we can check.
      if (ids.has(event.eventId)) throw new DuplicateEventError(event.eventId);
      ids.add(event.eventId);
    }
    if (request.events.length === 0) return this.appendNothing(request);

    for (let attempt = 1; ; attempt++) {
      const plan = await this.plan(request);
      try {
        const result = await this.client.appendRecords(plan.records, plan.checks);
        for (const response of result.responses) plan.revisions.set(response.streamName, response.revision);
        this.chain = { revision: plan.chainRevision, hash: plan.chainHash };
        plan.revisions.delete(CHAIN_STREAM);
        for (const snapshot of request.snapshots ?? []) plan.revisions.delete(snapshotStream(snapshot.streamId));
        const events = await this.withPositions(plan.events);
        return { events, revisions: plan.revisions, position: events.at(-1)!.position };
      } catch (error) {
        const conflicts = conflictsOf(error);
        if (!conflicts) throw error;
        const theirs = conflicts.filter((c) => {
          const wanted = plan.explicit.get(c.streamId);
          return wanted !== undefined && !satisfies(wanted, c.actual);
        });
        if (theirs.length > 0) throw wrongExpectedRevision(theirs, request.expected);
        // Only our own checks failed: another appender moved the chain (or a stream we read first).
        this.chain = undefined;
        if (attempt >= this.attemptsMax) throw error;
        await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, attempt * 2)));
      }
    }
  }

  /** An append of nothing writes nothing; it still answers for the caller's expectations. */
  private async appendNothing(request: AppendRequest): Promise<AppendResult> {
    const revisions = new Map<string, bigint>();
    const conflicts = [];
    for (const [streamId, expected] of request.expected) {
      const actual = await this.headRevision(streamId);
      revisions.set(streamId, actual);
      if (!satisfies(expected, actual)) conflicts.push({ streamId, expected, actual });
    }
    if (conflicts.length > 0) throw new WrongExpectedRevisionError(conflicts);
    return { events: [], revisions, position: await this.headPosition() };
  }

  private async plan(request: AppendRequest): Promise<Planned> {
    // Every stream the request writes to, or links into, must have a known revision before the
    // append: links name their event's revision, and the hash covers it. Expectations `at` and
    // `no-stream` say it; other streams are read, and their revision becomes a check of our own.
    const written = new Set<string>();
    for (const event of request.events) {
      written.add(event.streamId);
      for (const other of event.alsoIn ?? []) written.add(other);
    }
    const base = new Map<string, bigint>();
    const explicit = new Map<string, ExpectedRevision>();
    const checks: ConsistencyCheck[] = [];
    const check = (streamName: string, revision: bigint) =>
      checks.push({ type: STREAM_STATE, streamName, expectedState: revision < 0n ? 'no_stream' : revision });
    const conflicts = [];
    for (const streamId of new Set([...request.expected.keys(), ...written])) {
      const expected = request.expected.get(streamId) ?? { kind: 'any' };
      if (expected.kind === 'at' || expected.kind === 'no-stream') {
        explicit.set(streamId, expected);
        checks.push({ type: STREAM_STATE, streamName: streamId, expectedState: toStreamState(expected) });
        base.set(streamId, expected.kind === 'at' ? expected.revision : -1n);
        continue;
      }
      if (expected.kind === 'any' && !written.has(streamId)) continue;
      const actual = await this.headRevision(streamId);
      if (!satisfies(expected, actual)) conflicts.push({ streamId, expected, actual });
      base.set(streamId, actual);
      check(streamId, actual);
    }
    if (conflicts.length > 0) throw new WrongExpectedRevisionError(conflicts);

    const chain = (this.chain ??= await this.readChainHead());
    check(CHAIN_STREAM, chain.revision);

    const revisions = new Map<string, bigint>();
    const next = (streamId: string) => {
      const revision = (revisions.get(streamId) ?? base.get(streamId)!) + 1n;
      revisions.set(streamId, revision);
      return revision;
    };
    const records: AppendRecordInput[] = [];
    const events: Array<Omit<RecordedEvent, 'position'>> = [];
    let prevHash = chain.hash;
    for (const event of request.events) {
      const revision = next(event.streamId);
      const fields = {
        eventId: event.eventId,
        streamId: event.streamId,
        revision,
        type: event.type,
        recordedAt: request.recordedAt,
        data: event.data,
        metadata: event.metadata,
      };
      const hash = eventHashWithoutPosition(prevHash, fields);
      records.push({
        streamName: event.streamId,
        record: toEventData(event, { recordedAt: request.recordedAt, prevHash, hash }),
      });
      events.push({ ...fields, prevHash, hash });
      prevHash = hash;
      for (const other of event.alsoIn ?? []) {
        next(other);
        records.push({
          streamName: other,
          record: linkEventData(randomUUID(), { streamId: event.streamId, revision }),
        });
      }
    }
    // Snapshots go in the same appendRecords, so they commit with the events they reflect, or not at all.
    for (const snapshot of request.snapshots ?? []) {
      const revision = revisions.get(snapshot.streamId);
      if (revision === undefined)
        throw new Error(`a snapshot of ${snapshot.streamId}, which this append does not write to`);
      records.push({ streamName: snapshotStream(snapshot.streamId), record: snapshotRecord(revision, snapshot.data) });
    }
    records.push({
      streamName: CHAIN_STREAM,
      record: {
        id: randomUUID(),
        contentType: 'application/json',
        type: CHAIN_EVENT_TYPE,
        data: { hash: prevHash, events: request.events.length },
        metadata: { 'ledger.recordedAt': request.recordedAt },
      },
    });
    return {
      records,
      checks,
      events,
      explicit,
      revisions,
      chainHash: prevHash,
      chainRevision: chain.revision + 1n,
    };
  }

  /**
   * appendRecords answers with revisions and one commit position, not each record's position: find
   * them in $all, newest first (they are at or near its end), by event id.
   */
  private async withPositions(events: ReadonlyArray<Omit<RecordedEvent, 'position'>>): Promise<RecordedEvent[]> {
    const wanted = new Map(events.map((e) => [e.eventId, e.streamId]));
    const found = new Map<string, bigint>();
    // Usually the first page holds them all; when other appenders wrote after us, look further
    // back (from the end again: an arbitrary $all position is not a valid place to start a read).
    for (let pageSize = Math.max(64, wanted.size * 2); ; pageSize = Math.min(pageSize * 4, this.readBackMax)) {
      let count = 0;
      for await (const resolved of this.client.readAll({
        direction: BACKWARDS,
        fromPosition: END,
        maxCount: pageSize,
        filter: ledgerEventsFilter(),
        requiresLeader: true,
      })) {
        count++;
        const event = resolved.event;
        if (event && wanted.get(event.id) === event.streamId) found.set(event.id, fromResolved(resolved).position);
      }
      if (found.size === wanted.size) return events.map((e) => ({ ...e, position: found.get(e.eventId)! }));
      if (count < pageSize || pageSize >= this.readBackMax) {
        throw new Error(
          `the append committed, but ${wanted.size - found.size} of its events were not among the last ${count} events of $all`,
        );
      }
    }
  }

  async readStream(streamId: string, options: { fromRevision?: bigint; limit?: number } = {}): Promise<StreamSlice> {
    const paged = options.limit !== undefined;
    const limit = options.limit ?? STREAM_READ_UNPAGED_MAX + 1;
    const read: ResolvedEvent[] = [];
    try {
      for await (const resolved of this.client.readStream(streamId, {
        fromRevision: options.fromRevision ?? START,
        maxCount: limit,
        resolveLinkTos: true,
        requiresLeader: true,
      })) {
        read.push(resolved);
      }
    } catch (error) {
      if (isStreamNotFound(error)) return { events: [], revision: -1n };
      throw error;
    }
    if (!paged && read.length > STREAM_READ_UNPAGED_MAX) throw new StreamTooLongError(streamId);
    // The revision must never be newer than the events read (a writer would pass its check on
    // stale state): when the read reached the end of the stream, its last record is the head.
    const lastRead = read.length > 0 ? streamRevisionOf(read.at(-1)!) : undefined;
    const revision =
      lastRead !== undefined && read.length < limit ? lastRead : maxOf(await this.headRevision(streamId), lastRead);
    return { events: read.map(fromResolved), revision };
  }

  streamRevisions(streamIds: readonly string[]): Promise<Map<string, bigint>> {
    return this.eachStream(streamIds, async (streamId) => {
      const revision = await this.headRevision(streamId);
      return revision >= 0n ? revision : undefined;
    });
  }

  readSnapshots(streamIds: readonly string[]): Promise<Map<string, StreamSnapshot>> {
    return this.eachStream(streamIds, async (streamId) => {
      const snapshot = await this.latestSnapshot(streamId);
      return snapshot && { data: snapshot.data, revision: snapshot.revision };
    });
  }

  /**
   * What `read` finds for each of these streams (one read each: EventStoreDB has no multi-stream
   * read), at most readConcurrencyMax reads at once.
   */
  private async eachStream<T>(
    streamIds: readonly string[],
    read: (streamId: string) => Promise<T | undefined>,
  ): Promise<Map<string, T>> {
    const found = new Map<string, T>();
    const queue = [...new Set(streamIds)];
    const worker = async () => {
      for (let streamId = queue.shift(); streamId !== undefined; streamId = queue.shift()) {
        const value = await read(streamId);
        if (value !== undefined) found.set(streamId, value);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.readConcurrencyMax, queue.length) }, worker));
    return found;
  }

  async saveSnapshot(streamId: string, revision: bigint, data: Readonly<Record<string, unknown>>): Promise<boolean> {
    const stored = await this.latestSnapshot(streamId);
    if (stored && stored.revision > revision) return false;
    if ((await this.headRevision(streamId)) < revision) return false;
    try {
      await this.client.appendRecords(
        [{ streamName: snapshotStream(streamId), record: snapshotRecord(revision, data) }],
        [
          {
            type: STREAM_STATE,
            streamName: snapshotStream(streamId),
            expectedState: stored ? stored.snapshotRevision : 'no_stream',
          },
        ],
      );
      return true;
    } catch (error) {
      // Another writer kept a snapshot in between: theirs is at least as new as the events we read.
      if (conflictsOf(error)) return false;
      throw error;
    }
  }

  /** The last record of a stream's snapshot stream, and that record's own revision there. */
  private async latestSnapshot(
    streamId: string,
  ): Promise<{ data: Record<string, unknown>; revision: bigint; snapshotRevision: bigint } | undefined> {
    try {
      for await (const resolved of this.client.readStream(snapshotStream(streamId), {
        direction: BACKWARDS,
        fromRevision: END,
        maxCount: 1,
        requiresLeader: true,
      })) {
        const record = resolved.event;
        const data = record?.data;
        if (!record || !isJsonObject(data) || typeof data.revision !== 'string' || !isJsonObject(data.state)) {
          throw new Error(`${snapshotStream(streamId)} holds a record that is not a snapshot`);
        }
        return {
          data: data.state,
          revision: BigInt(data.revision),
          snapshotRevision: record.revision,
        };
      }
    } catch (error) {
      if (!isStreamNotFound(error)) throw error;
    }
    return undefined;
  }

  readFirstEvents(streamIds: readonly string[]): Promise<Map<string, RecordedEvent>> {
    return this.eachStream(streamIds, async (streamId) => {
      const first = await this.firstRecord(streamId);
      // Only an event the stream owns counts (as in PostgreSQL): a stream may start with a link.
      return first?.event && !first.link && first.event.streamId === streamId ? fromResolved(first) : undefined;
    });
  }

  async readAll(options: { after: bigint; limit: number }): Promise<readonly RecordedEvent[]> {
    const events: RecordedEvent[] = [];
    // fromPosition is inclusive: read one more and drop the event at `after` itself.
    let from: ReadPosition = options.after === 0n ? START : decodePosition(options.after);
    let after = options.after;
    for (;;) {
      const pageSize = options.limit - events.length + 1;
      let count = 0;
      const page: AsyncIterable<AllStreamResolvedEvent> = this.client.readAll({
        fromPosition: from,
        maxCount: pageSize,
        filter: ledgerEventsFilter(),
      });
      for await (const resolved of page) {
        count++;
        const event = resolved.event;
        if (!event) continue;
        const position = fromResolved(resolved).position;
        if (position <= after) continue;
        after = position;
        from = event.position!;
        // The server filters; this is the second line, so a filter that let one through cannot
        // put a system record in front of a projection.
        if (isLedgerEventType(event.type)) events.push(fromResolved(resolved));
        if (events.length === options.limit) return events;
      }
      if (count < pageSize) return events;
    }
  }

  async headPosition(): Promise<bigint> {
    for await (const resolved of this.client.readAll({
      direction: BACKWARDS,
      fromPosition: END,
      maxCount: 1,
      filter: ledgerEventsFilter(),
    })) {
      if (resolved.event) return fromResolved(resolved).position;
    }
    return 0n;
  }

  private async firstRecord(streamId: string): Promise<ResolvedEvent | undefined> {
    try {
      for await (const resolved of this.client.readStream(streamId, {
        maxCount: 1,
        resolveLinkTos: true,
        requiresLeader: true,
      })) {
        return resolved;
      }
    } catch (error) {
      if (!isStreamNotFound(error)) throw error;
    }
    return undefined;
  }

  /** The revision of a stream's last record (-1n when it does not exist). */
  private async headRevision(streamId: string): Promise<bigint> {
    try {
      for await (const resolved of this.client.readStream(streamId, {
        direction: BACKWARDS,
        fromRevision: END,
        maxCount: 1,
        requiresLeader: true,
      })) {
        return streamRevisionOf(resolved);
      }
    } catch (error) {
      if (!isStreamNotFound(error)) throw error;
    }
    return -1n;
  }

  private async readChainHead(): Promise<ChainHead> {
    try {
      for await (const resolved of this.client.readStream(CHAIN_STREAM, {
        direction: BACKWARDS,
        fromRevision: END,
        maxCount: 1,
        requiresLeader: true,
      })) {
        const record = resolved.event;
        const data = record?.data;
        if (!record || !isJsonObject(data) || typeof data.hash !== 'string') {
          throw new Error(`${CHAIN_STREAM} holds a record without a hash`);
        }
        return { revision: record.revision, hash: data.hash };
      }
    } catch (error) {
      if (!isStreamNotFound(error)) throw error;
    }
    return { revision: -1n, hash: GENESIS_HASH };
  }
}

const snapshotRecord = (revision: bigint, state: Readonly<Record<string, unknown>>): AppendRecordInput['record'] => ({
  id: randomUUID(),
  contentType: 'application/json',
  type: SNAPSHOT_EVENT_TYPE,
  data: { revision: revision.toString(), state },
  metadata: {},
});

const maxOf = (a: bigint, b: bigint | undefined): bigint => (b !== undefined && b > a ? b : a);
