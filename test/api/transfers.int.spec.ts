import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app';
import {
  AMOUNT_MAX,
  expectRefusedUnchanged,
  expectValidation,
  logHead,
  openAccount,
  postTransfer,
  readAccount,
  snapshot,
  uid,
} from './api-helpers';

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('transfers over HTTP', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  /** Two fresh unconstrained USD accounts. */
  async function pair(extra: { debit?: Record<string, unknown>; credit?: Record<string, unknown> } = {}) {
    const debit = uid('d');
    const credit = uid('c');
    await openAccount(t, { id: debit, ...extra.debit });
    await openAccount(t, { id: credit, ...extra.credit });
    return { debit, credit };
  }

  describe('posting and idempotency', () => {
    it('answers 201 with the Transfer, and GET returns the same Transfer', async () => {
      const { debit, credit } = await pair();
      const id = uid('tr');
      const body = {
        id,
        debitAccountId: debit,
        creditAccountId: credit,
        amount: '1050',
        currency: 'USD',
        code: 'payout',
        reference: 'invoice 42',
        metadata: { order: 'o-1' },
      };
      const response = await t.request('POST', '/v1/transfers', body);
      expect(response.status, response.text).toBe(201);
      expect(response.body).toEqual({
        ...body,
        status: 'posted',
        pendingAmount: '0',
        postedAmount: '1050',
        reversedAmount: '0',
        effectiveAt: expect.stringMatching(TIMESTAMP),
        recordedAt: expect.stringMatching(TIMESTAMP),
        position: expect.stringMatching(/^[1-9][0-9]*$/),
      });
      expect(await logHead(t)).toBe(response.body.position);
      const read = await t.request('GET', `/v1/transfers/${id}?minPosition=${response.body.position}`);
      expect(read.status, read.text).toBe(200);
      expect(read.body).toEqual(response.body);
    });

    it('answers a repeat with 200 and the identical body, changing nothing', async () => {
      const { debit, credit } = await pair();
      const body = { id: uid('tr'), debitAccountId: debit, creditAccountId: credit, amount: '7', currency: 'USD' };
      const first = await t.request('POST', '/v1/transfers', body);
      expect(first.status).toBe(201);
      const before = await snapshot(t, [debit, credit]);
      const again = await t.request('POST', '/v1/transfers', body);
      expect(again.status, again.text).toBe(200);
      expect(again.body).toEqual(first.body);
      expect(await snapshot(t, [debit, credit])).toEqual(before);
      expect((await readAccount(t, credit)).body.balance).toBe('7');
    });

    it('refuses the same id with a different body: 409 idempotency-conflict, nothing changes', async () => {
      const { debit, credit } = await pair();
      const id = uid('tr');
      const body = { id, debitAccountId: debit, creditAccountId: credit, amount: '7', currency: 'USD' };
      await postTransfer(t, body);
      for (const different of [
        { ...body, amount: '8' },
        { ...body, debitAccountId: credit, creditAccountId: debit },
        { ...body, reference: 'r' },
        { ...body, metadata: { a: 'b' } },
      ]) {
        await expectRefusedUnchanged(
          t,
          [debit, credit],
          () => t.request('POST', '/v1/transfers', different),
          409,
          'idempotency-conflict',
        );
      }
    });

    it('leaves the id of a refused transfer free: after funding, the same id and body posts with 201', async () => {
      const { debit, credit } = await pair({ debit: { flags: { debitsMustNotExceedCredits: true } } });
      const body = { id: uid('tr'), debitAccountId: debit, creditAccountId: credit, amount: '100', currency: 'USD' };
      await expectRefusedUnchanged(
        t,
        [debit, credit],
        () => t.request('POST', '/v1/transfers', body),
        422,
        'insufficient-funds',
      );
      const funder = uid('f');
      await openAccount(t, { id: funder });
      await postTransfer(t, { id: uid('fund'), debitAccountId: funder, creditAccountId: debit, amount: '100' });
      const retry = await t.request('POST', '/v1/transfers', body);
      expect(retry.status, retry.text).toBe(201);
      expect((await readAccount(t, debit)).body).toMatchObject({
        debitsPosted: '100',
        creditsPosted: '100',
        balance: '0',
      });
    });
  });

  describe('concurrent requests', () => {
    it('the same id and body sent at once: one 201, the others 200 with the identical body, one posting', async () => {
      const { debit, credit } = await pair();
      const body = { id: uid('tr'), debitAccountId: debit, creditAccountId: credit, amount: '3', currency: 'USD' };
      const responses = await Promise.all(Array.from({ length: 8 }, () => t.request('POST', '/v1/transfers', body)));
      expect(responses.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 201]);
      for (const r of responses) expect(r.body).toEqual(responses[0]!.body);
      expect((await readAccount(t, credit)).body).toMatchObject({ creditsPosted: '3', version: 2 });
    });

    it('the same id with different bodies at once: one posts, the others are 409', async () => {
      const { debit, credit } = await pair();
      const id = uid('tr');
      const responses = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          t.request('POST', '/v1/transfers', {
            id,
            debitAccountId: debit,
            creditAccountId: credit,
            amount: String(i + 1),
            currency: 'USD',
          }),
        ),
      );
      expect(responses.filter((r) => r.status === 201)).toHaveLength(1);
      for (const r of responses.filter((r) => r.status !== 201)) {
        expect(r.status, r.text).toBe(409);
        expect(r.body.type).toMatch(/idempotency-conflict$/);
      }
      const winner = responses.find((r) => r.status === 201)!.body;
      expect((await readAccount(t, credit)).body.creditsPosted).toBe(winner.amount);
    });

    it('concurrent debits of a constrained account never overdraw it', async () => {
      const { debit: funder, credit: wallet } = await pair({ credit: { flags: { debitsMustNotExceedCredits: true } } });
      const shop = uid('shop');
      await openAccount(t, { id: shop });
      await postTransfer(t, { id: uid('fund'), debitAccountId: funder, creditAccountId: wallet, amount: '100' });
      const responses = await Promise.all(
        Array.from({ length: 25 }, () =>
          t.request('POST', '/v1/transfers', {
            id: uid('spend'),
            debitAccountId: wallet,
            creditAccountId: shop,
            amount: '10',
            currency: 'USD',
          }),
        ),
      );
      expect(responses.filter((r) => r.status === 201)).toHaveLength(10);
      for (const r of responses.filter((r) => r.status !== 201)) {
        expect(r.status).toBe(422);
        expect(r.body.type).toMatch(/insufficient-funds$/);
      }
      expect((await readAccount(t, wallet)).body).toMatchObject({
        debitsPosted: '100',
        creditsPosted: '100',
        balance: '0',
      });
    });
  });

  describe('refusals', () => {
    it('same-account: 422, nothing changes', async () => {
      const { debit } = await pair();
      await expectRefusedUnchanged(
        t,
        [debit],
        () =>
          t.request('POST', '/v1/transfers', {
            id: uid('tr'),
            debitAccountId: debit,
            creditAccountId: debit,
            amount: '1',
            currency: 'USD',
          }),
        422,
        'same-account',
      );
    });

    it('currency-mismatch: transfer currency differs from the accounts, or the accounts differ', async () => {
      const { debit, credit } = await pair();
      const euro = uid('eur');
      await openAccount(t, { id: euro, currency: 'EUR' });
      await expectRefusedUnchanged(
        t,
        [debit, credit],
        () =>
          t.request('POST', '/v1/transfers', {
            id: uid('tr'),
            debitAccountId: debit,
            creditAccountId: credit,
            amount: '1',
            currency: 'EUR',
          }),
        422,
        'currency-mismatch',
      );
      for (const [d, c, currency] of [
        [debit, euro, 'USD'],
        [debit, euro, 'EUR'],
        [euro, credit, 'USD'],
      ] as const) {
        await expectRefusedUnchanged(
          t,
          [debit, credit, euro],
          () =>
            t.request('POST', '/v1/transfers', {
              id: uid('tr'),
              debitAccountId: d,
              creditAccountId: c,
              amount: '1',
              currency,
            }),
          422,
          'currency-mismatch',
        );
      }
    });

    it('account-not-found (404) for a missing debit or credit account', async () => {
      const { debit, credit } = await pair();
      const missingDebit = await expectRefusedUnchanged(
        t,
        [credit],
        () =>
          t.request('POST', '/v1/transfers', {
            id: uid('tr'),
            debitAccountId: 'ghost-d',
            creditAccountId: credit,
            amount: '1',
            currency: 'USD',
          }),
        404,
        'account-not-found',
      );
      expect(missingDebit.body.detail).toContain('ghost-d');
      const missingCredit = await expectRefusedUnchanged(
        t,
        [debit],
        () =>
          t.request('POST', '/v1/transfers', {
            id: uid('tr'),
            debitAccountId: debit,
            creditAccountId: 'ghost-c',
            amount: '1',
            currency: 'USD',
          }),
        404,
        'account-not-found',
      );
      expect(missingCredit.body.detail).toContain('ghost-c');
    });

    it('debitsMustNotExceedCredits: a debit up to the credits passes, one more minor unit fails', async () => {
      const { debit: funder, credit: wallet } = await pair({ credit: { flags: { debitsMustNotExceedCredits: true } } });
      const shop = uid('shop');
      await openAccount(t, { id: shop });
      await postTransfer(t, { id: uid('fund'), debitAccountId: funder, creditAccountId: wallet, amount: '1000' });

      await expectRefusedUnchanged(
        t,
        [wallet, shop],
        () =>
          t.request('POST', '/v1/transfers', {
            id: uid('tr'),
            debitAccountId: wallet,
            creditAccountId: shop,
            amount: '1001',
            currency: 'USD',
          }),
        422,
        'insufficient-funds',
      );
      await postTransfer(t, { id: uid('tr'), debitAccountId: wallet, creditAccountId: shop, amount: '1000' });
      expect((await readAccount(t, wallet)).body).toMatchObject({
        debitsPosted: '1000',
        creditsPosted: '1000',
        balance: '0',
      });
      await expectRefusedUnchanged(
        t,
        [wallet, shop],
        () =>
          t.request('POST', '/v1/transfers', {
            id: uid('tr'),
            debitAccountId: wallet,
            creditAccountId: shop,
            amount: '1',
            currency: 'USD',
          }),
        422,
        'insufficient-funds',
      );
    });

    it('creditsMustNotExceedDebits: a credit up to the debits passes, one more minor unit fails', async () => {
      const asset = uid('asset');
      await openAccount(t, { id: asset, normalSide: 'debit', flags: { creditsMustNotExceedDebits: true } });
      const { debit: other, credit: sink } = await pair();
      // Nothing debited yet: no credit at all is allowed.
      await expectRefusedUnchanged(
        t,
        [asset, other],
        () =>
          t.request('POST', '/v1/transfers', {
            id: uid('tr'),
            debitAccountId: other,
            creditAccountId: asset,
            amount: '1',
            currency: 'USD',
          }),
        422,
        'insufficient-funds',
      );
      await postTransfer(t, { id: uid('tr'), debitAccountId: asset, creditAccountId: sink, amount: '500' });
      await expectRefusedUnchanged(
        t,
        [asset, other],
        () =>
          t.request('POST', '/v1/transfers', {
            id: uid('tr'),
            debitAccountId: other,
            creditAccountId: asset,
            amount: '501',
            currency: 'USD',
          }),
        422,
        'insufficient-funds',
      );
      await postTransfer(t, { id: uid('tr'), debitAccountId: other, creditAccountId: asset, amount: '500' });
      expect((await readAccount(t, asset)).body).toMatchObject({
        debitsPosted: '500',
        creditsPosted: '500',
        balance: '0',
      });
    });
  });

  describe('effectiveAt', () => {
    it('defaults to recordedAt when omitted', async () => {
      const { debit, credit } = await pair();
      const posted = await postTransfer(t, {
        id: uid('tr'),
        debitAccountId: debit,
        creditAccountId: credit,
        amount: '1',
      });
      expect(posted.effectiveAt).toBe(posted.recordedAt);
      const read = await t.request('GET', `/v1/transfers/${posted.id}?minPosition=${posted.position}`);
      expect(read.body.effectiveAt).toBe(read.body.recordedAt);
      expect(read.body.recordedAt).toBe(posted.recordedAt);
    });

    it('refuses a future effectiveAt with 422 effective-time-out-of-range', async () => {
      const { debit, credit } = await pair();
      for (const effectiveAt of ['2999-01-01T00:00:00.000Z', new Date(Date.now() + 60_000).toISOString()]) {
        await expectRefusedUnchanged(
          t,
          [debit, credit],
          () =>
            t.request('POST', '/v1/transfers', {
              id: uid('tr'),
              debitAccountId: debit,
              creditAccountId: credit,
              amount: '1',
              currency: 'USD',
              effectiveAt,
            }),
          422,
          'effective-time-out-of-range',
        );
      }
    });

    it('refuses an effectiveAt before either account was opened', async () => {
      const old = uid('old');
      const opened = await openAccount(t, { id: old });
      await new Promise((r) => setTimeout(r, 5));
      const young = uid('young');
      const youngOpened = await openAccount(t, { id: young });
      expect(youngOpened.openedAt > opened.openedAt).toBe(true);
      const before = new Date(Date.parse(youngOpened.openedAt) - 1).toISOString();
      for (const [d, c] of [
        [old, young],
        [young, old],
      ]) {
        await expectRefusedUnchanged(
          t,
          [old, young],
          () =>
            t.request('POST', '/v1/transfers', {
              id: uid('tr'),
              debitAccountId: d,
              creditAccountId: c,
              amount: '1',
              currency: 'USD',
              effectiveAt: before,
            }),
          422,
          'effective-time-out-of-range',
        );
      }
      await expectRefusedUnchanged(
        t,
        [old, young],
        () =>
          t.request('POST', '/v1/transfers', {
            id: uid('tr'),
            debitAccountId: old,
            creditAccountId: young,
            amount: '1',
            currency: 'USD',
            effectiveAt: '2000-01-01T00:00:00.000Z',
          }),
        422,
        'effective-time-out-of-range',
      );
      // Exactly when the younger account was opened is allowed (a backdated posting).
      const posted = await postTransfer(t, {
        id: uid('tr'),
        debitAccountId: old,
        creditAccountId: young,
        amount: '1',
        effectiveAt: youngOpened.openedAt,
      });
      expect(posted.effectiveAt).toBe(youngOpened.openedAt);
      expect(posted.recordedAt >= posted.effectiveAt).toBe(true);
    });
  });

  describe('exact money', () => {
    it('posts 2^127 − 1 and reads it back exactly in the transfer, balances and entries; two of them total exactly', async () => {
      const { debit, credit } = await pair();
      const id1 = uid('max');
      const first = await postTransfer(t, {
        id: id1,
        debitAccountId: debit,
        creditAccountId: credit,
        amount: AMOUNT_MAX,
      });
      expect(first.amount).toBe(AMOUNT_MAX);
      const read = await t.request('GET', `/v1/transfers/${id1}?minPosition=${first.position}`);
      expect(read.body.amount).toBe(AMOUNT_MAX);

      let account = (await readAccount(t, credit)).body;
      expect(account).toMatchObject({ creditsPosted: AMOUNT_MAX, debitsPosted: '0', balance: AMOUNT_MAX });
      let balance = (await t.request('GET', `/v1/accounts/${credit}/balance?minPosition=${await logHead(t)}`)).body;
      expect(balance).toMatchObject({ creditsPosted: AMOUNT_MAX, debitsPosted: '0', balance: AMOUNT_MAX });
      const debitAccount = (await readAccount(t, debit)).body;
      expect(debitAccount).toMatchObject({ debitsPosted: AMOUNT_MAX, creditsPosted: '0', balance: `-${AMOUNT_MAX}` });

      const second = await postTransfer(t, {
        id: uid('max'),
        debitAccountId: debit,
        creditAccountId: credit,
        amount: AMOUNT_MAX,
      });
      const total = (2n * BigInt(AMOUNT_MAX)).toString();
      expect(BigInt(total) > 1n << 127n).toBe(true);
      expect(total).toBe('340282366920938463463374607431768211454');

      account = (await readAccount(t, credit)).body;
      expect(account).toMatchObject({ creditsPosted: total, balance: total });
      balance = (await t.request('GET', `/v1/accounts/${credit}/balance?minPosition=${await logHead(t)}`)).body;
      expect(balance).toMatchObject({ creditsPosted: total, debitsPosted: '0', balance: total });
      expect((await readAccount(t, debit)).body).toMatchObject({ debitsPosted: total, balance: `-${total}` });

      const entries = (await t.request('GET', `/v1/accounts/${credit}/entries?minPosition=${second.position}`)).body;
      expect(entries.items).toEqual([
        expect.objectContaining({ transferId: id1, side: 'credit', amount: AMOUNT_MAX, balanceAfter: AMOUNT_MAX }),
        expect.objectContaining({ transferId: second.id, side: 'credit', amount: AMOUNT_MAX, balanceAfter: total }),
      ]);
      const debitEntries = (await t.request('GET', `/v1/accounts/${debit}/entries?minPosition=${await logHead(t)}`))
        .body;
      expect(debitEntries.items.map((e: { balanceAfter: string }) => e.balanceAfter)).toEqual([
        `-${AMOUNT_MAX}`,
        `-${total}`,
      ]);
    });

    it('refuses 2^127 with 400 validation, changing nothing', async () => {
      const { debit, credit } = await pair();
      const before = await snapshot(t, [debit, credit]);
      const response = await t.request('POST', '/v1/transfers', {
        id: uid('tr'),
        debitAccountId: debit,
        creditAccountId: credit,
        amount: (1n << 127n).toString(),
        currency: 'USD',
      });
      expectValidation(response, 'body.amount');
      expect(await snapshot(t, [debit, credit])).toEqual(before);
    });

    it('lets unconstrained accounts go negative, as signed decimal strings', async () => {
      const { debit, credit } = await pair({ debit: { normalSide: 'credit' }, credit: { normalSide: 'debit' } });
      const posted = await postTransfer(t, {
        id: uid('tr'),
        debitAccountId: debit,
        creditAccountId: credit,
        amount: '1050',
      });
      expect((await readAccount(t, debit)).body).toMatchObject({
        debitsPosted: '1050',
        creditsPosted: '0',
        balance: '-1050',
      });
      expect((await readAccount(t, credit)).body).toMatchObject({
        debitsPosted: '0',
        creditsPosted: '1050',
        balance: '-1050',
      });
      const balance = await t.request('GET', `/v1/accounts/${debit}/balance?minPosition=${posted.position}`);
      expect(balance.body.balance).toBe('-1050');
      const entries = await t.request('GET', `/v1/accounts/${credit}/entries?minPosition=${await logHead(t)}`);
      expect(entries.body.items[0]).toMatchObject({ side: 'credit', amount: '1050', balanceAfter: '-1050' });
    });
  });
});
