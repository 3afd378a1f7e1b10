/**
 * Tamper evidence (ADR 0006). The events table refuses UPDATE and DELETE by trigger (guarantee 5);
 * these tests switch the triggers off, as someone with the database's owner rights could, and
 * check that GET /v1/audit/verify names the event that was touched.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app';
import { eventOf, seedLedger } from './audit-helpers';

async function tamper(t: TestApp, statements: string[]): Promise<void> {
  await t.tdb.query('alter table events disable trigger events_immutable');
  await t.tdb.query('alter table stream_links disable trigger stream_links_immutable');
  for (const statement of statements) await t.tdb.query(statement);
}

describe('GET /v1/audit/verify names the first broken link', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  async function seeded() {
    t = await startTestApp();
    const seed = await seedLedger(t, 'v');
    const intact = await t.request('GET', '/v1/audit/verify');
    expect(intact.status, intact.text).toBe(200);
    expect(intact.body).toMatchObject({
      intact: true,
      firstBroken: null,
      breaks: [],
      head: { position: seed.head },
      last: { position: seed.head },
    });
    expect(intact.body.eventsChecked).toBe(Number(seed.head));
    expect(intact.body.last.hash).toBe(intact.body.head.hash);
    return { t, seed };
  }

  it('one byte of one event changed', async () => {
    const { t, seed } = await seeded();
    const target = await eventOf(t, 'v-t1');
    // "amount":"500" -> "amount":"600": one byte.
    await tamper(t, [
      `update events set data = replace(data::text, '"amount":"500"', '"amount":"600"')::json where position = ${target.position}`,
    ]);
    const [row] = await t.tdb.query<{ data: string }>(
      `select data::text as data from events where position = ${target.position}`,
    );
    expect(row!.data).toContain('"amount":"600"');
    const response = await t.request('GET', '/v1/audit/verify');
    expect(response.body.intact).toBe(false);
    expect(response.body.firstBroken).toMatchObject({
      position: target.position,
      eventId: target.eventId,
      reason: 'content-changed',
    });
    expect(response.body.breaks).toHaveLength(1);
    expect(response.body.head.position).toBe(seed.head);
  });

  it('an event deleted (with its stream links)', async () => {
    const { t } = await seeded();
    const target = await eventOf(t, 'v-t2');
    await tamper(t, [
      `delete from stream_links where position = ${target.position}`,
      `delete from events where position = ${target.position}`,
    ]);
    const response = await t.request('GET', '/v1/audit/verify');
    expect(response.body.intact).toBe(false);
    expect(response.body.firstBroken).toMatchObject({ position: target.position, reason: 'missing-event' });
    expect(response.body.firstBroken.detail).toContain(`no event at position ${target.position}`);
  });

  it('the last event deleted: the log head no longer matches', async () => {
    const { t, seed } = await seeded();
    await tamper(t, [
      `delete from stream_links where position = ${seed.head}`,
      `delete from events where position = ${seed.head}`,
    ]);
    const response = await t.request('GET', '/v1/audit/verify');
    expect(response.body.intact).toBe(false);
    expect(response.body.firstBroken).toMatchObject({ position: seed.head, reason: 'missing-event' });
  });

  it('two events reordered', async () => {
    const { t } = await seeded();
    // The first two events (two accounts opened) swap places in the log.
    const [first, second] = await t.tdb.query<{ event_id: string }>(
      'select event_id::text as event_id from events where position in (1, 2) order by position',
    );
    await tamper(t, [
      'update events set position = case position when 1 then -2 else -1 end where position in (1, 2)',
      'update events set position = -position where position < 0',
    ]);
    const response = await t.request('GET', '/v1/audit/verify');
    expect(response.body.intact).toBe(false);
    expect(response.body.firstBroken).toMatchObject({ position: '1', eventId: second!.event_id });
    expect(
      response.body.breaks.map((b: { position: string; eventId: string }) => [b.position, b.eventId]),
    ).toContainEqual(['2', first!.event_id]);
  });

  it('refuses a query string', async () => {
    t = await startTestApp();
    const response = await t.request('GET', '/v1/audit/verify?from=3');
    expect(response.status).toBe(400);
  });
});
