import { expect } from 'vitest';
import type { RecordedEvent } from '../../src/eventstore/port';
import type { TestApp } from '../support/app';
import type { TestDatabase } from '../support/database';

/** Waits (up to a generous guard, not an assertion on time) until `check` holds. */
export async function until<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  guardMs = 45_000,
): Promise<T> {
  const deadline = Date.now() + guardMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** FraudScored events in the log, by transfer id (every one, so a duplicate shows). */
export async function fraudScores(
  tdb: TestDatabase,
): Promise<Map<string, Array<{ score: number; decision: string; modelVersion: string }>>> {
  const rows = await tdb.query<{ data: string | Record<string, unknown> }>(
    `select data from events where type = 'FraudScored' order by position`,
  );
  const byTransfer = new Map<string, Array<{ score: number; decision: string; modelVersion: string }>>();
  for (const row of rows) {
    const data = (typeof row.data === 'string' ? JSON.parse(row.data) : row.data) as {
      transferId: string;
      score: number;
      decision: string;
      modelVersion: string;
    };
    byTransfer.set(data.transferId, [...(byTransfer.get(data.transferId) ?? []), data]);
  }
  return byTransfer;
}

export async function transferIds(tdb: TestDatabase): Promise<string[]> {
  const rows = await tdb.query<{ id: string }>(
    `select data->>'transferId' as id from events where type = 'TransferPosted' order by position`,
  );
  return rows.map((r) => r.id);
}

/** Every transfer has exactly one score. */
export async function expectScoredOnce(tdb: TestDatabase, expectedTransfers?: number): Promise<void> {
  const ids = await transferIds(tdb);
  if (expectedTransfers !== undefined) expect(ids).toHaveLength(expectedTransfers);
  const scores = await fraudScores(tdb);
  expect([...scores.keys()].sort()).toEqual([...ids].sort());
  for (const [id, list] of scores) expect(list, `scores of ${id}`).toHaveLength(1);
}

export async function openAccounts(app: TestApp, ...ids: string[]): Promise<void> {
  for (const id of ids) {
    const response = await app.request('POST', '/v1/accounts', {
      id,
      currency: 'USD',
      ...(id.startsWith('bank') ? { normalSide: 'debit' } : {}),
    });
    expect(response.status, response.text).toBe(201);
  }
}

export async function postTransfers(app: TestApp, transfers: Array<[string, string, string, string]>): Promise<void> {
  const response = await app.request('POST', '/v1/transfers/batch', {
    transfers: transfers.map(([id, debitAccountId, creditAccountId, amount]) => ({
      id,
      debitAccountId,
      creditAccountId,
      amount,
      currency: 'USD',
    })),
  });
  expect(response.status, response.text).toBe(200);
  for (const result of response.body.results) expect(result.status, JSON.stringify(result)).toBe('created');
}

export const transferEvents = (events: readonly RecordedEvent[]) => events.filter((e) => e.type === 'TransferPosted');
