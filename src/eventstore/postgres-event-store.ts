import { type Kysely, sql } from 'kysely';
import type { Tables } from '../platform/tables';
import { type StoredChainLink, canonicalJson } from './hash-chain';
import {
  type AppendRequest,
  type AppendResult,
  DuplicateEventError,
  type EventStore,
  PredecessorNotCommittedError,
  type RecordedEvent,
  type ReplayEvent,
  STREAM_READ_UNPAGED_MAX,
  type StreamSlice,
  type StreamSnapshot,
  StreamTooLongError,
  WrongExpectedRevisionError,
} from './port';
import { isoTimestamp } from '../platform/sql';
import type { RecentEvents } from './recent-events';

interface EventRow {
  position: string;
  event_id: string;
  stream_id: string;
  revision: string;
  type: string;
  data: string;
  metadata: string;
  recorded_at: string;
  prev_hash: string;
  hash: string;
}

const EVENT_COLUMNS = sql`e.position::text as position, e.event_id::text as event_id, e.stream_id,
  e.revision::text as revision, e.type, e.data::text as data, e.metadata::text as metadata,
  ${isoTimestamp('e.recorded_at')} as recorded_at,
  encode(e.prev_hash, 'hex') as prev_hash, encode(e.hash, 'hex') as hash`;

const toRecorded = (row: EventRow): RecordedEvent => ({
  position: BigInt(row.position),
  eventId: row.event_id,
  streamId: row.stream_id,
  revision: BigInt(row.revision),
  type: row.type,
  data: JSON.parse(row.data),
  metadata: JSON.parse(row.metadata),
  recordedAt: row.recorded_at,
  prevHash: row.prev_hash,
  hash: row.hash,
});

/**
 * The text[] literal of JSON texts as pg writes it (`{"…","…"}`, a backslash before every `"` and
 * `\` in an element), by one JSON.stringify of the array instead of pg's two regular expressions
 * per element: serialising the data and metadata texts was the append's largest CPU cost in the
 * service (ADR 0027, "Less service CPU a transfer"). The same text: JSON.stringify escapes a
 * string's `"` and `\` the same way, and a JSON text holds nothing else it would escape (no raw
 * control character, no lone surrogate). For JSON texts only.
 */
export const jsonTextsArray = (texts: readonly string[]): string => `{${JSON.stringify(texts).slice(1, -1)}}`;

/** Deadlocks and serialization failures are transient: the append is retried from the start. */
const TRANSIENT = new Set(['40P01', '40001']);
const APPEND_ATTEMPTS_MAX = 5;
/** The SQLSTATE `ledger_append` raises on a wrong expected revision (migrations/0012, 0061). */
const WRONG_EXPECTED_REVISION = 'LE001';
/** The SQLSTATE `ledger_append_after` raises when the append it follows is not in the log (migrations/0062). */
const PREDECESSOR_NOT_COMMITTED = 'LE002';

/**
 * The event store on PostgreSQL (a server, or the embedded PGlite). See migrations/0001 for the
 * tables and ADR 0002 for why position order is commit order.
 */
export class PostgresEventStore implements EventStore {
  /** `after` is checked under the log's lock by ledger_append_after (ADR 0041). */
  readonly appendsAfter = true;
  /** `recent`: where every committed append is remembered for this process's readers (ADR 0038). */
  constructor(
    private readonly db: Kysely<Tables>,
    private readonly options: { readonly recent?: RecentEvents } = {},
  ) {}

  async append(request: AppendRequest): Promise<AppendResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.appendOnce(request);
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code && TRANSIENT.has(code) && attempt < APPEND_ATTEMPTS_MAX) continue;
        // Another appender created a stream we were creating: try again, now seeing its revision.
        if (
          code === '23505' &&
          (error as { constraint?: string }).constraint === 'stream_heads_pkey' &&
          attempt < APPEND_ATTEMPTS_MAX
        ) {
          continue;
        }
        if (code === '23505' && String((error as { constraint?: string }).constraint).includes('event_id')) {
          // The detail reads `Key (event_id)=(<uuid>) already exists.`: the error carries the id itself.
          const detail = String((error as { detail?: string }).detail ?? '');
          throw new DuplicateEventError(/\(event_id\)=\(([^)]*)\)/.exec(detail)?.[1] ?? detail);
        }
        throw error;
      }
    }
  }

  /**
   * One statement in autocommit: `ledger_append` (migrations/0012, as 0061 replaced it; ADR 0027)
   * takes the log head's lock, locks the heads in stream order, checks the expected revisions,
   * chains the events' hashes there, and writes events, links, heads, snapshots and the log head.
   */
  private async appendOnce(request: AppendRequest): Promise<AppendResult> {
    const touched = new Set<string>(request.expected.keys());
    for (const event of request.events) {
      touched.add(event.streamId);
      for (const other of event.alsoIn ?? []) touched.add(other);
    }
    const streamIds = [...touched].sort();
    const written = new Set<string>();
    const linkEvents: number[] = [];
    const linkStreams: string[] = [];
    request.events.forEach((event, i) => {
      written.add(event.streamId);
      for (const other of event.alsoIn ?? []) {
        written.add(other);
        linkEvents.push(i + 1);
        linkStreams.push(other);
      }
    });
    for (const snapshot of request.snapshots ?? []) {
      if (!written.has(snapshot.streamId)) {
        throw new Error(`a snapshot of ${snapshot.streamId}, which this append does not write to`);
      }
    }
    const dataJson = request.events.map((event) => canonicalJson(event.data));
    const metadataJson = request.events.map((event) => canonicalJson(event.metadata));
    const expectedOf = streamIds.map((id) => request.expected.get(id));
    let result: { base_position: string; base_hash: string; before_revisions: string[]; hashes: string };
    try {
      const args = sql.join([
        sql`${streamIds}::text[]`,
        sql`${expectedOf.map((e) => e?.kind ?? 'any')}::text[]`,
        sql`${expectedOf.map((e) => (e?.kind === 'at' ? e.revision.toString() : null))}::bigint[]`,
        sql`${request.events.map((e) => e.eventId)}::text[]`,
        sql`${request.events.map((e) => e.streamId)}::text[]`,
        sql`${request.events.map((e) => e.type)}::text[]`,
        sql`${jsonTextsArray(dataJson)}::text[]`,
        sql`${jsonTextsArray(metadataJson)}::text[]`,
        sql`${jsonTextsArray(request.events.map((e) => JSON.stringify(e.eventId)))}::text[]`,
        sql`${jsonTextsArray(request.events.map((e) => JSON.stringify(e.streamId)))}::text[]`,
        sql`${jsonTextsArray(request.events.map((e) => JSON.stringify(e.type)))}::text[]`,
        sql`${linkEvents}::int[]`,
        sql`${linkStreams}::text[]`,
        sql`${(request.snapshots ?? []).map((snapshot) => snapshot.streamId)}::text[]`,
        sql`${jsonTextsArray((request.snapshots ?? []).map((snapshot) => JSON.stringify(snapshot.data)))}::text[]`,
        sql`${request.recordedAt}`,
        sql`${JSON.stringify(request.recordedAt)}`,
      ]);
      // With `after`: ledger_append_after (migrations/0062) checks that event is in the log once it
      // holds the log's lock, then calls ledger_append.
      const call =
        request.after === undefined ? sql`ledger_append(${args})` : sql`ledger_append_after(${request.after}, ${args})`;
      const { rows } = await sql<typeof result>`
        select base_position::text as base_position, base_hash, before_revisions::text[] as before_revisions, hashes
        from ${call}`.execute(this.db);
      result = rows[0]!;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === PREDECESSOR_NOT_COMMITTED) throw new PredecessorNotCommittedError(request.after ?? '');
      if (code !== WRONG_EXPECTED_REVISION) throw error;
      const actual = JSON.parse(String((error as { detail?: string }).detail)) as {
        streamId: string;
        actual: string;
      }[];
      throw new WrongExpectedRevisionError(
        actual.map(({ streamId, actual }) => ({
          streamId,
          expected: request.expected.get(streamId) ?? { kind: 'any' },
          actual: BigInt(actual),
        })),
      );
    }

    const before = new Map<string, bigint>();
    streamIds.forEach((id, i) => {
      const revision = BigInt(result.before_revisions[i]!);
      if (revision >= 0n) before.set(id, revision);
    });
    let position = BigInt(result.base_position);
    let prevHash = result.base_hash;
    const revisions = new Map(before);
    const recorded: RecordedEvent[] = request.events.map((event, i) => {
      position += 1n;
      const revision = (revisions.get(event.streamId) ?? -1n) + 1n;
      revisions.set(event.streamId, revision);
      for (const other of event.alsoIn ?? []) revisions.set(other, (revisions.get(other) ?? -1n) + 1n);
      const hash = result.hashes.slice(i * 64, (i + 1) * 64);
      const recordedEvent: RecordedEvent = {
        position,
        eventId: event.eventId,
        streamId: event.streamId,
        revision,
        type: event.type,
        recordedAt: request.recordedAt,
        data: event.data,
        metadata: event.metadata,
        prevHash,
        hash,
      };
      prevHash = hash;
      return recordedEvent;
    });
    // Readers get the events as a read of the store gives them: data and metadata parsed from the
    // stored text (its key order, no undefined members), not the writer's own objects.
    this.options.recent?.remember(
      recorded.map((event, i) => ({
        ...event,
        data: JSON.parse(dataJson[i]!),
        metadata: JSON.parse(metadataJson[i]!),
      })),
    );
    return { events: recorded, revisions, position };
  }

  async readStream(streamId: string, options: { fromRevision?: bigint; limit?: number } = {}): Promise<StreamSlice> {
    const from = (options.fromRevision ?? 0n).toString();
    const paged = options.limit !== undefined;
    const limit = options.limit ?? STREAM_READ_UNPAGED_MAX + 1;
    // One statement, so one snapshot for the events and the head: a revision newer than the events
    // read would let a writer pass its expected-revision check on stale state.
    const rows = await sql<Partial<EventRow> & { head_revision: string | null }>`
      select (select revision::text from stream_heads where stream_id = ${streamId}) as head_revision, s.*
      from (select 1) as one left join lateral (
        select ${EVENT_COLUMNS}, e.revision as stream_revision
        from events e where e.stream_id = ${streamId} and e.revision >= ${from}::bigint
        union all
        select ${EVENT_COLUMNS}, l.revision as stream_revision
        from stream_links l join events e on e.position = l.position
        where l.stream_id = ${streamId} and l.revision >= ${from}::bigint
        order by stream_revision limit ${limit}
      ) s on true`.execute(this.db);
    const events = rows.rows.filter((row) => row.position != null).map((row) => toRecorded(row as EventRow));
    if (!paged && events.length > STREAM_READ_UNPAGED_MAX) throw new StreamTooLongError(streamId);
    const head = rows.rows[0]?.head_revision;
    return { events, revision: head != null ? BigInt(head) : -1n };
  }

  async streamRevisions(streamIds: readonly string[]): Promise<Map<string, bigint>> {
    if (streamIds.length === 0) return new Map();
    const rows = await sql<{ stream_id: string; revision: string }>`
      select stream_id, revision::text as revision from stream_heads
      where stream_id = any(${[...streamIds]}::text[])`.execute(this.db);
    return new Map(rows.rows.map((row) => [row.stream_id, BigInt(row.revision)]));
  }

  async readSnapshots(streamIds: readonly string[]): Promise<Map<string, StreamSnapshot>> {
    if (streamIds.length === 0) return new Map();
    const rows = await sql<{ stream_id: string; snapshot: string; revision: string; position: string | null }>`
      select stream_id, snapshot::text as snapshot, snapshot_revision::text as revision,
             snapshot_position::text as position
      from stream_heads where stream_id = any(${[...streamIds]}::text[]) and snapshot is not null`.execute(this.db);
    return new Map(
      rows.rows.map((row) => [
        row.stream_id,
        {
          data: JSON.parse(row.snapshot),
          revision: BigInt(row.revision),
          ...(row.position !== null ? { position: BigInt(row.position) } : {}),
        },
      ]),
    );
  }

  async saveSnapshot(streamId: string, revision: bigint, data: Readonly<Record<string, unknown>>): Promise<boolean> {
    const result = await sql`
      update stream_heads h set snapshot = ${JSON.stringify(data)}::json, snapshot_revision = ${revision.toString()}::bigint,
        snapshot_position = (
          select e.position from events e where e.stream_id = h.stream_id and e.revision = ${revision.toString()}::bigint
          union all
          select l.position from stream_links l where l.stream_id = h.stream_id and l.revision = ${revision.toString()}::bigint)
      where h.stream_id = ${streamId} and h.revision >= ${revision.toString()}::bigint
        and (h.snapshot_revision is null or h.snapshot_revision <= ${revision.toString()}::bigint)`.execute(this.db);
    return (result.numAffectedRows ?? 0n) > 0n;
  }

  async readFirstEvents(streamIds: readonly string[]): Promise<Map<string, RecordedEvent>> {
    if (streamIds.length === 0) return new Map();
    const rows = await sql<EventRow>`
      select ${EVENT_COLUMNS} from events e
      where e.stream_id = any(${[...streamIds]}::text[]) and e.revision = 0`.execute(this.db);
    return new Map(rows.rows.map((row) => [row.stream_id, toRecorded(row)]));
  }

  async readAll(options: { after: bigint; limit: number }): Promise<readonly RecordedEvent[]> {
    const rows = await sql<EventRow>`
      select ${EVENT_COLUMNS} from events e
      where e.position > ${options.after.toString()}::bigint
      order by e.position limit ${options.limit}`.execute(this.db);
    return rows.rows.map(toRecorded);
  }

  async headPosition(): Promise<bigint> {
    const rows = await sql<{ position: string }>`select position::text as position from log_head where id = 1`.execute(
      this.db,
    );
    return BigInt(rows.rows[0]?.position ?? '0');
  }

  /** Events after `after` as stored, data and metadata as their exact JSON text: what the chain covers. */
  async readChain(options: { after: bigint; limit: number }): Promise<StoredChainLink[]> {
    const rows = await sql<EventRow>`
      select ${EVENT_COLUMNS} from events e
      where e.position > ${options.after.toString()}::bigint
      order by e.position limit ${options.limit}`.execute(this.db);
    return rows.rows.map((row) => ({
      position: BigInt(row.position),
      eventId: row.event_id,
      streamId: row.stream_id,
      revision: BigInt(row.revision),
      type: row.type,
      recordedAt: row.recorded_at,
      dataJson: row.data,
      metadataJson: row.metadata,
      prevHash: row.prev_hash,
      hash: row.hash,
    }));
  }

  /** The head of the chain: last position, its hash, and when it was recorded (null for an empty log). */
  async chainHead(): Promise<{ position: bigint; hash: string; recordedAt: string | null }> {
    const rows = await sql<{ position: string; hash: string; recorded_at: string | null }>`
      select position::text as position, encode(hash, 'hex') as hash,
             ${isoTimestamp('recorded_at')} as recorded_at
      from log_head where id = 1`.execute(this.db);
    const row = rows.rows[0];
    if (!row) throw new Error('log_head row is missing: the event store schema is damaged');
    return { position: BigInt(row.position), hash: row.hash, recordedAt: row.recorded_at };
  }

  /**
   * The events at positions in (after, through], for replays: position, type, recordedAt and data
   * only (no metadata, ids or hashes), which is what a fold of balances needs. A range of
   * positions, not a count, so several ranges can be read at once without overlapping.
   */
  async readForReplay(range: { after: bigint; through: bigint }): Promise<ReplayEvent[]> {
    const rows = await sql<{ position: string; type: string; data: string; recorded_at: string }>`
      select e.position::text as position, e.type, e.data::text as data,
             ${isoTimestamp('e.recorded_at')} as recorded_at
      from events e where e.position > ${range.after.toString()}::bigint and e.position <= ${range.through.toString()}::bigint
      order by e.position`.execute(this.db);
    return rows.rows.map((row) => ({
      position: BigInt(row.position),
      type: row.type,
      recordedAt: row.recorded_at,
      data: JSON.parse(row.data),
    }));
  }
}
