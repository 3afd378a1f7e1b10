import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config';
import { startTestApp, type TestApp } from '../support/app';
import { TEST_KEYS, bearer } from '../support/keys';
import { expectProblem } from './api-helpers';

const LIMIT = 5;

describe('rate limit per API key', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ LEDGER_RATE_LIMIT: String(LIMIT) });
  });
  afterAll(() => t.close());
  afterEach(() => vi.useRealTimers());

  it('defaults to 5000 requests per second', () => {
    expect(loadConfig({}).LEDGER_RATE_LIMIT).toBe(5000);
  });

  it('answers 429 rate-limited with Retry-After past LEDGER_RATE_LIMIT in a second, per key, across routes; then lets the key in again', async () => {
    // The clock stands still, so every request below falls in one window whatever the machine's speed.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.parse('2030-01-01T00:00:00.000Z') });
    const operator = bearer(TEST_KEYS.operator);
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT; i++) {
      const path = i % 2 ? '/v1/accounts/nobody' : '/v1/transfers/nobody';
      statuses.push((await t.request('GET', path, undefined, operator)).status);
    }
    expect(statuses).toEqual(Array(LIMIT).fill(404));
    const limited = await t.request('GET', '/v1/accounts/nobody', undefined, operator);
    expectProblem(limited, 429, 'rate-limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(limited.body.detail).toContain('LEDGER_RATE_LIMIT');
    // A write is refused too, and changes nothing.
    expectProblem(
      await t.request('POST', '/v1/accounts', { id: 'limited', currency: 'USD' }, operator),
      429,
      'rate-limited',
    );

    // Another key has its own budget; routes that need no key are never limited.
    expect((await t.request('GET', '/v1/accounts/nobody', undefined, bearer(TEST_KEYS.auditor))).status).toBe(404);
    expect((await t.request('GET', '/health/live', undefined, { authorization: undefined })).status).toBe(200);

    vi.setSystemTime(Date.parse('2030-01-01T00:00:01.000Z'));
    expect((await t.request('GET', '/v1/accounts/limited', undefined, operator)).status).toBe(404);
  });
});
