#!/usr/bin/env node
// The append alone (ADR 0027): sequential calls of the real adapter, PostgresEventStore.append, with
// batches shaped like the 64-client benchmark's group commits (BENCH_APPEND_TRANSFERS = 20 transfers
// between random pairs of 1,000 accounts: each transfer's event in its own stream, linked into both
// accounts' streams, both accounts expected at their revision and snapshotted), on a store filled
// set-based to BENCH_APPEND_HEADS (300,000) transfer streams with their events and links.
//
// It compares versions of `ledger_append`: BENCH_APPEND_FUNCTIONS, comma-separated, each `current`
// (the function as the migrations leave it) or a migration file whose `create [or replace] function
// ledger_append(` is run over the migrated schema (default: migrations/0012_append_function.sql and
// current). Each version has a schema of its own, filled alike; the versions take turns in blocks of
// BENCH_APPEND_CALLS (100) calls, BENCH_APPEND_BLOCKS (6) blocks each, the order swapped every block,
// the same batches in each. Per version: wall ms per call as the client sees it (commit included),
// CPU ms per call of the PostgreSQL backend (/proc, PostgreSQL on this machine), and, where
// pg_stat_statements is installed in the database, execution and planning ms per call of each
// statement (planning is tracked on the bench's own connection). BENCH_APPEND_EXPLAIN=1: one more
// call per version under auto_explain (nested statements, ANALYZE), plans printed.
// Use a database of its own (BENCH_DATABASE_URL) so that other sessions' statements stay out of the
// figures. Schemas are dropped at the end unless BENCH_APPEND_KEEP=1.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { dist, require } from './lib/dist.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { openDatabase } = dist('platform/database.js');
const { migrate } = dist('platform/migrations.js');
const { PostgresEventStore } = dist('eventstore/postgres-event-store.js');
const { Kysely, PostgresDialect, sql } = require('kysely');

const URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const HEADS = Number(process.env.BENCH_APPEND_HEADS ?? 300_000);
const ACCOUNTS = 1000;
const TRANSFERS = Number(process.env.BENCH_APPEND_TRANSFERS ?? 20);
const CALLS = Number(process.env.BENCH_APPEND_CALLS ?? 100);
const BLOCKS = Number(process.env.BENCH_APPEND_BLOCKS ?? 6);
const WARMUP_CALLS = 20;
const VERSIONS = (process.env.BENCH_APPEND_FUNCTIONS ?? 'migrations/0012_append_function.sql,current').split(',');
const CLOCK_TICKS_PER_S = 100;

const log = (...args) => console.log(...args);
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const mean = (values) => values.reduce((a, b) => a + b, 0) / values.length;

/** A small seeded generator, so every version gets the same batches. */
function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Debit and credit account numbers of the n-th filled transfer (distinct). */
const FILL_DEBIT = `(g % ${ACCOUNTS})`;
const FILL_CREDIT = `((g % ${ACCOUNTS} + 1 + (g / ${ACCOUNTS}) % ${ACCOUNTS - 1}) % ${ACCOUNTS})`;

/**
 * HEADS transfer streams of one event each, linked into two of the 1,000 account streams, the
 * accounts' heads with a snapshot, and the log head after them, written set-based. The hashes are
 * stand-ins: nothing here walks the chain.
 */
async function fill(db) {
  await sql
    .raw(`
    insert into events (position, event_id, stream_id, revision, type, data, metadata, recorded_at, prev_hash, hash)
    select g, gen_random_uuid(), 'transfer-f' || g, 0, 'TransferPosted',
           json_build_object('transferId', 'f' || g, 'debitAccountId', 'a' || ${FILL_DEBIT},
             'creditAccountId', 'a' || ${FILL_CREDIT}, 'amount', (1 + g % 997)::text, 'currency', 'USD',
             'metadata', '{}'::json, 'effectiveAt', '2026-01-01T00:00:00.000Z'),
           json_build_object('correlationId', gen_random_uuid(), 'causationId', gen_random_uuid(),
             'commandHash', encode(sha256(g::text::bytea), 'hex')),
           now(), sha256((g - 1)::text::bytea), sha256(g::text::bytea)
      from generate_series(1, ${HEADS}) g`)
    .execute(db);
  await sql
    .raw(`
    insert into stream_links (stream_id, revision, position)
    select s, row_number() over (partition by s order by p) - 1, p from (
      select 'account-a' || ${FILL_DEBIT} as s, g as p from generate_series(1, ${HEADS}) g
      union all
      select 'account-a' || ${FILL_CREDIT}, g from generate_series(1, ${HEADS}) g) x`)
    .execute(db);
  await sql
    .raw(`
    insert into stream_heads (stream_id, revision)
    select 'transfer-f' || g, 0 from generate_series(1, ${HEADS}) g;
    insert into stream_heads (stream_id, revision, snapshot, snapshot_revision, snapshot_position)
    select stream_id, max(revision), json_build_object('schema', 1, 'account', json_build_object('id', stream_id)),
           max(revision), max(position)
      from stream_links group by stream_id;
    update log_head set position = ${HEADS}, hash = sha256(${HEADS}::text::bytea), recorded_at = now() where id = 1`)
    .execute(db);
  await sql.raw('vacuum (analyze) events, stream_links, stream_heads, log_head').execute(db);
}

function snapshotOf(account, revision) {
  return {
    schema: 1,
    account: {
      id: account,
      currency: 'USD',
      normalSide: 'credit',
      flags: { debitsMustNotExceedCredits: false, creditsMustNotExceedDebits: false },
      status: 'open',
      debitsPosted: String(1000n + revision * 7n),
      creditsPosted: String(5000n + revision * 11n),
      debitsPending: '0',
      creditsPending: '0',
      version: Number(revision) + 1,
      openedAt: '2026-01-01T00:00:00.000Z',
      metadata: {},
    },
  };
}

/** One group commit's append: TRANSFERS transfers between random pairs of accounts. */
function batch(seed, label, revisions) {
  const next = random(seed);
  const events = [];
  const expected = new Map();
  const changed = new Set();
  for (let k = 0; k < TRANSFERS; k++) {
    const debit = Math.floor(next() * ACCOUNTS);
    const credit = (debit + 1 + Math.floor(next() * (ACCOUNTS - 1))) % ACCOUNTS;
    const id = `${label}-${seed}-${k}`;
    const accounts = [`account-a${debit}`, `account-a${credit}`];
    events.push({
      eventId: crypto.randomUUID(),
      streamId: `transfer-${id}`,
      type: 'TransferPosted',
      data: {
        transferId: id,
        debitAccountId: `a${debit}`,
        creditAccountId: `a${credit}`,
        amount: String(1 + Math.floor(next() * 10_000)),
        currency: 'USD',
        metadata: {},
        effectiveAt: new Date().toISOString(),
      },
      metadata: {
        correlationId: crypto.randomUUID(),
        causationId: crypto.randomUUID(),
        commandHash: randomBytes(32).toString('hex'),
        actor: 'bench-key',
      },
      alsoIn: accounts,
    });
    expected.set(`transfer-${id}`, { kind: 'no-stream' });
    for (const account of accounts) {
      if (!expected.has(account)) expected.set(account, { kind: 'at', revision: revisions.get(account) });
      changed.add(account);
    }
  }
  const after = new Map(revisions);
  for (const event of events) for (const account of event.alsoIn) after.set(account, after.get(account) + 1n);
  const snapshots = [...changed].map((account) => ({
    streamId: account,
    data: snapshotOf(account, after.get(account)),
  }));
  return { events, expected, snapshots, recordedAt: new Date().toISOString() };
}

function backendCpuTicks(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

async function statements(admin) {
  const { rows } = await admin.query(
    `select queryid::text as id, toplevel, query, calls::float8 as calls, total_exec_time as exec, plans::float8 as plans,
            total_plan_time as plan
       from pg_stat_statements where dbid = (select oid from pg_database where datname = current_database())`,
  );
  return new Map(rows.map((row) => [`${row.id}/${row.toplevel}`, row]));
}

async function prepareVersion(name) {
  const schema = `bench_append_${randomBytes(4).toString('hex')}`;
  const setup = await openDatabase({
    DATABASE_URL: URL,
    LEDGER_DB_SCHEMA: schema,
    LEDGER_DATA_DIR: 'memory://',
    LEDGER_DB_POOL_MAX: 1,
  });
  await migrate(setup);
  if (name !== 'current') {
    const script = readFileSync(path.resolve(root, name), 'utf8').replace(
      /create (or replace )?function ledger_append\(/,
      'create or replace function ledger_append(',
    );
    await sql.raw(script).execute(setup.db);
  }
  const started = performance.now();
  await fill(setup.db);
  log(`  ${name}: schema ${schema} filled in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  await setup.close();
  // One connection of the bench's own, so its backend's CPU is the append's and notices reach us.
  const notices = [];
  const pool = new pg.Pool({
    connectionString: URL,
    max: 1,
    idleTimeoutMillis: 0,
    options: `-c search_path=${schema} -c max_parallel_workers_per_gather=0 -c pg_stat_statements.track_planning=on`,
    application_name: 'ledger-bench-append',
  });
  pool.on('connect', (client) => client.on('notice', (notice) => notices.push(notice.message)));
  const db = new Kysely({ dialect: new PostgresDialect({ pool }) });
  const pid = Number((await pool.query('select pg_backend_pid() as pid')).rows[0].pid);
  const { rows } = await pool.query(
    `select stream_id, revision::text as revision from stream_heads where stream_id like 'account-%'`,
  );
  const revisions = new Map(rows.map((row) => [row.stream_id, BigInt(row.revision)]));
  return {
    name,
    schema,
    db,
    pid,
    notices,
    revisions,
    store: new PostgresEventStore(db),
    wall: [],
    cpuTicks: 0,
    calls: 0,
    stats: new Map(),
  };
}

/** `calls` appends of one version, timed; its statements' counters moved meanwhile, where readable. */
async function runBlock(version, seeds, admin) {
  const ticks = backendCpuTicks(version.pid);
  const before = admin ? await statements(admin) : undefined;
  for (const seed of seeds) {
    // Built on the revisions the last append left, outside the timing.
    const request = batch(seed, version.schema.slice(-8), version.revisions);
    const started = performance.now();
    const result = await version.store.append(request);
    version.wall.push(performance.now() - started);
    for (const [stream, revision] of result.revisions) version.revisions.set(stream, revision);
  }
  version.cpuTicks += backendCpuTicks(version.pid) - ticks;
  version.calls += seeds.length;
  if (!before) return;
  for (const [key, now] of await statements(admin)) {
    const was = before.get(key) ?? { calls: 0, exec: 0, plans: 0, plan: 0 };
    if (now.calls === was.calls) continue;
    const sum = version.stats.get(key) ?? {
      query: now.query,
      toplevel: now.toplevel,
      calls: 0,
      exec: 0,
      plans: 0,
      plan: 0,
    };
    sum.calls += now.calls - was.calls;
    sum.exec += now.exec - was.exec;
    sum.plans += now.plans - was.plans;
    sum.plan += now.plan - was.plan;
    version.stats.set(key, sum);
  }
}

function report(version) {
  const cpuMs = (version.cpuTicks * 1000) / CLOCK_TICKS_PER_S / version.calls;
  log(
    `\n${version.name}: ${version.calls} calls, wall per call median ${median(version.wall).toFixed(2)} ms, ` +
      `mean ${mean(version.wall).toFixed(2)} ms, p90 ${[...version.wall].sort((a, b) => a - b)[Math.floor(version.wall.length * 0.9)].toFixed(2)} ms; ` +
      `backend CPU ${cpuMs.toFixed(2)} ms per call`,
  );
  const rows = [...version.stats.values()]
    .filter((row) => !/pg_stat_statements|pg_backend_pid/.test(row.query))
    .sort((a, b) => b.exec + b.plan - (a.exec + a.plan));
  if (rows.length === 0) return;
  log('   exec ms/call  plan ms/call  calls/call  statement');
  for (const row of rows.slice(0, 16)) {
    const text = row.query.replace(/\s+/g, ' ').slice(0, 90);
    log(
      `   ${(row.exec / version.calls).toFixed(3).padStart(12)}  ${(row.plan / version.calls).toFixed(3).padStart(12)}  ${(row.calls / version.calls).toFixed(2).padStart(10)}  ${row.toplevel ? '' : '  '}${text}`,
    );
  }
}

async function explain(version) {
  const request = batch(999_999, `${version.schema.slice(-8)}x`, version.revisions);
  await sql`select 1`.execute(version.db);
  version.notices.length = 0;
  await sql
    .raw(
      `load 'auto_explain'; set auto_explain.log_min_duration = 0; set auto_explain.log_nested_statements = on;
       set auto_explain.log_analyze = on; set auto_explain.log_buffers = on; set auto_explain.log_level = notice`,
    )
    .execute(version.db);
  const result = await version.store.append(request);
  for (const [stream, revision] of result.revisions) version.revisions.set(stream, revision);
  await sql.raw('set auto_explain.log_min_duration = -1').execute(version.db);
  log(`\n${version.name}: auto_explain of one call\n${version.notices.join('\n\n')}`);
}

async function main() {
  log(
    `append micro-benchmark: ${HEADS} transfer streams filled, ${TRANSFERS} transfers a call, ${BLOCKS} blocks of ${CALLS} calls a version`,
  );
  const versions = [];
  for (const name of VERSIONS) versions.push(await prepareVersion(name));
  const admin = new pg.Client({ connectionString: URL, application_name: 'ledger-bench-append-admin' });
  await admin.connect();
  const pgss = await admin
    .query('select 1 from pg_stat_statements limit 1')
    .then(() => admin)
    .catch(() => undefined);
  if (!pgss) log('  (no pg_stat_statements in this database: no per-statement figures)');
  try {
    for (const version of versions) {
      const warm = Array.from({ length: WARMUP_CALLS }, (_, i) => 1_000_000 + i);
      for (const seed of warm) {
        const result = await version.store.append(batch(seed, `${version.schema.slice(-8)}w`, version.revisions));
        for (const [stream, revision] of result.revisions) version.revisions.set(stream, revision);
      }
    }
    const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    log(`  load average before: ${load()}`);
    for (let block = 0; block < BLOCKS; block++) {
      const seeds = Array.from({ length: CALLS }, (_, i) => block * CALLS + i);
      const order = block % 2 === 0 ? versions : [...versions].reverse();
      const line = [];
      for (const version of order) {
        const from = version.wall.length;
        await runBlock(version, seeds, pgss);
        line.push(`${version.name.replace(/^migrations\//, '')} ${median(version.wall.slice(from)).toFixed(2)} ms`);
      }
      log(`  block ${block + 1}: median wall ${line.join(', ')}`);
    }
    log(`  load average after: ${load()}`);
    for (const version of versions) report(version);
    if (process.env.BENCH_APPEND_EXPLAIN === '1') for (const version of versions) await explain(version);
  } finally {
    await admin.end();
    for (const version of versions) {
      if (process.env.BENCH_APPEND_KEEP !== '1')
        await sql.raw(`drop schema ${version.schema} cascade`).execute(version.db);
      else log(`  kept schema ${version.schema}`);
      await version.db.destroy();
    }
  }
}

await main();
