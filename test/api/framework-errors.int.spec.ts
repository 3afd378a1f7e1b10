/**
 * The framework's own refusals keep the contract (docs/contract.md, "Errors"): over a real socket,
 * so Node's HTTP parser (431) and Fastify's router (bad percent-encoding) answer as they would in
 * production, every refusal is application/problem+json with a stable slug, and the OpenAPI
 * document lists it for the route.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app';
import { TEST_KEYS } from '../support/keys';

interface RawAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: { type?: string; status?: number; title?: string; detail?: string; errors?: unknown[] };
}

/** One HTTP/1.1 request written by hand (no client to fix the URL up), the answer parsed. */
function raw(port: number, method: string, target: string, headers: Record<string, string> = {}, body = '') {
  return new Promise<RawAnswer>((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const [head = '', payload = ''] = text.split('\r\n\r\n');
      const status = Number(head.split(' ')[1]);
      const contentType = /content-type: ([^\r\n]*)/i.exec(head)?.[1] ?? '';
      let parsed = {};
      try {
        parsed = JSON.parse(payload);
      } catch {
        // not JSON: the assertions below say so
      }
      resolve({ status, contentType, body: parsed });
    });
    const all = {
      host: '127.0.0.1',
      authorization: `Bearer ${TEST_KEYS.admin}`,
      connection: 'close',
      ...(body ? { 'content-length': String(Buffer.byteLength(body)) } : {}),
      ...headers,
    };
    const lines = Object.entries(all).map(([name, value]) => `${name}: ${value}`);
    socket.write(`${method} ${target} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n${body}`);
  });
}

describe("the framework's own refusals", () => {
  let t: TestApp;
  let port: number;
  beforeAll(async () => {
    t = await startTestApp({ LEDGER_BODY_LIMIT_BYTES: '4096' });
    await t.ledger.app.listen({ port: 0, host: '127.0.0.1' });
    port = (t.ledger.app.getHttpServer().address() as net.AddressInfo).port;
  });
  afterAll(() => t.close());

  const expectProblem = (answer: RawAnswer, status: number, slug: string) => {
    expect(answer.status).toBe(status);
    expect(answer.contentType).toContain('application/problem+json');
    expect(answer.body).toMatchObject({ type: `/problems/${slug}`, status, title: expect.any(String) });
    expect(answer.body.detail).toEqual(expect.any(String));
  };

  it.each([
    ['GET', '/v1/accounts/%E0%A4%A/balance'],
    ['POST', '/v1/accounts/%FF/freeze'],
  ])('%s %s (not percent-encoding): 400 validation naming the path', async (method, target) => {
    const answer = await raw(port, method, target, { 'content-type': 'application/json' }, '{"reason":"x"}');
    expectProblem(answer, 400, 'validation');
    expect(answer.body.errors).toEqual([{ path: 'path', message: expect.any(String) }]);
  });

  it('a 100 KB query string: 431 headers-too-large', async () => {
    const answer = await raw(port, 'GET', `/v1/accounts/a?minPosition=${'1'.repeat(100_000)}`);
    expectProblem(answer, 431, 'headers-too-large');
  });

  it('a request line that is not HTTP: 400 malformed-request', async () => {
    const answer = await raw(port, 'G E T', '/v1/accounts');
    expectProblem(answer, 400, 'malformed-request');
  });

  it('an unknown route: 404 not-found', async () => {
    expectProblem(await raw(port, 'GET', '/v1/nope'), 404, 'not-found');
  });

  it('a text/plain body on freeze: 415; a body over the limit: 413', async () => {
    expectProblem(
      await raw(port, 'POST', '/v1/accounts/a/freeze', { 'content-type': 'text/plain' }, 'x'),
      415,
      'unsupported-media-type',
    );
    const big = JSON.stringify({ id: 'a', currency: 'USD', metadata: { k: 'x'.repeat(8000) } });
    expectProblem(
      await raw(port, 'POST', '/v1/accounts', { 'content-type': 'application/json' }, big),
      413,
      'payload-too-large',
    );
  });

  it('the OpenAPI document lists these statuses on the routes that answered them', async () => {
    const document = (await t.request('GET', '/openapi.json')).body;
    expect(Object.keys(document.paths['/v1/accounts/{id}/balance'].get.responses)).toEqual(
      expect.arrayContaining(['400', '401', '403', '404', '415', '429', '431', '503']),
    );
    for (const verb of ['freeze', 'unfreeze', 'close']) {
      const responses = document.paths[`/v1/accounts/{id}/${verb}`].post.responses;
      expect(Object.keys(responses), verb).toEqual(expect.arrayContaining(['400', '413', '415', '429', '431']));
      expect(responses['415'].content).toHaveProperty(['application/problem+json']);
    }
  });
});
