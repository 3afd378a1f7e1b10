import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app';
import { expectProblem, expectValidation } from './api-helpers';

const ORIGIN = 'https://console.example.com';

describe('hardening', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('sends security headers on API answers, refusals included', async () => {
    for (const response of [
      await t.request('GET', '/v1/accounts/nobody'),
      await t.request('GET', '/v1/accounts/nobody', undefined, { authorization: undefined }),
      await t.request('GET', '/health/live'),
    ]) {
      expect(response.headers['content-security-policy']).toBe(
        "default-src 'none';frame-ancestors 'none';base-uri 'none';form-action 'none'",
      );
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.headers['strict-transport-security']).toMatch(/max-age=\d+/);
      expect(response.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(response.headers['referrer-policy']).toBe('no-referrer');
      expect(response.headers['cross-origin-resource-policy']).toBe('same-origin');
      expect(response.headers['x-powered-by']).toBeUndefined();
    }
  });

  it('lets /docs run Swagger UI: its own scripts and styles, no inline script, no forced https', async () => {
    let response = await t.request('GET', '/docs', undefined, { authorization: undefined });
    if (response.status === 302)
      response = await t.request('GET', String(response.headers.location), undefined, { authorization: undefined });
    expect(response.status).toBe(200);
    const csp = String(response.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toContain('upgrade-insecure-requests');
    const scripts = [...response.text.matchAll(/<script([^>]*)>/g)].map((match) => match[1]!);
    expect(scripts.length).toBeGreaterThan(0);
    for (const attributes of scripts) expect(attributes).toMatch(/\bsrc=/);
    const initializer = await t.request('GET', '/docs/static/swagger-initializer.js', undefined, {
      authorization: undefined,
    });
    expect(initializer.status).toBe(200);
  });

  it('sends no CORS headers unless LEDGER_CORS_ORIGINS allows the origin', async () => {
    const simple = await t.request('GET', '/v1/accounts/nobody', undefined, { origin: ORIGIN });
    expect(simple.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await t.request('OPTIONS', '/v1/accounts', undefined, {
      origin: ORIGIN,
      'access-control-request-method': 'POST',
      authorization: undefined,
    });
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    expect(preflight.status).toBeGreaterThanOrEqual(400);
  });

  it('answers an unexpected failure with 500 internal and no stack, message or file name', async () => {
    const readModels = t.ledger.readModels as { account: (id: string) => Promise<unknown> };
    const original = readModels.account;
    readModels.account = async () => {
      throw new Error('boom: password=hunter2 at /srv/ledger/src/projections/queries.ts:66');
    };
    try {
      const response = await t.request('GET', '/v1/accounts/anyone');
      expectProblem(response, 500, 'internal');
      expect(response.text).not.toMatch(/hunter2|boom|queries\.ts|\bat \S+:\d+/);
      expect(Object.keys(response.body).sort()).toEqual(['detail', 'instance', 'status', 'title', 'type']);
    } finally {
      readModels.account = original;
    }
  });

  it('refuses unknown fields inside batch items too', async () => {
    const response = await t.request('POST', '/v1/transfers/batch', {
      transfers: [{ id: 'x1', debitAccountId: 'a', creditAccountId: 'b', amount: '1', currency: 'USD', sneaky: true }],
    });
    expectValidation(response, 'body.transfers.0');
    expect(response.text).toContain('sneaky');
  });
});

describe('CORS when configured', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ LEDGER_CORS_ORIGINS: `${ORIGIN}, https://other.example.com` });
  });
  afterAll(() => t.close());

  it('answers a preflight from an allowed origin without a key, and allows the bearer header', async () => {
    const preflight = await t.request('OPTIONS', '/v1/transfers', undefined, {
      origin: ORIGIN,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization,content-type',
      authorization: undefined,
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe(ORIGIN);
    expect(String(preflight.headers['access-control-allow-headers'])).toContain('authorization');
  });

  it('names an allowed origin on answers, and no other', async () => {
    const allowed = await t.request('GET', '/v1/accounts/nobody', undefined, { origin: ORIGIN });
    expect(allowed.headers['access-control-allow-origin']).toBe(ORIGIN);
    const other = await t.request('GET', '/v1/accounts/nobody', undefined, { origin: 'https://evil.example.com' });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });
});
