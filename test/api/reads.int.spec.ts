import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app';
import { expectProblem, expectValidation, logHead, openAccount, postTransfer, snapshot, uid } from './api-helpers';

/** The not-caught-up cases run on their own app with a short wait; everything else on the default 5 s. */
const SHORT_WAIT_MS = 200;

describe('queries', () => {
  let t: TestApp;
  let short: TestApp;
  beforeAll(async () => {
    [t, short] = await Promise.all([
      startTestApp(),
      startTestApp({ LEDGER_MIN_POSITION_WAIT_MS: String(SHORT_WAIT_MS) }),
    ]);
  });
  afterAll(() => Promise.all([t.close(), short.close()]));

  async function pair() {
    const bank = uid('bank');
    const user = uid('user');
    await openAccount(t, { id: bank, normalSide: 'debit' });
    await openAccount(t, { id: user });
    return { bank, user };
  }

  describe('entries', () => {
    it('lists entries oldest first with a running balanceAfter, on both sides', async () => {
      const { bank, user } = await pair();
      const other = uid('other');
      await openAccount(t, { id: other });
      const t1 = await postTransfer(t, { id: uid('e'), debitAccountId: bank, creditAccountId: user, amount: '100' });
      const t2 = await postTransfer(t, { id: uid('e'), debitAccountId: user, creditAccountId: other, amount: '30' });
      const t3 = await postTransfer(t, { id: uid('e'), debitAccountId: bank, creditAccountId: user, amount: '5' });
      const t4 = await postTransfer(t, { id: uid('e'), debitAccountId: user, creditAccountId: other, amount: '80' });

      const response = await t.request('GET', `/v1/accounts/${user}/entries?minPosition=${t4.position}`);
      expect(response.status, response.text).toBe(200);
      expect(response.body).toEqual({
        items: [
          {
            transferId: t1.id,
            side: 'credit',
            amount: '100',
            balanceAfter: '100',
            effectiveAt: t1.effectiveAt,
            recordedAt: t1.recordedAt,
          },
          {
            transferId: t2.id,
            side: 'debit',
            amount: '30',
            balanceAfter: '70',
            effectiveAt: t2.effectiveAt,
            recordedAt: t2.recordedAt,
          },
          {
            transferId: t3.id,
            side: 'credit',
            amount: '5',
            balanceAfter: '75',
            effectiveAt: t3.effectiveAt,
            recordedAt: t3.recordedAt,
          },
          {
            transferId: t4.id,
            side: 'debit',
            amount: '80',
            balanceAfter: '-5',
            effectiveAt: t4.effectiveAt,
            recordedAt: t4.recordedAt,
          },
        ],
        nextCursor: null,
      });
      // A debit-normal account counts its balance the other way round.
      const bankEntries = await t.request('GET', `/v1/accounts/${bank}/entries?minPosition=${t4.position}`);
      expect(
        bankEntries.body.items.map((e: { side: string; balanceAfter: string }) => [e.side, e.balanceAfter]),
      ).toEqual([
        ['debit', '100'],
        ['debit', '105'],
      ]);
    });

    it('answers an account without entries with an empty page', async () => {
      const { user } = await pair();
      const response = await t.request('GET', `/v1/accounts/${user}/entries?minPosition=${await logHead(t)}`);
      expect(response.status, response.text).toBe(200);
      expect(response.body).toEqual({ items: [], nextCursor: null });
    });

    it('pages 25 entries by 10: 10, 10, 5, with nextCursor null on the last page', async () => {
      const { bank, user } = await pair();
      const posted = await t.request('POST', '/v1/transfers/batch', {
        transfers: Array.from({ length: 25 }, (_, i) => ({
          id: `${user}-p${String(i).padStart(2, '0')}`,
          debitAccountId: bank,
          creditAccountId: user,
          amount: String(i + 1),
          currency: 'USD',
        })),
      });
      expect(posted.status).toBe(200);
      const pages: any[] = [];
      let cursor: string | null = null;
      do {
        const url: string = `/v1/accounts/${user}/entries?limit=10&minPosition=${posted.body.position}${cursor ? `&cursor=${cursor}` : ''}`;
        const page = await t.request('GET', url);
        expect(page.status, page.text).toBe(200);
        pages.push(page.body);
        cursor = page.body.nextCursor;
        expect(pages.length).toBeLessThanOrEqual(3);
      } while (cursor !== null);
      expect(pages.map((p) => p.items.length)).toEqual([10, 10, 5]);
      expect(typeof pages[0].nextCursor).toBe('string');
      expect(typeof pages[1].nextCursor).toBe('string');
      expect(pages[2].nextCursor).toBeNull();
      const items = pages.flatMap((p) => p.items);
      expect(items.map((e: { transferId: string }) => e.transferId)).toEqual(
        Array.from({ length: 25 }, (_, i) => `${user}-p${String(i).padStart(2, '0')}`),
      );
      let running = 0n;
      items.forEach((e: { amount: string; balanceAfter: string }, i: number) => {
        expect(e.amount).toBe(String(i + 1));
        running += BigInt(e.amount);
        expect(e.balanceAfter).toBe(running.toString());
      });
      // The default page (100) holds all of them.
      const all = await t.request('GET', `/v1/accounts/${user}/entries?minPosition=${posted.body.position}`);
      expect(all.body.items).toEqual(items);
      expect(all.body.nextCursor).toBeNull();
    });

    it('says nextCursor null when the last page is exactly full', async () => {
      const { bank, user } = await pair();
      for (let i = 0; i < 4; i++)
        await postTransfer(t, { id: uid('x'), debitAccountId: bank, creditAccountId: user, amount: '1' });
      const first = await t.request('GET', `/v1/accounts/${user}/entries?limit=2&minPosition=${await logHead(t)}`);
      expect(first.body.items).toHaveLength(2);
      expect(first.body.nextCursor).toEqual(expect.any(String));
      const second = await t.request('GET', `/v1/accounts/${user}/entries?limit=2&cursor=${first.body.nextCursor}`);
      expect(second.body.items).toHaveLength(2);
      expect(second.body.nextCursor).toBeNull();
      const exact = await t.request('GET', `/v1/accounts/${user}/entries?limit=4`);
      expect(exact.body.items).toHaveLength(4);
      expect(exact.body.nextCursor).toBeNull();
    });
  });

  describe('read-your-writes', () => {
    it('answers when minPosition is the head', async () => {
      const { user } = await pair();
      const head = await logHead(t);
      const response = await t.request('GET', `/v1/accounts/${user}?minPosition=${head}`);
      expect(response.status).toBe(200);
      expect(BigInt(response.body.position)).toBeLessThanOrEqual(BigInt(head));
    });

    it.each(['/v1/accounts/%s', '/v1/accounts/%s/balance', '/v1/accounts/%s/entries', '/v1/transfers/%t'])(
      'GET %s with minPosition beyond the head: 503 not-caught-up after the wait, with Retry-After',
      async (route) => {
        const bank = uid('bank');
        const user = uid('user');
        await openAccount(short, { id: bank, normalSide: 'debit' });
        await openAccount(short, { id: user });
        const posted = await postTransfer(short, {
          id: uid('ryw'),
          debitAccountId: bank,
          creditAccountId: user,
          amount: '1',
        });
        const beyond = (BigInt(await logHead(short)) + 1000n).toString();
        const before = await snapshot(short, [user]);
        const started = Date.now();
        const url = route.replace('%s', user).replace('%t', posted.id);
        const response = await short.request('GET', `${url}?minPosition=${beyond}`);
        expectProblem(response, 503, 'not-caught-up');
        expect(response.headers['retry-after']).toMatch(/^[0-9]+$/);
        expect(response.body.detail).toContain(beyond);
        // It waited for the projector before giving up (a lower bound only: no timing ceilings in tests).
        expect(Date.now() - started).toBeGreaterThanOrEqual(SHORT_WAIT_MS - 20);
        expect(await snapshot(short, [user])).toEqual(before);
      },
    );
  });

  describe('transfers', () => {
    it('GET of an unknown transfer is 404 transfer-not-found', async () => {
      const response = await t.request('GET', '/v1/transfers/never-posted');
      expectProblem(response, 404, 'transfer-not-found');
      expect(response.body.detail).toContain('never-posted');
    });
  });

  describe('balance', () => {
    it('answers exactly the contract fields', async () => {
      const { bank, user } = await pair();
      const posted = await postTransfer(t, {
        id: uid('b'),
        debitAccountId: bank,
        creditAccountId: user,
        amount: '250',
      });
      const response = await t.request('GET', `/v1/accounts/${user}/balance?minPosition=${posted.position}`);
      expect(response.status, response.text).toBe(200);
      expect(Object.keys(response.body).sort()).toEqual(
        [
          'accountId',
          'asOf',
          'available',
          'balance',
          'creditsPending',
          'creditsPosted',
          'currency',
          'debitsPending',
          'debitsPosted',
          'knownAt',
        ].sort(),
      );
      expect(response.body).toMatchObject({
        accountId: user,
        currency: 'USD',
        debitsPosted: '0',
        creditsPosted: '250',
        balance: '250',
      });
      expect(response.body.asOf).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      expect(response.body.knownAt).toBe(response.body.asOf);
      expect(response.body.asOf >= posted.recordedAt).toBe(true);
      const bankBalance = await t.request('GET', `/v1/accounts/${bank}/balance?minPosition=${posted.position}`);
      expect(bankBalance.body).toMatchObject({ debitsPosted: '250', creditsPosted: '0', balance: '250' });
    });

    it('echoes asOf and knownAt, and counts only postings effective by asOf and recorded by knownAt', async () => {
      const { bank, user } = await pair();
      await new Promise((r) => setTimeout(r, 20));
      const first = await postTransfer(t, { id: uid('b'), debitAccountId: bank, creditAccountId: user, amount: '100' });
      await new Promise((r) => setTimeout(r, 20));
      const middle = new Date(Date.parse(first.recordedAt) + 10).toISOString();
      await new Promise((r) => setTimeout(r, 20));
      // Backdated to before `middle`, but recorded after it.
      const opened = (await t.request('GET', `/v1/accounts/${user}?minPosition=${first.position}`)).body
        .openedAt as string;
      const backdated = await postTransfer(t, {
        id: uid('b'),
        debitAccountId: bank,
        creditAccountId: user,
        amount: '7',
        effectiveAt: opened,
      });
      expect(backdated.recordedAt > middle).toBe(true);

      const at = async (query: string) => {
        const response = await t.request(
          'GET',
          `/v1/accounts/${user}/balance?${query}&minPosition=${backdated.position}`,
        );
        expect(response.status, response.text).toBe(200);
        return response.body;
      };
      const asKnownThen = await at(`asOf=${middle}&knownAt=${middle}`);
      expect(asKnownThen).toMatchObject({ asOf: middle, knownAt: middle, creditsPosted: '100', balance: '100' });
      const asKnownNow = await at(`asOf=${middle}`);
      expect(asKnownNow).toMatchObject({ asOf: middle, creditsPosted: '107', balance: '107' });
      const beforeFirst = await at(`asOf=${new Date(Date.parse(first.effectiveAt) - 1).toISOString()}`);
      expect(beforeFirst).toMatchObject({ creditsPosted: '7', balance: '7' });
      const atOpening = await at(`asOf=${opened}&knownAt=${middle}`);
      expect(atOpening).toMatchObject({ creditsPosted: '0', balance: '0' });
      const longAgo = await at('asOf=2000-01-01T00:00:00.000Z');
      expect(longAgo).toMatchObject({
        asOf: '2000-01-01T00:00:00.000Z',
        debitsPosted: '0',
        creditsPosted: '0',
        balance: '0',
      });
    });

    it('refuses unknown query parameters and bad timestamps', async () => {
      const { user } = await pair();
      expectValidation(
        await t.request('GET', `/v1/accounts/${user}/balance?asOf=2026-13-01T00:00:00.000Z`),
        'query.asOf',
      );
      expectValidation(await t.request('GET', `/v1/accounts/${user}/balance?currency=USD`), 'query');
    });
  });
});
