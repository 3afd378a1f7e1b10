import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app';
import {
  expectProblem,
  expectValidation,
  logHead,
  openAccount,
  postTransfer,
  readAccount,
  snapshot,
  uid,
} from './api-helpers';

interface BatchItem {
  id: string;
  status: 'created' | 'duplicate' | 'failed';
  transfer?: Record<string, unknown>;
  problem?: { type: string; title: string; status: number; detail: string };
}

function expectItemProblem(item: BatchItem, status: number, slug: string): void {
  const context = JSON.stringify(item);
  expect(item.status, context).toBe('failed');
  expect(item.transfer, context).toBeUndefined();
  expect(item.problem, context).toBeDefined();
  expect(item.problem!.type, context).toMatch(new RegExp(`(^|/)${slug}$`));
  expect(item.problem!.status, context).toBe(status);
  expect(item.problem!.title, context).toBeTypeOf('string');
  expect(item.problem!.detail, context).toBeTypeOf('string');
}

describe('POST /v1/transfers/batch', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  async function accounts() {
    const bank = uid('bank');
    const wallet = uid('wallet');
    const shop = uid('shop');
    await openAccount(t, { id: bank, normalSide: 'debit' });
    await openAccount(t, { id: wallet, flags: { debitsMustNotExceedCredits: true } });
    await openAccount(t, { id: shop });
    return { bank, wallet, shop };
  }

  const tr = (
    debitAccountId: string,
    creditAccountId: string,
    amount: string,
    extra: Record<string, unknown> = {},
  ) => ({
    id: uid('bt'),
    debitAccountId,
    creditAccountId,
    amount,
    currency: 'USD',
    ...extra,
  });

  async function batch(transfers: unknown[], atomic?: boolean) {
    const response = await t.request('POST', '/v1/transfers/batch', {
      transfers,
      ...(atomic !== undefined ? { atomic } : {}),
    });
    expect(response.status, response.text).toBe(200);
    expect(response.headers['content-type']).toContain('application/json');
    expect(typeof response.body.position, response.text).toBe('string');
    expect(response.body.position).toMatch(/^(0|[1-9][0-9]*)$/);
    expect(response.body.results).toHaveLength(transfers.length);
    return response.body as { results: BatchItem[]; position: string };
  }

  describe('non-atomic (the default)', () => {
    it('posts each transfer on its own, in order: successes and failures side by side', async () => {
      const { bank, wallet, shop } = await accounts();
      const items = [
        tr(bank, wallet, '100'),
        tr(wallet, shop, '60'),
        tr(wallet, shop, '41'), // only 40 left
        tr(wallet, wallet, '1'),
        tr(bank, 'ghost', '1'),
        tr(bank, shop, '1', { currency: 'EUR' }),
        tr(wallet, shop, '40'),
      ];
      const body = await batch(items);
      const statuses = body.results.map((r) => r.status);
      expect(statuses).toEqual(['created', 'created', 'failed', 'failed', 'failed', 'failed', 'created']);
      expect(body.results.map((r) => r.id)).toEqual(items.map((item) => item.id));
      expectItemProblem(body.results[2]!, 422, 'insufficient-funds');
      expectItemProblem(body.results[3]!, 422, 'same-account');
      expectItemProblem(body.results[4]!, 404, 'account-not-found');
      expectItemProblem(body.results[5]!, 422, 'currency-mismatch');
      for (const i of [0, 1, 6]) {
        const item = body.results[i]!;
        expect(item.problem).toBeUndefined();
        expect(item.transfer).toMatchObject({ ...items[i], status: 'posted', metadata: {} });
        expect(typeof item.transfer!.position).toBe('string');
      }
      const positions = [0, 1, 6].map((i) => BigInt(body.results[i]!.transfer!.position as string));
      expect(BigInt(body.position)).toBe(positions.reduce((a, b) => (a > b ? a : b)));

      expect((await readAccount(t, wallet)).body).toMatchObject({
        creditsPosted: '100',
        debitsPosted: '100',
        balance: '0',
      });
      expect((await readAccount(t, shop)).body).toMatchObject({ creditsPosted: '100', balance: '100' });
      // The failed ones were not recorded: their ids are free and unknown.
      for (const i of [2, 3, 4, 5]) {
        expectProblem(
          await t.request('GET', `/v1/transfers/${items[i]!.id}?minPosition=${body.position}`),
          404,
          'transfer-not-found',
        );
      }
      const read = await t.request('GET', `/v1/transfers/${items[1]!.id}?minPosition=${body.position}`);
      expect(read.body).toEqual(body.results[1]!.transfer);
    });

    it('answers transfers posted before as duplicate, with the original transfer, and changes nothing for them', async () => {
      const { bank, shop } = await accounts();
      const original = tr(bank, shop, '5', { reference: 'ref-1' });
      const posted = await postTransfer(t, original);
      const fresh = tr(bank, shop, '6');
      const body = await batch([original, fresh]);
      expect(body.results[0]).toEqual({ id: original.id, status: 'duplicate', transfer: posted });
      expect(body.results[1]!.status).toBe('created');
      expect((await readAccount(t, shop)).body).toMatchObject({ creditsPosted: '11', version: 3 });

      // The whole batch again: everything is a duplicate, nothing changes.
      const before = await snapshot(t, [bank, shop]);
      const again = await batch([original, fresh]);
      expect(again.results.map((r) => r.status)).toEqual(['duplicate', 'duplicate']);
      expect(again.results[1]!.transfer).toEqual(body.results[1]!.transfer);
      expect(again.position).toBe(body.results[1]!.transfer!.position);
      expect(await snapshot(t, [bank, shop])).toEqual(before);
    });

    it('refuses an earlier id with a different body as idempotency-conflict, the rest still post', async () => {
      const { bank, shop } = await accounts();
      const original = tr(bank, shop, '5');
      await postTransfer(t, original);
      const body = await batch([{ ...original, amount: '6' }, tr(bank, shop, '1')]);
      expectItemProblem(body.results[0]!, 409, 'idempotency-conflict');
      expect(body.results[1]!.status).toBe('created');
      expect((await readAccount(t, shop)).body.creditsPosted).toBe('6');
    });

    it('the same id twice in one batch with the same body: created, then duplicate with the same transfer', async () => {
      const { bank, shop } = await accounts();
      const item = tr(bank, shop, '7');
      const body = await batch([item, item]);
      expect(body.results.map((r) => r.status)).toEqual(['created', 'duplicate']);
      expect(body.results[1]!.transfer).toEqual(body.results[0]!.transfer);
      expect((await readAccount(t, shop)).body).toMatchObject({ creditsPosted: '7', version: 2 });
      const read = await t.request('GET', `/v1/transfers/${item.id}?minPosition=${body.position}`);
      expect(read.body).toEqual(body.results[0]!.transfer);
    });

    it('the same id twice in one batch with different bodies: the second is idempotency-conflict', async () => {
      const { bank, shop } = await accounts();
      const item = tr(bank, shop, '7');
      const body = await batch([item, { ...item, amount: '8' }]);
      expect(body.results[0]!.status).toBe('created');
      expectItemProblem(body.results[1]!, 409, 'idempotency-conflict');
      expect((await readAccount(t, shop)).body.creditsPosted).toBe('7');
    });

    it('an all-failed batch posts nothing and still answers a position', async () => {
      const { bank, shop } = await accounts();
      const before = await snapshot(t, [bank, shop]);
      const body = await batch([tr(bank, bank, '1'), tr(bank, shop, '1', { currency: 'EUR' })]);
      expect(body.results.map((r) => r.status)).toEqual(['failed', 'failed']);
      expect(await snapshot(t, [bank, shop])).toEqual(before);
    });
  });

  describe('atomic', () => {
    it('posts all when every transfer passes', async () => {
      const { bank, wallet, shop } = await accounts();
      const items = [tr(bank, wallet, '100'), tr(wallet, shop, '100'), tr(bank, shop, '1')];
      const body = await batch(items, true);
      expect(body.results.map((r) => r.status)).toEqual(['created', 'created', 'created']);
      expect(BigInt(body.position)).toBeGreaterThan(0n);
      expect(await logHead(t)).toBe(body.position);
      expect((await readAccount(t, wallet)).body).toMatchObject({ creditsPosted: '100', debitsPosted: '100' });
      expect((await readAccount(t, shop)).body).toMatchObject({ creditsPosted: '101' });
    });

    it('posts none when one fails: it names itself with its real problem, every other item is batch-aborted', async () => {
      const { bank, wallet, shop } = await accounts();
      await postTransfer(t, tr(bank, wallet, '50'));
      const items = [tr(bank, wallet, '10'), tr(wallet, shop, '60'), tr(wallet, shop, '1'), tr(bank, shop, '1')];
      // wallet has 60 after the first item, so the second passes; the third (61st unit) fails.
      const before = await snapshot(t, [bank, wallet, shop]);
      const body = await batch(items, true);
      expect(body.results.map((r) => r.id)).toEqual(items.map((i) => i.id));
      expectItemProblem(body.results[2]!, 422, 'insufficient-funds');
      for (const i of [0, 1, 3]) {
        expectItemProblem(body.results[i]!, 422, 'batch-aborted');
        expect(body.results[i]!.problem!.detail).toContain(items[2]!.id);
      }
      expect(await snapshot(t, [bank, wallet, shop])).toEqual(before);
      const head = await logHead(t);
      // Nothing written: the answer's position is the log's head, a position worth waiting for.
      expect(body.position).toBe(head);
      for (const item of items) {
        expectProblem(
          await t.request('GET', `/v1/transfers/${item.id}?minPosition=${head}`),
          404,
          'transfer-not-found',
        );
      }
      // Nothing was recorded: the same batch posts once wallet can afford it.
      await postTransfer(t, tr(bank, wallet, '1'));
      const retry = await batch(items, true);
      expect(retry.results.map((r) => r.status)).toEqual(['created', 'created', 'created', 'created']);
      expect((await readAccount(t, wallet)).body).toMatchObject({
        creditsPosted: '61',
        debitsPosted: '61',
        balance: '0',
      });
    });

    it.each([
      ['account-not-found', 404, (a: Accounts) => tr(a.bank, 'ghost', '1')],
      ['same-account', 422, (a: Accounts) => tr(a.bank, a.bank, '1')],
      ['currency-mismatch', 422, (a: Accounts) => tr(a.bank, a.shop, '1', { currency: 'EUR' })],
      [
        'effective-time-out-of-range',
        422,
        (a: Accounts) => tr(a.bank, a.shop, '1', { effectiveAt: '2999-01-01T00:00:00.000Z' }),
      ],
    ] as const)('aborts on %s in the first item', async (slug, status, failing) => {
      const a = await accounts();
      const before = await snapshot(t, [a.bank, a.wallet, a.shop]);
      const body = await batch([failing(a), tr(a.bank, a.shop, '1'), tr(a.bank, a.wallet, '1')], true);
      expectItemProblem(body.results[0]!, status, slug);
      expectItemProblem(body.results[1]!, 422, 'batch-aborted');
      expectItemProblem(body.results[2]!, 422, 'batch-aborted');
      expect(await snapshot(t, [a.bank, a.wallet, a.shop])).toEqual(before);
    });

    it('aborts on an idempotency conflict with an earlier transfer; a duplicate of one is fine', async () => {
      const { bank, shop } = await accounts();
      const original = tr(bank, shop, '5');
      const posted = await postTransfer(t, original);
      const before = await snapshot(t, [bank, shop]);
      const conflicting = await batch([tr(bank, shop, '1'), { ...original, amount: '9' }], true);
      expectItemProblem(conflicting.results[1]!, 409, 'idempotency-conflict');
      expectItemProblem(conflicting.results[0]!, 422, 'batch-aborted');
      expect(await snapshot(t, [bank, shop])).toEqual(before);

      const fresh = tr(bank, shop, '1');
      const ok = await batch([original, fresh], true);
      expect(ok.results[0]).toEqual({ id: original.id, status: 'duplicate', transfer: posted });
      expect(ok.results[1]!.status).toBe('created');
    });

    it('the same id twice: same body is created then duplicate; different body aborts the batch', async () => {
      const { bank, shop } = await accounts();
      const item = tr(bank, shop, '3');
      const same = await batch([item, item], true);
      expect(same.results.map((r) => r.status)).toEqual(['created', 'duplicate']);
      expect(same.results[1]!.transfer).toEqual(same.results[0]!.transfer);

      const other = tr(bank, shop, '4');
      const before = await snapshot(t, [bank, shop]);
      const different = await batch([other, { ...other, amount: '5' }], true);
      expectItemProblem(different.results[1]!, 409, 'idempotency-conflict');
      expectItemProblem(different.results[0]!, 422, 'batch-aborted');
      expect(await snapshot(t, [bank, shop])).toEqual(before);
      expectProblem(
        await t.request('GET', `/v1/transfers/${other.id}?minPosition=${before.head}`),
        404,
        'transfer-not-found',
      );
    });
  });

  describe('limits and shape', () => {
    it('refuses 0 transfers and 8,001 transfers with 400, changing nothing', async () => {
      const { bank, shop } = await accounts();
      const before = await snapshot(t, [bank, shop]);
      expectValidation(await t.request('POST', '/v1/transfers/batch', { transfers: [] }), 'body.transfers');
      const many = Array.from({ length: 8001 }, () => tr(bank, shop, '1'));
      expectValidation(await t.request('POST', '/v1/transfers/batch', { transfers: many }), 'body.transfers');
      expectValidation(
        await t.request('POST', '/v1/transfers/batch', { transfers: many, atomic: true }),
        'body.transfers',
      );
      expect(await snapshot(t, [bank, shop])).toEqual(before);
    });

    it('posts 8,000 transfers in one atomic batch', async () => {
      const { bank, shop } = await accounts();
      const many = Array.from({ length: 8000 }, (_, i) => tr(bank, shop, String(i + 1)));
      const body = await batch(many, true);
      expect(body.results.every((r) => r.status === 'created')).toBe(true);
      const total = ((8000n * 8001n) / 2n).toString();
      expect((await readAccount(t, shop)).body).toMatchObject({ creditsPosted: total, version: 8001 });
      expect((await readAccount(t, bank)).body).toMatchObject({ debitsPosted: total, balance: total });
    });

    it('refuses a whole batch when one item is malformed, naming the item, and posts nothing', async () => {
      const { bank, shop } = await accounts();
      const before = await snapshot(t, [bank, shop]);
      const response = await t.request('POST', '/v1/transfers/batch', {
        transfers: [tr(bank, shop, '1'), tr(bank, shop, '1.5')],
      });
      expectValidation(response, 'body.transfers.1.amount');
      expect(await snapshot(t, [bank, shop])).toEqual(before);
    });

    it('refuses atomic that is not a boolean and transfers that is not an array', async () => {
      const { bank, shop } = await accounts();
      expectValidation(
        await t.request('POST', '/v1/transfers/batch', { transfers: [tr(bank, shop, '1')], atomic: 'yes' }),
        'body.atomic',
      );
      expectValidation(
        await t.request('POST', '/v1/transfers/batch', { transfers: tr(bank, shop, '1') }),
        'body.transfers',
      );
      expectValidation(await t.request('POST', '/v1/transfers/batch', {}), 'body.transfers');
    });
  });
});

type Accounts = { bank: string; wallet: string; shop: string };
