#!/usr/bin/env node
// `npm run bench`: measures the compiled ledger service against a reference figure from pgbench on
// the same PostgreSQL, and prints every figure (it never fails on a timing; targets are shown as
// PASS/MISS for information). BENCH_QUICK=1 shortens every phase to ~3 s for a smoke run.
//
//   1. pgbench TPC-B-like reference (database bench_pgbench), 1, 16 and 64 clients
//   2. the service (`node dist/src/main.js`, roles api,projector) in a fresh schema bench_<random>
//   3. setup: 1,000 accounts + `hot` + a debit-normal `bank`, funded with the batch endpoint
//   4. POST /v1/transfers at 1, 16, 64 clients (random pairs), and 64 clients on one hot account
//   5. projection lag sampled during the 64-client phase, and the relay's lag: a second process
//      (roles relay) publishes to NATS (BENCH_NATS_URL, default nats://127.0.0.1:4222; skipped, and
//      said, when none answers) and a JetStream consumer here times recordedAt → delivery
//   6. POST /v1/transfers/batch, 1,000 per request, non-atomic and atomic
//   6b. holds then captures at 64 clients (POST /v1/transfers pending, then /post), with its ratio
//       to the 64-client single-transfer figure of the same run
//   7. the table, and bench/out/last-run.json
//
// Environment: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test), BENCH_QUICK=1,
// BENCH_CPU_PROF=1 (the service and the relay write V8 CPU profiles under bench/out/profile/ as they stop),
// BENCH_PHASES=holds64,spread64 (only these measured steps, for checking one: the setup and the
// warm-up always run; keys: pgbench, the phase keys of PLAN, ceiling, cold).
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { JsonClient } from './lib/http.mjs';
import { buildColdAccount, rawInsertCeiling } from './lib/ceiling.mjs';
import {
  batchPhase,
  holdCapturePhase,
  singleTransferPhase,
  startLagSampler,
  writerCounters,
  writerDelta,
} from './lib/phases.mjs';
import { killPgbench, pgbenchReference } from './lib/pgbench.mjs';
import { RelayLag, natsAnswers } from './lib/relay-lag.mjs';
import { render, summarise } from './lib/report.mjs';
import { API_KEY, Service } from './lib/service.mjs';
import { backgroundLoad, freePort, log, round } from './lib/util.mjs';
import { TransferSource, settle, setupLedger } from './lib/workload.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(root, 'bench', 'out');
const QUICK = process.env.BENCH_QUICK === '1';
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const NATS_URL = process.env.BENCH_NATS_URL ?? 'nats://127.0.0.1:4222';

/** Every duration and bound of the run. Each phase stops at its time or its request cap. */
const PLAN = {
  accounts: 1000,
  // 1 client for reading the single-client figure; 16 and 64 are the references of the ratios.
  pgbench: { scale: 10, seconds: QUICK ? 3 : 15, clients: [1, 16, 64] },
  warmup: { connections: 16, seconds: QUICK ? 1 : 3, maxRequests: 50_000 },
  single: [
    { key: 'spread1', connections: 1, seconds: QUICK ? 3 : 10, kind: 'spread' },
    { key: 'spread16', connections: 16, seconds: QUICK ? 3 : 12, kind: 'spread' },
    { key: 'spread64', connections: 64, seconds: QUICK ? 3 : 15, kind: 'spread', lag: true },
    { key: 'hot64', connections: 64, seconds: QUICK ? 3 : 12, kind: 'hot' },
  ],
  singleMaxRequests: 500_000,
  lagIntervalMs: 100,
  batch: [
    { key: 'batch', clients: 4, perRequest: 1000, atomic: false, seconds: QUICK ? 3 : 10 },
    { key: 'batchAtomic', clients: 4, perRequest: 1000, atomic: true, seconds: QUICK ? 3 : 8 },
  ],
  batchMaxRequests: 2000,
  // Card authorisations: a hold, then its capture, per client and again (two requests each).
  holds: { key: 'holds64', connections: 64, seconds: QUICK ? 3 : 12 },
  // The raw batched-insert ceiling of the same PostgreSQL (the batch figure's reference).
  ceiling: { clients: 4, perStatement: 1000, seconds: QUICK ? 3 : 10 },
  // Entries of the cold account whose first transfer after a restart is timed.
  coldEntries: Number(process.env.BENCH_COLD_ENTRIES ?? (QUICK ? 100_000 : 1_000_000)),
};

const STEPS = [
  'pgbench',
  ...PLAN.single.map((p) => p.key),
  ...PLAN.batch.map((p) => p.key),
  PLAN.holds.key,
  'ceiling',
  'cold',
];
const ONLY = process.env.BENCH_PHASES ? new Set(process.env.BENCH_PHASES.split(',').map((k) => k.trim())) : null;
for (const key of ONLY ?? []) {
  if (!STEPS.includes(key)) {
    console.error(`BENCH_PHASES: no step ${key}; the steps are ${STEPS.join(', ')}`);
    process.exit(2);
  }
}
/** Whether this run measures `key` (every step, unless BENCH_PHASES names some). */
const runs = (key) => !ONLY || ONLY.has(key);

let service;
let client;
let settleSource;
let interrupted = false;
let relayService;
let relayLag;

/** Stops the relay and its consumer, if they run. */
async function stopRelay() {
  const running = relayService;
  relayService = undefined;
  const lag = relayLag;
  relayLag = undefined;
  await lag?.close();
  await running?.stop();
}

async function cleanup() {
  killPgbench();
  try {
    await stopRelay();
  } catch (error) {
    log(`could not stop the relay: ${error.message}`);
  }
  if (!service) return;
  try {
    const exit = await service.stop();
    if (exit) log(`service stopped (${exit.signal ?? `exit ${exit.code}`})`);
  } catch (error) {
    log(`could not stop the service: ${error.message}`);
  }
  try {
    await service.dropSchema();
    log(`dropped schema ${service.options.schema}`);
  } catch (error) {
    log(`could not drop schema ${service.options.schema}: ${error.message}`);
  }
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    log(`${signal}: stopping the service and dropping its schema`);
    cleanup().finally(() => process.exit(130));
  });
}
// A hard bound on the whole run, whatever hangs: stop, clean up, exit.
const WATCHDOG_MS = (QUICK ? 5 : 10) * 60_000;
setTimeout(() => {
  log(`the run took longer than ${WATCHDOG_MS / 60_000} min: giving up`);
  interrupted = true;
  cleanup().finally(() => process.exit(1));
}, WATCHDOG_MS).unref();

// Last resort (an uncaught error, process.exit elsewhere): blocking kill and drop.
process.on('exit', () => {
  killPgbench();
  if (relayService?.child && !relayService.exited) relayService.child.kill('SIGKILL');
  service?.cleanupSync();
});

async function serverVersion() {
  const client = new pg.Client({ connectionString: DATABASE_URL, application_name: 'ledger-bench' });
  await client.connect();
  try {
    const { rows } = await client.query(
      "select current_setting('server_version') as v, current_setting('max_connections') as m",
    );
    return { version: rows[0].v, maxConnections: Number(rows[0].m) };
  } finally {
    await client.end();
  }
}

function gc() {
  globalThis.gc?.();
}

/** Runs one step; a failure is recorded and printed, and the run goes on unless the service died. */
async function step(name, fn) {
  if (service?.exited)
    return { error: `skipped: the service exited (${service.exited.signal ?? `exit ${service.exited.code}`})` };
  try {
    return await fn();
  } catch (error) {
    log(`${name} FAILED: ${error.stack ?? error}`);
    if (service?.exited)
      log(
        `the service exited (${service.exited.signal ?? `exit ${service.exited.code}`}); its log:\n${service.logTail()}`,
      );
    return { error: String(error.message ?? error) };
  }
}

/** `step`, for a step BENCH_PHASES may leave out (then its result is undefined: shown as –). */
function stepIf(key, name, fn) {
  return runs(key) ? step(name, fn) : undefined;
}

/** Time until the read models include a transfer posted now (null: not within 60 s, or failed). */
async function drain(key) {
  const ms = await step(`${key} drain`, () => settle(client, settleSource));
  return typeof ms === 'number' ? ms : null;
}

/** CPU time per transfer of the service and of PostgreSQL in a phase, in µs (from % of a core and the rate). */
function cpuPerTransfer(phase) {
  if (!phase.perSecond) return null;
  const us = (pct) => Math.round(((pct / 100) * 1e6) / phase.perSecond);
  return { serviceUs: us(phase.cpu.servicePct), postgresUs: us(phase.cpu.postgresPct) };
}

function describeSingle(phase) {
  if (phase.error) return phase.error;
  const perTransfer = cpuPerTransfer(phase);
  return (
    `${phase.perSecond} transfers/s, p50 ${phase.p50Ms} ms, p99 ${phase.p99Ms} ms, ` +
    `${phase.errors} errors of ${phase.requests}, CPU svc ${phase.cpu.servicePct}% pg ${phase.cpu.postgresPct}% ` +
    `bench ${phase.cpu.benchPct}% other ${phase.cpu.otherPct}%` +
    (perTransfer ? ` (per transfer: svc ${perTransfer.serviceUs} µs, pg ${perTransfer.postgresUs} µs)` : '') +
    describeWriter(phase.writer) +
    (phase.firstError ? `\n    first error: ${phase.firstError}` : '')
  );
}

function describeWriter(writer) {
  if (!writer) return '';
  return (
    `\n    writer: ${writer.commits} group commits (${writer.commitsPerSecond}/s), ${writer.commandsPerCommit} commands each, ` +
    `${writer.avgCommitMs} ms each on average (append ${writer.avgAppendMs} ms), busy ${writer.writerBusyPct}% of the phase, ` +
    `${writer.decidedAheadPct ?? '–'}% decided ahead, ${writer.sentAheadPct ?? '–'}% sent ahead`
  );
}

async function main() {
  const startedAt = new Date();
  const wallStarted = performance.now();
  mkdirSync(outDir, { recursive: true });
  const pgInfo = await serverVersion();
  const machine = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGb: round(os.totalmem() / 2 ** 30, 1),
    node: process.version,
    postgres: pgInfo.version,
    postgresMaxConnections: pgInfo.maxConnections,
  };
  const background = await backgroundLoad();
  machine.backgroundBeforeRun = background;
  console.log(
    `ledger benchmark${QUICK ? ' (BENCH_QUICK: ~3 s phases, figures are rough)' : ''}\n` +
      `machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGb} GiB, node ${machine.node}, ` +
      `PostgreSQL ${machine.postgres} (max_connections ${machine.postgresMaxConnections}) at ${new URL(DATABASE_URL).host}\n` +
      `before the run the machine was ${background.busyPct}% busy (all cores, 2 s) with load average ${background.loadAverage.join(' ')}\n` +
      'the benchmark, the service and PostgreSQL share these cores; other processes and other users of the same PostgreSQL count too.\n',
  );
  if (background.busyPct > 20) {
    console.log(
      `WARNING: the machine is already ${background.busyPct}% busy: every figure below will be low and noisy.\n`,
    );
  }

  const results = { startedAt: startedAt.toISOString(), quick: QUICK, machine, plan: PLAN, phases: {} };

  // 1. Reference ----------------------------------------------------------------------------------
  if (runs('pgbench'))
    log(
      `pgbench reference: scale ${PLAN.pgbench.scale}, ${PLAN.pgbench.seconds} s at ${PLAN.pgbench.clients.slice(0, -1).join(', ')} and ${PLAN.pgbench.clients.at(-1)} clients`,
    );
  results.pgbench = await stepIf('pgbench', 'pgbench', () =>
    pgbenchReference({
      databaseUrl: DATABASE_URL,
      scale: PLAN.pgbench.scale,
      clientCounts: PLAN.pgbench.clients,
      seconds: PLAN.pgbench.seconds,
    }),
  );
  if (interrupted) return;

  // 2. The service --------------------------------------------------------------------------------
  const schema = `bench_${randomBytes(5).toString('hex')}`;
  const port = await freePort();
  const nodeArgs =
    process.env.BENCH_CPU_PROF === '1' ? ['--cpu-prof', `--cpu-prof-dir=${path.join(outDir, 'profile')}`] : [];
  service = new Service({
    root,
    databaseUrl: DATABASE_URL,
    schema,
    port,
    logFile: path.join(outDir, 'service.log'),
    nodeArgs,
  });
  if (nodeArgs.length > 0)
    log(
      'BENCH_CPU_PROF=1: the service and the relay write V8 CPU profiles to bench/out/profile/ when they stop (figures are lower while profiling)',
    );
  log(`starting the service: node dist/src/main.js, schema ${schema}, port ${port}, roles api,projector`);
  const readyMs = await service.start();
  log(
    `service ready in ${Math.round(readyMs)} ms (pid ${service.pid}, RSS ${(service.rssNowKb() / 1024).toFixed(0)} MB)`,
  );
  results.service = {
    schema,
    port,
    pid: service.pid,
    readyMs: Math.round(readyMs),
    env: { LEDGER_ROLES: 'api,projector', LOG_LEVEL: 'warn', LEDGER_RATE_LIMIT: '10000000' },
  };
  client = new JsonClient(service.baseUrl, { apiKey: API_KEY, maxSockets: 32 });

  // 2b. The relay: a process of its own (roles relay) on the same schema, publishing to a stream of
  // its own; its commit → delivery lag is measured during the 64-client spread phase.
  if (runs('spread64') && (await natsAnswers(NATS_URL))) {
    const stream = schema.toUpperCase();
    relayService = new Service({
      root,
      databaseUrl: DATABASE_URL,
      schema,
      port: await freePort(),
      logFile: path.join(outDir, 'relay.log'),
      nodeArgs,
      env: { LEDGER_ROLES: 'relay', NATS_URL, LEDGER_NATS_STREAM: stream, LEDGER_NATS_SUBJECT_PREFIX: schema },
    });
    await relayService.start();
    relayLag = new RelayLag({ url: NATS_URL, stream });
    await relayLag.start();
    log(`relay: a second process (roles relay, pid ${relayService.pid}) publishing to NATS stream ${stream}`);
  } else if (runs('spread64')) {
    log(`relay: no NATS at ${NATS_URL}: the relay lag is not measured`);
  }

  // 3. Setup --------------------------------------------------------------------------------------
  results.setup = await step('setup', async () => {
    const setup = await setupLedger(client, { accounts: PLAN.accounts });
    log(
      `setup: opened ${setup.accounts} accounts in ${Math.round(setup.openMs)} ms (one POST each, 16 at a time), ` +
        `funded them with ${setup.transfers} transfers in ${Math.round(setup.fundMs)} ms (batch endpoint)`,
    );
    return setup;
  });
  if (results.setup.error) throw new Error(`setup failed: ${results.setup.error}`);
  const runTag = randomBytes(3).toString('hex');
  settleSource = new TransferSource(`settle-${runTag}-`, PLAN.accounts);
  const settleMs = await settle(client, settleSource);
  log(`read models caught up with the setup in ${Math.round(settleMs)} ms`);

  // Warm-up (not reported): JIT and connection pools.
  {
    const source = new TransferSource(`warm-${runTag}-`, PLAN.accounts);
    const warm = await step('warm-up', () =>
      singleTransferPhase({
        service,
        apiKey: API_KEY,
        connections: PLAN.warmup.connections,
        seconds: PLAN.warmup.seconds,
        maxRequests: PLAN.warmup.maxRequests,
        makeBody: () => source.spread(),
      }),
    );
    log(
      `warm-up (${PLAN.warmup.seconds} s, ${PLAN.warmup.connections} clients, not reported): ${describeSingle(warm)}`,
    );
    await settle(client, settleSource);
  }

  // 4 + 5. Single transfers, with the lag sampler alongside the 64-client spread phase -----------
  for (const plan of PLAN.single) {
    if (interrupted) return;
    if (!runs(plan.key)) continue;
    gc();
    const source = new TransferSource(`${plan.key}-${runTag}-`, PLAN.accounts);
    const makeBody = plan.kind === 'hot' ? () => source.hot() : () => source.spread();
    log(
      `${plan.key}: POST /v1/transfers, ${plan.kind}, ${plan.connections} client${plan.connections === 1 ? '' : 's'}, ${plan.seconds} s` +
        (plan.lag ? ', with the projection-lag sampler' : ''),
    );
    let sampler;
    if (plan.lag) {
      const lagSource = new TransferSource(`lag-${runTag}-`, PLAN.accounts);
      sampler = startLagSampler({
        service,
        apiKey: API_KEY,
        intervalMs: PLAN.lagIntervalMs,
        makeBody: () => lagSource.spread(),
      });
    }
    const countersBefore = await writerCounters(client);
    if (plan.lag) relayLag?.measure();
    const phase = await step(plan.key, () =>
      singleTransferPhase({
        service,
        apiKey: API_KEY,
        connections: plan.connections,
        seconds: plan.seconds,
        maxRequests: PLAN.singleMaxRequests,
        makeBody,
      }),
    );
    if (plan.lag && relayLag) {
      results.relayLag = await relayLag.finish();
      const lag = results.relayLag;
      log(
        `relay lag (recordedAt → delivery at a JetStream consumer): p50 ${lag.p50Ms} ms, p90 ${lag.p90Ms} ms, p99 ${lag.p99Ms} ms, max ${lag.maxMs} ms over ${lag.samples} events`,
      );
    }
    if (sampler) {
      results.projectionLag = await sampler.stop();
      const lag = results.projectionLag;
      log(
        `projection lag: p50 ${lag.p50Ms} ms, p90 ${lag.p90Ms} ms, p99 ${lag.p99Ms} ms, max ${lag.maxMs} ms over ${lag.samples} samples` +
          (lag.notCaughtUp ? `, ${lag.notCaughtUp} not visible within the service's wait` : '') +
          (lag.errors ? `, ${lag.errors} errors (first: ${lag.firstError})` : ''),
      );
    }
    if (!phase.error) {
      phase.writer = writerDelta(countersBefore, await writerCounters(client), phase.seconds);
      phase.cpuPerTransfer = cpuPerTransfer(phase);
    }
    log(`${plan.key}: ${describeSingle(phase)}`);
    if (!phase.error) {
      phase.drainMs = await drain(plan.key);
      phase.rssMbAfter = (service.rssNowKb() ?? 0) / 1024;
      log(
        `${plan.key}: read models ` +
          (phase.drainMs === null ? 'did NOT catch up within 60 s' : `caught up ${Math.round(phase.drainMs)} ms`) +
          ` after the load stopped; service RSS ${phase.rssMbAfter.toFixed(0)} MB`,
      );
    }
    results.phases[plan.key] = phase;
  }

  // 6. Batches ------------------------------------------------------------------------------------
  for (const plan of PLAN.batch) {
    if (interrupted) return;
    if (!runs(plan.key)) continue;
    gc();
    const source = new TransferSource(`${plan.key}-${runTag}-`, PLAN.accounts);
    log(
      `${plan.key}: POST /v1/transfers/batch, ${plan.perRequest} per request, atomic ${plan.atomic}, ${plan.clients} clients, ${plan.seconds} s`,
    );
    const countersBefore = await writerCounters(client);
    const phase = await step(plan.key, () =>
      batchPhase({
        service,
        apiKey: API_KEY,
        clients: plan.clients,
        seconds: plan.seconds,
        maxRequests: PLAN.batchMaxRequests,
        perRequest: plan.perRequest,
        atomic: plan.atomic,
        makeBody: () => source.spread(),
      }),
    );
    if (!phase.error) {
      phase.writer = writerDelta(countersBefore, await writerCounters(client), phase.seconds);
      phase.cpuPerTransfer = cpuPerTransfer(phase);
      log(
        `${plan.key}: ${phase.perSecond} transfers/s (${phase.requests} requests, ${phase.posted} posted), ` +
          `CPU per transfer svc ${phase.cpuPerTransfer?.serviceUs} µs pg ${phase.cpuPerTransfer?.postgresUs} µs, request p50 ` +
          `${phase.requestLatency.p50Ms} ms p99 ${phase.requestLatency.p99Ms} ms, ${phase.errors} errors, ${phase.failedItems} failed items, ` +
          `CPU svc ${phase.cpu.servicePct}% pg ${phase.cpu.postgresPct}% bench ${phase.cpu.benchPct}% other ${phase.cpu.otherPct}%` +
          describeWriter(phase.writer) +
          (phase.firstError ? `\n    first error: ${phase.firstError}` : ''),
      );
      phase.drainMs = await drain(plan.key);
      phase.rssMbAfter = (service.rssNowKb() ?? 0) / 1024;
      log(
        `${plan.key}: read models ` +
          (phase.drainMs === null ? 'did NOT catch up within 60 s' : `caught up ${Math.round(phase.drainMs)} ms`) +
          ` after the load stopped; service RSS ${phase.rssMbAfter.toFixed(0)} MB`,
      );
    }
    results.phases[plan.key] = phase;
  }

  // 6b. Holds then captures ----------------------------------------------------------------------
  if (runs(PLAN.holds.key) && !interrupted) {
    const plan = PLAN.holds;
    gc();
    const source = new TransferSource(`${plan.key}-${runTag}-`, PLAN.accounts);
    log(
      `${plan.key}: POST /v1/transfers (pending: true, 2), then POST /v1/transfers/{id}/post (1, the rest released), ` +
        `${plan.connections} clients, ${plan.seconds} s`,
    );
    const countersBefore = await writerCounters(client);
    const phase = await step(plan.key, () =>
      holdCapturePhase({
        service,
        apiKey: API_KEY,
        connections: plan.connections,
        seconds: plan.seconds,
        maxRequests: PLAN.singleMaxRequests,
        makeHold: () => source.hold(),
        makeCapture: (hold) => source.capture(hold),
      }),
    );
    if (!phase.error) {
      phase.writer = writerDelta(countersBefore, await writerCounters(client), phase.seconds);
      log(
        `${plan.key}: ${phase.perSecond} holds captured/s (${phase.requestsPerSecond} requests/s), hold p50 ${phase.hold.p50Ms} ms ` +
          `p99 ${phase.hold.p99Ms} ms, capture p50 ${phase.capture.p50Ms} ms p99 ${phase.capture.p99Ms} ms, ` +
          `${phase.errors} errors of ${phase.requests}, CPU svc ${phase.cpu.servicePct}% pg ${phase.cpu.postgresPct}% ` +
          `bench ${phase.cpu.benchPct}% other ${phase.cpu.otherPct}%` +
          describeWriter(phase.writer) +
          (phase.firstError ? `\n    first error: ${phase.firstError}` : ''),
      );
      phase.drainMs = await drain(plan.key);
      phase.rssMbAfter = (service.rssNowKb() ?? 0) / 1024;
    }
    results.phases[plan.key] = phase;
  }

  // 7. The raw batched-insert ceiling ------------------------------------------------------------
  results.ceiling = await stepIf('ceiling', 'ceiling', () =>
    rawInsertCeiling({
      databaseUrl: DATABASE_URL,
      seconds: PLAN.ceiling.seconds,
      clients: PLAN.ceiling.clients,
      perStatement: PLAN.ceiling.perStatement,
    }),
  );
  if (results.ceiling && !results.ceiling.error) {
    log(
      `raw batched-insert ceiling: ${results.ceiling.rowsPerSecond} event-sized rows/s (${PLAN.ceiling.clients} clients, ` +
        `${PLAN.ceiling.perStatement} rows per INSERT), CPU pg ${results.ceiling.cpu.postgresPct}% bench ${results.ceiling.cpu.benchPct}%`,
    );
  }

  // 8. Memory of the run so far; then a cold account with a million entries -----------------------
  results.memory = service.memoryFigures();
  results.service.exitedDuringRun = service.exited ?? null;
  results.coldAccount = await stepIf('cold', 'cold account', async () => {
    // The relay has measured what it measures (under the 64-client load). Left running, it would
    // publish the fixture's million events in the very seconds the cold transfers are timed.
    if (relayService) {
      await stopRelay();
      log('relay: stopped before the cold account (it would publish the fixture meanwhile)');
    }
    await client.post('/v1/accounts', { id: 'cold', currency: 'USD', flags: { debitsMustNotExceedCredits: true } });
    await client.post('/v1/accounts', { id: 'coldbank', currency: 'USD', normalSide: 'debit' });
    // Two small accounts for the restarted process's first requests: what they cost is the cold
    // process (connections, JIT), not the cold account, and is reported apart.
    await client.post('/v1/accounts', { id: 'warm-a', currency: 'USD' });
    await client.post('/v1/accounts', { id: 'warm-b', currency: 'USD' });
    // One transfer each so both accounts have the snapshot their appends keep.
    await client.post('/v1/transfers', {
      id: 'cold-seed',
      debitAccountId: 'coldbank',
      creditAccountId: 'cold',
      amount: '1',
      currency: 'USD',
    });
    const built = await buildColdAccount({
      root,
      databaseUrl: DATABASE_URL,
      schema: service.options.schema,
      accountId: 'cold',
      bankId: 'coldbank',
      entries: PLAN.coldEntries,
    });
    log(`cold account: ${built.entries} entries written in ${built.buildSeconds} s; restarting the service (api only)`);
    client.close();
    await service.stop();
    service = new Service({ ...service.options, env: { LEDGER_ROLES: 'api' } });
    await service.start();
    client = new JsonClient(service.baseUrl, { apiKey: API_KEY, maxSockets: 4 });
    await client.get('/health/ready');
    // Five rounds of four at once: a process already serving, with its pool's connections open.
    const warmTimes = [];
    for (let r = 0; r < 5; r++) {
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: 4 }, (_, i) =>
          client.post('/v1/transfers', {
            id: `cold-warm-${r}-${i}`,
            debitAccountId: i % 2 ? 'warm-a' : 'warm-b',
            creditAccountId: i % 2 ? 'warm-b' : 'warm-a',
            amount: '1',
            currency: 'USD',
          }),
        ),
      );
      warmTimes.push(round(performance.now() - t0, 2));
    }
    const rssBeforeMb = round((service.rssNowKb() ?? 0) / 1024, 0);
    const started = performance.now();
    const first = await client.post('/v1/transfers', {
      id: 'cold-first',
      debitAccountId: 'cold',
      creditAccountId: 'coldbank',
      amount: '1',
      currency: 'USD',
    });
    const firstTransferMs = round(performance.now() - started, 2);
    const started2 = performance.now();
    await client.post('/v1/transfers', {
      id: 'cold-second',
      debitAccountId: 'cold',
      creditAccountId: 'coldbank',
      amount: '1',
      currency: 'USD',
    });
    const secondTransferMs = round(performance.now() - started2, 2);
    await new Promise((r) => setTimeout(r, 400));
    const rssAfterMb = round((service.rssNowKb() ?? 0) / 1024, 0);
    const figures = {
      ...built,
      processFirstRequestMs: warmTimes[0],
      processWarmRequestsMs: warmTimes,
      firstStatus: first.status,
      firstTransferMs,
      secondTransferMs,
      rssBeforeMb,
      rssAfterMb,
    };
    log(
      `cold account: the restarted process's first transfers (two small accounts, rounds of 4 at once) ${warmTimes.join(', ')} ms; ` +
        `then the first transfer on the cold account ${firstTransferMs} ms (HTTP ${first.status}), the next ${secondTransferMs} ms; ` +
        `service RSS ${rssBeforeMb} MB before it, ${rssAfterMb} MB after`,
    );
    return figures;
  });

  // 9. Teardown, report ---------------------------------------------------------------------------
  client.close();
  await cleanup();
  results.wallSeconds = round((performance.now() - wallStarted) / 1000, 1);

  const summary = summarise(results);
  results.summary = summary;
  const { figures, details, budget, verdicts } = render(results, summary);
  console.log(`\n=== figures (ratios to pgbench TPS on the same PostgreSQL) ===\n${figures}`);
  console.log(
    `\n=== phases (CPU: % of one core, ${machine.cpus} cores in all; other: every other process on the machine) ===\n${details}`,
  );
  console.log(
    `\n=== CPU budget (every process on the machine, per transfer; what the ${machine.cpus} cores allow at that cost, and what the target allows) ===\n${budget}`,
  );
  console.log(`\n=== targets (informational, never a failure) ===\n${verdicts}`);
  for (const [key, phase] of Object.entries(results.phases)) {
    if (phase?.firstError) console.log(`first error in ${key}: ${phase.firstError}`);
  }
  if (results.projectionLag?.firstError)
    console.log(`first error of the lag sampler: ${results.projectionLag.firstError}`);
  const jsonPath = path.join(outDir, 'last-run.json');
  writeFileSync(jsonPath, `${JSON.stringify(results, null, 2)}\n`);
  console.log(
    `\nwall time ${results.wallSeconds} s; figures written to ${path.relative(root, jsonPath)}, service log in bench/out/service.log`,
  );
}

main().catch(async (error) => {
  console.error(`benchmark failed: ${error.stack ?? error}`);
  await cleanup();
  process.exit(1);
});
