import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PostgresEventStore } from '../../src/eventstore/postgres-event-store';
import type { RecordedEvent } from '../../src/eventstore/port';
import { type TestApp, startTestApp } from '../support/app';
import { type TestDatabase, createTestDatabase, postgresAvailable } from '../support/database';
import { type ServiceProcess, http, startServiceProcess } from '../support/service-process';

/**
 * The rules of holds and reversals under concurrency, on the real PostgreSQL (ADR 0019, 0020):
 * each test fails without the rule it names (holds counted by the bound, a hold's stream revision,
 * an original's stream revision, the expiry as a command through the writer).
 */
async function eventsOf(store: PostgresEventStore): Promise<RecordedEvent[]> {
  const all: RecordedEvent[] = [];
  for (let after = 0n; ; ) {
    const page = await store.readAll({ after, limit: 5000 });
    if (page.length === 0) return all;
    all.push(...page);
    after = page.at(-1)!.position;
  }
}

describe('holds and reversals under concurrency, one process', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
    for (const body of [
      { id: 'bank', currency: 'USD', normalSide: 'debit' },
      { id: 'card', currency: 'USD', flags: { debitsMustNotExceedCredits: true } },
      { id: 'shop', currency: 'USD' },
    ]) {
      expect((await t.request('POST', '/v1/accounts', body)).status).toBe(201);
    }
  });
  afterAll(() => t.close());

  const send = (method: string, url: string, body: unknown) => t.request(method, url, body);

  it('300 concurrent holds on an account funded for 100: exactly 100 are held', async () => {
    await send('POST', '/v1/transfers', {
      id: 'fund-card',
      debitAccountId: 'bank',
      creditAccountId: 'card',
      amount: '100',
      currency: 'USD',
    });
    const answers = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        send('POST', '/v1/transfers', {
          id: `hold-${i}`,
          debitAccountId: 'card',
          creditAccountId: 'shop',
          amount: '1',
          currency: 'USD',
          pending: true,
        }),
      ),
    );
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(100);
    expect(statuses.filter((s) => s === 422)).toHaveLength(200);
    const head = answers.reduce(
      (max, a) => (a.body.position && BigInt(a.body.position) > max ? BigInt(a.body.position) : max),
      0n,
    );
    const card = await t.request('GET', `/v1/accounts/card?minPosition=${head}`);
    expect(card.body).toMatchObject({ debitsPending: '100', debitsPosted: '0', available: '0' });
  });

  it('50 concurrent partial posts of one hold never post more than it holds', async () => {
    await send('POST', '/v1/transfers', {
      id: 'fund-2',
      debitAccountId: 'bank',
      creditAccountId: 'shop',
      amount: '1',
      currency: 'USD',
    });
    const hold = await send('POST', '/v1/transfers', {
      id: 'big-hold',
      debitAccountId: 'bank',
      creditAccountId: 'shop',
      amount: '100',
      currency: 'USD',
      pending: true,
    });
    expect(hold.status, hold.text).toBe(201);
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        send('POST', '/v1/transfers/big-hold/post', { id: `cap-${i}`, amount: '3', final: false }),
      ),
    );
    const ok = answers.filter((a) => a.status === 200);
    expect(ok).toHaveLength(33);
    expect(answers.filter((a) => a.status === 422).every((a) => /exceeds-pending/.test(a.body.type))).toBe(true);
    const head = ok.reduce((max, a) => (BigInt(a.body.position) > max ? BigInt(a.body.position) : max), 0n);
    const read = await t.request('GET', `/v1/transfers/big-hold?minPosition=${head}`);
    expect(read.body).toMatchObject({ postedAmount: '99', pendingAmount: '1', status: 'pending' });
  });

  it('20 concurrent reversals of one transfer never reverse more than it posted', async () => {
    await send('POST', '/v1/transfers', {
      id: 'sale',
      debitAccountId: 'bank',
      creditAccountId: 'shop',
      amount: '100',
      currency: 'USD',
    });
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        send('POST', '/v1/transfers/sale/reverse', { id: `refund-${i}`, amount: '7', reason: 'refund' }),
      ),
    );
    expect(answers.filter((a) => a.status === 201)).toHaveLength(14);
    expect(answers.filter((a) => a.status === 422).every((a) => /exceeds-reversible/.test(a.body.type))).toBe(true);
    const events = await eventsOf(t.ledger.store as PostgresEventStore);
    const reversed = events
      .filter((e) => e.type === 'TransferReversed' && (e.data as { reverses: string }).reverses === 'sale')
      .reduce((sum, e) => sum + BigInt((e.data as { amount: string }).amount), 0n);
    expect(reversed).toBe(98n);
  });
});

describe('expiry across two service processes on one database', () => {
  let tdb: TestDatabase;
  let a: ServiceProcess;
  let b: ServiceProcess;
  let onPostgres = false;

  beforeAll(async () => {
    onPostgres = await postgresAvailable();
    if (!onPostgres) return;
    tdb = await createTestDatabase();
    const env = { ...tdb.env, LEDGER_ROLES: 'api,projector' } as Record<string, string>;
    [a, b] = await Promise.all([startServiceProcess(env), startServiceProcess(env)]);
    await http('POST', `${a.url}/v1/accounts`, { id: 'bank', currency: 'USD', normalSide: 'debit' });
    await http('POST', `${a.url}/v1/accounts`, { id: 'shop', currency: 'USD' });
  }, 60_000);
  afterAll(async () => {
    await Promise.all([a?.kill(), b?.kill()]);
    await tdb?.drop();
  });
  // A failure here is usually an answer a process gave (a 500): its log says why.
  afterEach((ctx) => {
    if (ctx.task.result?.state !== 'fail') return;
    for (const [name, service] of [
      ['A', a],
      ['B', b],
    ] as const) {
      if (service) console.error(`--- log of process ${name} ---\n${service.output()}`);
    }
  });

  const skipWithout = (ctx: { skip: () => void }) => {
    if (!onPostgres) {
      console.warn('[tests] two-process expiry tests need a PostgreSQL server (PGlite is one process): skipped');
      ctx.skip();
    }
  };

  const hold = (id: string, inMs: number) =>
    http('POST', `${a.url}/v1/transfers`, {
      id,
      debitAccountId: 'bank',
      creditAccountId: 'shop',
      amount: '50',
      currency: 'USD',
      pending: true,
      expiresAt: new Date(Date.now() + inMs).toISOString(),
    });

  const expectCreated = (holds: Array<{ status: number; body: any }>) =>
    expect(
      holds.map((h) => h.status),
      JSON.stringify(holds.find((h) => h.status !== 201)?.body),
    ).toEqual(holds.map(() => 201));
  const lastExpiry = (holds: Array<{ body: { expiresAt: string } }>) =>
    Math.max(...holds.map((h) => Date.parse(h.body.expiresAt)));
  const untilAfter = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms - Date.now())));

  const outcomesOf = async (holdId: string) => {
    const store = new PostgresEventStore(tdb.database.db);
    const slice = await store.readStream(`transfer-${holdId}`);
    return slice.events.map((e) => ({ type: e.type, recordedAt: e.recordedAt, data: e.data }));
  };

  it('releases a hold within 2 s of its expiresAt, exactly once, with two processes proposing it', async (ctx) => {
    skipWithout(ctx);
    // expiresAt leaves the request time to arrive on a loaded machine (it must be after now there).
    const holds = await Promise.all(Array.from({ length: 10 }, (_, i) => hold(`exp-${i}`, 1_500)));
    expectCreated(holds);
    // The contract's 2 s after the last expiresAt, and a little for the last append to land.
    await untilAfter(lastExpiry(holds) + 2_200);
    for (let i = 0; i < 10; i++) {
      const events = await outcomesOf(`exp-${i}`);
      const expiries = events.filter((e) => e.type === 'PendingTransferExpired');
      expect(expiries, `exp-${i}`).toHaveLength(1);
      const { expiresAt } = expiries[0]!.data as { expiresAt: string };
      const lateMs = Date.parse(expiries[0]!.recordedAt) - Date.parse(expiresAt);
      expect(lateMs, `exp-${i} released ${lateMs} ms after expiresAt`).toBeGreaterThanOrEqual(0);
      expect(lateMs).toBeLessThan(2_000);
    }
    const shop = await http('GET', `${b.url}/v1/accounts/shop?minPosition=${holds.at(-1)!.body.position}`);
    expect(shop.body).toMatchObject({ creditsPending: '0', creditsPosted: '0' });
  });

  it('an expiry racing posts from the other process leaves one outcome, and balances agree with it', async (ctx) => {
    skipWithout(ctx);
    const ids = Array.from({ length: 12 }, (_, i) => `race-${i}`);
    const holds = await Promise.all(ids.map((id) => hold(id, 1_500)));
    expectCreated(holds);
    // Posts sent through B around the holds' expiry, while both processes' expirers propose it.
    await untilAfter(lastExpiry(holds) - 100);
    const posts = await Promise.all(
      ids.map(async (id, i) => {
        await new Promise((r) => setTimeout(r, i * 20));
        return http('POST', `${b.url}/v1/transfers/${id}/post`, { id: `post-${id}` });
      }),
    );
    await new Promise((r) => setTimeout(r, 2_500));
    let posted = 0n;
    for (const [i, id] of ids.entries()) {
      const events = await outcomesOf(id);
      const settled = events.filter((e) => e.type === 'PendingTransferPosted' || e.type === 'PendingTransferExpired');
      expect(settled, id).toHaveLength(1);
      if (settled[0]!.type === 'PendingTransferPosted') {
        expect(posts[i]!.status, id).toBe(200);
        posted += 50n;
      } else {
        expect(posts[i]!.status, id).toBe(422);
      }
    }
    const store = new PostgresEventStore(tdb.database.db);
    const position = await store.headPosition();
    const shop = await http('GET', `${a.url}/v1/accounts/shop?minPosition=${position}`);
    expect(BigInt(shop.body.creditsPosted)).toBe(posted);
    expect(shop.body.creditsPending).toBe('0');
  });

  it('a crash between a hold and its expiry loses nothing: a restarted process releases it', async (ctx) => {
    skipWithout(ctx);
    await Promise.all([a.kill(), b.kill()]);
    const env = { ...tdb.env, LEDGER_ROLES: 'api,projector' } as Record<string, string>;
    a = await startServiceProcess(env);
    const made = await hold('crash-1', 1_500);
    expect(made.status).toBe(201);
    await a.kill();
    await new Promise((r) => setTimeout(r, 1_800));
    const nothingYet = await outcomesOf('crash-1');
    expect(nothingYet.map((e) => e.type)).toEqual(['TransferPending']);
    b = await startServiceProcess(env);
    a = b;
    await new Promise((r) => setTimeout(r, 2_000));
    const events = await outcomesOf('crash-1');
    expect(events.map((e) => e.type)).toEqual(['TransferPending', 'PendingTransferExpired']);
  }, 60_000);
});
