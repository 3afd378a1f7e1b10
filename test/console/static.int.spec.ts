import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_CONTENT_SECURITY_POLICY, consoleDir } from '../../src/api/console-static';
import { startTestApp, type TestApp } from '../support/app';

/** The console's files, served by the api role with no key and their own content policy. */
describe('GET /console', () => {
  let t: TestApp;
  beforeAll(async () => {
    // pretest builds the console (scripts/build-if-needed.mjs); without it there is nothing to serve.
    expect(consoleDir(), 'dist/console/index.html: run npm run build').toBeDefined();
    t = await startTestApp();
  });
  afterAll(() => t?.close());

  it('redirects /console to /console/ and serves index.html without a key, under a self-only policy', async () => {
    const bare = await t.request('GET', '/console', undefined, { authorization: undefined });
    expect(bare.status).toBe(308);
    expect(bare.headers.location).toBe('/console/');
    const page = await t.request('GET', '/console/', undefined, { authorization: undefined });
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.headers['content-security-policy']).toBe(CONSOLE_CONTENT_SECURITY_POLICY);
    expect(page.text).toContain('<div id="app">');
    // Nothing inline: every script and style comes from a file the policy allows.
    expect(page.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(page.text).not.toMatch(/<style|style=/);
    const script = /src="(\/console\/assets\/[^"]+\.js)"/.exec(page.text)![1]!;
    const asset = await t.request('GET', script, undefined, { authorization: undefined });
    expect(asset.status).toBe(200);
    expect(asset.headers['content-type']).toContain('text/javascript');
  });

  it('answers only the files of the build (404 problem otherwise, no path reaches the disk)', async () => {
    for (const path of ['/console/nope.js', '/console/assets', '/console/..%2fpackage.json']) {
      const response = await t.request('GET', path, undefined, { authorization: undefined });
      expect(response.status, path).toBe(404);
      expect(response.headers['content-type'], path).toContain('application/problem+json');
    }
    // The router normalises dot segments away: no longer a console path, and still nothing served.
    for (const path of ['/console/../package.json', '/console/%2e%2e/package.json']) {
      const outside = await t.request('GET', path, undefined, { authorization: undefined });
      expect(outside.status, path).not.toBe(200);
      expect(outside.text, path).not.toContain('"dependencies"');
    }
  });

  it('leaves the API under its own policy and keys', async () => {
    const api = await t.request('GET', '/v1/accounts', undefined, { authorization: undefined });
    expect(api.status).toBe(401);
    expect(api.headers['content-security-policy']).toContain("default-src 'none'");
    expect(api.headers['content-security-policy']).not.toContain("script-src 'self'");
  });
});

describe('GET /console on a process without the api role', () => {
  it('is not served', async () => {
    const t = await startTestApp({ LEDGER_ROLES: 'projector' });
    try {
      const fastify = t.ledger.app.getHttpAdapter().getInstance();
      const response = await fastify.inject({ method: 'GET', url: '/console/' });
      expect(response.statusCode).toBe(404);
    } finally {
      await t.close();
    }
  });
});
