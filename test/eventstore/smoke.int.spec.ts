import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresEventStore } from '../../src/eventstore/postgres-event-store';
import { WrongExpectedRevisionError, expect as rev } from '../../src/eventstore/port';
import { createTestDatabase, type TestDatabase } from '../support/database';

describe('PostgreSQL event store (smoke)', () => {
  let tdb: TestDatabase;
  let store: PostgresEventStore;
  beforeAll(async () => {
    tdb = await createTestDatabase();
    store = new PostgresEventStore(tdb.database.db);
  });
  afterAll(() => tdb.drop());

  const ev = (streamId: string, alsoIn?: string[]) => ({
    eventId: randomUUID(),
    streamId,
    type: 'Thing',
    data: { n: '1' },
    metadata: { correlationId: 'c', causationId: 'c' },
    ...(alsoIn ? { alsoIn } : {}),
  });

  it('appends, links, reads back, and refuses a stale revision', async () => {
    const now = new Date().toISOString();
    const first = await store.append({ events: [ev('a-1'), ev('a-2')], expected: new Map([['a-1', rev.noStream]]), recordedAt: now });
    expect(first.position).toBe(2n);
    const second = await store.append({ events: [ev('t-1', ['a-1', 'a-2'])], expected: new Map([['a-1', rev.at(0n)]]), recordedAt: now });
    expect(second.revisions.get('a-1')).toBe(1n);
    const slice = await store.readStream('a-1');
    expect(slice.events.map((e) => e.position)).toEqual([1n, 3n]);
    expect(slice.revision).toBe(1n);
    await expect(
      store.append({ events: [ev('a-1')], expected: new Map([['a-1', rev.at(0n)]]), recordedAt: now }),
    ).rejects.toBeInstanceOf(WrongExpectedRevisionError);
    const all = await store.readAll({ after: 0n, limit: 10 });
    expect(all.map((e) => e.position)).toEqual([1n, 2n, 3n]);
    expect(all[1]!.prevHash).toBe(all[0]!.hash);
    expect(await store.headPosition()).toBe(3n);
  });
});
