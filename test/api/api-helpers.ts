import { expect } from 'vitest';
import type { TestApp, TestResponse } from '../support/app';

/** 2^127 − 1, the largest amount of one posting (docs/contract.md, guarantee 8). */
export const AMOUNT_MAX = '170141183460469231731687303715884105727';

let counter = 0;
/** A fresh id for this test file's run, so tests sharing one app never collide. */
export const uid = (prefix: string): string => `${prefix}-${Date.now().toString(36)}-${(counter++).toString(36)}`;

/** Asserts an RFC 9457 problem: status, media type, and a `type` that ends in the slug. */
export function expectProblem(response: TestResponse, status: number, slug: string): void {
  const context = `${status} ${slug} expected, got ${response.status}: ${response.text}`;
  expect(response.status, context).toBe(status);
  expect(String(response.headers['content-type']), context).toContain('application/problem+json');
  expect(response.body, context).toBeTypeOf('object');
  expect(response.body.type, context).toMatch(new RegExp(`(^|/)${slug}$`));
  expect(response.body.status, context).toBe(status);
  expect(response.body.title, context).toBeTypeOf('string');
  expect(response.body.detail, context).toBeTypeOf('string');
}

/** A 400 validation problem that names at least one of `paths` among its errors. */
export function expectValidation(response: TestResponse, ...paths: string[]): void {
  expectProblem(response, 400, 'validation');
  const errors = response.body.errors as Array<{ path: string; message: string }>;
  expect(Array.isArray(errors), response.text).toBe(true);
  expect(errors.length, response.text).toBeGreaterThan(0);
  for (const error of errors) {
    expect(error.path, response.text).toBeTypeOf('string');
    expect(error.message, response.text).toBeTypeOf('string');
    expect(error.message.length, response.text).toBeGreaterThan(0);
  }
  if (paths.length > 0) {
    const named = errors.map((e) => e.path);
    expect(
      paths.some((path) => named.some((n) => n === path || n.startsWith(`${path}.`))),
      `expected an error at ${paths.join(' or ')}, got ${named.join(', ')}`,
    ).toBe(true);
  }
}

/** Position of the global log's head, straight from the event store. */
export async function logHead(t: TestApp): Promise<string> {
  const rows = await t.tdb.query<{ position: string }>('select position::text as position from log_head');
  return rows[0]!.position;
}

export async function eventCount(t: TestApp): Promise<number> {
  const rows = await t.tdb.query<{ n: string }>('select count(*)::text as n from events');
  return Number(rows[0]!.n);
}

/** Reads an account once the read models include everything in the log. */
export async function readAccount(t: TestApp, id: string): Promise<TestResponse> {
  const head = await logHead(t);
  return t.request('GET', `/v1/accounts/${encodeURIComponent(id)}?minPosition=${head}`);
}

export interface LedgerSnapshot {
  head: string;
  events: number;
  accounts: Record<string, unknown>;
}

/** What a refused request must leave alone: the log head, the event count, and these accounts. */
export async function snapshot(t: TestApp, accountIds: readonly string[]): Promise<LedgerSnapshot> {
  const head = await logHead(t);
  const accounts: Record<string, unknown> = {};
  for (const id of accountIds) {
    const response = await t.request('GET', `/v1/accounts/${encodeURIComponent(id)}?minPosition=${head}`);
    accounts[id] = response.status === 200 ? response.body : response.status;
  }
  return { head, events: await eventCount(t), accounts };
}

/** Runs a request that must be refused, and checks it changed nothing. */
export async function expectRefusedUnchanged(
  t: TestApp,
  accountIds: readonly string[],
  send: () => Promise<TestResponse>,
  status: number,
  slug: string,
): Promise<TestResponse> {
  const before = await snapshot(t, accountIds);
  const response = await send();
  expectProblem(response, status, slug);
  expect(await snapshot(t, accountIds)).toEqual(before);
  return response;
}

export async function openAccount(t: TestApp, body: Record<string, unknown>): Promise<any> {
  const response = await t.request('POST', '/v1/accounts', { currency: 'USD', ...body });
  expect(response.status, response.text).toBe(201);
  return response.body;
}

export async function postTransfer(t: TestApp, body: Record<string, unknown>): Promise<any> {
  const response = await t.request('POST', '/v1/transfers', { currency: 'USD', ...body });
  expect(response.status, response.text).toBe(201);
  return response.body;
}
