import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresEventStore } from '../../src/eventstore/postgres-event-store';
import {
  type AppendRequest,
  type EventToAppend,
  PredecessorNotCommittedError,
  WrongExpectedRevisionError,
  expect as rev,
} from '../../src/eventstore/port';
import { type TestDatabase, createTestDatabase, postgresAvailable } from '../support/database';
import { holdLogLock } from '../support/log-lock';

/**
 * An append sent with `after` (ADR 0041): ledger_append_after takes the log's lock, then appends
 * only if that event is in the log. The writer sends a batch this way before the one it follows
 * has committed; here the lock is held by a transaction of the test's own, so the order in which
 * the appends reach it is known.
 */
describe('an append sent after another one (PostgreSQL)', () => {
  let tdb: TestDatabase;
  let store: PostgresEventStore;

  beforeAll(async () => {
    tdb = await createTestDatabase();
    store = new PostgresEventStore(tdb.database.db);
  });
  afterAll(async () => {
    await tdb?.drop();
  });

  const event = (streamId: string): EventToAppend => ({
    eventId: randomUUID(),
    streamId,
    type: 'ThingHappened',
    data: { n: '1' },
    metadata: { correlationId: 'after', causationId: 'after' },
  });
  const request = (events: EventToAppend[], expected: AppendRequest['expected'], after?: string): AppendRequest => ({
    events,
    expected,
    recordedAt: new Date().toISOString(),
    ...(after === undefined ? {} : { after }),
  });
  const noStream = (id: string) => new Map([[id, rev.noStream]]);
  const countIn = async (streamId: string) =>
    Number(
      (await tdb.query<{ n: string }>('select count(*)::text as n from events where stream_id = $1', [streamId]))[0]!.n,
    );

  it('the store says it takes `after`', async () => {
    expect(await postgresAvailable()).toBe(true);
    expect(store.appendsAfter).toBe(true);
  });

  it('is refused, and appends nothing, while the event it names is not in the log', async () => {
    const id = `second-${randomUUID()}`;
    const head = await store.headPosition();
    const missing = randomUUID();
    const error = await store.append(request([event(id)], noStream(id), missing)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PredecessorNotCommittedError);
    expect((error as PredecessorNotCommittedError).after).toBe(missing);
    expect(await store.headPosition()).toBe(head);
    expect(await countIn(id)).toBe(0);
    expect((await store.streamRevisions([id])).has(id)).toBe(false);
  });

  it('appends as a plain append would once the event it names is in the log', async () => {
    const first = `first-${randomUUID()}`;
    const second = `second-${randomUUID()}`;
    const before = event(first);
    const a = await store.append(request([before], noStream(first)));
    const b = await store.append(request([event(second), event(second)], noStream(second), before.eventId));
    expect(b.events.map((e) => e.revision)).toEqual([0n, 1n]);
    expect(b.events[0]!.position).toBe(a.position + 1n);
    expect(b.events[0]!.prevHash).toBe(a.events[0]!.hash);
  });

  it('sent while the append it follows waits for the log, appends right after it', async () => {
    const first = `first-${randomUUID()}`;
    const second = `second-${randomUUID()}`;
    const lock = await holdLogLock(tdb);
    const before = event(first);
    let a: Promise<unknown> | undefined;
    let b: Promise<unknown> | undefined;
    try {
      a = store.append(request([before], noStream(first)));
      await lock.waiting(1);
      b = store.append(request([event(second)], noStream(second), before.eventId));
      await lock.waiting(2);
    } finally {
      await lock.release();
    }
    const [ra, rb] = (await Promise.all([a, b])) as [{ position: bigint }, { events: { position: bigint }[] }];
    expect(rb.events[0]!.position).toBe(ra.position + 1n);
  });

  it('sent after one that fails on its expected revision, is refused too: neither appends anything', async () => {
    const first = `first-${randomUUID()}`;
    const second = `second-${randomUUID()}`;
    await store.append(request([event(first)], noStream(first)));
    const head = await store.headPosition();
    const lock = await holdLogLock(tdb);
    const doomed = event(first);
    let a: Promise<unknown> | undefined;
    let b: Promise<unknown> | undefined;
    try {
      // `first` exists: expecting no stream fails once the lock is free.
      a = store.append(request([doomed], noStream(first))).catch((e: unknown) => e);
      await lock.waiting(1);
      b = store.append(request([event(second)], noStream(second), doomed.eventId)).catch((e: unknown) => e);
      await lock.waiting(2);
    } finally {
      await lock.release();
    }
    expect(await a).toBeInstanceOf(WrongExpectedRevisionError);
    expect(await b).toBeInstanceOf(PredecessorNotCommittedError);
    expect(await store.headPosition()).toBe(head);
    expect(await countIn(first)).toBe(1);
    expect(await countIn(second)).toBe(0);
  });
});
