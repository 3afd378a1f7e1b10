import { type Kysely, sql } from 'kysely';
import type { Tables } from '../platform/tables';
import { type ChainHasher, type StoredChainLink, canonicalJson, chainHash } from './hash-chain';
import {
  type AppendRequest,
  type AppendResult,
  DuplicateEventError,
  type EventStore,
  type RecordedEvent,
  type ReplayEvent,
  STREAM_READ_UNPAGED_MAX,
  type StreamSlice,
  type StreamSnapshot,
  StreamTooLongError,
  WrongExpectedRevisionError,
  satisfies,
} from './port';
import { isoTimestamp } from '../platform/sql';

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

/** Deadlocks and serialization failures are transient: the append is retried from the start. */
const TRANSIENT = new Set(['40P01', '40001']);
const APPEND_ATTEMPTS_MAX = 5;

/**
 * The event store on PostgreSQL (a server, or the embedded PGlite). See migrations/0001 for the
 * tables and ADR 0002 for why position order is commit order.
 */
export class PostgresEventStore implements EventStore {
  private readonly hasher: ChainHasher;

  /** `options.hasher` replaces the chain's hash function: for benchmarks that measure its cost, never in service. */
  constructor(
    private readonly db: Kysely<Tables>,
    options: { hasher?: ChainHasher } = {},
  ) {
    this.hasher = options.hasher ?? chainHash;
  }

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

  private appendOnce(request: AppendRequest): Promise<AppendResult> {
    const touched = new Set<string>(request.expected.keys());
    for (const event of request.events) {
      touched.add(event.streamId);
      for (const other of event.alsoIn ?? []) touched.add(other);
    }
    // Sorted, so that two appenders lock shared streams in the same order and cannot deadlock.
    const streamIds = [...touched].sort();

    return this.db.transaction().execute(async (trx) => {
      // Lock the heads of the streams that exist. A stream that does not exist yet gets its head
      // inserted below; an appender racing to create the same stream then fails on the primary
      // key and the whole append is tried again, seeing the winner's revision.
      const heads = await sql<{ stream_id: string; revision: string }>`
        select stream_id, revision::text as revision from stream_heads
        where stream_id = any(${streamIds}::text[]) order by stream_id for update`.execute(trx);
      const before = new Map(heads.rows.map((row) => [row.stream_id, BigInt(row.revision)]));

      const conflicts = [];
      for (const [streamId, expected] of request.expected) {
        const actual = before.get(streamId) ?? -1n;
        if (!satisfies(expected, actual)) conflicts.push({ streamId, expected, actual });
      }
      if (conflicts.length > 0) throw new WrongExpectedRevisionError(conflicts);

      // The global critical section starts here and ends at commit: position order = commit order.
      const head = await sql<{ position: string; hash: string }>`
        select position::text as position, encode(hash, 'hex') as hash
        from log_head where id = 1 for update`.execute(trx);
      const headRow = head.rows[0];
      if (!headRow) throw new Error('log_head row is missing: the event store schema is damaged');
      let position = BigInt(headRow.position);
      let prevHash = headRow.hash;

      const revisions = new Map(before);
      if (request.events.length === 0) return { events: [], revisions, position };

      const recorded: RecordedEvent[] = [];
      const dataJson: string[] = [];
      const metadataJson: string[] = [];
      const links: { streamId: string; revision: bigint; position: bigint }[] = [];
      const lastPosition = new Map<string, bigint>();
      for (const event of request.events) {
        position += 1n;
        lastPosition.set(event.streamId, position);
        for (const other of event.alsoIn ?? []) lastPosition.set(other, position);
        const revision = (revisions.get(event.streamId) ?? -1n) + 1n;
        revisions.set(event.streamId, revision);
        for (const other of event.alsoIn ?? []) {
          const linkRevision = (revisions.get(other) ?? -1n) + 1n;
          revisions.set(other, linkRevision);
          links.push({ streamId: other, revision: linkRevision, position });
        }
        const fields = {
          position,
          eventId: event.eventId,
          streamId: event.streamId,
          revision,
          type: event.type,
          recordedAt: request.recordedAt,
          data: event.data,
          metadata: event.metadata,
        };
        const data = canonicalJson(event.data);
        const metadata = canonicalJson(event.metadata);
        const hash = this.hasher(prevHash, fields, data, metadata);
        dataJson.push(data);
        metadataJson.push(metadata);
        recorded.push({ ...fields, prevHash, hash });
        prevHash = hash;
      }

      const created = [...revisions.keys()].filter((id) => !before.has(id));
      const updated = [...revisions.keys()].filter((id) => before.has(id) && revisions.get(id) !== before.get(id));
      const text = (values: Array<bigint | string>) => values.map(String);
      const snapshots = new Map<string, string>();
      for (const snapshot of request.snapshots ?? []) {
        if (!lastPosition.has(snapshot.streamId)) {
          throw new Error(`a snapshot of ${snapshot.streamId}, which this append does not write to`);
        }
        snapshots.set(snapshot.streamId, JSON.stringify(snapshot.data));
      }
      // Per head: the snapshot (or null: keep the stored one), its revision and its event's position.
      const snapshotOf = (ids: string[]) => ({
        data: ids.map((id) => snapshots.get(id) ?? null),
        position: ids.map((id) => (snapshots.has(id) ? lastPosition.get(id)!.toString() : null)),
      });
      const createdSnapshots = snapshotOf(created);
      const updatedSnapshots = snapshotOf(updated);
      // One statement writes the events, their links, the stream heads and the log head.
      await sql`
        with new_events as (
          insert into events (position, event_id, stream_id, revision, type, data, metadata,
                              recorded_at, prev_hash, hash)
          select p::bigint, id::uuid, s, r::bigint, t, d::json, m::json, ${request.recordedAt}::timestamptz,
                 decode(ph, 'hex'), decode(h, 'hex')
          from unnest(${text(recorded.map((e) => e.position))}::text[], ${recorded.map((e) => e.eventId)}::text[],
                      ${recorded.map((e) => e.streamId)}::text[], ${text(recorded.map((e) => e.revision))}::text[],
                      ${recorded.map((e) => e.type)}::text[], ${dataJson}::text[], ${metadataJson}::text[],
                      ${recorded.map((e) => e.prevHash)}::text[], ${recorded.map((e) => e.hash)}::text[])
               as x(p, id, s, r, t, d, m, ph, h)
          returning 1
        ), new_links as (
          insert into stream_links (stream_id, revision, position)
          select s, r::bigint, p::bigint
          from unnest(${links.map((l) => l.streamId)}::text[], ${text(links.map((l) => l.revision))}::text[],
                      ${text(links.map((l) => l.position))}::text[]) as x(s, r, p)
          returning 1
        ), new_heads as (
          insert into stream_heads (stream_id, revision, snapshot, snapshot_revision, snapshot_position)
          select s, r::bigint, sn::json, case when sn is null then null else r::bigint end, sp::bigint
          from unnest(${created}::text[], ${text(created.map((id) => revisions.get(id)!))}::text[],
                      ${createdSnapshots.data}::text[], ${createdSnapshots.position}::text[]) as x(s, r, sn, sp)
          returning 1
        ), moved_heads as (
          update stream_heads h set revision = x.r::bigint,
            snapshot = coalesce(x.sn::json, h.snapshot),
            snapshot_revision = case when x.sn is null then h.snapshot_revision else x.r::bigint end,
            snapshot_position = coalesce(x.sp::bigint, h.snapshot_position)
          from unnest(${updated}::text[], ${text(updated.map((id) => revisions.get(id)!))}::text[],
                      ${updatedSnapshots.data}::text[], ${updatedSnapshots.position}::text[]) as x(s, r, sn, sp)
          where h.stream_id = x.s
          returning 1
        )
        update log_head set position = ${position.toString()}::bigint, hash = decode(${prevHash}, 'hex'),
                            recorded_at = ${request.recordedAt}::timestamptz
        where id = 1`.execute(trx);
      return { events: recorded, revisions, position };
    });
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
