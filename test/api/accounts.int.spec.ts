import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app';
import {
  expectProblem,
  expectRefusedUnchanged,
  logHead,
  openAccount,
  postTransfer,
  readAccount,
  snapshot,
  uid,
} from './api-helpers';

describe('accounts over HTTP', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  describe('opening', () => {
    it('answers 201 with the defaults filled in', async () => {
      const id = uid('acct');
      const response = await t.request('POST', '/v1/accounts', { id, currency: 'USD' });
      expect(response.status, response.text).toBe(201);
      expect(response.headers['content-type']).toContain('application/json');
      expect(response.body).toEqual({
        id,
        currency: 'USD',
        normalSide: 'credit',
        flags: { debitsMustNotExceedCredits: false, creditsMustNotExceedDebits: false },
        status: 'open',
        debitsPosted: '0',
        creditsPosted: '0',
        debitsPending: '0',
        creditsPending: '0',
        balance: '0',
        available: '0',
        version: 1,
        openedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
        metadata: {},
        position: expect.stringMatching(/^[1-9][0-9]*$/),
      });
      expect(response.body).not.toHaveProperty('code');
      expect(typeof response.body.position).toBe('string');
      expect(await logHead(t)).toBe(response.body.position);
    });

    it('keeps what the client gave: normalSide, flags, code, metadata', async () => {
      const id = uid('acct');
      const body = {
        id,
        currency: 'POINTS',
        normalSide: 'debit',
        flags: { creditsMustNotExceedDebits: true },
        code: 'asset',
        metadata: { customer: 'c-1', region: 'eu' },
      };
      const response = await t.request('POST', '/v1/accounts', body);
      expect(response.status, response.text).toBe(201);
      expect(response.body).toMatchObject({
        id,
        currency: 'POINTS',
        normalSide: 'debit',
        flags: { debitsMustNotExceedCredits: false, creditsMustNotExceedDebits: true },
        code: 'asset',
        metadata: { customer: 'c-1', region: 'eu' },
      });
      const read = await readAccount(t, id);
      expect(read.status).toBe(200);
      expect(read.body).toEqual(response.body);
    });

    it('answers a repeat with the same body 200 and the first response exactly, changing nothing', async () => {
      const id = uid('acct');
      const body = { id, currency: 'EUR', metadata: { k: 'v' } };
      const first = await t.request('POST', '/v1/accounts', body);
      expect(first.status).toBe(201);
      const before = await snapshot(t, [id]);
      const again = await t.request('POST', '/v1/accounts', body);
      expect(again.status, again.text).toBe(200);
      expect(again.body).toEqual(first.body);
      expect(again.body.position).toBe(first.body.position);
      expect(again.body.openedAt).toBe(first.body.openedAt);
      expect(await snapshot(t, [id])).toEqual(before);
    });

    it('treats an explicit default as the same body (the fingerprint is taken after defaults)', async () => {
      const id = uid('acct');
      const first = await t.request('POST', '/v1/accounts', { id, currency: 'USD' });
      expect(first.status).toBe(201);
      const again = await t.request('POST', '/v1/accounts', {
        id,
        currency: 'USD',
        normalSide: 'credit',
        flags: { debitsMustNotExceedCredits: false },
        metadata: {},
      });
      expect(again.status, again.text).toBe(200);
      expect(again.body).toEqual(first.body);
    });

    it('answers a repeat after the account has moved with the first response (version 1, zero balances)', async () => {
      const a = uid('acct');
      const b = uid('acct');
      const first = await t.request('POST', '/v1/accounts', { id: a, currency: 'USD' });
      await openAccount(t, { id: b });
      await postTransfer(t, { id: uid('tr'), debitAccountId: b, creditAccountId: a, amount: '5' });
      const again = await t.request('POST', '/v1/accounts', { id: a, currency: 'USD' });
      expect(again.status).toBe(200);
      expect(again.body).toEqual(first.body);
    });

    it('refuses the same id with a different body: 409 idempotency-conflict, nothing changes', async () => {
      const id = uid('acct');
      await openAccount(t, { id, currency: 'USD' });
      for (const different of [
        { id, currency: 'EUR' },
        { id, currency: 'USD', normalSide: 'debit' },
        { id, currency: 'USD', flags: { debitsMustNotExceedCredits: true } },
        { id, currency: 'USD', code: 'x' },
        { id, currency: 'USD', metadata: { a: 'b' } },
      ]) {
        await expectRefusedUnchanged(
          t,
          [id],
          () => t.request('POST', '/v1/accounts', different),
          409,
          'idempotency-conflict',
        );
      }
      const read = await readAccount(t, id);
      expect(read.body).toMatchObject({ currency: 'USD', normalSide: 'credit', metadata: {}, version: 1 });
    });

    it('opens the same new id once under concurrent requests: one 201, the others 200 with the same body', async () => {
      const id = uid('acct');
      const body = { id, currency: 'USD' };
      const responses = await Promise.all(Array.from({ length: 6 }, () => t.request('POST', '/v1/accounts', body)));
      const statuses = responses.map((r) => r.status).sort();
      expect(statuses).toEqual([200, 200, 200, 200, 200, 201]);
      for (const r of responses) expect(r.body).toEqual(responses[0]!.body);
      const events = await t.tdb.query<{ n: string }>('select count(*)::text as n from events where stream_id = $1', [
        `account-${id}`,
      ]);
      expect(events[0]!.n).toBe('1');
    });
  });

  describe('freeze, unfreeze, close', () => {
    it('freezes (200 Account, status frozen, version +1), and a repeat freeze is a no-op 200', async () => {
      const id = uid('acct');
      const opened = await openAccount(t, { id });
      const frozen = await t.request('POST', `/v1/accounts/${id}/freeze`, { reason: 'kyc review' });
      expect(frozen.status, frozen.text).toBe(200);
      expect(frozen.body).toMatchObject({ id, status: 'frozen', version: 2, openedAt: opened.openedAt });
      expect(BigInt(frozen.body.position)).toBeGreaterThan(BigInt(opened.position));

      const before = await snapshot(t, [id]);
      const again = await t.request('POST', `/v1/accounts/${id}/freeze`, { reason: 'again' });
      expect(again.status, again.text).toBe(200);
      expect(again.body).toMatchObject({ id, status: 'frozen', version: 2 });
      expect(again.body.position).toBe(frozen.body.position);
      expect(await snapshot(t, [id])).toEqual(before);

      const read = await readAccount(t, id);
      expect(read.body).toEqual(frozen.body);
    });

    it('unfreezes back to open; unfreezing an open account is a no-op 200', async () => {
      const id = uid('acct');
      await openAccount(t, { id });
      const noop = await t.request('POST', `/v1/accounts/${id}/unfreeze`, { reason: 'nothing to do' });
      expect(noop.status, noop.text).toBe(200);
      expect(noop.body).toMatchObject({ status: 'open', version: 1 });
      await t.request('POST', `/v1/accounts/${id}/freeze`, { reason: 'r' });
      const open = await t.request('POST', `/v1/accounts/${id}/unfreeze`, { reason: 'cleared' });
      expect(open.status, open.text).toBe(200);
      expect(open.body).toMatchObject({ status: 'open', version: 3 });
    });

    it('closes; a closed account refuses freeze and unfreeze with 422 account-not-open; close again is a no-op', async () => {
      const id = uid('acct');
      await openAccount(t, { id });
      await t.request('POST', `/v1/accounts/${id}/freeze`, { reason: 'r' });
      const closed = await t.request('POST', `/v1/accounts/${id}/close`, { reason: 'customer left' });
      expect(closed.status, closed.text).toBe(200);
      expect(closed.body).toMatchObject({ status: 'closed', version: 3 });

      await expectRefusedUnchanged(
        t,
        [id],
        () => t.request('POST', `/v1/accounts/${id}/freeze`, { reason: 'x' }),
        422,
        'account-not-open',
      );
      await expectRefusedUnchanged(
        t,
        [id],
        () => t.request('POST', `/v1/accounts/${id}/unfreeze`, { reason: 'x' }),
        422,
        'account-not-open',
      );

      const before = await snapshot(t, [id]);
      const again = await t.request('POST', `/v1/accounts/${id}/close`, { reason: 'again' });
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ status: 'closed', version: 3, position: closed.body.position });
      expect(await snapshot(t, [id])).toEqual(before);
    });

    it('a frozen account takes neither debits nor credits; unfreezing restores both', async () => {
      const acct = uid('acct');
      const other = uid('acct');
      await openAccount(t, { id: acct });
      await openAccount(t, { id: other });
      await postTransfer(t, { id: uid('tr'), debitAccountId: other, creditAccountId: acct, amount: '100' });
      await t.request('POST', `/v1/accounts/${acct}/freeze`, { reason: 'r' });

      const debitId = uid('tr');
      const creditId = uid('tr');
      const debit = { id: debitId, debitAccountId: acct, creditAccountId: other, amount: '10', currency: 'USD' };
      const credit = { id: creditId, debitAccountId: other, creditAccountId: acct, amount: '10', currency: 'USD' };
      await expectRefusedUnchanged(
        t,
        [acct, other],
        () => t.request('POST', '/v1/transfers', debit),
        422,
        'account-not-open',
      );
      await expectRefusedUnchanged(
        t,
        [acct, other],
        () => t.request('POST', '/v1/transfers', credit),
        422,
        'account-not-open',
      );

      await t.request('POST', `/v1/accounts/${acct}/unfreeze`, { reason: 'cleared' });
      // The refused ids stayed free.
      expect((await t.request('POST', '/v1/transfers', debit)).status).toBe(201);
      expect((await t.request('POST', '/v1/transfers', credit)).status).toBe(201);
      const read = await readAccount(t, acct);
      expect(read.body).toMatchObject({ status: 'open', debitsPosted: '10', creditsPosted: '110', balance: '100' });
    });

    it('a closed account takes neither debits nor credits, on either side', async () => {
      const acct = uid('acct');
      const other = uid('acct');
      await openAccount(t, { id: acct });
      await openAccount(t, { id: other });
      await t.request('POST', `/v1/accounts/${acct}/close`, { reason: 'r' });
      for (const [debitAccountId, creditAccountId] of [
        [acct, other],
        [other, acct],
      ]) {
        await expectRefusedUnchanged(
          t,
          [acct, other],
          () =>
            t.request('POST', '/v1/transfers', {
              id: uid('tr'),
              debitAccountId,
              creditAccountId,
              amount: '1',
              currency: 'USD',
            }),
          422,
          'account-not-open',
        );
      }
    });
  });

  describe('unknown accounts', () => {
    const routes: Array<[string, string, unknown?]> = [
      ['GET', '/v1/accounts/no-such-account'],
      ['GET', '/v1/accounts/no-such-account/balance'],
      ['GET', '/v1/accounts/no-such-account/entries'],
      ['POST', '/v1/accounts/no-such-account/freeze', { reason: 'r' }],
      ['POST', '/v1/accounts/no-such-account/unfreeze', { reason: 'r' }],
      ['POST', '/v1/accounts/no-such-account/close', { reason: 'r' }],
    ];
    it.each(routes)('%s %s answers 404 account-not-found and changes nothing', async (method, url, body) => {
      const before = await snapshot(t, []);
      const response = await t.request(method, url, body);
      expectProblem(response, 404, 'account-not-found');
      expect(response.body.detail).toContain('no-such-account');
      expect(await snapshot(t, [])).toEqual(before);
      // And nothing opened it by the way.
      expectProblem(await t.request('GET', '/v1/accounts/no-such-account'), 404, 'account-not-found');
    });
  });
});
