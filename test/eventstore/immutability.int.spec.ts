import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresEventStore } from '../../src/eventstore/postgres-event-store';
import { createTestDatabase, type TestDatabase } from '../support/database';

/** Guarantee 5: the database itself refuses to change or remove history, whoever asks. */
describe('event store history is immutable in the database', () => {
  let tdb: TestDatabase;
  beforeAll(async () => {
    tdb = await createTestDatabase();
    const store = new PostgresEventStore(tdb.database.db);
    const [account, transfer] = [`account-${randomUUID()}`, `transfer-${randomUUID()}`];
    const metadata = { correlationId: randomUUID(), causationId: randomUUID() };
    await store.append({
      events: [
        { eventId: randomUUID(), streamId: account, type: 'AccountOpened', data: { accountId: account }, metadata },
      ],
      expected: new Map(),
      recordedAt: new Date().toISOString(),
    });
    await store.append({
      events: [
        {
          eventId: randomUUID(),
          streamId: transfer,
          type: 'TransferPosted',
          data: { amount: '1050' },
          metadata,
          alsoIn: [account],
        },
      ],
      expected: new Map(),
      recordedAt: new Date().toISOString(),
    });
  });
  afterAll(() => tdb.drop());

  const history = async () => ({
    events: await tdb.query('select * from events order by position'),
    links: await tdb.query('select * from stream_links order by stream_id, revision'),
  });

  it('has history to protect', async () => {
    const { events, links } = await history();
    expect(events).toHaveLength(2);
    expect(links).toHaveLength(1);
  });

  const attempts: Array<[string, string]> = [
    ['UPDATE events', `update events set type = 'Tampered'`],
    ['UPDATE events (one event, the hash only)', `update events set hash = prev_hash where position = 2`],
    ['DELETE FROM events', 'delete from events'],
    ['DELETE one event', 'delete from events where position = 2'],
    ['TRUNCATE events (with its links)', 'truncate events cascade'],
    ['UPDATE stream_links', 'update stream_links set revision = revision + 10'],
    ['DELETE FROM stream_links', 'delete from stream_links'],
    ['TRUNCATE stream_links', 'truncate stream_links'],
    ['TRUNCATE both', 'truncate stream_links, events'],
  ];

  it.each(attempts)('refuses %s and leaves every row as it was', async (_, statement) => {
    const before = await history();
    // The trigger's own refusal, not some other error (a foreign key, a typo) that happens to fail too.
    await expect(tdb.query(statement)).rejects.toMatchObject({
      code: '42501',
      message: expect.stringMatching(
        /ledger history is immutable: (UPDATE|DELETE|TRUNCATE) on (events|stream_links) refused/,
      ),
    });
    expect(await history()).toEqual(before);
  });

  it('still takes new events (only changes to old ones are refused)', async () => {
    const before = await history();
    await new PostgresEventStore(tdb.database.db).append({
      events: [
        {
          eventId: randomUUID(),
          streamId: `s-${randomUUID()}`,
          type: 'Later',
          data: {},
          metadata: { correlationId: 'c', causationId: 'c' },
        },
      ],
      expected: new Map(),
      recordedAt: new Date().toISOString(),
    });
    const after = await history();
    expect(after.events.slice(0, before.events.length)).toEqual(before.events);
    expect(after.events).toHaveLength(before.events.length + 1);
  });
});
