/**
 * The auditor CLI checks Merkle proofs offline (ADR 0021), with nothing but the public keys and
 * what the service handed out. Someone with the database owner's rights rewrites one event, then
 * re-hashes the chain after it and rebuilds the tree, so the service's own answers are consistent
 * with each other: the tree head signed before the rewrite still gives them away.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainHash } from '../../src/eventstore/hash-chain';
import { postTransfer } from '../api/api-helpers';
import { startTestApp, type TestApp } from '../support/app';
import { createTestDatabase, postgresAvailable, type TestDatabase } from '../support/database';
import { caughtUpTreeHead, eventOf, seedLedger } from './audit-helpers';

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

/** The rewrite: one event's data changed, every hash from it on recomputed, the tree and its heads rebuilt from scratch. */
async function rewriteHistory(tdb: TestDatabase, position: string): Promise<void> {
  for (const [table, trigger] of [
    ['events', 'events_immutable'],
    ['audit_merkle_subtrees', 'audit_merkle_subtrees_immutable'],
    ['audit_merkle_subtrees', 'audit_merkle_subtrees_no_truncate'],
    ['audit_tree_heads', 'audit_tree_heads_immutable'],
  ])
    await tdb.query(`alter table ${table} disable trigger ${trigger}`);
  await tdb.query(
    `update events set data = replace(data::text, '"amount":"120"', '"amount":"920"')::json where position = ${position}`,
  );
  const rows = await tdb.query<{
    position: string;
    event_id: string;
    stream_id: string;
    revision: string;
    type: string;
    data: string;
    metadata: string;
    recorded_at: string;
    prev_hash: string;
  }>(`select position::text as position, event_id::text as event_id, stream_id, revision::text as revision, type,
             data::text as data, metadata::text as metadata,
             to_char(recorded_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as recorded_at,
             encode(prev_hash, 'hex') as prev_hash
      from events where position >= ${position} order by position`);
  let prev = rows[0]!.prev_hash;
  for (const row of rows) {
    const fields = {
      position: BigInt(row.position),
      eventId: row.event_id,
      streamId: row.stream_id,
      revision: BigInt(row.revision),
      type: row.type,
      recordedAt: row.recorded_at,
    };
    const hash = chainHash(prev, fields, row.data, row.metadata);
    await tdb.query(
      `update events set prev_hash = decode($1, 'hex'), hash = decode($2, 'hex') where position = ${row.position}`,
      [prev, hash],
    );
    prev = hash;
  }
  await tdb.query(`update log_head set hash = decode($1, 'hex')`, [prev]);
  await tdb.query('delete from audit_merkle_subtrees');
  await tdb.query('update audit_merkle_head set tree_size = 0');
  await tdb.query('delete from audit_tree_heads');
  await tdb.query(`delete from checkpoints where name = 'merkle-tree'`);
}

describe('offline proofs catch a rewritten history', () => {
  let tdb: TestDatabase;
  let t: TestApp | undefined;
  let dir: string;
  const file = (name: string) => path.join(dir, name);
  const save = (name: string, body: unknown) => writeFileSync(file(name), JSON.stringify(body, null, 2));

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build (npm test does it)`);
    dir = mkdtempSync(path.join(tmpdir(), 'ledger-proofs-'));
    tdb = await createTestDatabase();
  });
  afterAll(async () => {
    await t?.close();
    await tdb?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('an inclusion proof fails against the earlier signed head, and so does the consistency of the heads before and after', async () => {
    t = await startTestApp({ LEDGER_SIGNING_KEYS: `k1:${'07'.repeat(32)}` }, tdb);
    await seedLedger(t, 'q');
    const target = await eventOf(t, 'q-t2'); // alice → bob, 120
    const before = await caughtUpTreeHead(t);
    save('before.json', before);
    save('keys.json', (await t.request('GET', '/v1/audit/public-keys')).body);
    save(
      'proof-honest.json',
      (await t.request('GET', `/v1/audit/proofs/inclusion?position=${target.position}&treeSize=${before.treeSize}`))
        .body,
    );

    const honest = await audit(
      {},
      'inclusion',
      '--proof',
      file('proof-honest.json'),
      '--tree-head',
      file('before.json'),
      '--public-keys',
      file('keys.json'),
    );
    expect(honest.code, honest.stdout + honest.stderr).toBe(0);
    expect(honest.stdout).toMatch(/^ok +tree head .*signed by key k1/m);
    expect(honest.stdout).toMatch(
      new RegExp(
        `^ok +event .*TransferPosted, position ${target.position}\\) is leaf ${Number(target.position) - 1} of the signed tree`,
        'm',
      ),
    );

    const onPostgres = await postgresAvailable();
    const env: Record<string, string> = onPostgres
      ? { DATABASE_URL: tdb.env.DATABASE_URL!, LEDGER_DB_SCHEMA: tdb.env.LEDGER_DB_SCHEMA }
      : {};
    if (onPostgres) {
      expect((await audit(env, 'export', '--out', file('honest.jsonl'))).code).toBe(0);
      const tree = await audit(
        {},
        'verify-tree',
        '--in',
        file('honest.jsonl'),
        '--tree-head',
        file('before.json'),
        '--public-keys',
        file('keys.json'),
      );
      expect(tree.code, tree.stdout + tree.stderr).toBe(0);
      expect(tree.stdout).toMatch(/^ok +Merkle root of the export's first \d+ events is the signed root/m);
    }

    await t.close();
    await rewriteHistory(tdb, target.position);
    t = await startTestApp({ LEDGER_SIGNING_KEYS: `k1:${'07'.repeat(32)}` }, tdb);
    await postTransfer(t, { id: 'q-later', debitAccountId: 'q-bank', creditAccountId: 'q-bob', amount: '1' });
    const after = await caughtUpTreeHead(t);
    save('after.json', after);
    expect(after.treeSize).toBeGreaterThan(before.treeSize);
    // The chain walk alone sees nothing: the rewrite re-hashed it.
    expect((await t.request('GET', '/v1/audit/verify')).body.intact).toBe(true);

    save(
      'proof.json',
      (await t.request('GET', `/v1/audit/proofs/inclusion?position=${target.position}&treeSize=${before.treeSize}`))
        .body,
    );
    const inclusion = await audit(
      {},
      'inclusion',
      '--proof',
      file('proof.json'),
      '--tree-head',
      file('before.json'),
      '--public-keys',
      file('keys.json'),
    );
    expect(inclusion.code, inclusion.stdout).toBe(1);
    expect(inclusion.stdout).toMatch(/^FAIL +event .*: the audit path from its leaf does not lead to the signed root/m);

    save(
      'consistency.json',
      (await t.request('GET', `/v1/audit/proofs/consistency?from=${before.treeSize}&to=${after.treeSize}`)).body,
    );
    const consistency = await audit(
      {},
      'consistency',
      '--proof',
      file('consistency.json'),
      '--from',
      file('before.json'),
      '--to',
      file('after.json'),
      '--public-keys',
      file('keys.json'),
    );
    expect(consistency.code, consistency.stdout).toBe(1);
    expect(consistency.stdout).toMatch(/^ok +tree head .*before\.json/m);
    expect(consistency.stdout).toMatch(/^ok +tree head .*after\.json/m);
    expect(consistency.stdout).toMatch(
      new RegExp(
        `^FAIL +the tree of ${after.treeSize} events is not an extension of the signed tree of ${before.treeSize}`,
        'm',
      ),
    );

    if (onPostgres) {
      expect((await audit(env, 'export', '--out', file('rewritten.jsonl'))).code).toBe(0);
      const tree = await audit(
        {},
        'verify-tree',
        '--in',
        file('rewritten.jsonl'),
        '--tree-head',
        file('before.json'),
        '--public-keys',
        file('keys.json'),
      );
      expect(tree.code, tree.stdout).toBe(1);
      expect(tree.stdout).toMatch(/^ok +hash chain/m);
      expect(tree.stdout).toMatch(
        /^FAIL +Merkle root of the export's first \d+ events is [0-9a-f]{64}, not the signed/m,
      );
    }
  });

  it('refuses a tree head whose signature does not hold, naming why', async () => {
    const forged = { ...JSON.parse(readFileSync(file('before.json'), 'utf8')), treeSize: 1 };
    save('forged.json', forged);
    const result = await audit(
      {},
      'inclusion',
      '--proof',
      file('proof-honest.json'),
      '--tree-head',
      file('forged.json'),
      '--public-keys',
      file('keys.json'),
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^FAIL +tree head .*signature does not match/m);
  });
});
