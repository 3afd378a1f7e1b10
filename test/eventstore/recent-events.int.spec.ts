import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresEventStore } from '../../src/eventstore/postgres-event-store';
import type { AppendRequest, EventToAppend } from '../../src/eventstore/port';
import { RecentEvents, recentFirst } from '../../src/eventstore/recent-events';
import { type TestDatabase, createTestDatabase } from '../support/database';

// ADR 0038: a process's readers read what it just appended from memory, and get exactly what a
// read of the store gives, or are sent to the store.

function request(streams: string[]): AppendRequest {
  const events: EventToAppend[] = streams.map((streamId, i) => ({
    eventId: randomUUID(),
    streamId,
    type: 'Sample',
    // Keys out of order and an undefined member: the store keeps canonical JSON.
    data: { z: `${i}`, a: { y: 1, b: [true, null] }, gone: undefined },
    metadata: { correlationId: randomUUID(), causationId: randomUUID(), traceparent: undefined },
    alsoIn: i === 0 ? [`link-${streams[0]}`] : undefined,
  }));
  return { events, expected: new Map(), recordedAt: new Date().toISOString() };
}

describe('RecentEvents', () => {
  let tdb: TestDatabase;
  beforeAll(async () => {
    tdb = await createTestDatabase();
  });
  afterAll(() => tdb.drop());

  it("serves the pages a read of the store gives, and sends a reader to the store across another process's appends", async () => {
    const recent = new RecentEvents(4);
    const mine = new PostgresEventStore(tdb.database.db, { recent });
    const other = new PostgresEventStore(tdb.database.db);
    const source = recentFirst(recent, mine);
    const start = await mine.headPosition();

    await mine.append(request(['s-1', 's-2']));
    await mine.append(request(['s-3']));
    // Positions start+1..start+3 are all this process's.
    expect(recent.read(start, 10)?.map((e) => e.position)).toEqual([start + 1n, start + 2n, start + 3n]);
    expect(await source.readAll({ after: start, limit: 10 })).toEqual(await mine.readAll({ after: start, limit: 10 }));
    expect(await source.readAll({ after: start + 1n, limit: 1 })).toEqual(
      await mine.readAll({ after: start + 1n, limit: 1 }),
    );

    // Another process appends: this process's next append starts a new run, and the gap is read
    // from the store, never skipped.
    await other.append(request(['o-1']));
    await mine.append(request(['s-4', 's-5']));
    expect(recent.read(start, 10)).toBeUndefined();
    expect(recent.read(start + 3n, 10)).toBeUndefined();
    expect(recent.read(start + 4n, 10)?.map((e) => e.position)).toEqual([start + 5n, start + 6n]);
    const whole = await mine.readAll({ after: start, limit: 100 });
    expect(whole.map((e) => e.position)).toEqual([1n, 2n, 3n, 4n, 5n, 6n].map((n) => start + n));
    let after = start;
    const followed = [];
    for (;;) {
      const page = await source.readAll({ after, limit: 2 });
      if (page.length === 0) break;
      followed.push(...page);
      after = page.at(-1)!.position;
    }
    expect(followed).toEqual(whole);
    // Past the run's end the reader asks the store (which may have other processes' events).
    expect(recent.read(start + 6n, 10)).toBeUndefined();
  });

  it('keeps at most twice its capacity, cutting the oldest', async () => {
    const recent = new RecentEvents(2);
    const store = new PostgresEventStore(tdb.database.db, { recent });
    const start = await store.headPosition();
    for (let i = 0; i < 5; i++) await store.append(request([`c-${i}`]));
    expect(recent.size).toBeLessThanOrEqual(4);
    expect(recent.read(start, 10)).toBeUndefined();
    const kept = recent.read(start + 5n - BigInt(recent.size), 10)!;
    expect(kept.map((e) => e.position).at(-1)).toBe(start + 5n);
    expect(kept).toEqual(await store.readAll({ after: start + 5n - BigInt(recent.size), limit: 10 }));
  });
});
