/**
 * Statements (GET /v1/accounts/{id}/statement): opening balance, every entry of the period, closing
 * balance, as known at knownAt, with a signed tree head that covers every event they rest on.
 */
import { spawnSync } from 'node:child_process';
import { createPublicKey, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem, expectValidation } from '../api/api-helpers';
import { startTestApp, type TestApp } from '../support/app';
import { postgresAvailable } from '../support/database';
import { seedLedger } from './audit-helpers';

describe('account statements', () => {
  let t: TestApp;
  let seed: Awaited<ReturnType<typeof seedLedger>>;
  beforeAll(async () => {
    t = await startTestApp();
    seed = await seedLedger(t, 's');
  });
  afterAll(async () => t?.close());

  const later = () => new Date(Date.now() + 60_000).toISOString();

  it('lists every entry in effective order, opening + entries = closing, and signs a tree head over them', async () => {
    const to = later();
    const response = await t.request(
      'GET',
      `/v1/accounts/${seed.ids.alice}/statement?from=${seed.aliceOpenedAt}&to=${to}&minPosition=${seed.head}`,
    );
    expect(response.status, response.text).toBe(200);
    const s = response.body;
    expect(s).toMatchObject({ accountId: seed.ids.alice, currency: 'USD', openingBalance: '0', closingBalance: '389' });
    // t4 is backdated to alice's opening, so it comes first although it was recorded last.
    expect(s.entries.map((e: { transferId: string; balanceAfter: string }) => [e.transferId, e.balanceAfter])).toEqual([
      ['s-t4', '9'],
      ['s-t1', '509'],
      ['s-t2', '389'],
    ]);
    const head = s.treeHead;
    expect(head.treeSize).toBeGreaterThanOrEqual(
      Math.max(...s.entries.map((e: { position: string }) => Number(e.position))),
    );
    const keys = (await t.request('GET', '/v1/audit/public-keys')).body.keys;
    const key = keys.find((k: { keyId: string }) => k.keyId === head.keyId);
    const message = Buffer.from(`ledger-tree-head:v1:${head.treeSize}:${head.rootHash}`);
    expect(verify(null, message, createPublicKey(key.publicKey), Buffer.from(head.signature, 'hex'))).toBe(true);
  });

  it('as known before the correction was recorded: without it, and the closing balance as it was reported then', async () => {
    const t4 = seed.transfers[3]!;
    const knownAt = new Date(Date.parse(t4.recordedAt) - 1).toISOString();
    const s = (
      await t.request(
        'GET',
        `/v1/accounts/${seed.ids.alice}/statement?from=${seed.aliceOpenedAt}&to=${later()}&knownAt=${knownAt}`,
      )
    ).body;
    expect(s.entries.map((e: { transferId: string }) => e.transferId)).toEqual(['s-t1', 's-t2']);
    expect(s.closingBalance).toBe('380');
    expect(s.knownAt).toBe(knownAt);
  });

  it('a period after some entries opens with their balance', async () => {
    const t2 = seed.transfers[1]!;
    const s = (await t.request('GET', `/v1/accounts/${seed.ids.alice}/statement?from=${t2.effectiveAt}&to=${later()}`))
      .body;
    expect(s.openingBalance).toBe('509');
    expect(s.entries.map((e: { transferId: string }) => e.transferId)).toEqual(['s-t2']);
    expect(s.closingBalance).toBe('389');
  });

  it('writes the same as CSV', async () => {
    const response = await t.request(
      'GET',
      `/v1/accounts/${seed.ids.alice}/statement?from=${seed.aliceOpenedAt}&to=${later()}&format=csv`,
    );
    expect(response.status).toBe(200);
    expect(String(response.headers['content-type'])).toContain('text/csv');
    const lines = response.text.trimEnd().split('\r\n');
    expect(lines[0]).toMatch(
      /^kind,accountId,currency,effectiveAt,recordedAt,transferId,position,side,amount,balance,/,
    );
    expect(lines.map((line) => line.split(',')[0])).toEqual(['kind', 'opening', 'entry', 'entry', 'entry', 'closing']);
    expect(lines[2]!.split(',').slice(5, 10)).toEqual(['s-t4', expect.any(String), 'credit', '9', '9']);
    expect(lines.at(-1)!.split(',')[9]).toBe('389');
    expect(lines[1]!.split(',')[14]).toMatch(/^[0-9a-f]{64}$/); // the signed root travels with the CSV
  });

  it('refuses a bad period, an unknown account and a format it does not write, changing nothing', async () => {
    const to = later();
    expectValidation(
      await t.request('GET', `/v1/accounts/${seed.ids.alice}/statement?from=${to}&to=${seed.aliceOpenedAt}`),
      'query.from',
    );
    expectValidation(await t.request('GET', `/v1/accounts/${seed.ids.alice}/statement?to=${to}`), 'query.from');
    expectValidation(
      await t.request('GET', `/v1/accounts/${seed.ids.alice}/statement?from=${seed.aliceOpenedAt}&to=${to}&format=pdf`),
      'query.format',
    );
    expectProblem(
      await t.request('GET', `/v1/accounts/s-nobody/statement?from=${seed.aliceOpenedAt}&to=${to}`),
      404,
      'account-not-found',
    );
  });

  it('npm run audit -- statement writes the same CSV to a file', async (ctx) => {
    if (!(await postgresAvailable())) {
      console.warn('[tests] the CLI shares the database with the service: needs a PostgreSQL server; skipped');
      return ctx.skip();
    }
    const to = later();
    const url = `/v1/accounts/${seed.ids.alice}/statement?from=${seed.aliceOpenedAt}&to=${to}&knownAt=${to}&format=csv`;
    const served = await t.request('GET', url);
    const dir = mkdtempSync(path.join(tmpdir(), 'ledger-statement-'));
    try {
      const out = path.join(dir, 'alice.csv');
      const cli = spawnSync(
        process.execPath,
        [
          path.resolve(__dirname, '../../dist/src/cli/audit.js'),
          'statement',
          '--account',
          seed.ids.alice,
          '--from',
          seed.aliceOpenedAt,
          '--to',
          to,
          '--known-at',
          to,
          '--out',
          out,
        ],
        {
          env: {
            ...process.env,
            DATABASE_URL: t.tdb.env.DATABASE_URL!,
            LEDGER_DB_SCHEMA: t.tdb.env.LEDGER_DB_SCHEMA,
            LOG_LEVEL: 'error',
          },
          encoding: 'utf8',
        },
      );
      expect(cli.status, cli.stderr).toBe(0);
      expect(cli.stderr).toMatch(/3 entries, closing 389; written to/);
      expect(readFileSync(out, 'utf8')).toBe(served.text);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
