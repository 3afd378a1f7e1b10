import { CompiledQuery } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReadLists } from '../../src/projections/lists';
import { startTestApp, type TestApp } from '../support/app';
import { expectRefusedUnchanged, expectValidation, logHead, openAccount, postTransfer, uid } from './api-helpers';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every page of a list, following nextCursor; checks each page holds at most `limit` items. */
async function walk(t: TestApp, path: string, limit: number): Promise<any[]> {
  const items: any[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 100; pages++) {
    const sep = path.includes('?') ? '&' : '?';
    const response = await t.request('GET', `${path}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
    expect(response.status, response.text).toBe(200);
    expect(response.body.items.length).toBeLessThanOrEqual(limit);
    items.push(...response.body.items);
    cursor = response.body.nextCursor;
    if (cursor === null) return items;
    expect(response.body.items.length).toBe(limit);
  }
  throw new Error('more than 100 pages');
}

describe('lists and balance history', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  describe('GET /v1/accounts', () => {
    it('pages every account oldest first, and filters by currency, status, code and metadata', async () => {
      const suite = uid('suite');
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const id = uid('la');
        ids.push(id);
        await openAccount(t, {
          id,
          currency: i === 4 ? 'EUR' : 'USD',
          code: i % 2 === 0 ? 'even' : 'odd',
          metadata: { suite, n: String(i) },
        });
      }
      const freeze = await t.request('POST', `/v1/accounts/${ids[1]}/freeze`, { reason: 'test' });
      expect(freeze.status, freeze.text).toBe(200);
      const head = await logHead(t);
      const base = `/v1/accounts?metadata.suite=${suite}&minPosition=${head}`;

      const all = await walk(t, base, 2);
      expect(all.map((a) => a.id)).toEqual(ids);
      expect(all[1]).toMatchObject({ status: 'frozen', code: 'odd', metadata: { suite, n: '1' }, balance: '0' });
      expect((await walk(t, `${base}&currency=EUR`, 10)).map((a) => a.id)).toEqual([ids[4]]);
      expect((await walk(t, `${base}&status=frozen`, 10)).map((a) => a.id)).toEqual([ids[1]]);
      expect((await walk(t, `${base}&code=even`, 1)).map((a) => a.id)).toEqual([ids[0], ids[2], ids[4]]);
      expect((await walk(t, `${base}&code=even&currency=USD&metadata.n=2`, 10)).map((a) => a.id)).toEqual([ids[2]]);
      expect(await walk(t, `${base}&metadata.n=9`, 10)).toEqual([]);
      // Each item is the same Account as GET /v1/accounts/{id}.
      const one = await t.request('GET', `/v1/accounts/${ids[3]}`);
      expect(all[3]).toEqual(one.body);
    });
  });

  describe('GET /v1/transfers', () => {
    it("pages an account's transfers on both sides oldest first, with from/to on recordedAt and metadata", async () => {
      const a = uid('ta');
      const b = uid('tb');
      const c = uid('tc');
      for (const id of [a, b, c]) await openAccount(t, { id });
      const posted: any[] = [];
      for (let i = 0; i < 7; i++) {
        // a is debited, then credited, alternately: its page merges both index scans.
        const [debit, credit] = i % 2 === 0 ? [a, b] : [c, a];
        posted.push(
          await postTransfer(t, {
            id: uid('tx'),
            debitAccountId: debit,
            creditAccountId: credit,
            amount: String(10 + i),
            metadata: { batch: i < 4 ? 'first' : 'second' },
          }),
        );
        await sleep(2);
      }
      await postTransfer(t, { id: uid('tx'), debitAccountId: b, creditAccountId: c, amount: '1' });
      const head = await logHead(t);
      const forA = await walk(t, `/v1/transfers?accountId=${a}&minPosition=${head}`, 3);
      expect(forA.map((x) => x.id)).toEqual(posted.map((x) => x.id));
      expect(forA[0]).toEqual((await t.request('GET', `/v1/transfers/${posted[0].id}`)).body);

      const second = await walk(t, `/v1/transfers?accountId=${a}&metadata.batch=second`, 2);
      expect(second.map((x) => x.id)).toEqual(posted.slice(4).map((x) => x.id));

      const from = posted[2].recordedAt;
      const to = posted[5].recordedAt;
      const window = await walk(t, `/v1/transfers?accountId=${a}&from=${from}&to=${to}`, 2);
      expect(window.map((x) => x.id)).toEqual(posted.slice(2, 6).map((x) => x.id));

      const everything = await walk(t, `/v1/transfers?minPosition=${head}`, 4);
      const times = everything.map((x) => `${x.recordedAt} ${x.id}`);
      expect(times).toEqual([...times].sort());
      expect(everything.length).toBeGreaterThanOrEqual(8);
      expect(await walk(t, `/v1/transfers?accountId=${uid('nobody')}`, 5)).toEqual([]);
      expect(await walk(t, `/v1/transfers?status=pending&accountId=${a}`, 5)).toEqual([]);
    });
  });

  describe('GET /v1/transfers/{id}/events', () => {
    it("answers the transfer's recorded events with their hash-chain links; unknown: 404", async () => {
      const a = uid('ea');
      const b = uid('eb');
      await openAccount(t, { id: a });
      await openAccount(t, { id: b });
      const posted = await postTransfer(t, { id: uid('et'), debitAccountId: a, creditAccountId: b, amount: '9' });
      const response = await t.request('GET', `/v1/transfers/${posted.id}/events`);
      expect(response.status, response.text).toBe(200);
      expect(response.body.nextCursor).toBeNull();
      expect(response.body.items).toHaveLength(1);
      const [event] = response.body.items;
      expect(event).toMatchObject({ type: 'TransferPosted', position: posted.position, recordedAt: posted.recordedAt });
      expect(event.data).toMatchObject({ transferId: posted.id, amount: '9' });
      expect(event.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(event.prevHash).toMatch(/^[0-9a-f]{64}$/);
      const [row] = await t.tdb.query<{ hash: string }>(
        `select encode(hash, 'hex') as hash from events where position = ${posted.position}`,
      );
      expect(event.hash).toBe(row!.hash);
      const missing = await t.request('GET', `/v1/transfers/${uid('none')}/events`);
      expect(missing.status).toBe(404);
      expect(missing.body.type).toMatch(/transfer-not-found$/);
      expectValidation(await t.request('GET', `/v1/transfers/${posted.id}/events?limit=1001`), 'query.limit');
      expectValidation(await t.request('GET', `/v1/transfers/${posted.id}/events?cursor=zz`), 'query.cursor');
    });
  });

  describe('bad list queries: 400 validation, nothing changed', () => {
    const cases: Array<[string, string]> = [
      ['/v1/accounts?limit=0', 'query.limit'],
      ['/v1/accounts?limit=1001', 'query.limit'],
      ['/v1/accounts?limit=abc', 'query.limit'],
      ['/v1/accounts?limit=1.5', 'query.limit'],
      ['/v1/accounts?cursor=not-a-cursor', 'query.cursor'],
      ['/v1/accounts?cursor=%2F%2F', 'query.cursor'],
      ['/v1/accounts?currency=usd', 'query.currency'],
      ['/v1/accounts?status=sleeping', 'query.status'],
      ['/v1/accounts?sort=id', 'query'],
      ['/v1/accounts?metadata.=x', 'query.metadata'],
      ['/v1/accounts?metadata.a=1&metadata.a=2', 'query.metadata.a'],
      ['/v1/transfers?limit=1001', 'query.limit'],
      ['/v1/transfers?from=2026-01-02T00:00:00.000Z&to=2026-01-01T00:00:00.000Z', 'query.from'],
      ['/v1/transfers?from=yesterday', 'query.from'],
      ['/v1/transfers?status=gone', 'query.status'],
      ['/v1/transfers?accountId=a%2Fb', 'query.accountId'],
      ['/v1/accounts/x/balance-history?points=1', 'query.points'],
      ['/v1/accounts/x/balance-history?points=1001', 'query.points'],
      ['/v1/accounts/x/balance-history?from=2026-01-02T00:00:00.000Z&to=2026-01-01T00:00:00.000Z', 'query.from'],
      ['/v1/accounts/x/balance-history?knownAt=2026-02-30T00:00:00.000Z', 'query.knownAt'],
    ];
    for (const [url, path] of cases) {
      it(`${url} names ${path}`, async () => {
        const response = await expectRefusedUnchanged(t, [], () => t.request('GET', url), 400, 'validation');
        expectValidation(response, path);
      });
    }

    it('refuses an accounts cursor on the transfers list, and the other way round', async () => {
      for (let i = 0; i < 2; i++) await openAccount(t, { id: uid('cur') });
      const accounts = await t.request('GET', '/v1/accounts?limit=1');
      const cursor = accounts.body.nextCursor as string;
      expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
      expectValidation(await t.request('GET', `/v1/transfers?cursor=${cursor}`), 'query.cursor');
      expect((await t.request('GET', `/v1/accounts?cursor=${cursor}`)).status).toBe(200);
    });
  });

  describe('GET /v1/accounts/{id}/balance-history', () => {
    it('answers each evenly spaced instant with the as-of balance, and a restatement when known later', async () => {
      const bank = uid('hb');
      const user = uid('hu');
      await openAccount(t, { id: bank, normalSide: 'debit' });
      const opened = await openAccount(t, { id: user });
      await sleep(5);
      const t1 = await postTransfer(t, { id: uid('h'), debitAccountId: bank, creditAccountId: user, amount: '100' });
      await sleep(5);
      const t2 = await postTransfer(t, { id: uid('h'), debitAccountId: user, creditAccountId: bank, amount: '30' });
      await sleep(5);
      const reported = new Date().toISOString();
      await sleep(5);
      // Recorded after `reported`, effective back when the account opened: a restatement.
      const late = await postTransfer(t, {
        id: uid('h'),
        debitAccountId: bank,
        creditAccountId: user,
        amount: '7',
        effectiveAt: opened.openedAt,
      });
      const from = opened.openedAt;
      const to = new Date(Date.parse(t2.recordedAt) + 3).toISOString();
      const points = 7;
      const fromMs = Date.parse(from);
      const span = Date.parse(to) - fromMs;
      const expectedAt = Array.from({ length: points }, (_, i) =>
        new Date(fromMs + Math.floor((i * span) / (points - 1))).toISOString(),
      );

      for (const knownAt of [reported, undefined]) {
        const query = `from=${from}&to=${to}&points=${points}${knownAt ? `&knownAt=${knownAt}` : ''}`;
        const response = await t.request(
          'GET',
          `/v1/accounts/${user}/balance-history?${query}&minPosition=${late.position}`,
        );
        expect(response.status, response.text).toBe(200);
        expect(response.body).toMatchObject({ accountId: user, currency: 'USD', from, to });
        expect(response.body.points.map((p: any) => p.at)).toEqual(expectedAt);
        for (const point of response.body.points) {
          const balance = await t.request(
            'GET',
            `/v1/accounts/${user}/balance?asOf=${point.at}&knownAt=${response.body.knownAt}`,
          );
          expect(point, point.at).toEqual({
            at: point.at,
            balance: balance.body.balance,
            debitsPosted: balance.body.debitsPosted,
            creditsPosted: balance.body.creditsPosted,
          });
        }
        const last = response.body.points.at(-1);
        // As reported: 100 − 30; as known now: the late 7 too, from the very first instant on.
        expect(last.balance).toBe(knownAt ? '70' : '77');
        expect(response.body.points[0].balance).toBe(knownAt ? '0' : '7');
      }
      expect(t1.recordedAt < reported).toBe(true);
    });

    it('defaults: from the opening to now, 100 points; an unknown account is 404', async () => {
      const id = uid('hd');
      const opened = await openAccount(t, { id });
      const response = await t.request('GET', `/v1/accounts/${id}/balance-history?minPosition=${opened.position}`);
      expect(response.status, response.text).toBe(200);
      expect(response.body.points).toHaveLength(100);
      expect(response.body.from).toBe(opened.openedAt);
      expect(response.body.points[0].at).toBe(opened.openedAt);
      expect(response.body.points.at(-1).at).toBe(response.body.to);
      const missing = await t.request('GET', `/v1/accounts/${uid('none')}/balance-history`);
      expect(missing.status).toBe(404);
      expect(missing.body.type).toMatch(/account-not-found$/);
    });
  });

  describe('a page costs the same at any size (keyset indexes, migrations/0060)', () => {
    it('EXPLAIN: a page of 100 reads about 100 rows of a 20,000-row table, through its index', async () => {
      if (t.ledger.database.kind !== 'postgres') return; // PGlite: same SQL, no planner statistics to show
      const db = t.ledger.database.db;
      await t.tdb.query(`
        insert into rm_transfers (id, debit_account_id, credit_account_id, amount, currency, status, metadata,
                                  effective_at, recorded_at, position)
        select 'bulk-' || g, 'bulk-' || (g % 50), 'bulk-x' || (g % 7), 1, 'USD', 'posted',
               json_build_object('k', (g % 100)::text), now() - interval '1 day' + g * interval '1 ms',
               now() - interval '1 day' + g * interval '1 ms', 1000000 + g
        from generate_series(1, 20000) g`);
      await t.tdb.query(`
        insert into rm_accounts (id, currency, normal_side, flags, status, debits_posted, credits_posted,
                                 entry_count, version, opened_at, code, metadata, position)
        select 'bulk-' || g, case when g % 40 = 0 then 'EUR' else 'USD' end, 'credit', '{}', 'open', 0, 0, 0, 1,
               now() - interval '1 day' + g * interval '1 ms', 'c' || (g % 10), json_build_object('k', (g % 100)::text), g
        from generate_series(1, 20000) g`);
      await t.tdb.query('analyze rm_transfers');
      await t.tdb.query('analyze rm_accounts');
      const lists = new ReadLists(db);
      const explain = async (query: { compile(): CompiledQuery }) => {
        const compiled = query.compile();
        const result = await db.executeQuery<{ 'QUERY PLAN': unknown }>(
          CompiledQuery.raw(`explain (analyze, buffers, format json) ${compiled.sql}`, [...compiled.parameters]),
        );
        return JSON.stringify(result.rows[0]!['QUERY PLAN']);
      };
      // A cursor in the middle of the table: half of it lies after the cursor.
      const [middle] = await t.tdb.query<{ at: string }>(
        `select to_char(recorded_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as at from rm_transfers where id = 'bulk-10000'`,
      );
      const after = { at: middle!.at, id: 'bulk-10000' };
      const plans = {
        transfers: await explain(lists.transfersQuery({ metadata: {}, after, limit: 100 })),
        byAccount: await explain(lists.transfersQuery({ accountId: 'bulk-3', metadata: {}, after, limit: 100 })),
        accounts: await explain(lists.accountsQuery({ metadata: {}, after, limit: 100 })),
        byCurrency: await explain(lists.accountsQuery({ currency: 'EUR', metadata: {}, after, limit: 100 })),
      };
      expect(plans.transfers).toContain('rm_transfers_by_recorded');
      expect(plans.byAccount).toContain('rm_transfers_by_debit');
      expect(plans.byAccount).toContain('rm_transfers_by_credit');
      expect(plans.accounts).toContain('rm_accounts_by_opened');
      expect(plans.byCurrency).toContain('rm_accounts_by_currency');
      for (const [name, plan] of Object.entries(plans)) {
        expect(plan, name).not.toContain('"Node Type":"Seq Scan"');
        // No node reads more than two pages' worth of rows, whatever the table's size.
        const rows = [...plan.matchAll(/"Actual Rows":(\d+)/g)].map((m) => Number(m[1]));
        expect(Math.max(...rows), name).toBeLessThanOrEqual(202);
        expect(Math.max(...rows), name).toBeGreaterThanOrEqual(100);
        const removed = [...plan.matchAll(/"Rows Removed by Filter":(\d+)/g)].map((m) => Number(m[1]));
        expect(Math.max(0, ...removed), name).toBeLessThanOrEqual(202);
      }
    });
  });
});
