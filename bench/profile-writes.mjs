#!/usr/bin/env node
// Profiles the write path alone: the compiled service (roles as PROFILE_ROLES, default api,projector)
// in a fresh schema, 1,000 funded accounts, PROFILE_CLIENTS (64) clients posting single transfers
// for PROFILE_SECONDS (10), with a V8 CPU profile written as it stops, summarised by
// bench/profile-summary.mjs. Figures are lower while profiling: this finds where time goes, it
// does not measure throughput (npm run bench does).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { JsonClient } from './lib/http.mjs';
import { singleTransferPhase, writerCounters, writerDelta } from './lib/phases.mjs';
import { API_KEY, Service } from './lib/service.mjs';
import { freePort, log } from './lib/util.mjs';
import { TransferSource, setupLedger } from './lib/workload.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const profileDir = path.join(root, 'bench', 'out', 'profile-writes');
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const CLIENTS = Number(process.env.PROFILE_CLIENTS ?? 64);
const SECONDS = Number(process.env.PROFILE_SECONDS ?? 10);
const PROFILE = process.env.PROFILE_CPU !== '0';

/** Rows inserted, updated (HOT or not) and deleted so far in each table of `schema`, and its index count. */
async function tableWrites(schema) {
  const db = new pg.Client({ connectionString: DATABASE_URL, application_name: 'ledger-bench' });
  await db.connect();
  try {
    const { rows } = await db.query(
      `select t.relname as table, t.n_tup_ins::int as ins, t.n_tup_upd::int as upd, t.n_tup_hot_upd::int as hot,
              t.n_tup_del::int as del, (select count(*)::int from pg_indexes i where i.schemaname = t.schemaname and i.tablename = t.relname) as indexes
       from pg_stat_user_tables t where t.schemaname = $1`,
      [schema],
    );
    return new Map(rows.map((row) => [row.table, row]));
  } finally {
    await db.end();
  }
}

/**
 * What one transfer costs PostgreSQL in rows: per table, rows inserted and updated per transfer of
 * the phase (the projector's included), and the index entries they make (an insert or a non-HOT
 * update adds one to every index of its table; a partial index is counted whole, so the figure is
 * an upper bound).
 */
function printRowsPerTransfer(before, after, transfers) {
  const lines = [];
  let rows = 0;
  let entries = 0;
  for (const [table, now] of after) {
    const was = before.get(table) ?? { ins: 0, upd: 0, hot: 0, del: 0 };
    const ins = (now.ins - was.ins) / transfers;
    const upd = (now.upd - was.upd) / transfers;
    const hot = (now.hot - was.hot) / transfers;
    if (ins + upd === 0) continue;
    const indexEntries = (ins + upd - hot) * now.indexes;
    rows += ins + upd;
    entries += indexEntries;
    lines.push(
      `  ${table.padEnd(28)} ${ins.toFixed(2).padStart(6)} inserted ${upd.toFixed(2).padStart(6)} updated (${hot.toFixed(2)} HOT)  ${now.indexes} indexes → ${indexEntries.toFixed(2)} index entries`,
    );
  }
  log(
    `PostgreSQL writes per transfer over ${transfers} transfers: ${rows.toFixed(2)} rows, ${entries.toFixed(2)} index entries`,
  );
  for (const line of lines.sort()) console.log(line);
}

rmSync(profileDir, { recursive: true, force: true });
mkdirSync(profileDir, { recursive: true });
const service = new Service({
  root,
  databaseUrl: DATABASE_URL,
  schema: `bench_${randomBytes(5).toString('hex')}`,
  port: await freePort(),
  logFile: path.join(profileDir, 'service.log'),
  nodeArgs: PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
  env: process.env.PROFILE_ROLES ? { LEDGER_ROLES: process.env.PROFILE_ROLES } : {},
});
let totalCommands = 0;
try {
  await service.start();
  const client = new JsonClient(service.baseUrl, { apiKey: API_KEY, maxSockets: 32 });
  await setupLedger(client, { accounts: 1000 });
  const tag = randomBytes(3).toString('hex');
  const warm = new TransferSource(`warm-${tag}-`, 1000);
  await singleTransferPhase({
    service,
    apiKey: API_KEY,
    connections: 16,
    seconds: 3,
    maxRequests: 50_000,
    makeBody: () => warm.spread(),
  });
  const source = new TransferSource(`p-${tag}-`, 1000);
  const before = await writerCounters(client);
  const rowsBefore = await tableWrites(service.options.schema);
  const phase = await singleTransferPhase({
    service,
    apiKey: API_KEY,
    connections: CLIENTS,
    seconds: SECONDS,
    maxRequests: 500_000,
    makeBody: () => source.spread(),
  });
  const writer = writerDelta(before, await writerCounters(client), phase.seconds);
  // The statistics reach pg_stat_user_tables within a second of each transaction.
  await new Promise((r) => setTimeout(r, 1500));
  printRowsPerTransfer(rowsBefore, await tableWrites(service.options.schema), phase.requests - phase.errors);
  log(
    `${CLIENTS} clients: ${phase.perSecond}/s p50 ${phase.p50Ms} ms p99 ${phase.p99Ms} ms errors ${phase.errors}; ` +
      `CPU svc ${phase.cpu.servicePct}% pg ${phase.cpu.postgresPct}% bench ${phase.cpu.benchPct}%; ` +
      `writer ${writer.commitsPerSecond} commits/s, ${writer.commandsPerCommit} per commit, ${writer.avgCommitMs} ms each (append ${writer.avgAppendMs} ms), busy ${writer.writerBusyPct}%`,
  );
  // Every command the process served (setup and warm-up included), to divide the profile by.
  totalCommands = (await writerCounters(client))?.commands ?? 0;
} finally {
  await service.stop();
  await service.dropSchema();
}
const files = readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile'));
if (files.length) {
  const file = path.join(profileDir, files[0]);
  log(`profile: node bench/profile-summary.mjs ${file} 25 ${totalCommands}`);
  spawnSync(process.execPath, [path.join(root, 'bench', 'profile-summary.mjs'), file, '25', String(totalCommands)], {
    stdio: 'inherit',
  });
}
