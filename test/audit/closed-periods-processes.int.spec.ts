import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestDatabase, createTestDatabase, postgresAvailable } from '../support/database';
import { type ServiceProcess, http, startServiceProcess } from '../support/service-process';

/**
 * Closed periods across two service processes on one database (ADR 0033). Each process caches the
 * periods; a posting expects the periods stream at the revision it was decided on, so a close by
 * the other process makes the append fail, and the posting is decided again and refused.
 */
describe('closed periods with two service processes', () => {
  let available = false;
  let tdb: TestDatabase;
  let a: ServiceProcess;
  let b: ServiceProcess;
  const needsServer = (ctx: { skip: (why: string) => void }) => {
    if (!available) ctx.skip('needs a PostgreSQL server shared with the service processes');
  };

  beforeAll(async () => {
    available = await postgresAvailable();
    if (!available) return;
    tdb = await createTestDatabase();
    const env = { ...tdb.env, LEDGER_ROLES: 'api,projector' } as Record<string, string>;
    [a, b] = await Promise.all([startServiceProcess(env), startServiceProcess(env)]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await tdb?.drop();
  });

  const open = async (s: ServiceProcess, id: string) => {
    const response = await http('POST', `${s.url}/v1/accounts`, { id, currency: 'USD' });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body.openedAt as string;
  };
  const transfer = (s: ServiceProcess, id: string, effectiveAt?: string, extra: Record<string, unknown> = {}) =>
    http('POST', `${s.url}/v1/transfers`, {
      id,
      debitAccountId: 'pp-bank',
      creditAccountId: 'pp-alice',
      amount: '1',
      currency: 'USD',
      ...(effectiveAt ? { effectiveAt } : {}),
      ...extra,
    });

  it('postings racing the first close in the other process: none that counts in the period lands after it', async (ctx) => {
    needsServer(ctx);
    const openedAt = [await open(a, 'pp-x'), await open(a, 'pp-y')].sort().at(-1)!;
    const inPeriod = new Date(Date.parse(openedAt) + 2).toISOString();
    await sleep(30);
    const through = new Date(Date.now() - 5).toISOString();
    const post = (i: number) =>
      http('POST', `${b.url}/v1/transfers`, {
        id: `race-${i}`,
        debitAccountId: 'pp-x',
        creditAccountId: 'pp-y',
        amount: '1',
        currency: 'USD',
        effectiveAt: inPeriod,
      });
    const posts: Array<Promise<{ status: number; body: any }>> = [];
    for (let i = 0; i < 40; i++) posts.push(post(i));
    const close = http('POST', `${a.url}/v1/periods/close`, { through, reason: 'race' });
    for (let i = 40; i < 80; i++) posts.push(post(i));
    const [closed, ...answers] = await Promise.all([close, ...posts]);
    expect(closed.status, JSON.stringify(closed.body)).toBe(201);
    for (const answer of answers) {
      if (answer.status !== 201) expect(answer.body.type).toBe('/problems/period-closed');
    }
    const rows = await tdb.query<{ type: string; position: string; effective_at: string | null; stream_id: string }>(
      `select type, position::text, data->>'effectiveAt' as effective_at, stream_id from events
       where stream_id like 'transfer-race-%' or (stream_id = 'periods' and data->>'reason' = 'race') order by position`,
    );
    const closeAt = rows.findIndex((row) => row.type === 'PeriodClosed');
    expect(closeAt).toBeGreaterThanOrEqual(0);
    // Every posting in the log counts in the period, so every one is before the close.
    expect(rows.slice(closeAt + 1)).toEqual([]);
    expect(rows.slice(0, closeAt).every((row) => row.type === 'TransferPosted')).toBe(true);
    expect(answers.filter((r) => r.status === 201)).toHaveLength(closeAt);
    // After the race, nothing more lands in it.
    expect((await post(1000)).status).toBe(422);
  }, 60_000);
  it('a backdated posting decided by B right after A closed is refused; B then takes an adjustment', async (ctx) => {
    needsServer(ctx);
    const openedAt = [await open(a, 'pp-bank'), await open(a, 'pp-alice')].sort().at(-1)!;
    const inPeriod = new Date(Date.parse(openedAt) + 2).toISOString();
    // B posts (backdated, still open): its writer now caches the periods as they are, nothing closed.
    expect((await transfer(b, 'b-before', inPeriod)).status).toBe(201);
    await sleep(20);
    const through = new Date(Date.now() - 5).toISOString();
    const closed = await http('POST', `${a.url}/v1/periods/close`, { through, reason: 'month end' });
    expect(closed.status, JSON.stringify(closed.body)).toBe(201);

    const late = await transfer(b, 'b-after', inPeriod);
    expect(late.status, JSON.stringify(late.body)).toBe(422);
    expect(late.body.type).toBe('/problems/period-closed');
    expect(late.body.detail).toContain(through);
    // B answers the adjustment with the close A made; A approves it with another key.
    const requested = await transfer(b, 'b-adj', inPeriod, { adjustment: true });
    expect(requested.status, JSON.stringify(requested.body)).toBe(202);
    expect(requested.body.closedThrough).toBe(through);
    const self = await http('POST', `${a.url}/v1/adjustments/b-adj/approve`);
    expect(self.status).toBe(403);
    expect(self.body.type).toBe('/problems/self-approval');
    // B closes no earlier than A did: it reads A's close.
    const earlier = await http('POST', `${b.url}/v1/periods/close`, { through: inPeriod, reason: 'stale' });
    expect(earlier.status).toBe(422);
    expect(earlier.body.type).toBe('/problems/period-close-not-later');
    expect(await tdb.query("select 1 from events where stream_id = 'transfer-b-after'")).toEqual([]);
    const closes = await tdb.query<{ reason: string }>(
      "select data->>'reason' as reason from events where stream_id = 'periods' order by position",
    );
    expect(closes.map((c) => c.reason)).toEqual(['race', 'month end']);
  }, 60_000);
});
