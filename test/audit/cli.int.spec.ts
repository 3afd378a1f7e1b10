/**
 * The auditor CLI (npm run audit), compiled, against the test PostgreSQL: replay to CSV and JSON,
 * export, and the offline verify of an export with only the public key and a digest.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app';
import { postgresAvailable } from '../support/database';
import { eventCount } from '../api/api-helpers';
import { eventOf, seedLedger } from './audit-helpers';

const CLI = path.resolve(__dirname, '../../dist/src/cli/audit.js');

function audit(
  env: Record<string, string>,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, ...env, LOG_LEVEL: 'error' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('npm run audit', () => {
  let t: TestApp;
  let env: Record<string, string>;
  let dir: string;
  let onPostgres = false;
  let seed: Awaited<ReturnType<typeof seedLedger>>;
  beforeAll(async () => {
    onPostgres = await postgresAvailable();
    if (!onPostgres) return;
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build (npm test does it)`);
    t = await startTestApp();
    seed = await seedLedger(t, 'c');
    env = { DATABASE_URL: t.tdb.env.DATABASE_URL!, LEDGER_DB_SCHEMA: t.tdb.env.LEDGER_DB_SCHEMA };
    dir = mkdtempSync(path.join(tmpdir(), 'ledger-audit-'));
    writeFileSync(path.join(dir, 'digest.json'), JSON.stringify((await t.request('GET', '/v1/audit/digest')).body));
    writeFileSync(path.join(dir, 'key.json'), JSON.stringify((await t.request('GET', '/v1/audit/public-key')).body));
  });
  afterAll(async () => {
    await t?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const skipWithoutPostgres = (ctx: { skip: () => void }) => {
    if (!onPostgres) {
      console.warn('[tests] the CLI tests need a PostgreSQL server shared by processes: skipped');
      ctx.skip();
    }
  };

  it('replay writes a CSV a spreadsheet opens, with a progress bar on stderr', async (ctx) => {
    skipWithoutPostgres(ctx);
    const out = path.join(dir, 'report.csv');
    const asOf = new Date(Date.now() + 60_000).toISOString();
    const result = await audit(env, 'replay', '--as-of', asOf, '--out', out);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/replay \[#+\] 100\.0%/);
    const lines = readFileSync(out, 'utf8').trimEnd().split('\r\n');
    expect(lines[0]).toBe(
      'accountId,currency,balance,debitsPosted,creditsPosted,readModelBalance,matches,asOf,knownAt',
    );
    expect(lines.slice(1).map((line) => line.split(',').slice(0, 7).join(','))).toEqual([
      `${seed.ids.alice},USD,389,120,509,389,true`,
      `${seed.ids.bank},USD,584,584,0,584,true`,
      `${seed.ids.bob},USD,195,0,195,195,true`,
    ]);
  });

  it('replay --format json of some accounts; a corrupted read model exits 1 and says which', async (ctx) => {
    skipWithoutPostgres(ctx);
    const asOf = new Date(Date.now() + 60_000).toISOString();
    const fine = await audit(env, 'replay', '--as-of', asOf, '--accounts', `${seed.ids.bob}`, '--format', 'json');
    expect(fine.code, fine.stderr).toBe(0);
    const report = JSON.parse(fine.stdout);
    expect(report).toMatchObject({ asOf, mismatches: 0, eventsReplayed: await eventCount(t) });
    expect(report.accounts).toEqual([
      {
        accountId: seed.ids.bob,
        currency: 'USD',
        balance: '195',
        debitsPosted: '0',
        creditsPosted: '195',
        readModelBalance: '195',
        matches: true,
      },
    ]);
    await t.tdb.query(`update rm_balance_known set debits_through = debits_through + 1 where account_id = $1`, [
      seed.ids.bob,
    ]);
    const broken = await audit(env, 'replay', '--as-of', asOf, '--format', 'json');
    expect(broken.code).toBe(1);
    expect(
      JSON.parse(broken.stdout)
        .accounts.filter((a: { matches: boolean }) => !a.matches)
        .map((a: { accountId: string }) => a.accountId),
    ).toEqual([seed.ids.bob]);
    await t.tdb.query(`update rm_balance_known set debits_through = debits_through - 1 where account_id = $1`, [
      seed.ids.bob,
    ]);
  });

  it('refuses bad arguments with exit status 2 and the usage', async (ctx) => {
    skipWithoutPostgres(ctx);
    for (const args of [
      ['replay'],
      ['replay', '--as-of', 'yesterday'],
      ['replay', '--as-of', '2026-01-01T00:00:00.000Z', '--format', 'xlsx'],
      ['frobnicate'],
      ['export'],
    ]) {
      const result = await audit(env, ...args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toContain('usage: npm run audit');
    }
  });

  it('export, then verify offline with only the public key and a digest', async (ctx) => {
    skipWithoutPostgres(ctx);
    const file = path.join(dir, 'ledger.jsonl');
    const exported = await audit(env, 'export', '--out', file, '--digest-out', path.join(dir, 'stored-digest.json'));
    expect(exported.code, exported.stderr).toBe(0);
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(await eventCount(t));
    expect(JSON.parse(lines[0]!)).toMatchObject({
      position: '1',
      revision: '0',
      type: 'AccountOpened',
      prevHash: '0'.repeat(64),
    });

    for (const digest of ['digest.json', 'stored-digest.json']) {
      const verified = await audit(
        {},
        'verify',
        '--in',
        file,
        '--public-key',
        path.join(dir, 'key.json'),
        '--digest',
        path.join(dir, digest),
      );
      expect(verified.code, verified.stdout + verified.stderr).toBe(0);
      expect(verified.stdout).toContain(`OK: ${lines.length} events chain from genesis`);
    }
    // A PEM public key works as well as the JSON the API serves.
    writeFileSync(path.join(dir, 'key.pem'), JSON.parse(readFileSync(path.join(dir, 'key.json'), 'utf8')).publicKey);
    const json = await audit(
      {},
      'verify',
      '--in',
      file,
      '--public-key',
      path.join(dir, 'key.pem'),
      '--digest',
      path.join(dir, 'digest.json'),
      '--format',
      'json',
    );
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ intact: true, digest: { accepted: true, position: seed.head } });
  });

  it('verify names a changed byte in the export, and refuses a forged digest', async (ctx) => {
    skipWithoutPostgres(ctx);
    const file = path.join(dir, 'ledger.jsonl');
    const target = await eventOf(t, 'c-t3');
    const tampered = path.join(dir, 'tampered.jsonl');
    writeFileSync(tampered, readFileSync(file, 'utf8').replace('"amount":"75"', '"amount":"76"'));
    const key = path.join(dir, 'key.json');
    const broken = await audit(
      {},
      'verify',
      '--in',
      tampered,
      '--public-key',
      key,
      '--digest',
      path.join(dir, 'digest.json'),
      '--format',
      'json',
    );
    expect(broken.code).toBe(1);
    expect(JSON.parse(broken.stdout).firstBroken).toMatchObject({
      position: target.position,
      eventId: target.eventId,
      reason: 'content-changed',
    });

    const digest = JSON.parse(readFileSync(path.join(dir, 'digest.json'), 'utf8'));
    writeFileSync(path.join(dir, 'forged.json'), JSON.stringify({ ...digest, hash: 'f'.repeat(64) }));
    const forged = await audit(
      {},
      'verify',
      '--in',
      file,
      '--public-key',
      key,
      '--digest',
      path.join(dir, 'forged.json'),
    );
    expect(forged.code).toBe(1);
    expect(forged.stdout).toContain('DIGEST REFUSED: the signature does not match');
  });
});
