import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestApp, startTestApp } from '../support/app';
import { TEST_KEYS, bearer } from '../support/keys';
import {
  expectProblem,
  expectRefusedUnchanged,
  expectValidation,
  logHead,
  openAccount,
  postTransfer,
  readAccount,
  uid,
} from './api-helpers';

/** Holds (two-phase transfers) and reversals over HTTP (docs/contract.md, "Holds", "Reversals"). */
describe('holds and reversals over HTTP', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  /** A card funded with `funds`, bounded by its credits, and a merchant. */
  async function card(funds = '100') {
    const bank = uid('bank');
    const cardId = uid('card');
    const shop = uid('shop');
    await openAccount(t, { id: bank });
    await openAccount(t, { id: cardId, flags: { debitsMustNotExceedCredits: true } });
    await openAccount(t, { id: shop });
    await postTransfer(t, { id: uid('fund'), debitAccountId: bank, creditAccountId: cardId, amount: funds });
    return { bank, card: cardId, shop };
  }

  const hold = (c: { card: string; shop: string }, amount: string, extra: Record<string, unknown> = {}) =>
    t.request('POST', '/v1/transfers', {
      id: uid('hold'),
      debitAccountId: c.card,
      creditAccountId: c.shop,
      amount,
      currency: 'USD',
      pending: true,
      ...extra,
    });

  it('a hold answers 201 pending, reserves the amount on both accounts and moves no posted money', async () => {
    const c = await card();
    const response = await hold(c, '60');
    expect(response.status, response.text).toBe(201);
    expect(response.body).toMatchObject({
      status: 'pending',
      amount: '60',
      pendingAmount: '60',
      postedAmount: '0',
      reversedAmount: '0',
    });
    const account = await readAccount(t, c.card);
    expect(account.body).toMatchObject({
      debitsPosted: '0',
      creditsPosted: '100',
      debitsPending: '60',
      creditsPending: '0',
      balance: '100',
      available: '40',
    });
    expect((await readAccount(t, c.shop)).body).toMatchObject({ creditsPending: '60', available: '0' });
    const read = await t.request('GET', `/v1/transfers/${response.body.id}?minPosition=${response.body.position}`);
    expect(read.body).toEqual(response.body);
    const balance = await t.request('GET', `/v1/accounts/${c.card}/balance?minPosition=${response.body.position}`);
    expect(balance.body).toMatchObject({ debitsPending: '60', creditsPending: '0', balance: '100', available: '40' });
  });

  it('holds count against the bound: beyond what is available is insufficient-funds, changing nothing', async () => {
    const c = await card();
    expect((await hold(c, '70')).status).toBe(201);
    await expectRefusedUnchanged(t, [c.card, c.shop], () => hold(c, '31'), 422, 'insufficient-funds');
    await expectRefusedUnchanged(
      t,
      [c.card, c.shop],
      () =>
        t.request('POST', '/v1/transfers', {
          id: uid('t'),
          debitAccountId: c.card,
          creditAccountId: c.shop,
          amount: '31',
          currency: 'USD',
        }),
      422,
      'insufficient-funds',
    );
  });

  it('a partial capture with final releases the rest; a repeat answers the first response; another body is 409', async () => {
    const c = await card();
    const h = (await hold(c, '60')).body;
    const capture = { id: uid('cap'), amount: '45' };
    const first = await t.request('POST', `/v1/transfers/${h.id}/post`, capture);
    expect(first.status, first.text).toBe(200);
    expect(first.body).toMatchObject({ id: h.id, status: 'posted', pendingAmount: '0', postedAmount: '45' });
    expect(first.body.recordedAt).toBe(h.recordedAt);
    const again = await t.request('POST', `/v1/transfers/${h.id}/post`, capture);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expectProblem(
      await t.request('POST', `/v1/transfers/${h.id}/post`, { ...capture, amount: '44' }),
      409,
      'idempotency-conflict',
    );
    expect((await readAccount(t, c.card)).body).toMatchObject({
      debitsPosted: '45',
      debitsPending: '0',
      available: '55',
    });
    expect((await readAccount(t, c.shop)).body).toMatchObject({ creditsPosted: '45', creditsPending: '0' });
  });

  it('posts with final: false keep the rest held; more than remains is exceeds-pending; a settled hold is transfer-not-pending', async () => {
    const c = await card();
    const h = (await hold(c, '60')).body;
    const one = await t.request('POST', `/v1/transfers/${h.id}/post`, { id: uid('p'), amount: '20', final: false });
    expect(one.body).toMatchObject({ status: 'pending', pendingAmount: '40', postedAmount: '20' });
    await expectRefusedUnchanged(
      t,
      [c.card, c.shop],
      () => t.request('POST', `/v1/transfers/${h.id}/post`, { id: uid('p'), amount: '41' }),
      422,
      'exceeds-pending',
    );
    const rest = await t.request('POST', `/v1/transfers/${h.id}/post`, { id: uid('p'), final: false });
    expect(rest.body).toMatchObject({ status: 'posted', pendingAmount: '0', postedAmount: '60' });
    await expectRefusedUnchanged(
      t,
      [c.card, c.shop],
      () => t.request('POST', `/v1/transfers/${h.id}/void`, { id: uid('v') }),
      422,
      'transfer-not-pending',
    );
  });

  it('a void releases everything: voided, pending back to zero, and no post after it', async () => {
    const c = await card();
    const h = (await hold(c, '60')).body;
    const voided = await t.request('POST', `/v1/transfers/${h.id}/void`, { id: uid('v'), reason: 'cancelled' });
    expect(voided.status, voided.text).toBe(200);
    expect(voided.body).toMatchObject({ status: 'voided', pendingAmount: '0', postedAmount: '0' });
    expect((await readAccount(t, c.card)).body).toMatchObject({ debitsPending: '0', available: '100' });
    await expectRefusedUnchanged(
      t,
      [c.card, c.shop],
      () => t.request('POST', `/v1/transfers/${h.id}/post`, { id: uid('p') }),
      422,
      'transfer-not-pending',
    );
    const read = await t.request('GET', `/v1/transfers/${h.id}?minPosition=${voided.body.position}`);
    expect(read.body).toEqual(voided.body);
  });

  it('refuses bad hold commands with a problem, changing nothing', async () => {
    const c = await card();
    const plain = await postTransfer(t, { id: uid('t'), debitAccountId: c.card, creditAccountId: c.shop, amount: '5' });
    const h = (await hold(c, '10')).body;
    const unchanged = (send: () => ReturnType<TestApp['request']>, status: number, slug: string) =>
      expectRefusedUnchanged(t, [c.card, c.shop], send, status, slug);
    await unchanged(
      () => t.request('POST', `/v1/transfers/${plain.id}/post`, { id: uid('p') }),
      422,
      'transfer-not-pending',
    );
    await unchanged(
      () => t.request('POST', `/v1/transfers/${uid('nope')}/void`, { id: uid('v') }),
      404,
      'transfer-not-found',
    );
    expectValidation(await t.request('POST', `/v1/transfers/${h.id}/post`, { id: uid('p'), amount: 5 }), 'body.amount');
    expectValidation(await t.request('POST', `/v1/transfers/${h.id}/post`, { amount: '5' }), 'body.id');
    expectValidation(await t.request('POST', `/v1/transfers/${h.id}/void`, { id: uid('v'), extra: 1 }), 'body');
    expectValidation(await hold(c, '1', { expiresAt: '2020-01-01T00:00:00.000Z' }), 'body.expiresAt');
    expectValidation(
      await t.request('POST', '/v1/transfers', {
        id: uid('t'),
        debitAccountId: c.card,
        creditAccountId: c.shop,
        amount: '1',
        currency: 'USD',
        expiresAt: new Date(Date.now() + 60_000).toISOString(),
      }),
      'body.expiresAt',
    );
    await unchanged(
      () => t.request('POST', `/v1/transfers/${h.id}/post`, { id: uid('p'), effectiveAt: '2020-01-01T00:00:00.000Z' }),
      422,
      'effective-time-out-of-range',
    );
  });

  it('an atomic batch may mix holds and plain transfers: all or none', async () => {
    const c = await card();
    const items = [
      { id: uid('h'), debitAccountId: c.card, creditAccountId: c.shop, amount: '30', currency: 'USD', pending: true },
      { id: uid('t'), debitAccountId: c.card, creditAccountId: c.shop, amount: '30', currency: 'USD' },
      { id: uid('h'), debitAccountId: c.card, creditAccountId: c.shop, amount: '41', currency: 'USD', pending: true },
    ];
    const refused = await t.request('POST', '/v1/transfers/batch', { transfers: items, atomic: true });
    expect(refused.body.results.map((r: { status: string }) => r.status)).toEqual(['failed', 'failed', 'failed']);
    expect(refused.body.results[2].problem.type).toMatch(/insufficient-funds$/);
    const ok = await t.request('POST', '/v1/transfers/batch', {
      transfers: [items[0], items[1], { ...items[2], amount: '40' }],
      atomic: true,
    });
    expect(ok.body.results.map((r: { transfer: { status: string } }) => r.transfer.status)).toEqual([
      'pending',
      'posted',
      'pending',
    ]);
    expect((await readAccount(t, c.card)).body).toMatchObject({
      debitsPosted: '30',
      debitsPending: '70',
      available: '0',
    });
  });

  it('a refund: reversals post the original backwards, never beyond what it posted', async () => {
    const c = await card();
    const buy = await postTransfer(t, {
      id: uid('buy'),
      debitAccountId: c.card,
      creditAccountId: c.shop,
      amount: '40',
    });
    const refundId = uid('refund');
    const refund = await t.request('POST', `/v1/transfers/${buy.id}/reverse`, {
      id: refundId,
      amount: '15',
      reason: 'returned',
    });
    expect(refund.status, refund.text).toBe(201);
    expect(refund.body).toMatchObject({
      id: refundId,
      reverses: buy.id,
      debitAccountId: c.shop,
      creditAccountId: c.card,
      amount: '15',
      status: 'posted',
      postedAmount: '15',
    });
    const again = await t.request('POST', `/v1/transfers/${buy.id}/reverse`, {
      id: refundId,
      amount: '15',
      reason: 'returned',
    });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(refund.body);
    expectProblem(
      await t.request('POST', `/v1/transfers/${buy.id}/reverse`, { id: refundId, amount: '16', reason: 'returned' }),
      409,
      'idempotency-conflict',
    );
    await expectRefusedUnchanged(
      t,
      [c.card, c.shop],
      () => t.request('POST', `/v1/transfers/${buy.id}/reverse`, { id: uid('r'), amount: '26', reason: 'x' }),
      422,
      'exceeds-reversible',
    );
    const rest = await t.request('POST', `/v1/transfers/${buy.id}/reverse`, { id: uid('r'), reason: 'rest' });
    expect(rest.body).toMatchObject({ amount: '25' });
    const original = await t.request('GET', `/v1/transfers/${buy.id}?minPosition=${await logHead(t)}`);
    expect(original.body).toMatchObject({ reversedAmount: '40', postedAmount: '40', status: 'posted' });
    expect((await readAccount(t, c.card)).body).toMatchObject({ balance: '100', available: '100' });
  });

  it('the same post id on another hold is a conflict: command ids are unique across the ledger', async () => {
    const c = await card();
    const h1 = (await hold(c, '10')).body;
    const h2 = (await hold(c, '10')).body;
    const id = uid('cap');
    expect((await t.request('POST', `/v1/transfers/${h1.id}/post`, { id })).status).toBe(200);
    await expectRefusedUnchanged(
      t,
      [c.card, c.shop],
      () => t.request('POST', `/v1/transfers/${h2.id}/post`, { id }),
      409,
      'idempotency-conflict',
    );
  });

  it('operators post, void and reverse; auditors read holds but may not', async () => {
    const c = await card();
    const h = (await hold(c, '10')).body;
    const read = await t.request(
      'GET',
      `/v1/transfers/${h.id}?minPosition=${h.position}`,
      undefined,
      bearer(TEST_KEYS.auditor),
    );
    expect(read.status).toBe(200);
    for (const route of ['post', 'void', 'reverse']) {
      const response = await t.request(
        'POST',
        `/v1/transfers/${h.id}/${route}`,
        { id: uid('x'), reason: 'r' },
        bearer(TEST_KEYS.auditor),
      );
      expectProblem(response, 403, 'forbidden');
    }
    const operatorVoid = await t.request(
      'POST',
      `/v1/transfers/${h.id}/void`,
      { id: uid('v') },
      bearer(TEST_KEYS.operator),
    );
    expect(operatorVoid.status, operatorVoid.text).toBe(200);
  });

  it('time travel covers holds and releases, and a replay from the events alone agrees with the read models', async () => {
    const c = await card();
    const h = (await hold(c, '60')).body;
    await new Promise((r) => setTimeout(r, 5));
    const part = (await t.request('POST', `/v1/transfers/${h.id}/post`, { id: uid('p'), amount: '20', final: false }))
      .body;
    expect(part).toMatchObject({ status: 'pending', postedAmount: '20', pendingAmount: '40' });
    await new Promise((r) => setTimeout(r, 5));
    const voided = (await t.request('POST', `/v1/transfers/${h.id}/void`, { id: uid('v') })).body;
    const at = async (asOf: string) =>
      (await t.request('GET', `/v1/accounts/${c.card}/balance?asOf=${asOf}&minPosition=${voided.position}`)).body;
    expect(await at(h.recordedAt)).toMatchObject({ debitsPending: '60', debitsPosted: '0', available: '40' });
    const events = await t.tdb.query<{ type: string; recorded_at: string }>(
      `select type, to_char(recorded_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as recorded_at
       from events where data->>'transferId' = $1 order by position`,
      [h.id],
    );
    const postAt = events.find((e) => e.type === 'PendingTransferPosted')!.recorded_at;
    const voidAt = events.find((e) => e.type === 'PendingTransferVoided')!.recorded_at;
    expect(await at(postAt)).toMatchObject({ debitsPending: '40', debitsPosted: '20' });
    expect(await at(voidAt)).toMatchObject({ debitsPending: '0', debitsPosted: '20', available: '80' });
    const replay = await t.request('POST', '/v1/audit/replay', { asOf: postAt, accountIds: [c.card, c.shop] });
    expect(replay.status, replay.text).toBe(200);
    expect(replay.body.mismatches).toBe(0);
    const now = await t.request('POST', '/v1/audit/replay', { asOf: new Date().toISOString() });
    expect(now.body.mismatches, now.text).toBe(0);
  });
});
