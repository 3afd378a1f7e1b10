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
  const phase = await singleTransferPhase({
    service,
    apiKey: API_KEY,
    connections: CLIENTS,
    seconds: SECONDS,
    maxRequests: 500_000,
    makeBody: () => source.spread(),
  });
  const writer = writerDelta(before, await writerCounters(client), phase.seconds);
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
