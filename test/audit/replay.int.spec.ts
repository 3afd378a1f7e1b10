import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresEventStore } from '../../src/eventstore/postgres-event-store';
import { rebuildReadModels } from '../../src/projections/rebuild';
import { startTestApp, type TestApp } from '../support/app';
import {
  eventCount,
  expectProblem,
  expectRefusedUnchanged,
  expectValidation,
  logHead,
  postTransfer,
} from '../api/api-helpers';
import { seedLedger } from './audit-helpers';

describe('POST /v1/audit/replay: balances from the event store alone, compared with the read models', () => {
  let t: TestApp;
  let seeded: Awaited<ReturnType<typeof seedLedger>>;
  beforeAll(async () => {
    t = await startTestApp();
    seeded = await seedLedger(t, 'r');
  });
  afterAll(() => t.close());

  const replay = (body: unknown) => t.request('POST', '/v1/audit/replay', body);

  it('answers the contract shape, every account matching, every event replayed', async () => {
    const asOf = new Date(Date.now() + 60_000).toISOString();
    const response = await replay({ asOf });
    expect(response.status, response.text).toBe(200);
    expect(Object.keys(response.body).sort()).toEqual(['accounts', 'asOf', 'eventsReplayed', 'knownAt', 'mismatches']);
    expect(response.body.asOf).toBe(asOf);
    expect(response.body.knownAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(response.body.eventsReplayed).toBe(await eventCount(t));
    expect(response.body.mismatches).toBe(0);
    const { bank, alice, bob } = seeded.ids;
    expect(response.body.accounts).toEqual([
      {
        accountId: alice,
        currency: 'USD',
        balance: '389',
        debitsPosted: '120',
        creditsPosted: '509',
        readModelBalance: '389',
        matches: true,
      },
      {
        accountId: bank,
        currency: 'USD',
        balance: '584',
        debitsPosted: '584',
        creditsPosted: '0',
        readModelBalance: '584',
        matches: true,
      },
      {
        accountId: bob,
        currency: 'USD',
        balance: '195',
        debitsPosted: '0',
        creditsPosted: '195',
        readModelBalance: '195',
        matches: true,
      },
    ]);
  });

  it('a point in time as known then, and as known now, each equal to the balance query', async () => {
    const [t1, , , t4] = seeded.transfers;
    const asOf = t1.recordedAt; // after t1, before the correction t4 was recorded
    for (const knownAt of [t1.recordedAt, t4.recordedAt]) {
      const response = await replay({ asOf, knownAt, accountIds: [seeded.ids.alice] });
      expect(response.status, response.text).toBe(200);
      expect(response.body.accounts).toHaveLength(1);
      const balance = await t.request(
        'GET',
        `/v1/accounts/${seeded.ids.alice}/balance?asOf=${asOf}&knownAt=${knownAt}`,
      );
      const [account] = response.body.accounts;
      expect(account).toMatchObject({
        balance: balance.body.balance,
        debitsPosted: balance.body.debitsPosted,
        creditsPosted: balance.body.creditsPosted,
        matches: true,
      });
      expect(account.balance).toBe(knownAt === t1.recordedAt ? '500' : '509');
    }
  });

  it('leaves out accounts not yet known at knownAt', async () => {
    const response = await replay({ asOf: seeded.aliceOpenedAt, knownAt: '2000-01-01T00:00:00.000Z' });
    expect(response.status, response.text).toBe(200);
    expect(response.body.accounts.filter((a: { accountId: string }) => a.accountId.startsWith('r-'))).toEqual([]);
  });

  it.each([
    ['no asOf', {}, 'body.asOf'],
    ['asOf as a number', { asOf: 1_700_000_000_000 }, 'body.asOf'],
    ['a date that does not exist', { asOf: '2026-02-30T00:00:00.000Z' }, 'body.asOf'],
    ['an empty accountIds', { asOf: '2026-01-01T00:00:00.000Z', accountIds: [] }, 'body.accountIds'],
    ['a bad account id', { asOf: '2026-01-01T00:00:00.000Z', accountIds: ['no spaces'] }, 'body.accountIds'],
    ['an unknown field', { asOf: '2026-01-01T00:00:00.000Z', at: 'x' }, 'body'],
  ])('refuses %s with 400 validation, changing nothing', async (_, body, path) => {
    const response = await expectRefusedUnchanged(t, [seeded.ids.alice], () => replay(body), 400, 'validation');
    expectValidation(response, path);
  });

  it('names accounts it does not know with 404 account-not-found', async () => {
    const response = await replay({ asOf: new Date().toISOString(), accountIds: [seeded.ids.alice, 'never-opened'] });
    expectProblem(response, 404, 'account-not-found');
    expect(response.body.detail).toContain('never-opened');
  });

  it('reports a read-model row corrupted behind its back as a mismatch; a rebuild repairs it', async () => {
    const { alice, bob } = seeded.ids;
    await postTransfer(t, { id: 'r-t5', debitAccountId: seeded.ids.bank, creditAccountId: bob, amount: '1' });
    await t.request('GET', `/v1/accounts/${bob}?minPosition=${await logHead(t)}`);
    await t.tdb.query(`update rm_balance_known set credits_through = credits_through + 1000 where account_id = $1`, [
      alice,
    ]);
    const asOf = new Date(Date.now() + 60_000).toISOString();

    const broken = await replay({ asOf });
    expect(broken.status, broken.text).toBe(200);
    expect(broken.body.mismatches).toBe(1);
    const aliceRow = broken.body.accounts.find((a: { accountId: string }) => a.accountId === alice);
    expect(aliceRow).toMatchObject({ balance: '389', readModelBalance: '1389', matches: false });
    expect(
      broken.body.accounts
        .filter((a: { matches: boolean }) => !a.matches)
        .map((a: { accountId: string }) => a.accountId),
    ).toEqual([alice]);

    await rebuildReadModels(t.tdb.database.db, new PostgresEventStore(t.tdb.database.db), { batchSizeMax: 3 });
    const repaired = await replay({ asOf });
    expect(repaired.body.mismatches).toBe(0);
    expect(repaired.body.accounts.find((a: { accountId: string }) => a.accountId === alice)).toMatchObject({
      balance: '389',
      readModelBalance: '389',
      matches: true,
    });
  });
});
