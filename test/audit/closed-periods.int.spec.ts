import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKeyId } from '../../src/api/auth/api-keys';
import { startTestApp, type TestApp } from '../support/app';
import { TEST_API_KEYS, TEST_KEYS, bearer } from '../support/keys';
import {
  expectProblem,
  expectRefusedUnchanged,
  expectValidation,
  logHead,
  openAccount,
  readAccount,
} from '../api/api-helpers';

/** A second admin key: four eyes need two keys that may approve. */
const SECOND_ADMIN = 'test-second-admin-key-51b0c9e7d2a4';

/**
 * Closed periods and prior-period adjustments (docs/contract.md, "Closed periods"; ADR 0033),
 * through the API against the real PostgreSQL: a backdated posting into a closed period is refused
 * and changes nothing; an adjustment posts only once another key approves it.
 */
describe('closed periods and prior-period adjustments', () => {
  let t: TestApp;
  let openedAt: string;
  let through: string;
  beforeAll(async () => {
    t = await startTestApp({ LEDGER_API_KEYS: `${TEST_API_KEYS},${SECOND_ADMIN}:admin` });
    const opened = [
      await openAccount(t, { id: 'cp-bank', normalSide: 'debit' }),
      await openAccount(t, { id: 'cp-alice' }),
      await openAccount(t, { id: 'cp-bounded', flags: { debitsMustNotExceedCredits: true } }),
    ];
    openedAt = opened
      .map((account) => account.openedAt as string)
      .sort()
      .at(-1)!;
    await sleep(30);
    // The period: from the accounts' opening to a moment ago.
    through = new Date(Date.now() - 10).toISOString();
    await sleep(5);
  });
  afterAll(() => t.close());

  const inPeriod = () => new Date(Date.parse(openedAt) + 5).toISOString();
  const transfer = (id: string, extra: Record<string, unknown> = {}) => ({
    id,
    debitAccountId: 'cp-bank',
    creditAccountId: 'cp-alice',
    amount: '10',
    currency: 'USD',
    ...extra,
  });

  it('before any close: nothing is closed, and an adjustment is refused as not needed', async () => {
    const periods = await t.request('GET', '/v1/periods');
    expect(periods.status, periods.text).toBe(200);
    expect(periods.body).toEqual({ closedThrough: null, items: [], nextCursor: null });
    await expectRefusedUnchanged(
      t,
      ['cp-bank', 'cp-alice'],
      () => t.request('POST', '/v1/transfers', transfer('adj-early', { effectiveAt: inPeriod(), adjustment: true })),
      422,
      'not-in-closed-period',
    );
    // A backdated posting is fine while nothing is closed.
    const early = await t.request('POST', '/v1/transfers', transfer('early', { effectiveAt: inPeriod() }));
    expect(early.status, early.text).toBe(201);
    const hold = await t.request(
      'POST',
      '/v1/transfers',
      transfer('early-hold', { effectiveAt: inPeriod(), pending: true }),
    );
    expect(hold.status, hold.text).toBe(201);
  });

  it('only an admin closes; operators, auditors and analysts get 403', async () => {
    for (const role of ['operator', 'auditor', 'analyst'] as const) {
      const response = await t.request(
        'POST',
        '/v1/periods/close',
        { through, reason: 'month end' },
        bearer(TEST_KEYS[role]),
      );
      expectProblem(response, 403, 'forbidden');
    }
  });

  it('closes through an instant, once; the same close again changes nothing; earlier or future ones are refused', async () => {
    const closed = await t.request('POST', '/v1/periods/close', { through, reason: 'month end' });
    expect(closed.status, closed.text).toBe(201);
    expect(closed.body).toMatchObject({ through, reason: 'month end', closedBy: apiKeyId(TEST_KEYS.admin) });
    const head = await logHead(t);
    const again = await t.request('POST', '/v1/periods/close', { through, reason: 'said twice' });
    expect(again.status, again.text).toBe(200);
    expect(again.body).toEqual(closed.body);
    expect(await logHead(t)).toBe(head);

    await expectRefusedUnchanged(
      t,
      [],
      () => t.request('POST', '/v1/periods/close', { through: openedAt, reason: 'earlier' }),
      422,
      'period-close-not-later',
    );
    await expectRefusedUnchanged(
      t,
      [],
      () =>
        t.request('POST', '/v1/periods/close', {
          through: new Date(Date.now() + 60_000).toISOString(),
          reason: 'not over',
        }),
      422,
      'period-not-over',
    );
    expectValidation(
      await t.request('POST', '/v1/periods/close', { through: 'yesterday', reason: 'x' }),
      'body.through',
    );
    expectValidation(await t.request('POST', '/v1/periods/close', { through }), 'body.reason');

    const periods = await t.request('GET', '/v1/periods');
    expect(periods.body).toEqual({ closedThrough: through, items: [closed.body], nextCursor: null });
    const events = await t.tdb.query<{ type: string; actor: string }>(
      `select type, metadata->>'actor' as actor from events where stream_id = 'periods' order by position`,
    );
    expect(events).toEqual([{ type: 'PeriodClosed', actor: apiKeyId(TEST_KEYS.admin) }]);
  });

  it('a posting backdated into the closed period is refused with period-closed and changes nothing', async () => {
    const accounts = ['cp-bank', 'cp-alice'];
    const refused = await expectRefusedUnchanged(
      t,
      accounts,
      () => t.request('POST', '/v1/transfers', transfer('late', { effectiveAt: inPeriod() })),
      422,
      'period-closed',
    );
    expect(refused.body.detail).toMatch(/adjustment: true/);
    // At through itself, too (through is inclusive).
    await expectRefusedUnchanged(
      t,
      accounts,
      () => t.request('POST', '/v1/transfers', transfer('late-at', { effectiveAt: through })),
      422,
      'period-closed',
    );
    // A batch item is refused the same way; an atomic batch posts nothing.
    const batch = await t.request('POST', '/v1/transfers/batch', {
      atomic: true,
      transfers: [transfer('b-now'), transfer('b-late', { effectiveAt: inPeriod() })],
    });
    expect(batch.status).toBe(200);
    expect(batch.body.results.map((r: { status: string; problem?: { type: string } }) => r.problem?.type)).toEqual([
      '/problems/batch-aborted',
      '/problems/period-closed',
    ]);
    // A hold backdated into it, and a reversal backdated into it, are refused too.
    await expectRefusedUnchanged(
      t,
      accounts,
      () => t.request('POST', '/v1/transfers', transfer('late-hold', { effectiveAt: inPeriod(), pending: true })),
      422,
      'period-closed',
    );
    await expectRefusedUnchanged(
      t,
      accounts,
      () =>
        t.request('POST', '/v1/transfers/early/reverse', { id: 'late-reversal', reason: 'x', effectiveAt: through }),
      422,
      'period-closed',
    );
    // A hold held in the closed period: posting it into the period is refused, posting it now is not.
    await expectRefusedUnchanged(
      t,
      accounts,
      () => t.request('POST', '/v1/transfers/early-hold/post', { id: 'hold-post-late', effectiveAt: through }),
      422,
      'period-closed',
    );
    const holdPost = await t.request('POST', '/v1/transfers/early-hold/post', { id: 'hold-post-now', amount: '4' });
    expect(holdPost.status, holdPost.text).toBe(200);
    expect(holdPost.body).toMatchObject({ status: 'posted', postedAmount: '4' });
    // After the period: posts as ever; a reversal recorded now of a transfer in the closed period is fine.
    expect((await t.request('POST', '/v1/transfers', transfer('now'))).status).toBe(201);
    const reversal = await t.request('POST', '/v1/transfers/early/reverse', { id: 'early-reversal', reason: 'refund' });
    expect(reversal.status, reversal.text).toBe(201);
  });

  it('an adjustment is recorded pending, moves nothing, and posts only when another key approves it', async () => {
    const accounts = ['cp-bank', 'cp-alice'];
    const before = (await readAccount(t, 'cp-alice')).body;
    const effectiveAt = inPeriod();
    const body = transfer('adj-1', { effectiveAt, adjustment: true, reference: 'missed invoice' });
    const requested = await t.request('POST', '/v1/transfers', body, bearer(TEST_KEYS.operator));
    expect(requested.status, requested.text).toBe(202);
    expect(requested.body).toMatchObject({
      id: 'adj-1',
      status: 'pending',
      transfer: { id: 'adj-1', amount: '10', effectiveAt, reference: 'missed invoice' },
      closedThrough: through,
      requestedBy: apiKeyId(TEST_KEYS.operator),
    });
    expect(requested.body.approvedBy).toBeUndefined();
    // Nothing moved: not the account, not the transfer.
    expect((await readAccount(t, 'cp-alice')).body.creditsPosted).toBe(before.creditsPosted);
    expectProblem(
      await t.request('GET', `/v1/transfers/adj-1?minPosition=${requested.body.position}`),
      404,
      'transfer-not-found',
    );
    // The same request again answers the same; another body with the id is a conflict.
    const again = await t.request('POST', '/v1/transfers', body, bearer(TEST_KEYS.operator));
    expect(again.status).toBe(200);
    expect(again.body).toEqual(requested.body);
    await expectRefusedUnchanged(
      t,
      accounts,
      () => t.request('POST', '/v1/transfers', { ...body, amount: '11' }, bearer(TEST_KEYS.operator)),
      409,
      'idempotency-conflict',
    );

    // The requester cannot approve it (an operator may not approve at all; here it is about the key).
    await expectRefusedUnchanged(
      t,
      accounts,
      () => t.request('POST', '/v1/adjustments/adj-1/approve', undefined, bearer(TEST_KEYS.operator)),
      403,
      'forbidden',
    );
    const approved = await t.request('POST', '/v1/adjustments/adj-1/approve');
    expect(approved.status, approved.text).toBe(200);
    expect(approved.body).toMatchObject({
      id: 'adj-1',
      status: 'approved',
      requestedBy: apiKeyId(TEST_KEYS.operator),
      approvedBy: apiKeyId(TEST_KEYS.admin),
    });
    const posted = await t.request('GET', `/v1/transfers/adj-1?minPosition=${approved.body.position}`);
    expect(posted.status, posted.text).toBe(200);
    expect(posted.body).toMatchObject({ id: 'adj-1', amount: '10', effectiveAt, status: 'posted' });
    expect(BigInt((await readAccount(t, 'cp-alice')).body.creditsPosted)).toBe(BigInt(before.creditsPosted) + 10n);
    // As of the closed period, the balance includes it now.
    const asOf = await t.request(
      'GET',
      `/v1/accounts/cp-alice/balance?asOf=${through}&minPosition=${approved.body.position}`,
    );
    expect(asOf.body.creditsPosted).toBe('20'); // 'early' (10) and the adjustment (10)

    // Approving again, by either admin: the first approval stands, nothing is appended.
    const head = await logHead(t);
    for (const key of [TEST_KEYS.admin, SECOND_ADMIN]) {
      const twice = await t.request('POST', '/v1/adjustments/adj-1/approve', undefined, bearer(key));
      expect(twice.status, twice.text).toBe(200);
      expect(twice.body).toEqual(approved.body);
    }
    expect(await logHead(t)).toBe(head);
    expect((await t.request('GET', '/v1/adjustments/adj-1')).body).toEqual(approved.body);

    // The log: the request, then the approval and the posting it caused, each with its actor.
    const events = await t.tdb.query<{ type: string; stream: string; actor: string; causation: string; id: string }>(
      `select e.type, e.stream_id as stream, e.metadata->>'actor' as actor, e.metadata->>'causationId' as causation,
              e.event_id::text as id
       from events e where e.stream_id in ('adjustment-adj-1', 'transfer-adj-1') order by e.position`,
    );
    expect(events.map(({ type, stream, actor }) => ({ type, stream, actor }))).toEqual([
      { type: 'AdjustmentRequested', stream: 'adjustment-adj-1', actor: apiKeyId(TEST_KEYS.operator) },
      { type: 'AdjustmentApproved', stream: 'adjustment-adj-1', actor: apiKeyId(TEST_KEYS.admin) },
      { type: 'TransferPosted', stream: 'transfer-adj-1', actor: apiKeyId(TEST_KEYS.admin) },
    ]);
    expect(events[2]!.causation).toBe(events[1]!.id);
  });

  it('four eyes: the key that requested an adjustment cannot approve it; another admin can', async () => {
    const body = transfer('adj-self', { effectiveAt: inPeriod(), adjustment: true });
    expect((await t.request('POST', '/v1/transfers', body)).status).toBe(202);
    const refused = await expectRefusedUnchanged(
      t,
      ['cp-bank', 'cp-alice'],
      () => t.request('POST', '/v1/adjustments/adj-self/approve'),
      403,
      'self-approval',
    );
    expect(refused.body.detail).toMatch(/another API key must approve it/);
    expect((await t.request('GET', '/v1/adjustments/adj-self')).body.status).toBe('pending');
    const approved = await t.request('POST', '/v1/adjustments/adj-self/approve', undefined, bearer(SECOND_ADMIN));
    expect(approved.status, approved.text).toBe(200);
    expect(approved.body.approvedBy).toBe(apiKeyId(SECOND_ADMIN));
    // Still refused to the requester once approved: its key never approves its own.
    expectProblem(await t.request('POST', '/v1/adjustments/adj-self/approve'), 403, 'self-approval');
  });

  it('an approval is decided again: without the funds now it is refused and the adjustment stays pending', async () => {
    const body = {
      id: 'adj-funds',
      debitAccountId: 'cp-bounded',
      creditAccountId: 'cp-alice',
      amount: '5',
      currency: 'USD',
      effectiveAt: inPeriod(),
      adjustment: true,
    };
    const requested = await t.request('POST', '/v1/transfers', body, bearer(TEST_KEYS.operator));
    expectProblem(requested, 422, 'insufficient-funds');
    expectProblem(await t.request('GET', '/v1/adjustments/adj-funds'), 404, 'adjustment-not-found');
  });

  it('refuses adjustments that are not plain transfers into a closed period, and unknown ones', async () => {
    expectValidation(
      await t.request('POST', '/v1/transfers', transfer('adj-x', { adjustment: true })),
      'body.effectiveAt',
    );
    expectValidation(
      await t.request(
        'POST',
        '/v1/transfers',
        transfer('adj-y', { adjustment: true, pending: true, effectiveAt: inPeriod() }),
      ),
      'body.adjustment',
    );
    await expectRefusedUnchanged(
      t,
      [],
      () =>
        t.request(
          'POST',
          '/v1/transfers',
          transfer('adj-z', { adjustment: true, effectiveAt: new Date().toISOString() }),
        ),
      422,
      'not-in-closed-period',
    );
    await expectRefusedUnchanged(
      t,
      [],
      () => t.request('POST', '/v1/transfers', transfer('now', { adjustment: true, effectiveAt: inPeriod() })),
      409,
      'idempotency-conflict',
    );
    expectProblem(await t.request('POST', '/v1/adjustments/nope/approve'), 404, 'adjustment-not-found');
    expectProblem(await t.request('GET', '/v1/adjustments/nope'), 404, 'adjustment-not-found');
  });

  it('the replay counts an adjustment only once approved', async () => {
    expect(
      (await t.request('POST', '/v1/transfers', transfer('adj-open', { effectiveAt: inPeriod(), adjustment: true })))
        .status,
    ).toBe(202);
    await readAccount(t, 'cp-alice');
    const replay = await t.request('POST', '/v1/audit/replay', { asOf: through, accountIds: ['cp-alice'] });
    expect(replay.status, replay.text).toBe(200);
    expect(replay.body.mismatches).toBe(0);
    // early, adj-1 and adj-self: 30; the pending adj-open is not counted.
    expect(replay.body.accounts[0]).toMatchObject({ accountId: 'cp-alice', creditsPosted: '30', matches: true });
  });

  it('a statement says which period is closed as known at its knownAt, and holds the approved adjustments', async () => {
    const head = await logHead(t);
    const statement = await t.request(
      'GET',
      `/v1/accounts/cp-alice/statement?from=${openedAt}&to=${through}&minPosition=${head}`,
    );
    expect(statement.status, statement.text).toBe(200);
    expect(statement.body.closedThrough).toBe(through);
    expect(statement.body.entries.map((e: { transferId: string }) => e.transferId).sort()).toEqual([
      'adj-1',
      'adj-self',
      'early',
    ]);
    const closeAt = (await t.request('GET', '/v1/periods')).body.items[0].closedAt as string;
    const before = await t.request(
      'GET',
      `/v1/accounts/cp-alice/statement?from=${openedAt}&to=${through}&knownAt=${new Date(Date.parse(closeAt) - 1).toISOString()}&minPosition=${head}`,
    );
    expect(before.status, before.text).toBe(200);
    expect(before.body.closedThrough).toBeNull();
    expect(before.body.entries.map((e: { transferId: string }) => e.transferId)).toEqual(['early']);
    const csv = await t.request('GET', `/v1/accounts/cp-alice/statement?from=${openedAt}&to=${through}&format=csv`);
    const [header, opening] = csv.text.split('\r\n');
    expect(header!.split(',').at(-1)).toBe('closedThrough');
    expect(opening!.split(',').at(-1)).toBe(through);
  });

  it('a later close supersedes the earlier one; the list pages oldest first', async () => {
    await sleep(5);
    const later = new Date(Date.now() - 1).toISOString();
    const closed = await t.request('POST', '/v1/periods/close', { through: later, reason: 'next' });
    expect(closed.status, closed.text).toBe(201);
    const first = await t.request('GET', '/v1/periods?limit=1');
    expect(first.body.closedThrough).toBe(later);
    expect(first.body.items.map((i: { through: string }) => i.through)).toEqual([through]);
    const second = await t.request('GET', `/v1/periods?limit=1&cursor=${first.body.nextCursor}`);
    expect(second.body.items.map((i: { through: string }) => i.through)).toEqual([later]);
    expect(second.body.nextCursor).toBeNull();
  });
});
