// The fraud scorer's benchmark (`npm run bench:fraud`; BENCH_QUICK=1 for a short run).
//  1. Scoring throughput of the shipped model on CPU through the pool of inference processes
//     (ADR 0040), at batch sizes 1, 64 and 1024 (transfers scored per second; the target is
//     >= 20,000/s), and the latency of one call at a time (to the child process and back).
//  2. The write path under load (autocannon, POST /v1/transfers) against a service process without
//     the fraud role and then with it: the API's p50/p99 must not move.
//  3. End to end, TransferPosted -> FraudScored (difference of the two events' recordedAt) p50/p99
//     under that load (the target is p99 <= 500 ms).
// Needs the build (the npm script runs it) and, for 2 and 3, PostgreSQL at DATABASE_URL or
// TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test); each run uses a fresh schema
// and drops it.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const autocannon = require('autocannon');
const BENCH_KEY = 'bench-fraud-key';
const AUTH_JSON = { 'content-type': 'application/json', authorization: `Bearer ${BENCH_KEY}` };
const pg = require('pg');
const { InferencePool } = require(path.join(root, 'dist/src/fraud/inference-pool.js'));
const { FEATURE_COUNT } = require(path.join(root, 'dist/src/fraud/features.js'));
const { defaultModelPath } = require(path.join(root, 'dist/src/fraud/fraud-role.js'));

const QUICK = process.env.BENCH_QUICK === '1';
const THROUGHPUT_MS = QUICK ? 1000 : 3000;
const LOAD_S = QUICK ? 5 : 20;
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const WORKERS = Number(process.env.FRAUD_WORKERS ?? 1);
const DATABASE_URL =
  process.env.DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const results = {
  machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`,
  quick: QUICK,
};

const pct = (sorted, p) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;

async function throughput() {
  const pool = await InferencePool.start({
    modelPath: defaultModelPath(),
    providers: ['cpu'],
    featureCount: FEATURE_COUNT,
    workers: WORKERS,
  });
  const out = [];
  for (const batch of [1, 64, 1024]) {
    const features = Float32Array.from({ length: batch * FEATURE_COUNT }, () => Math.random() * 10);
    const inflight = WORKERS * 2;
    let rows = 0;
    const started = performance.now();
    const deadline = started + THROUGHPUT_MS;
    await Promise.all(
      Array.from({ length: inflight }, async () => {
        while (performance.now() < deadline) {
          await pool.score(features, batch);
          rows += batch;
        }
      }),
    );
    const perSecond = Math.round(rows / ((performance.now() - started) / 1000));
    out.push({ batch, transfersPerSecond: perSecond });
    console.log(
      `scoring throughput, CPU, ${WORKERS} inference process(es), batch ${String(batch).padStart(4)}: ${perSecond.toLocaleString('en-US')} transfers/s`,
    );
  }
  await pool.close();
  return out;
}

/** One call at a time: the round trip of a batch to an inference process and back, p50/p99 in µs. */
async function latency() {
  const pool = await InferencePool.start({
    modelPath: defaultModelPath(),
    providers: ['cpu'],
    featureCount: FEATURE_COUNT,
    workers: 1,
  });
  const out = [];
  for (const batch of [1, 64, 1024]) {
    const features = Float32Array.from({ length: batch * FEATURE_COUNT }, () => Math.random() * 10);
    for (let i = 0; i < 50; i++) await pool.score(features, batch);
    const us = [];
    const deadline = performance.now() + THROUGHPUT_MS;
    while (performance.now() < deadline) {
      const started = performance.now();
      await pool.score(features, batch);
      us.push((performance.now() - started) * 1000);
    }
    us.sort((a, b) => a - b);
    const figures = { batch, calls: us.length, p50Us: Math.round(pct(us, 50)), p99Us: Math.round(pct(us, 99)) };
    out.push(figures);
    console.log(
      `scoring latency, one call at a time, batch ${String(batch).padStart(4)}: p50 ${figures.p50Us} µs, p99 ${figures.p99Us} µs (${figures.calls} calls)`,
    );
  }
  await pool.close();
  return out;
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

async function startService(env) {
  const port = await freePort();
  let output = '';
  const child = spawn(process.execPath, [path.join(root, 'dist/src/main.js')], {
    cwd: root,
    env: {
      ...process.env,
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      PORT: String(port),
      LEDGER_DB_POOL_MAX: '4',
      LEDGER_API_KEYS: `${BENCH_KEY}:admin`,
      LEDGER_RATE_LIMIT: '10000000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (c) => (output += c));
  child.stderr.on('data', (c) => (output += c));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`service exited:\n${output}`);
    try {
      if ((await fetch(`${url}/health/ready`)).status === 200) break;
    } catch {}
    if (Date.now() > deadline) throw new Error(`service not ready:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const exited = new Promise((r) => child.once('exit', r));
  return {
    url,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
    output: () => output,
  };
}

async function postJson(url, body) {
  const response = await fetch(url, { method: 'POST', body: JSON.stringify(body), headers: AUTH_JSON });
  if (response.status >= 300) throw new Error(`${url}: ${response.status} ${await response.text()}`);
}

/** One service process with `roles`, loaded by autocannon; returns the write path's figures (and the e2e ones with fraud). */
async function loadRun(roles) {
  const schema = `bench_fraud_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
  const service = await startService({ DATABASE_URL, LEDGER_DB_SCHEMA: schema, LEDGER_ROLES: roles });
  try {
    const accounts = Array.from({ length: 200 }, (_, i) => `acc-${i}`);
    await postJson(`${service.url}/v1/accounts`, { id: 'bank', currency: 'USD', normalSide: 'debit' });
    for (const id of accounts) await postJson(`${service.url}/v1/accounts`, { id, currency: 'USD' });
    let n = 0;
    const run = autocannon({
      url: service.url,
      connections: CONNECTIONS,
      duration: LOAD_S,
      requests: [
        {
          method: 'POST',
          path: '/v1/transfers',
          headers: AUTH_JSON,
          setupRequest: (request) => {
            const i = n++;
            const debit = i % 5 === 0 ? 'bank' : accounts[(i * 7919) % accounts.length];
            let credit = accounts[(i * 104729 + 13) % accounts.length];
            if (credit === debit) credit = accounts[(accounts.indexOf(credit) + 1) % accounts.length];
            const amount = String(100 + ((i * 2654435761) % 500_000));
            return {
              ...request,
              body: JSON.stringify({
                id: `b-${i}`,
                debitAccountId: debit,
                creditAccountId: credit,
                amount,
                currency: 'USD',
              }),
            };
          },
        },
      ],
    });
    const result = await run;
    const figures = {
      roles,
      requestsPerSecond: Math.round(result.requests.average),
      writeP50Ms: result.latency.p50,
      writeP99Ms: result.latency.p99,
      non2xx: result.non2xx,
      errors: result.errors,
    };
    if (roles.includes('fraud')) {
      // Let the scorer finish, then measure TransferPosted -> FraudScored from the log itself.
      const q = (text) => admin.query(`set search_path to ${schema}; ${text}`).then((r) => r[1].rows);
      const started = Date.now();
      for (;;) {
        const [{ transfers, scored }] = await q(
          `select (select count(*) from events where type = 'TransferPosted')::int as transfers,
                  (select count(*) from events where type = 'FraudScored')::int as scored`,
        );
        if (scored >= transfers) break;
        if (Date.now() - started > 120_000) throw new Error(`scorer did not catch up: ${scored}/${transfers}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      const rows = await q(
        `select extract(epoch from (f.recorded_at - t.recorded_at)) * 1000 as ms
         from events f join events t on t.type = 'TransferPosted' and (t.data->>'transferId') = (f.data->>'transferId')
         where f.type = 'FraudScored'`,
      );
      const ms = rows.map((r) => Number(r.ms)).sort((a, b) => a - b);
      Object.assign(figures, {
        scored: ms.length,
        endToEndP50Ms: pct(ms, 50),
        endToEndP99Ms: pct(ms, 99),
        endToEndMaxMs: ms.at(-1),
      });
    }
    return figures;
  } finally {
    await service.stop();
    await admin.query(`drop schema if exists ${schema} cascade`).catch(() => {});
    await admin.end();
  }
}

async function postgresAnswers() {
  const client = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

const begun = performance.now();
console.log(`# fraud benchmark${QUICK ? ' (BENCH_QUICK)' : ''} on ${results.machine}`);
results.throughput = await throughput();
results.latency = await latency();
if (await postgresAnswers()) {
  console.log(
    `write load: autocannon, ${CONNECTIONS} connections, ${LOAD_S} s of POST /v1/transfers, service on PostgreSQL`,
  );
  results.withoutScoring = await loadRun('api,projector');
  console.log(
    `write path without scoring: ${results.withoutScoring.requestsPerSecond} req/s, p50 ${results.withoutScoring.writeP50Ms} ms, p99 ${results.withoutScoring.writeP99Ms} ms (non-2xx ${results.withoutScoring.non2xx})`,
  );
  results.withScoring = await loadRun('api,projector,fraud');
  const w = results.withScoring;
  console.log(
    `write path with scoring:    ${w.requestsPerSecond} req/s, p50 ${w.writeP50Ms} ms, p99 ${w.writeP99Ms} ms (non-2xx ${w.non2xx})`,
  );
  console.log(
    `TransferPosted -> FraudScored over ${w.scored} transfers: p50 ${w.endToEndP50Ms.toFixed(0)} ms, p99 ${w.endToEndP99Ms.toFixed(0)} ms, max ${w.endToEndMaxMs.toFixed(0)} ms`,
  );
} else {
  console.log(`no PostgreSQL at ${DATABASE_URL}: the write-path and end-to-end parts need one (set DATABASE_URL)`);
}
results.seconds = Math.round((performance.now() - begun) / 1000);
mkdirSync(path.join(root, 'bench/out'), { recursive: true });
writeFileSync(path.join(root, 'bench/out/fraud.json'), JSON.stringify(results, null, 2));
console.log(`done in ${results.seconds} s (figures in bench/out/fraud.json)`);
