import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENESIS_HASH, canonicalJson, eventHash } from '../../src/eventstore/hash-chain';
import {
  type AppendRequest,
  DuplicateEventError,
  type EventStore,
  PredecessorNotCommittedError,
  type EventToAppend,
  type ExpectedRevision,
  type RecordedEvent,
  STREAM_READ_UNPAGED_MAX,
  StreamTooLongError,
  WrongExpectedRevisionError,
  expect as rev,
} from '../../src/eventstore/port';

/**
 * The contract every EventStore adapter passes (PostgreSQL and PGlite now, EventStoreDB later).
 * Each top-level block gets a store of its own from `factory`, so tests that need an empty log
 * (positions, the hash chain) can rely on it; within a block, tests use streams of their own.
 */
export interface ContractSubject {
  readonly store: EventStore;
  cleanup(): Promise<void>;
  /** Where this adapter's guarantees differ from PostgreSQL's; unset traits are PostgreSQL's. */
  readonly traits?: Partial<StoreTraits>;
  /** Ways to change stored history behind the store's back, as someone with access to the storage could. */
  readonly tamper?: {
    /** Overwrites the stored `data` of the event at `position`, bypassing every protection. */
    rewriteEventData(position: bigint, data: Record<string, unknown>): Promise<void>;
  };
}

/**
 * Properties one adapter has and another has not. The defaults are PostgreSQL's, the strictest;
 * an adapter that lacks one says so and the suite checks the weaker property it does have.
 */
export interface StoreTraits {
  /** Positions are 1, 2, 3…, one per event. Otherwise they only increase (EventStoreDB's $all). */
  readonly densePositions: boolean;
  /** Every store the factory makes starts on an empty log of its own (not a shared server). */
  readonly freshLog: boolean;
  /** An event id used anywhere in the log before is refused. (Within one request, every adapter refuses it.) */
  readonly eventIdsUniqueInLog: boolean;
  /** The hash of an event given its predecessor's (see hash-chain.ts). */
  readonly eventHash: (prevHash: string, event: RecordedEvent) => string;
}

export const POSTGRES_TRAITS: StoreTraits = {
  densePositions: true,
  freshLog: true,
  eventIdsUniqueInLog: true,
  eventHash,
};

/** 2^127 − 1: the largest amount the ledger carries. */
const AMOUNT_MAX = ((1n << 127n) - 1n).toString();

const stream = (label: string) => `${label}-${randomUUID()}`;
const now = () => new Date().toISOString();

function event(streamId: string, extra: Partial<EventToAppend> = {}): EventToAppend {
  return {
    eventId: randomUUID(),
    streamId,
    type: 'ThingHappened',
    data: { amountMinor: '1050', note: 'plain' },
    metadata: { correlationId: randomUUID(), causationId: randomUUID() },
    ...extra,
  };
}

function request(
  events: EventToAppend[],
  expected: Array<[string, ExpectedRevision]> = [],
  recordedAt = now(),
): AppendRequest {
  return { events, expected: new Map(expected), recordedAt };
}

/** The error an append failed with (fails the test if it did not fail). */
async function failure(append: Promise<unknown>): Promise<unknown> {
  return append.then(
    () => expect.unreachable('the append went through, but it must have been refused'),
    (error: unknown) => error,
  );
}

/** Everything a reader could see of these streams and of the log. */
async function snapshot(store: EventStore, streamIds: string[]) {
  return {
    head: await store.headPosition(),
    streams: await Promise.all(streamIds.map((id) => store.readStream(id))),
  };
}

/** Asserts that nothing changed since `before`: same head, same streams, nothing new in the log. */
async function expectNothingAppended(
  store: EventStore,
  before: Awaited<ReturnType<typeof snapshot>>,
  streamIds: string[],
) {
  expect(await snapshot(store, streamIds)).toEqual(before);
  expect(await store.readAll({ after: before.head, limit: 100 })).toEqual([]);
}

/** The whole global log (or all of it after `after`), page by page. */
async function readWholeLog(store: EventStore, after = 0n): Promise<RecordedEvent[]> {
  const log: RecordedEvent[] = [];
  for (;;) {
    const page = await store.readAll({ after: log.at(-1)?.position ?? after, limit: 500 });
    if (page.length === 0) return log;
    log.push(...page);
  }
}

/**
 * Position of the first event whose chain link or own hash does not hold; null when the chain is
 * whole. `from`: the hash before the first event given (the genesis hash for a whole log).
 */
export function firstBrokenLink(
  log: readonly RecordedEvent[],
  { hash = eventHash, from = GENESIS_HASH }: { hash?: StoreTraits['eventHash']; from?: string } = {},
): bigint | null {
  let prevHash = from;
  for (const recorded of log) {
    if (recorded.prevHash !== prevHash || hash(recorded.prevHash, recorded) !== recorded.hash) {
      return recorded.position;
    }
    prevHash = recorded.hash;
  }
  return null;
}

function useSubject(factory: () => Promise<ContractSubject>): {
  readonly store: EventStore;
  readonly subject: ContractSubject;
  readonly traits: StoreTraits;
} {
  let subject: ContractSubject | undefined;
  beforeAll(async () => {
    subject = await factory();
  });
  afterAll(async () => {
    await subject?.cleanup();
  });
  const current = () => subject ?? expect.unreachable('the store was not created');
  return {
    get store() {
      return current().store;
    },
    get subject() {
      return current();
    },
    get traits() {
      return { ...POSTGRES_TRAITS, ...current().traits };
    },
  };
}

/** Positions after `head`: exactly head+1, head+2… on a dense log; otherwise increasing, above head. */
function expectPositionsAfter(traits: StoreTraits, head: bigint, positions: readonly bigint[]): void {
  if (traits.densePositions) {
    expect(positions).toEqual(positions.map((_, i) => head + BigInt(i + 1)));
    return;
  }
  let previous = head;
  for (const position of positions) {
    expect(position).toBeGreaterThan(previous);
    previous = position;
  }
}

/** The hash of the event at `position` (the chain's head there). */
async function hashAt(store: EventStore, position: bigint): Promise<string> {
  const log = await readWholeLog(store);
  const at = log.find((e) => e.position === position);
  return at ? at.hash : GENESIS_HASH;
}

export function eventStoreContract(name: string, factory: () => Promise<ContractSubject>): void {
  describe(`event store contract: ${name}`, () => {
    // One store for the blocks whose tests keep to streams of their own; a fresh one where a test
    // needs an empty log or damages the store (creating a store can be slow: an embedded PGlite).
    const shared = useSubject(factory);

    describe('append to a new stream', () => {
      const s = shared;

      it('gives its events revisions 0.., consecutive positions, and reports the new revision', async () => {
        const id = stream('new');
        const events = [event(id), event(id), event(id)];
        const head = await s.store.headPosition();
        const result = await s.store.append(request(events, [[id, rev.noStream]]));

        expect(result.events.map((e) => e.revision)).toEqual([0n, 1n, 2n]);
        expectPositionsAfter(
          s.traits,
          head,
          result.events.map((e) => e.position),
        );
        expect(result.events.map((e) => e.eventId)).toEqual(events.map((e) => e.eventId));
        expect(result.position).toBe(result.events[2]!.position);
        expect(await s.store.headPosition()).toBe(result.position);
        expect(result.revisions.get(id)).toBe(2n);
        const slice = await s.store.readStream(id);
        expect(slice.revision).toBe(2n);
        expect(slice.events).toEqual(result.events);
      });

      it('appends with no expectation at all (a stream not named in `expected` is any)', async () => {
        const id = stream('free');
        await s.store.append(request([event(id)]));
        await s.store.append(request([event(id)]));
        expect((await s.store.readStream(id)).events.map((e) => e.revision)).toEqual([0n, 1n]);
      });

      it('writes nothing and moves nothing for a request with no events', async () => {
        const id = stream('empty');
        await s.store.append(request([event(id)]));
        const before = await snapshot(s.store, [id]);
        const result = await s.store.append(request([], [[id, rev.at(0n)]]));
        expect(result.events).toEqual([]);
        expect(result.position).toBe(before.head);
        await expectNothingAppended(s.store, before, [id]);
      });
    });

    describe('expected revision', () => {
      const s = shared;

      async function streamAt(revision: bigint): Promise<string> {
        const id = stream('s');
        for (let i = 0n; i <= revision; i++) await s.store.append(request([event(id)]));
        expect((await s.store.readStream(id)).revision).toBe(revision);
        return id;
      }

      async function expectConflict(id: string, expected: ExpectedRevision, actual: bigint) {
        const before = await snapshot(s.store, [id]);
        const error = await failure(s.store.append(request([event(id)], [[id, expected]])));
        expect(error).toBeInstanceOf(WrongExpectedRevisionError);
        expect((error as WrongExpectedRevisionError).conflicts).toEqual([{ streamId: id, expected, actual }]);
        await expectNothingAppended(s.store, before, [id]);
      }

      it('no-stream: holds for a stream that does not exist, and for nothing else', async () => {
        const id = stream('s');
        await s.store.append(request([event(id)], [[id, rev.noStream]]));
        await expectConflict(id, rev.noStream, 0n);
        expect(rev.revision(-1n)).toEqual(rev.noStream);
      });

      it('at(n): holds only at exactly n', async () => {
        const id = await streamAt(2n);
        await expectConflict(id, rev.at(1n), 2n);
        await expectConflict(id, rev.at(3n), 2n);
        await expectConflict(stream('missing'), rev.at(0n), -1n);
        const result = await s.store.append(request([event(id)], [[id, rev.at(2n)]]));
        expect(result.revisions.get(id)).toBe(3n);
        expect(result.events[0]!.revision).toBe(3n);
      });

      it('exists: holds for any existing stream, never for a missing one', async () => {
        await expectConflict(stream('missing'), rev.exists, -1n);
        const id = await streamAt(0n);
        const result = await s.store.append(request([event(id)], [[id, rev.exists]]));
        expect(result.revisions.get(id)).toBe(1n);
      });

      it('any: holds for a missing stream and for an existing one', async () => {
        const id = stream('s');
        await s.store.append(request([event(id)], [[id, rev.any]]));
        await s.store.append(request([event(id)], [[id, rev.any]]));
        expect((await s.store.readStream(id)).revision).toBe(1n);
      });

      it('guards a stream the request does not write to, and leaves that stream as it was', async () => {
        const guarded = await streamAt(1n);
        const missing = stream('missing');
        const written = stream('w');
        await s.store.append(
          request(
            [event(written)],
            [
              [guarded, rev.at(1n)],
              [missing, rev.noStream],
            ],
          ),
        );
        expect((await s.store.readStream(guarded)).revision).toBe(1n);
        // Guarding a missing stream must not create it.
        expect(await s.store.readStream(missing)).toEqual({ events: [], revision: -1n });
        await expectConflict(missing, rev.exists, -1n);

        const before = await snapshot(s.store, [guarded, written]);
        const error = await failure(s.store.append(request([event(written)], [[guarded, rev.at(0n)]])));
        expect(error).toBeInstanceOf(WrongExpectedRevisionError);
        await expectNothingAppended(s.store, before, [guarded, written]);
      });
    });

    describe('conflicts', () => {
      const s = shared;

      it('throw WrongExpectedRevisionError listing every stream that did not hold, and append nothing', async () => {
        const [a, b, c] = [stream('a'), stream('b'), stream('c')];
        await s.store.append(request([event(a), event(b), event(b), event(c)]));
        const before = await snapshot(s.store, [a, b, c]);

        const error = await failure(
          s.store.append(
            request(
              [event(a), event(b), event(c)],
              [
                [a, rev.at(0n)], // holds
                [b, rev.at(0n)], // b is at 1
                [c, rev.noStream], // c exists
              ],
            ),
          ),
        );
        expect(error).toBeInstanceOf(WrongExpectedRevisionError);
        const conflicts = [...(error as WrongExpectedRevisionError).conflicts].sort((x, y) =>
          x.streamId < y.streamId ? -1 : 1,
        );
        expect(conflicts).toEqual(
          [
            { streamId: b, expected: rev.at(0n), actual: 1n },
            { streamId: c, expected: rev.noStream, actual: 0n },
          ].sort((x, y) => (x.streamId < y.streamId ? -1 : 1)),
        );
        expect((error as Error).message).toContain(b);
        expect((error as Error).message).toContain(c);
        expect((error as Error).message).not.toContain(a);
        await expectNothingAppended(s.store, before, [a, b, c]);
      });
    });

    describe('multi-stream append', () => {
      const s = shared;

      it('commits events of several streams together, in request order', async () => {
        const [a, b] = [stream('a'), stream('b')];
        const head = await s.store.headPosition();
        const result = await s.store.append(
          request(
            [event(a), event(b), event(a)],
            [
              [a, rev.noStream],
              [b, rev.noStream],
            ],
          ),
        );
        expect(result.events.map((e) => [e.streamId, e.revision])).toEqual([
          [a, 0n],
          [b, 0n],
          [a, 1n],
        ]);
        expectPositionsAfter(
          s.traits,
          head,
          result.events.map((e) => e.position),
        );
        expect(result.revisions).toEqual(
          new Map([
            [a, 1n],
            [b, 0n],
          ]),
        );
        expect(await s.store.readAll({ after: head, limit: 10 })).toEqual(result.events);
      });

      it('is atomic: one conflicting stream and none of the events land', async () => {
        const [fresh, existing, conflicting] = [stream('fresh'), stream('existing'), stream('conflicting')];
        await s.store.append(request([event(existing), event(conflicting), event(conflicting)]));
        const before = await snapshot(s.store, [fresh, existing, conflicting]);

        const error = await failure(
          s.store.append(
            request(
              [event(fresh), event(existing), event(fresh, { alsoIn: [existing] }), event(conflicting)],
              [
                [fresh, rev.noStream],
                [existing, rev.at(0n)],
                [conflicting, rev.at(0n)],
              ],
            ),
          ),
        );
        expect(error).toBeInstanceOf(WrongExpectedRevisionError);
        expect((error as WrongExpectedRevisionError).conflicts.map((c) => c.streamId)).toEqual([conflicting]);
        await expectNothingAppended(s.store, before, [fresh, existing, conflicting]);
        expect(before.streams[0]).toEqual({ events: [], revision: -1n });
        expect((await s.store.readFirstEvents([fresh])).size).toBe(0);
      });
    });

    describe('alsoIn links', () => {
      const s = shared;

      it('appear in the linked streams, interleaved with their own events, in order and with their revisions', async () => {
        const [account, other, t1, t2] = [stream('account'), stream('other'), stream('transfer'), stream('transfer')];
        const opened = await s.store.append(
          request(
            [event(account), event(other)],
            [
              [account, rev.noStream],
              [other, rev.noStream],
            ],
          ),
        );
        const first = await s.store.append(
          request(
            [event(t1, { alsoIn: [account, other] })],
            [
              [t1, rev.noStream],
              [account, rev.at(0n)],
              [other, rev.at(0n)],
            ],
          ),
        );
        expect(first.revisions).toEqual(
          new Map([
            [t1, 0n],
            [account, 1n],
            [other, 1n],
          ]),
        );
        const frozen = await s.store.append(request([event(account, { type: 'Frozen' })], [[account, rev.at(1n)]]));
        expect(frozen.events[0]!.revision).toBe(2n);
        const second = await s.store.append(request([event(t2, { alsoIn: [account] })], [[account, rev.at(2n)]]));
        expect(second.revisions.get(account)).toBe(3n);

        const slice = await s.store.readStream(account);
        expect(slice.revision).toBe(3n);
        expect(slice.events).toEqual([opened.events[0], first.events[0], frozen.events[0], second.events[0]]);
        // A linked event keeps its own stream and revision; its place in the account is its index.
        expect(slice.events[1]).toMatchObject({ streamId: t1, revision: 0n });
        expect((await s.store.readStream(account, { fromRevision: 1n, limit: 2 })).events).toEqual([
          first.events[0],
          frozen.events[0],
        ]);
        expect((await s.store.readStream(account, { fromRevision: 3n })).events).toEqual([second.events[0]]);
        expect(await s.store.readStream(other)).toEqual({ events: [opened.events[1], first.events[0]], revision: 1n });
        expect(await s.store.readStream(t1)).toEqual({ events: first.events, revision: 0n });
        // The link counts for the linked stream's expected revision.
        const error = await failure(s.store.append(request([event(account)], [[account, rev.at(2n)]])));
        expect(error).toBeInstanceOf(WrongExpectedRevisionError);
      });

      it('of several events of one request into one stream take consecutive revisions in request order', async () => {
        const account = stream('account');
        await s.store.append(request([event(account)]));
        const result = await s.store.append(
          request(
            [event(stream('t'), { alsoIn: [account] }), event(stream('t'), { alsoIn: [account] })],
            [[account, rev.at(0n)]],
          ),
        );
        expect(result.revisions.get(account)).toBe(2n);
        const linked = (await s.store.readStream(account, { fromRevision: 1n })).events;
        expect(linked.map((e) => e.eventId)).toEqual(result.events.map((e) => e.eventId));
      });

      it('to a stream that did not exist create it', async () => {
        const [t, created] = [stream('t'), stream('created')];
        const result = await s.store.append(request([event(t, { alsoIn: [created] })], [[created, rev.noStream]]));
        expect(await s.store.readStream(created)).toEqual({ events: result.events, revision: 0n });
      });
    });

    describe('readStream', () => {
      const s = shared;

      it('reads from a revision (inclusive), up to a limit', async () => {
        const id = stream('s');
        const { events } = await s.store.append(request(Array.from({ length: 10 }, () => event(id))));
        const revisions = async (options: { fromRevision?: bigint; limit?: number }) =>
          (await s.store.readStream(id, options)).events.map((e) => e.revision);

        expect(await revisions({})).toEqual([0n, 1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n]);
        expect(await revisions({ fromRevision: 3n, limit: 4 })).toEqual([3n, 4n, 5n, 6n]);
        expect(await revisions({ limit: 2 })).toEqual([0n, 1n]);
        expect(await revisions({ fromRevision: 8n })).toEqual([8n, 9n]);
        expect(await revisions({ fromRevision: 8n, limit: 100 })).toEqual([8n, 9n]);
        expect(await s.store.readStream(id, { fromRevision: 10n })).toEqual({ events: [], revision: 9n });
        expect((await s.store.readStream(id, { fromRevision: 5n, limit: 1 })).events).toEqual([events[5]]);
        expect((await s.store.readStream(id, { fromRevision: 5n, limit: 1 })).revision).toBe(9n);
      });

      it('of a missing stream gives revision -1 and no events', async () => {
        expect(await s.store.readStream(stream('missing'))).toEqual({ events: [], revision: -1n });
        expect(await s.store.readStream(stream('missing'), { fromRevision: 3n, limit: 5 })).toEqual({
          events: [],
          revision: -1n,
        });
      });

      it('does not mix up streams whose names share a prefix', async () => {
        const id = stream('p');
        await s.store.append(request([event(id), event(`${id}-x`), event(id)]));
        expect((await s.store.readStream(id)).events.map((e) => e.streamId)).toEqual([id, id]);
      });

      it('cuts nothing silently: without a limit, a stream too long to read at once throws; pages read it all', async () => {
        const id = stream('long');
        const length = STREAM_READ_UNPAGED_MAX + 1;
        await s.store.append(request(Array.from({ length }, () => event(id))));
        await expect(s.store.readStream(id)).rejects.toThrow(StreamTooLongError);
        // From a revision that leaves few enough, the same read goes through.
        expect((await s.store.readStream(id, { fromRevision: 1n })).events).toHaveLength(length - 1);
        let read = 0;
        for (let from = 0n; ; ) {
          const page = await s.store.readStream(id, { fromRevision: from, limit: 4_000 });
          read += page.events.length;
          expect(page.revision).toBe(BigInt(length - 1));
          if (page.events.length < 4_000) break;
          from += 4_000n;
        }
        expect(read).toBe(length);
      });
    });

    describe('streamRevisions', () => {
      const s = shared;

      it('gives the revision of each stream that exists, links counted, in one call', async () => {
        const [a, b, t, missing] = [stream('a'), stream('b'), stream('t'), stream('missing')];
        await s.store.append(request([event(a), event(a), event(t, { alsoIn: [b] })]));
        const revisions = await s.store.streamRevisions([a, b, t, missing]);
        expect(Object.fromEntries(revisions)).toEqual({ [a]: 1n, [b]: 0n, [t]: 0n });
      });
    });

    describe('snapshots', () => {
      const s = shared;

      it('are kept with the append that reflects them, at the revision it leaves the stream at', async () => {
        const [a, b, t] = [stream('a'), stream('b'), stream('t')];
        await s.store.append({ ...request([event(a), event(a)]), snapshots: [{ streamId: a, data: { n: '2' } }] });
        const moved = await s.store.append({
          ...request([event(t, { alsoIn: [a, b] })], [[a, rev.at(1n)]]),
          snapshots: [{ streamId: a, data: { n: '3' } }],
        });
        const snapshots = await s.store.readSnapshots([a, b, t, stream('missing')]);
        expect([...snapshots.keys()].sort()).toEqual([a]);
        expect(snapshots.get(a)).toMatchObject({ data: { n: '3' }, revision: 2n });
        const position = snapshots.get(a)!.position;
        if (position !== undefined) expect(position).toBe(moved.events[0]!.position);
      });

      it('stay where they were when an append to the stream brings none; the events after them are the rest', async () => {
        const a = stream('a');
        await s.store.append({ ...request([event(a)]), snapshots: [{ streamId: a, data: { n: '1' } }] });
        await s.store.append(request([event(a), event(a)], [[a, rev.at(0n)]]));
        expect((await s.store.readSnapshots([a])).get(a)).toMatchObject({ data: { n: '1' }, revision: 0n });
        expect((await s.store.readStream(a, { fromRevision: 1n, limit: 10 })).events).toHaveLength(2);
      });

      it('commit with their append or not at all', async () => {
        const a = stream('a');
        await s.store.append({ ...request([event(a)]), snapshots: [{ streamId: a, data: { n: '1' } }] });
        await failure(
          s.store.append({
            ...request([event(a)], [[a, rev.at(5n)]]),
            snapshots: [{ streamId: a, data: { n: 'wrong' } }],
          }),
        );
        expect((await s.store.readSnapshots([a])).get(a)).toMatchObject({ data: { n: '1' }, revision: 0n });
      });

      it('are refused for a stream the append does not write to', async () => {
        const [a, other] = [stream('a'), stream('other')];
        await failure(s.store.append({ ...request([event(a)]), snapshots: [{ streamId: other, data: {} }] }));
        expect(await s.store.readStream(a)).toEqual({ events: [], revision: -1n });
      });

      it('saved later (a rebuild) only when not older than the stored one and not past the stream', async () => {
        const a = stream('a');
        await s.store.append({
          ...request([event(a), event(a), event(a)]),
          snapshots: [{ streamId: a, data: { n: '3' } }],
        });
        expect(await s.store.saveSnapshot(a, 1n, { n: 'older' })).toBe(false);
        expect(await s.store.saveSnapshot(a, 5n, { n: 'beyond' })).toBe(false);
        expect((await s.store.readSnapshots([a])).get(a)).toMatchObject({ data: { n: '3' }, revision: 2n });
        await s.store.append(request([event(a)], [[a, rev.at(2n)]]));
        expect(await s.store.saveSnapshot(a, 3n, { n: '4' })).toBe(true);
        expect((await s.store.readSnapshots([a])).get(a)).toMatchObject({ data: { n: '4' }, revision: 3n });
        // A damaged snapshot at the same revision can be replaced by a rebuild.
        expect(await s.store.saveSnapshot(a, 3n, { n: 'rebuilt' })).toBe(true);
        expect((await s.store.readSnapshots([a])).get(a)).toMatchObject({ data: { n: 'rebuilt' }, revision: 3n });
      });
    });

    describe('readFirstEvents', () => {
      const s = shared;

      it('gives the first event of each stream that exists, in one call', async () => {
        const [x, y, missing] = [stream('x'), stream('y'), stream('missing')];
        const first = await s.store.append(request([event(x), event(y), event(x)]));
        await s.store.append(request([event(x)]));

        const found = await s.store.readFirstEvents([x, missing, y]);
        expect(found).toEqual(
          new Map([
            [x, first.events[0]],
            [y, first.events[1]],
          ]),
        );
        expect(await s.store.readFirstEvents([])).toEqual(new Map());
        expect(await s.store.readFirstEvents([missing])).toEqual(new Map());
      });
    });

    describe('readAll and headPosition', () => {
      const s = useSubject(factory);

      let start = 0n;

      it('start from an empty log (or, on a shared server, from its head)', async () => {
        start = await s.store.headPosition();
        if (s.traits.freshLog) expect(start).toBe(0n);
        expect(await s.store.readAll({ after: start, limit: 10 })).toEqual([]);
        if (start === 0n) expect(await s.store.readAll({ after: 0n, limit: 10 })).toEqual([]);
      });

      it('read the log in order, positions increasing (dense where the adapter says so), after a checkpoint and up to a limit', async () => {
        const appended: RecordedEvent[] = [];
        for (let i = 0; i < 7; i++) {
          const ids = [stream('a'), stream('b')];
          const events = Array.from({ length: 1 + (i % 3) }, (_, k) =>
            event(ids[k % 2]!, k === 2 ? { alsoIn: [ids[0]!] } : {}),
          );
          const result = await s.store.append(request(events));
          appended.push(...result.events);
          expect(await s.store.headPosition()).toBe(result.position);
        }
        const at = (i: number) => appended[i - 1]!.position;
        expectPositionsAfter(
          s.traits,
          start,
          appended.map((e) => e.position),
        );

        expect(await s.store.readAll({ after: start, limit: 1000 })).toEqual(appended);
        expect(await s.store.readAll({ after: at(3), limit: 4 })).toEqual(appended.slice(3, 7));
        expect(await s.store.readAll({ after: at(appended.length - 1), limit: 10 })).toEqual(appended.slice(-1));
        expect(await s.store.readAll({ after: appended.at(-1)!.position, limit: 10 })).toEqual([]);
        expect(await s.store.headPosition()).toBe(appended.at(-1)!.position);

        const paged: RecordedEvent[] = [];
        for (let checkpoint = start; ; ) {
          const page = await s.store.readAll({ after: checkpoint, limit: 3 });
          if (page.length === 0) break;
          expect(page.length).toBeLessThanOrEqual(3);
          paged.push(...page);
          checkpoint = page.at(-1)!.position;
        }
        expect(paged).toEqual(appended);
      });
    });

    describe('duplicate event ids', () => {
      const s = shared;

      it('refuse an event id appended before, with DuplicateEventError, and append nothing', async (ctx) => {
        if (!s.traits.eventIdsUniqueInLog) ctx.skip(`${name} does not keep event ids unique across its log (ADR 0007)`);
        const [a, b] = [stream('a'), stream('b')];
        const original = event(a);
        await s.store.append(request([original]));
        const before = await snapshot(s.store, [a, b]);

        const again = { ...event(b), eventId: original.eventId };
        const error = await failure(s.store.append(request([event(b), again, event(a)])));
        expect(error).toBeInstanceOf(DuplicateEventError);
        expect((error as DuplicateEventError).eventId).toBe(original.eventId);
        await expectNothingAppended(s.store, before, [a, b]);
      });

      it('refuse the same event id twice in one request, and append nothing', async () => {
        const a = stream('a');
        const before = await snapshot(s.store, [a]);
        const once = event(a);
        const error = await failure(s.store.append(request([once, { ...event(a), eventId: once.eventId }])));
        expect(error).toBeInstanceOf(DuplicateEventError);
        expect((error as DuplicateEventError).eventId).toBe(once.eventId);
        await expectNothingAppended(s.store, before, [a]);
      });
    });

    describe('hash chain', () => {
      const s = shared;

      it('links every event to the one before it, from the genesis hash, and each hash recomputes', async () => {
        const returned: RecordedEvent[] = [];
        const hash = s.traits.eventHash;
        const [a, b] = [stream('a'), stream('b')];
        returned.push(...(await s.store.append(request([event(a)]))).events);
        returned.push(...(await s.store.append(request([event(b, { alsoIn: [a] }), event(b), event(a)]))).events);
        returned.push(
          ...(await s.store.append(request([event(a, { data: { amountMinor: AMOUNT_MAX, memo: 'Grüße 🏦' } })])))
            .events,
        );

        const log = await readWholeLog(s.store);
        for (const recorded of returned) expect(log.find((e) => e.position === recorded.position)).toEqual(recorded);
        expect(log[0]!.prevHash).toBe(GENESIS_HASH);
        for (const [i, recorded] of log.entries()) {
          expect(recorded.hash).toMatch(/^[0-9a-f]{64}$/);
          if (i > 0) expect(recorded.prevHash).toBe(log[i - 1]!.hash);
          expect(hash(recorded.prevHash, recorded)).toBe(recorded.hash);
        }
        expect(new Set(log.map((e) => e.hash)).size).toBe(log.length);
        expect(firstBrokenLink(log, { hash })).toBeNull();
      });
    });

    describe('tampered history', () => {
      const s = useSubject(factory);

      it('shows in the hash chain, at the event that was changed behind the store', async (ctx) => {
        const tamper = s.subject.tamper;
        if (!tamper) ctx.skip(`${name} offers no way to tamper with its storage`);
        const id = stream('victim');
        await s.store.append(request([event(id)]));
        const { events } = await s.store.append(request([event(id), event(id), event(id)]));
        const target = events[1]!;
        expect(firstBrokenLink(await readWholeLog(s.store), { hash: s.traits.eventHash })).toBeNull();

        await tamper!.rewriteEventData(target.position, { ...target.data, amountMinor: '1' });
        const after = await readWholeLog(s.store);
        expect(after.find((e) => e.position === target.position)!.data).toEqual({ ...target.data, amountMinor: '1' });
        expect(firstBrokenLink(after, { hash: s.traits.eventHash })).toBe(target.position);
      });
    });

    describe('data round-trips', () => {
      const s = shared;

      const data = {
        amountMinor: AMOUNT_MAX,
        balanceMinor: `-${AMOUNT_MAX}`,
        text: 'Grüße, 日本語, 🏦💶, עברית, e\u0301, 👩‍💻, zero\u200bwidth',
        escapes: 'a "quoted" \\ back\\slash\nnew line\ttab \u0001 \u007f </script>',
        'ключ 🔑': 'значение',
        nested: { list: [1, 'two', null, true, false, { deep: 'ß' }], empty: {}, none: [] },
        small: 42,
        score: 0.8125,
      };
      const metadata = {
        correlationId: 'corr-ü-1',
        causationId: 'cause-🏦',
        actor: 'key:ops-é',
        commandHash: 'ab'.repeat(32),
      };

      it('keeps data and metadata exactly: 2^127-1 as a string, unicode, escapes, nesting', async () => {
        const id = stream('data');
        const head = await s.store.headPosition();
        const result = await s.store.append(request([event(id, { data, metadata })]));
        if (s.traits.densePositions) expect(result.position).toBe(head + 1n);
        const fromStream = (await s.store.readStream(id)).events[0]!;
        const fromLog = (await s.store.readAll({ after: head, limit: 1 }))[0]!;
        for (const recorded of [result.events[0]!, fromStream, fromLog]) {
          expect(recorded.data).toEqual(data);
          expect(recorded.metadata).toEqual(metadata);
          expect(canonicalJson(recorded.data)).toBe(canonicalJson(data));
          expect(BigInt(recorded.data.amountMinor as string)).toBe((1n << 127n) - 1n);
        }
        expect(s.traits.eventHash(fromLog.prevHash, fromLog)).toBe(fromLog.hash);
      });

      it('keeps the type and stream names exactly', async () => {
        const id = stream('ström-🏦');
        const result = await s.store.append(request([event(id, { type: 'TransferPosted.v2' })]));
        expect((await s.store.readStream(id)).events).toEqual(result.events);
        expect(result.events[0]).toMatchObject({ streamId: id, type: 'TransferPosted.v2' });
      });
    });

    describe('recordedAt', () => {
      const s = shared;

      it('round-trips with its milliseconds, the same for every event of a request', async () => {
        for (const recordedAt of [
          '2024-02-29T23:59:59.987Z',
          '2025-01-01T00:00:00.000Z',
          '1999-12-31T23:59:59.001Z',
          now(),
        ]) {
          const id = stream('t');
          const head = await s.store.headPosition();
          const result = await s.store.append(request([event(id), event(id)], [], recordedAt));
          if (s.traits.densePositions) expect(result.position).toBe(head + 2n);
          expect(result.events.map((e) => e.recordedAt)).toEqual([recordedAt, recordedAt]);
          expect((await s.store.readStream(id)).events.map((e) => e.recordedAt)).toEqual([recordedAt, recordedAt]);
          const fromLog = await s.store.readAll({ after: head, limit: 2 });
          expect(fromLog.map((e) => e.recordedAt)).toEqual([recordedAt, recordedAt]);
        }
      });
    });

    describe('append after another (ADR 0041)', () => {
      const s = shared;

      it('a store that takes `after` appends only once that event is in the log; one that does not refuses it; neither writes anything when it refuses', async () => {
        const first = stream('first');
        const second = stream('second');
        const before = event(first);
        const missing = await snapshot(s.store, [second]);
        const refused = await failure(
          s.store.append({ ...request([event(second)], [[second, rev.noStream]]), after: before.eventId }),
        );
        if (s.store.appendsAfter) expect(refused).toBeInstanceOf(PredecessorNotCommittedError);
        else expect(String(refused)).toMatch(/after/);
        await expectNothingAppended(s.store, missing, [second]);

        const a = await s.store.append(request([before], [[first, rev.noStream]]));
        const sent = s.store.append({ ...request([event(second)], [[second, rev.noStream]]), after: before.eventId });
        if (!s.store.appendsAfter) {
          await failure(sent);
          return;
        }
        const b = await sent;
        expect(b.events[0]!.position).toBeGreaterThan(a.position);
        expect(b.revisions.get(second)).toBe(0n);
      });
    });

    describe('concurrency', () => {
      const s = shared;
      const APPENDERS = 12;
      const REQUESTS_PER_APPENDER = 40;
      /** A bound on retries of one request, so a livelock fails the test instead of hanging it. */
      const ATTEMPTS_MAX = 10_000;

      it(`${APPENDERS} appenders racing on one stream with expected revisions end with revisions 0..${APPENDERS * REQUESTS_PER_APPENDER - 1}, no gaps`, async () => {
        const id = stream('contended');
        const start = await s.store.headPosition();
        const chainFrom = s.traits.freshLog ? undefined : await hashAt(s.store, start);
        let conflicts = 0;

        async function appender(n: number): Promise<string[]> {
          const mine: string[] = [];
          let known = (await s.store.readStream(id)).revision;
          for (let i = 0; i < REQUESTS_PER_APPENDER; i++) {
            // The same event id on every attempt: a refused attempt must have left nothing behind.
            const next = event(id, { data: { appender: n, request: i } });
            for (let attempt = 1; ; attempt++) {
              try {
                const result = await s.store.append(request([next], [[id, rev.revision(known)]]));
                known = result.revisions.get(id)!;
                break;
              } catch (error) {
                if (!(error instanceof WrongExpectedRevisionError) || attempt >= ATTEMPTS_MAX) throw error;
                conflicts++;
                known = (await s.store.readStream(id, { fromRevision: known + 1n })).revision;
              }
            }
            mine.push(next.eventId);
          }
          return mine;
        }

        const perAppender = await Promise.all(Array.from({ length: APPENDERS }, (_, n) => appender(n)));
        const total = APPENDERS * REQUESTS_PER_APPENDER;
        const slice = await s.store.readStream(id);

        expect(conflicts).toBeGreaterThan(0); // they did race
        expect(slice.revision).toBe(BigInt(total - 1));
        expect(slice.events.map((e) => e.revision)).toEqual(Array.from({ length: total }, (_, i) => BigInt(i)));
        const ids = slice.events.map((e) => e.eventId);
        expect(new Set(ids)).toEqual(new Set(perAppender.flat()));
        expect(new Set(ids).size).toBe(total);
        for (const mine of perAppender) {
          // Each appender's requests landed in the order it made them.
          const order = mine.map((eventId) => ids.indexOf(eventId));
          expect(order).toEqual([...order].sort((x, y) => x - y));
        }
        const positions = slice.events.map((e) => e.position);
        expect(positions).toEqual([...positions].sort((x, y) => (x < y ? -1 : 1)));
        // The log stayed dense (where the adapter promises it) and chained through the race.
        const log = s.traits.freshLog ? await readWholeLog(s.store) : await readWholeLog(s.store, start);
        expect(log.map((e) => e.eventId)).toEqual(expect.arrayContaining(ids));
        if (s.traits.densePositions) {
          expect(log.map((e) => e.position)).toEqual(Array.from({ length: log.length }, (_, i) => BigInt(i + 1)));
          expect(BigInt(log.length)).toBe(await s.store.headPosition());
        } else {
          expectPositionsAfter(
            s.traits,
            s.traits.freshLog ? 0n : start,
            log.map((e) => e.position),
          );
          expect(log.at(-1)!.position).toBe(await s.store.headPosition());
        }
        expect(
          firstBrokenLink(log, { hash: s.traits.eventHash, ...(chainFrom ? { from: chainFrom } : {}) }),
        ).toBeNull();
      }, 180_000);

      it('appenders on streams of their own, all at once, leave one unbroken hash chain in log order', async () => {
        const start = await s.store.headPosition();
        const chainFrom = s.traits.freshLog ? undefined : await hashAt(s.store, start);
        const appended = await Promise.all(
          Array.from({ length: 8 }, async () => {
            const [own, other] = [stream('own'), stream('other')];
            const ids: string[] = [];
            for (let i = 0; i < 15; i++) {
              const result = await s.store.append(request([event(own), event(other, { alsoIn: [own] })]));
              ids.push(...result.events.map((e) => e.eventId));
            }
            return ids;
          }),
        );
        const log = s.traits.freshLog ? await readWholeLog(s.store) : await readWholeLog(s.store, start);
        expect(log.map((e) => e.eventId)).toEqual(expect.arrayContaining(appended.flat()));
        expectPositionsAfter(
          s.traits,
          s.traits.freshLog ? 0n : start,
          log.map((e) => e.position),
        );
        expect(
          firstBrokenLink(log, { hash: s.traits.eventHash, ...(chainFrom ? { from: chainFrom } : {}) }),
        ).toBeNull();
      }, 180_000);
    });
  });
}
