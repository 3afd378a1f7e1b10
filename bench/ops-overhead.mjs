// What auth, per-key rate limits, metrics, request logs and trace export cost the write path.
//
// Runs the compiled service twice per round on a fresh schema each time, 64 concurrent clients
// posting single transfers for BENCH_SECONDS (10) after a short warm-up, and prints transfers/s,
// p50/p99 latency and the ratio:
//   on:  the defaults a deployment runs with: API keys (4 operator keys, clients spread over them),
//        LEDGER_RATE_LIMIT at its default (5000/s per key), LOG_LEVEL=info (one JSON line per
//        request), OTLP export of every span to a sink in this process.
//   off: the same build minimised: no OTLP endpoint (spans not recorded), a rate limit no one
//        meets, LOG_LEVEL=warn. Keys are still checked (there is no switch to turn auth off).
//        With BENCH_BASELINE_MAIN=/path/to/dist/src/main.js the off run uses that build instead
//        (e.g. one made from main before issue 7), for the full before/after figure.
// BENCH_ON_OTLP=0 and BENCH_ON_LOG_LEVEL=warn take export and request logs out of the on run, to
// see what each costs.
// Database: DATABASE_URL, else TEST_DATABASE_URL or postgres://postgres@127.0.0.1:5432/test if it
// answers, else the embedded PGlite in a temporary directory.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const autocannon = require('autocannon');
const pg = require('pg');

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MAIN = path.join(root, 'dist', 'src', 'main.js');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 1);
const CLIENTS = 64;
const ACCOUNTS = 200;
const KEYS = Array.from({ length: 4 }, () => randomBytes(24).toString('base64url'));

const freePort = () =>
  new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });

async function database() {
  const url = process.env.DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.end();
    return {
      kind: `PostgreSQL (${url.replace(/\/\/[^@]*@/, '//')})`,
      env: () => ({ DATABASE_URL: url, LEDGER_DB_SCHEMA: `bench_ops_${randomBytes(4).toString('hex')}` }),
      url,
    };
  } catch {
    return {
      kind: 'embedded PGlite',
      env: () => ({ LEDGER_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'ledger-bench-ops-')) }),
    };
  }
}

async function dropSchema(url, schema) {
  if (!url || !schema) return;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`drop schema if exists ${schema} cascade`);
  await client.end();
}

/** An OTLP/HTTP sink: takes every export and drops it (what a collector's receiver costs us is the export itself). */
async function otlpSink() {
  let exports = 0;
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      exports++;
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  return {
    url: `http://127.0.0.1:${/** @type {import('node:net').AddressInfo} */ (server.address()).port}`,
    exports: () => exports,
    close: () => new Promise((r) => server.close(r)),
  };
}

async function startService(main, env) {
  const port = await freePort();
  const child = spawn(process.execPath, [main], {
    cwd: root,
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: String(port),
      LEDGER_ROLES: 'api,projector',
      LEDGER_DB_POOL_MAX: '5',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let lines = 0;
  let tail = '';
  // Drain the output (a full pipe would stall the service); count the log lines.
  child.stdout.on('data', (chunk) => {
    lines += chunk.toString().split('\n').length - 1;
    tail = (tail + chunk).slice(-2000);
  });
  child.stderr.on('data', (chunk) => (tail = (tail + chunk).slice(-2000)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`service exited with ${child.exitCode}:\n${tail}`);
    try {
      if ((await fetch(`${url}/health/ready`)).status === 200) break;
    } catch {}
    if (Date.now() > deadline) throw new Error(`service not ready:\n${tail}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    logLines: () => lines,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', resolve);
        child.kill('SIGTERM');
      }),
  };
}

async function post(url, key, body) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status >= 300) throw new Error(`${url}: ${response.status} ${await response.text()}`);
}

let sequence = 0;
function load(url, seconds, run) {
  const accounts = Array.from({ length: ACCOUNTS }, (_, i) => `acct-${i}`);
  let client = 0;
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: `${url}/v1/transfers`,
        connections: CLIENTS,
        duration: seconds,
        method: 'POST',
        requests: [
          {
            setupRequest: (request, context) => {
              context.key ??= KEYS[client++ % KEYS.length];
              const debit = Math.floor(Math.random() * ACCOUNTS);
              const credit = (debit + 1 + Math.floor(Math.random() * (ACCOUNTS - 1))) % ACCOUNTS;
              return {
                ...request,
                headers: { authorization: `Bearer ${context.key}`, 'content-type': 'application/json' },
                body: JSON.stringify({
                  id: `${run}-${sequence++}`,
                  debitAccountId: accounts[debit],
                  creditAccountId: accounts[credit],
                  amount: '1',
                  currency: 'USD',
                }),
              };
            },
          },
        ],
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
  });
}

async function measure(name, main, db, extraEnv) {
  const dbEnv = db.env();
  const service = await startService(main, {
    ...dbEnv,
    LEDGER_API_KEYS: KEYS.map((key) => `${key}:operator`).join(','),
    ...extraEnv,
  });
  try {
    for (let i = 0; i < ACCOUNTS; i++)
      await post(`${service.url}/v1/accounts`, KEYS[0], { id: `acct-${i}`, currency: 'USD' });
    const run = `${name}-${randomBytes(3).toString('hex')}`;
    await load(service.url, WARMUP_SECONDS, `${run}-w`);
    const linesBefore = service.logLines();
    const result = await load(service.url, SECONDS, run);
    return {
      name,
      transfersPerSecond: result['2xx'] / SECONDS,
      p50: result.latency.p50,
      p99: result.latency.p99,
      non2xx: result.non2xx,
      errors: result.errors + result.timeouts,
      logLinesPerSecond: (service.logLines() - linesBefore) / SECONDS,
    };
  } finally {
    await service.stop();
    await dropSchema(db.url, dbEnv.LEDGER_DB_SCHEMA);
    if (dbEnv.LEDGER_DATA_DIR) rmSync(dbEnv.LEDGER_DATA_DIR, { recursive: true, force: true });
  }
}

const fmt = (r) =>
  `${r.name.padEnd(4)} ${r.transfersPerSecond.toFixed(0).padStart(7)} transfers/s   p50 ${String(r.p50).padStart(4)} ms   p99 ${String(r.p99).padStart(4)} ms   non-2xx ${r.non2xx}   errors ${r.errors}   log lines/s ${r.logLinesPerSecond.toFixed(0)}`;

const db = await database();
const sink = await otlpSink();
const baseline = process.env.BENCH_BASELINE_MAIN;
console.log(
  `ops overhead: ${CLIENTS} clients posting single transfers over ${ACCOUNTS} accounts, ${SECONDS} s each (after ${WARMUP_SECONDS} s warm-up), ${ROUNDS} round(s)`,
);
console.log(`node ${process.version}, ${os.cpus().length} cpus (${os.cpus()[0]?.model ?? '?'}), storage: ${db.kind}`);
console.log(
  `off: ${baseline ? `the build at ${baseline}` : 'this build with OTLP off, LOG_LEVEL=warn and no effective rate limit'}`,
);
const on = [];
const off = [];
for (let round = 0; round < ROUNDS; round++) {
  // Alternate the order, so a machine that warms up or gets busier does not favour one side.
  const order = round % 2 === 0 ? ['on', 'off'] : ['off', 'on'];
  for (const name of order) {
    const result =
      name === 'on'
        ? await measure('on', MAIN, db, {
            LOG_LEVEL: process.env.BENCH_ON_LOG_LEVEL ?? 'info',
            ...(process.env.BENCH_ON_OTLP === '0' ? {} : { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url }),
          })
        : await measure('off', baseline ?? MAIN, db, { LOG_LEVEL: 'warn', LEDGER_RATE_LIMIT: '1000000000' });
    (name === 'on' ? on : off).push(result);
    console.log(fmt(result));
  }
}
await sink.close();
const mean = (rs, key) => rs.reduce((sum, r) => sum + r[key], 0) / rs.length;
const ratio = mean(on, 'transfersPerSecond') / mean(off, 'transfersPerSecond');
console.log(
  `on/off throughput ratio ${ratio.toFixed(3)} (${((1 - ratio) * 100).toFixed(1)}% drop; target: at most 10%), ` +
    `p50 ${mean(on, 'p50').toFixed(1)} vs ${mean(off, 'p50').toFixed(1)} ms, p99 ${mean(on, 'p99').toFixed(1)} vs ${mean(off, 'p99').toFixed(1)} ms, ` +
    `OTLP exports received ${sink.exports()}`,
);
