import {
  type AllStreamResolvedEvent,
  type AppendRecordInput,
  type AppendRecordsResult,
  AppendConsistencyViolationError,
  type AppendStreamState,
  type ConsistencyCheck,
  type EventType,
  type Position,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RegexFilter,
  type ResolvedEvent,
  StreamNotFoundError,
  UnavailableError,
} from '@kurrent/kurrentdb-client';
import type { EsdbClient } from '../../src/eventstore/esdb/esdb-event-store';

/**
 * An in-memory stand-in for the part of a KurrentDB 26.1 server the adapter talks to, through the
 * client's own types and error classes. It is what our mapping assumes the server does (ADR 0007),
 * not a server: it proves the adapter's logic against those assumptions, and nothing about the
 * server. What is assumed: appendRecords keeps request order in $all, checks every consistency check
 * and reports all that fail; the records of one append share a commit position and have increasing
 * prepare positions; $> links resolve to their event; properties come back as JSON metadata with
 * system keys of their own; reads from a position are inclusive; regex filters match event types.
 */
interface StoredRecord {
  readonly streamId: string;
  readonly id: string;
  readonly revision: bigint;
  readonly type: string;
  readonly isJson: boolean;
  readonly data: string | Uint8Array;
  readonly metadata: string | undefined;
  readonly created: Date;
  readonly position: Position;
}

const byPosition = (a: StoredRecord, b: StoredRecord) =>
  a.position.commit === b.position.commit
    ? Number(a.position.prepare - b.position.prepare)
    : a.position.commit < b.position.commit
      ? -1
      : 1;

export class FakeKurrentDB implements EsdbClient {
  private readonly log: StoredRecord[] = [];
  private readonly streams = new Map<string, StoredRecord[]>();
  private offset = 1_000n;
  /** Errors the next calls throw, first in first out (a dropped connection, a leader change). */
  readonly failures: Error[] = [];
  appends = 0;
  /** Appends refused by a consistency check. */
  refused = 0;

  constructor() {
    // A server's $all starts with system records, which the ledger's readers must never see.
    this.write([{ streamName: '$epochs', record: binary('$epoch-information', '{}') }]);
  }

  async appendRecords<E extends EventType = EventType>(
    records: AppendRecordInput<E>[],
    checks: ConsistencyCheck[] = [],
  ): Promise<AppendRecordsResult> {
    this.maybeFail();
    const violations = checks.flatMap((check, checkIndex) => {
      const actual = this.revisionOf(check.streamName);
      return holds(check.expectedState, actual)
        ? []
        : [
            {
              checkIndex,
              streamState: {
                stream: check.streamName,
                expectedState: wire(check.expectedState),
                actualState: actual.toString(),
              },
            },
          ];
    });
    if (violations.length > 0) {
      this.refused++;
      throw new AppendConsistencyViolationError(undefined as never, { violationsList: violations });
    }
    this.appends++;
    const written = this.write(records as AppendRecordInput[]);
    const last = new Map<string, bigint>();
    for (const record of written) last.set(record.streamId, record.revision);
    return {
      position: written.at(-1)!.position.commit,
      responses: [...last].map(([streamName, revision]) => ({ streamName, revision })),
    };
  }

  readStream<E extends EventType = EventType>(
    streamName: string,
    options: ReadStreamOptions = {},
  ): AsyncIterableIterator<ResolvedEvent<E>> {
    const self = this;
    return (async function* () {
      self.maybeFail();
      const stream = self.streams.get(streamName);
      if (!stream) throw new StreamNotFoundError(undefined, streamName);
      const backwards = options.direction === 'backwards';
      const from = options.fromRevision ?? (backwards ? 'end' : 'start');
      let records = backwards ? [...stream].reverse() : stream;
      if (typeof from === 'bigint')
        records = records.filter((r) => (backwards ? r.revision <= from : r.revision >= from));
      const max = Number(options.maxCount ?? Number.MAX_SAFE_INTEGER);
      for (const record of records.slice(0, max))
        yield self.resolve(record, options.resolveLinkTos ?? false) as ResolvedEvent<E>;
    })();
  }

  readAll(options: ReadAllOptions = {}): AsyncIterableIterator<AllStreamResolvedEvent> {
    const self = this;
    return (async function* () {
      self.maybeFail();
      const backwards = options.direction === 'backwards';
      const from = options.fromPosition ?? (backwards ? 'end' : 'start');
      let records = backwards ? [...self.log].reverse() : self.log;
      if (typeof from === 'object') {
        const at = (r: StoredRecord) => byPosition(r, { position: from } as StoredRecord);
        records = records.filter((r) => (backwards ? at(r) <= 0 : at(r) >= 0));
      }
      const filter = options.filter as RegexFilter | undefined;
      if (filter) {
        const regex = new RegExp(filter.regex);
        records = records.filter((r) => regex.test(filter.filterOn === 'eventType' ? r.type : r.streamId));
      }
      const max = Number(options.maxCount ?? Number.MAX_SAFE_INTEGER);
      for (const record of records.slice(0, max)) yield self.resolve(record, false) as AllStreamResolvedEvent;
    })();
  }

  /** Every record in $all, system ones and links included (for assertions). */
  get records(): readonly StoredRecord[] {
    return this.log;
  }

  private write(records: AppendRecordInput[]): StoredRecord[] {
    const commit = this.offset;
    const written: StoredRecord[] = [];
    for (const { streamName, record } of records) {
      const stream = this.streams.get(streamName) ?? [];
      this.streams.set(streamName, stream);
      const isJson = record.contentType === 'application/json';
      const data = isJson ? JSON.stringify(record.data) : (record.data as Uint8Array);
      // Properties come back as a JSON object, with the server's own `$` keys next to ours.
      const metadata = record.metadata
        ? JSON.stringify({ ...(record.metadata as Record<string, string>), '$schema.name': record.type })
        : undefined;
      const stored: StoredRecord = {
        streamId: streamName,
        id: record.id,
        revision: BigInt(stream.length),
        type: record.type,
        isJson,
        data,
        metadata,
        created: new Date(),
        position: { commit, prepare: this.offset },
      };
      // Positions are log offsets: increasing, never dense.
      this.offset += 17n + BigInt(typeof data === 'string' ? data.length : data.byteLength);
      stream.push(stored);
      this.log.push(stored);
      written.push(stored);
    }
    return written;
  }

  private resolve(record: StoredRecord, resolveLinks: boolean): ResolvedEvent {
    const recorded = this.recorded(record);
    if (record.type !== '$>' || !resolveLinks) return { event: recorded } as ResolvedEvent;
    const text = Buffer.from(record.data as Uint8Array).toString('utf8');
    const at = text.indexOf('@');
    const target = this.streams.get(text.slice(at + 1))?.[Number(text.slice(0, at))];
    return { event: target ? this.recorded(target) : undefined, link: recorded } as ResolvedEvent;
  }

  private recorded(record: StoredRecord) {
    return {
      streamId: record.streamId,
      id: record.id,
      revision: record.revision,
      type: record.type,
      isJson: record.isJson,
      created: record.created,
      data: record.isJson ? JSON.parse(record.data as string) : record.data,
      metadata: record.metadata ? JSON.parse(record.metadata) : undefined,
      position: record.position,
    };
  }

  private revisionOf(streamName: string): bigint {
    return BigInt((this.streams.get(streamName)?.length ?? 0) - 1);
  }

  private maybeFail(): void {
    const failure = this.failures.shift();
    if (failure) throw failure;
  }
}

export const unavailable = (message = 'connection dropped') => new UnavailableError(undefined, message);

function binary(type: string, data: string) {
  return {
    id: crypto.randomUUID(),
    contentType: 'application/octet-stream' as const,
    type,
    data: Buffer.from(data),
    metadata: undefined,
  };
}

function holds(expected: AppendStreamState, actual: bigint): boolean {
  if (expected === 'any') return true;
  if (expected === 'no_stream') return actual === -1n;
  if (expected === 'stream_exists') return actual >= 0n;
  return actual === expected;
}

function wire(expected: AppendStreamState): string {
  if (expected === 'any') return '-2';
  if (expected === 'no_stream') return '-1';
  if (expected === 'stream_exists') return '-4';
  return expected.toString();
}
