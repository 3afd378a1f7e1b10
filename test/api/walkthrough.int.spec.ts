import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app';

describe('the walk-through of README.md and docs/api-guide.md', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('opens two accounts, posts a transfer, and reads the balance and entries', async () => {
    const alice = await t.request('POST', '/v1/accounts', {
      id: 'alice',
      currency: 'USD',
      flags: { debitsMustNotExceedCredits: true },
    });
    expect(alice.status, JSON.stringify(alice.body)).toBe(201);
    const bank = await t.request('POST', '/v1/accounts', { id: 'bank', currency: 'USD', normalSide: 'debit' });
    expect(bank.status).toBe(201);
    const transfer = await t.request('POST', '/v1/transfers', {
      id: 't1',
      debitAccountId: 'bank',
      creditAccountId: 'alice',
      amount: '1050',
      currency: 'USD',
    });
    expect(transfer.status, JSON.stringify(transfer.body)).toBe(201);
    const position = transfer.body.position;
    const balance = await t.request('GET', `/v1/accounts/alice/balance?minPosition=${position}`);
    expect(balance.status, JSON.stringify(balance.body)).toBe(200);
    expect(balance.body.balance).toBe('1050');
    const bankAccount = await t.request('GET', `/v1/accounts/bank?minPosition=${position}`);
    expect(bankAccount.body.balance).toBe('1050');
    const entries = await t.request('GET', `/v1/accounts/alice/entries?minPosition=${position}`);
    expect(entries.body).toMatchObject({
      items: [{ transferId: 't1', side: 'credit', amount: '1050', balanceAfter: '1050' }],
      nextCursor: null,
    });
    const again = await t.request('POST', '/v1/transfers', {
      id: 't1',
      debitAccountId: 'bank',
      creditAccountId: 'alice',
      amount: '1050',
      currency: 'USD',
    });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(transfer.body);
    const overdraw = await t.request('POST', '/v1/transfers', {
      id: 't2',
      debitAccountId: 'alice',
      creditAccountId: 'bank',
      amount: '1051',
      currency: 'USD',
    });
    expect(overdraw.status).toBe(422);
    expect(overdraw.headers['content-type']).toContain('application/problem+json');
    expect(overdraw.body.type).toMatch(/insufficient-funds$/);
    const missing = await t.request('GET', '/v1/nope');
    expect(missing.status).toBe(404);
    expect(missing.headers['content-type']).toContain('application/problem+json');
  });
});
