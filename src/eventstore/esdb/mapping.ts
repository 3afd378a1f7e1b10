import {
  type AllStreamResolvedEvent,
  type AppendStreamState,
  AppendConsistencyViolationError,
  type BinaryEventData,
  type CurrentStreamState,
  type Filter,
  type JSONEventData,
  NO_STREAM,
  type ResolvedEvent,
  STREAM_EXISTS,
  StreamNotFoundError,
  WrongExpectedVersionError,
  eventTypeFilter,
} from '@kurrent/kurrentdb-client';
import {
  type EventMetadata,
  type EventToAppend,
  type ExpectedRevision,
  type RecordedEvent,
  WrongExpectedRevisionError,
} from '../port';
import { encodePosition } from './positions';

/**
 * How the ledger's events look in EventStoreDB / KurrentDB (ADR 0007). Pure functions, so every
 * mapping is unit-tested against the client's own types and error classes without a server.
 */

/** The stream that serialises appends and carries the head of the hash chain. */
export const CHAIN_STREAM = 'ledger-chain';
/** Type of the record each append writes to CHAIN_STREAM. Not a ledger event: readers never see it. */
export const CHAIN_EVENT_TYPE = 'LedgerChainHead';
/** Type of a snapshot record (ADR 0013), in the stream snapshotStream(<stream>). Not a ledger event either. */
export const SNAPSHOT_EVENT_TYPE = 'LedgerSnapshot';
/** The stream that keeps the snapshots of `streamId`, newest last. */
export const snapshotStream = (streamId: string): string => `ledger-snapshot-${streamId}`;
/** EventStoreDB's link event type: data `<revision>@<stream>`, resolved by the server. */
export const LINK_EVENT_TYPE = '$>';

/**
 * $all, as the ledger's readers see it: system events (types starting with `$`, links among them)
 * the chain records and the snapshots are left out by the server. The regex is .NET's, evaluated on the type.
 */
export const LEDGER_EVENT_TYPE_REGEX = `^(?!\\$|${CHAIN_EVENT_TYPE}$|${SNAPSHOT_EVENT_TYPE}$)`;
export const ledgerEventsFilter = (): Filter => eventTypeFilter({ regex: LEDGER_EVENT_TYPE_REGEX });
export const isLedgerEventType = (type: string): boolean => new RegExp(LEDGER_EVENT_TYPE_REGEX).test(type);

/** Metadata keys the adapter adds next to the event's own metadata (never user keys). */
export const META = {
  recordedAt: 'ledger.recordedAt',
  prevHash: 'ledger.prevHash',
  hash: 'ledger.hash',
} as const;
const RESERVED_PREFIX = 'ledger.';

export function toStreamState(expected: ExpectedRevision): AppendStreamState {
  switch (expected.kind) {
    case 'any':
      return 'any';
    case 'no-stream':
      return NO_STREAM;
    case 'exists':
      return STREAM_EXISTS;
    case 'at':
      return expected.revision;
  }
}

export function fromStreamState(state: AppendStreamState): ExpectedRevision {
  if (state === 'any') return { kind: 'any' };
  if (state === NO_STREAM) return { kind: 'no-stream' };
  if (state === STREAM_EXISTS) return { kind: 'exists' };
  return { kind: 'at', revision: state };
}

/** A stream's actual state as the port says it: -1n when it does not exist. */
export function fromCurrentState(state: CurrentStreamState): bigint {
  return state === NO_STREAM ? -1n : state;
}

export interface StoredFields {
  readonly revision: bigint;
  readonly recordedAt: string;
  readonly prevHash: string;
  readonly hash: string;
}

/** One of our events as the client appends it: JSON data, flat string metadata. */
export function toEventData(event: EventToAppend, stored: Omit<StoredFields, 'revision'>): JSONEventData {
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(event.metadata)) {
    if (value === undefined) continue;
    if (key.startsWith(RESERVED_PREFIX) || key.startsWith('$')) {
      throw new Error(`event ${event.eventId}: metadata key ${key} is reserved for the event store`);
    }
    metadata[key] = value;
  }
  metadata[META.recordedAt] = stored.recordedAt;
  metadata[META.prevHash] = stored.prevHash;
  metadata[META.hash] = stored.hash;
  return {
    id: event.eventId,
    contentType: 'application/json',
    type: event.type,
    data: event.data,
    metadata,
  };
}

/** A link to `target` (an event of another stream), for a stream it also belongs to (`alsoIn`). */
export function linkEventData(id: string, target: { streamId: string; revision: bigint }): BinaryEventData {
  return {
    id,
    contentType: 'application/octet-stream',
    type: LINK_EVENT_TYPE,
    data: Buffer.from(`${target.revision}@${target.streamId}`, 'utf8'),
    metadata: undefined,
  };
}

export function parseLinkData(data: Uint8Array): { streamId: string; revision: bigint } {
  const text = Buffer.from(data).toString('utf8');
  const at = text.indexOf('@');
  if (at <= 0 || !/^\d+$/.test(text.slice(0, at))) throw new Error(`not a link: ${text}`);
  return { revision: BigInt(text.slice(0, at)), streamId: text.slice(at + 1) };
}

/**
 * A record read back (from a stream with links resolved, or from $all) as the port's event. The
 * event is the resolved one: a link read from an account's stream gives the transfer event with its
 * own stream, revision and position, as the PostgreSQL adapter does.
 */
export function fromResolved(resolved: ResolvedEvent | AllStreamResolvedEvent): RecordedEvent {
  const event = resolved.event;
  if (!event) {
    // A link whose event is gone: history is immutable, so this is damage, not a case to handle.
    throw new Error(
      `link ${resolved.link?.id ?? '?'} in ${resolved.link?.streamId ?? '?'} points at an event that does not exist`,
    );
  }
  if (!event.position) throw new Error(`event ${event.id} came back without its $all position`);
  const { data, metadata: stored } = event;
  if (!event.isJson || !isJsonObject(data)) {
    throw new Error(`event ${event.id} in ${event.streamId} is not a JSON object: not written by the ledger`);
  }
  if (!isJsonObject(stored)) {
    throw new Error(`event ${event.id} in ${event.streamId} has no ledger metadata: not written by the ledger`);
  }
  const own: Record<string, string> = {};
  for (const [key, value] of Object.entries(stored)) {
    // `$` keys are the server's own properties; `ledger.` keys are ours, mapped to fields below.
    if (key.startsWith('$') || key.startsWith(RESERVED_PREFIX)) continue;
    own[key] = String(value);
  }
  const field = (key: string): string => {
    const value = stored[key];
    if (typeof value !== 'string') throw new Error(`event ${event.id} lacks ${key} in its metadata`);
    return value;
  };
  const metadata: EventMetadata = { ...own, correlationId: field('correlationId'), causationId: field('causationId') };
  return {
    position: encodePosition(event.position),
    eventId: event.id,
    streamId: event.streamId,
    revision: event.revision,
    type: event.type,
    data,
    metadata,
    recordedAt: field(META.recordedAt),
    prevHash: field(META.prevHash),
    hash: field(META.hash),
  };
}

/** A JSON object as the client hands it back (its data and metadata are typed loosely). */
export const isJsonObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !(value instanceof Uint8Array) && !Array.isArray(value);

/** The revision a record holds in the stream it was read from (a link's, or the event's own). */
export function streamRevisionOf(resolved: ResolvedEvent): bigint {
  const record = resolved.link ?? resolved.event;
  if (!record) throw new Error('a read gave a record with neither event nor link');
  return record.revision;
}

export interface StreamConflict {
  readonly streamId: string;
  readonly actual: bigint;
}

/**
 * The streams whose state refused an append, from the client's errors: the consistency violations
 * of appendRecords (all failing checks at once), or the single-stream wrong-expected-version error.
 * Anything else is not a concurrency conflict: null.
 */
export function conflictsOf(error: unknown): StreamConflict[] | null {
  if (error instanceof AppendConsistencyViolationError) {
    return error.violations.map((v) => ({ streamId: v.streamName, actual: fromCurrentState(v.actualState) }));
  }
  if (error instanceof WrongExpectedVersionError) {
    return [{ streamId: error.streamName, actual: fromCurrentState(error.actualState) }];
  }
  return null;
}

/** Our error for conflicts on streams the caller named, with what the caller expected of each. */
export function wrongExpectedRevision(
  conflicts: readonly StreamConflict[],
  expected: ReadonlyMap<string, ExpectedRevision>,
): WrongExpectedRevisionError {
  return new WrongExpectedRevisionError(
    conflicts.map((c) => {
      const wanted = expected.get(c.streamId);
      if (!wanted) throw new Error(`conflict on ${c.streamId}, which the request did not name`);
      return { streamId: c.streamId, expected: wanted, actual: c.actual };
    }),
  );
}

export const isStreamNotFound = (error: unknown): boolean => error instanceof StreamNotFoundError;
