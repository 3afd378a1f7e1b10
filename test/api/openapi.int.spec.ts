import { createConfig, lintFromString } from '@redocly/openapi-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app';

/** Every path of the v1 contract (docs/contract.md, "HTTP v1") that this build serves. */
const CONTRACT_PATHS: Record<string, string[]> = {
  '/v1/accounts': ['get', 'post'],
  '/v1/accounts/{id}/balance-history': ['get'],
  '/v1/accounts/{id}': ['get'],
  '/v1/accounts/{id}/balance': ['get'],
  '/v1/accounts/{id}/entries': ['get'],
  '/v1/accounts/{id}/freeze': ['post'],
  '/v1/accounts/{id}/unfreeze': ['post'],
  '/v1/accounts/{id}/close': ['post'],
  '/v1/transfers': ['get', 'post'],
  '/v1/transfers/batch': ['post'],
  '/v1/transfers/{id}': ['get'],
  '/health/live': ['get'],
  '/health/ready': ['get'],
  '/metrics': ['get'],
};

describe('OpenAPI, docs and health', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('GET /openapi.json is an OpenAPI 3.1.0 document with every contract path and method', async () => {
    const response = await t.request('GET', '/openapi.json');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toContain('application/json');
    const document = response.body;
    expect(document.openapi).toBe('3.1.0');
    expect(document.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    for (const [path, methods] of Object.entries(CONTRACT_PATHS)) {
      expect(document.paths, `missing ${path}`).toHaveProperty([path]);
      for (const method of methods) expect(document.paths[path], `missing ${method} ${path}`).toHaveProperty(method);
    }
  });

  it("passes Redocly's recommended rules with no error and no warning (servers, operationIds, 4xx, licence)", async () => {
    const served = (await t.request('GET', '/openapi.json')).text;
    const problems = await lintFromString({ source: served, config: await createConfig({ extends: ['recommended'] }) });
    expect(problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`)).toEqual([]);
    const operationIds = Object.values(
      JSON.parse(served).paths as Record<string, Record<string, { operationId: string }>>,
    ).flatMap((item) => Object.values(item).map((operation) => operation.operationId));
    expect(operationIds).toContain('openAccount');
    expect(new Set(operationIds).size).toBe(operationIds.length);
  });

  it('describes amounts as strings and errors as application/problem+json', async () => {
    const document = (await t.request('GET', '/openapi.json')).body;
    const transferPost = document.paths['/v1/transfers'].post;
    const request = resolve(document, transferPost.requestBody.content['application/json'].schema);
    expect(request.properties.amount.type).toBe('string');
    expect(request.required).toEqual(
      expect.arrayContaining(['id', 'debitAccountId', 'creditAccountId', 'amount', 'currency']),
    );
    expect(request.additionalProperties).toBe(false);
    for (const status of ['400', '404', '409', '422']) {
      expect(transferPost.responses[status].content).toHaveProperty(['application/problem+json']);
    }
    expect(Object.keys(transferPost.responses)).toEqual(expect.arrayContaining(['200', '201']));
    const entries = document.paths['/v1/accounts/{id}/entries'].get.parameters.map((p: { name: string }) => p.name);
    expect(entries).toEqual(expect.arrayContaining(['id', 'limit', 'cursor', 'minPosition']));
    const balance = document.paths['/v1/accounts/{id}/balance'].get.parameters.map((p: { name: string }) => p.name);
    expect(balance).toEqual(expect.arrayContaining(['id', 'asOf', 'knownAt', 'minPosition']));
  });

  it('every $ref resolves against the document (OpenAPI 3.1 resolves "#/…" from the document root)', async () => {
    const document = (await t.request('GET', '/openapi.json')).body;
    const refs: string[] = [];
    const walk = (value: unknown): void => {
      if (Array.isArray(value)) {
        for (const item of value) walk(item);
        return;
      }
      if (value === null || typeof value !== 'object') return;
      for (const [key, inner] of Object.entries(value)) {
        if (key === '$ref' && typeof inner === 'string') refs.push(inner);
        else walk(inner);
      }
    };
    walk(document);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of new Set(refs)) {
      expect(ref.startsWith('#/'), ref).toBe(true);
      expect(pointer(document, ref), `unresolvable $ref ${ref}`).toBeDefined();
    }
    for (const name of [
      'Account',
      'Transfer',
      'Problem',
      'TransferRequest',
      'OpenAccountRequest',
      'TransferBatchResult',
    ]) {
      expect(document.components?.schemas, name).toHaveProperty([name]);
    }
  });

  it('GET /docs answers HTML', async () => {
    let response = await t.request('GET', '/docs');
    for (let hops = 0; hops < 3 && response.status >= 300 && response.status < 400; hops++) {
      response = await t.request('GET', String(response.headers.location));
    }
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toContain('text/html');
    expect(response.text.toLowerCase()).toContain('<html');
  });

  it('GET /health/live answers 200', async () => {
    const response = await t.request('GET', '/health/live');
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ status: 'up' });
  });

  it('GET /health/ready answers 200 with the database up', async () => {
    const response = await t.request('GET', '/health/ready');
    expect(response.status, response.text).toBe(200);
    expect(response.body.status).toBe('up');
    expect(response.body.checks.database.status).toBe('up');
    expect(response.body.checks.projector.status).toBe('up');
  });
});

/** The value a JSON pointer fragment (`#/a/b`) names in the document, or undefined. */
function pointer(document: unknown, ref: string): unknown {
  return ref
    .slice(2)
    .split('/')
    .map((part) => decodeURIComponent(part).replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce<unknown>(
      (node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined),
      document,
    );
}

/** A schema, or the schema its `$ref` names. */
function resolve(document: unknown, schema: { $ref?: string }): any {
  return schema.$ref ? pointer(document, schema.$ref) : schema;
}
