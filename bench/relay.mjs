// The NATS relay's figures (issue 5): relay throughput in events/s (target ≥ 20,000) and the lag
// from append to delivery at a JetStream consumer, p50/p99, under write load (target p99 ≤ 250 ms).
//
//   npm run bench:relay                 # about 2-3 minutes (under 4)
//   BENCH_QUICK=1 npm run bench:relay   # a short run (~30 s), to see that it works
//
// Needs PostgreSQL (BENCH_DATABASE_URL, default TEST_DATABASE_URL or postgres://postgres@127.0.0.1:5432/test)
// and NATS with JetStream (NATS_URL, default nats://127.0.0.1:4222). It works in a schema and a
// stream of its own and removes both afterwards. The service and the relay run as two processes of
// the compiled service (dist/src/main.js), the way they run in production with separate roles.
//
// 1. Throughput: BENCH_EVENTS transfers are appended with no relay running; then a relay process
//    starts and the time until its checkpoint reaches the head is measured (connection included).
// 2. Lag under load: BENCH_CLIENTS HTTP clients post batches of BENCH_BATCH transfers for
//    BENCH_SECONDS while the relay runs; a JetStream consumer in this process records, for every
//    message, now − recordedAt (recordedAt is set when the writer decides the batch, before commit).
//    BENCH_TOPOLOGY=single (default) runs every role in one process; split runs api and relay apart.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const pg = require('pg');
const { connect } = require('@nats-io/transport-node');
const { jetstream, jetstreamManager, DeliverPolicy } = require('@nats-io/jetstream');

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const quick = process.env.BENCH_QUICK === '1';
const DATABASE_URL =
  process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const EVENTS = Number(process.env.BENCH_EVENTS ?? (quick ? 20_000 : 100_000));
const SECONDS = Number(process.env.BENCH_SECONDS ?? (quick ? 8 : 30));
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 32);
const BATCH = Number(process.env.BENCH_BATCH ?? 20);
const ACCOUNTS = 1000;
const WARMUP_MS = quick ? 1000 : 3000;

const tag = randomBytes(4).toString('hex');
const schema = `bench_relay_${tag}`;
const stream = `BENCH_${tag}`;
const prefix = `bench_${tag}`;

const log = (...args) => console.log('[bench:relay]', ...args);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

const children = [];
async function startService(roles, extra = {}) {
  const port = await freePort();
  let output = '';
  const child = spawn(process.execPath, [path.join(root, 'dist/src/main.js')], {
    cwd: root,
    env: {
      ...process.env,
      DATABASE_URL,
      LEDGER_DB_SCHEMA: schema,
      LEDGER_DB_POOL_MAX: '4',
      LEDGER_ROLES: roles,
      NATS_URL,
      LEDGER_NATS_STREAM: stream,
      LEDGER_NATS_SUBJECT_PREFIX: prefix,
      LEDGER_API_KEYS: 'bench-key:admin',
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      PORT: String(port),
      ...extra,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`service (${roles}) exited:\n${output}`);
    try {
      if ((await fetch(`${url}/health/live`)).ok) break;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`service (${roles}) did not start:\n${output}`);
    await sleep(100);
  }
  return {
    url,
    child,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

const headers = { 'content-type': 'application/json', authorization: 'Bearer bench-key' };
async function post(url, body) {
  const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`${url}: ${response.status} ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

let transferSeq = 0;
const transfer = () => {
  const i = transferSeq++;
  const debit = Math.floor(Math.random() * ACCOUNTS);
  const credit = (debit + 1 + Math.floor(Math.random() * (ACCOUNTS - 1))) % ACCOUNTS;
  return {
    id: `b${tag}-${i}`,
    debitAccountId: `acc${debit}`,
    creditAccountId: `acc${credit}`,
    amount: String(1 + (i % 1000)),
    currency: 'USD',
  };
};

/** utime + stime of a process, in seconds (Linux /proc). */
function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

const percentile = (sorted, p) =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const fmt = (n) => Math.round(n).toLocaleString('en-US');

async function main() {
  const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
  await admin.query(`create schema ${schema}`);
  const nc = await connect({ servers: NATS_URL, name: 'bench-relay' });
  const jsm = await jetstreamManager(nc);
  const checkpoint = async () => {
    const { rows } = await admin.query(`select position::text as p from ${schema}.checkpoints where name = $1`, [
      `nats-relay:${stream}`,
    ]);
    return BigInt(rows[0]?.p ?? '0');
  };
  const head = async () => BigInt((await admin.query(`select position::text as p from ${schema}.log_head`)).rows[0].p);
  const results = {
    machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`,
    quick,
  };
  let api;
  let relay;
  try {
    log(`machine: ${results.machine}; PostgreSQL ${new URL(DATABASE_URL).host}, NATS ${NATS_URL}; stream ${stream}`);
    api = await startService('api,projector');
    for (let i = 0; i < ACCOUNTS; i += 500) {
      await Promise.all(
        Array.from({ length: Math.min(500, ACCOUNTS - i) }, (_, k) =>
          post(`${api.url}/v1/accounts`, { id: `acc${i + k}`, currency: 'USD' }),
        ),
      );
    }

    // ---- 1. relay throughput: drain a backlog ---------------------------------------------------
    log(`appending ${fmt(EVENTS)} transfers with no relay running…`);
    for (let done = 0; done < EVENTS; ) {
      const lots = [];
      for (let c = 0; c < 4 && done < EVENTS; c++) {
        const size = Math.min(8000, EVENTS - done);
        done += size;
        lots.push(post(`${api.url}/v1/transfers/batch`, { transfers: Array.from({ length: size }, transfer) }));
      }
      await Promise.all(lots);
    }
    const backlog = await head();
    log(`backlog: ${fmt(Number(backlog))} events; starting the relay process`);
    const relayStarted = performance.now();
    relay = await startService('relay');
    // Steady state, from the first checkpoint move (start-up excluded): wall rate, and the relay
    // process's own CPU time per event (what it would do with a core to itself; this box is shared).
    let first;
    for (;;) {
      const at = await checkpoint();
      if (!first && at > 0n) first = { at, ms: performance.now(), cpu: cpuSeconds(relay.child.pid) };
      if (at >= backlog) break;
      await sleep(10);
    }
    const drainSeconds = (performance.now() - relayStarted) / 1000;
    const steadyEvents = Number(backlog - first.at);
    const steadySeconds = (performance.now() - first.ms) / 1000;
    const steadyCpu = cpuSeconds(relay.child.pid) - first.cpu;
    results.throughput = {
      events: Number(backlog),
      seconds: Number(drainSeconds.toFixed(2)),
      eventsPerSecond: Math.round(Number(backlog) / drainSeconds),
      note: 'from spawning the relay process (start-up and NATS connection included) to its checkpoint at the head',
      steady: {
        events: steadyEvents,
        eventsPerSecond: Math.round(steadyEvents / steadySeconds),
        relayCpuSeconds: Number(steadyCpu.toFixed(2)),
        eventsPerRelayCpuSecond: Math.round(steadyEvents / steadyCpu),
      },
      loadAverage: os.loadavg().map((x) => Number(x.toFixed(1))),
    };
    log(
      `relay throughput: ${fmt(Number(backlog))} events in ${drainSeconds.toFixed(2)} s = ${fmt(Number(backlog) / drainSeconds)} events/s (target ≥ 20,000)`,
    );
    log(
      `  steady state (after its first checkpoint): ${fmt(steadyEvents / steadySeconds)} events/s; the relay process used ${steadyCpu.toFixed(2)} s of CPU for ${fmt(steadyEvents)} events = ${fmt(steadyEvents / steadyCpu)} events per CPU-second (load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores)`,
    );

    // ---- 2. lag under write load -----------------------------------------------------------------
    // BENCH_TOPOLOGY=single (default): one process with every role, the default deployment, where
    // the writer wakes the relay after each commit; split: the api process and a relay process.
    const topology = process.env.BENCH_TOPOLOGY ?? 'single';
    results.topology = topology;
    if (topology === 'single') {
      await relay.stop();
      await api.stop();
      relay = undefined;
      api = await startService('api,projector,relay');
    }
    const js = jetstream(nc);
    const startSeq = (await jsm.streams.info(stream)).state.last_seq + 1;
    const consumer = await js.consumers.get(stream, {
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: startSeq,
    });
    const messages = await consumer.consume({ max_messages: 10_000 });
    const lags = [];
    // Commit → delivery: from the moment the HTTP response said the append committed (the client's
    // view of "appended") to the consumer's delivery; whichever of the two comes second measures it.
    const respondedAt = new Map();
    const deliveredAt = new Map();
    const commitLags = [];
    let beforeResponse = 0;
    const pair = (id, t, mine, other, sign) => {
      const seen = other.get(id);
      if (seen === undefined) return void mine.set(id, t);
      other.delete(id);
      const lag = sign * (t - seen);
      if (lag < 0) beforeResponse++;
      commitLags.push(Math.max(0, lag));
    };
    let delivered = 0;
    let measureFrom = Infinity;
    const consuming = (async () => {
      for await (const message of messages) {
        const now = Date.now();
        const body = message.json();
        delivered++;
        const recordedAt = Date.parse(body.recordedAt);
        if (recordedAt >= measureFrom) {
          lags.push(now - recordedAt);
          if (body.data.transferId) pair(body.data.transferId, now, deliveredAt, respondedAt, -1);
        }
      }
    })();

    log(
      `write load (${topology} process${topology === 'single' ? '' : 'es'}): ${CLIENTS} clients posting batches of ${BATCH} transfers for ${SECONDS} s (first ${WARMUP_MS} ms not measured)…`,
    );
    const loadStart = Date.now();
    measureFrom = loadStart + WARMUP_MS;
    const loadEnd = loadStart + SECONDS * 1000;
    let posted = 0;
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (Date.now() < loadEnd) {
          const transfers = Array.from({ length: BATCH }, transfer);
          if (BATCH === 1) await post(`${api.url}/v1/transfers`, transfers[0]);
          else await post(`${api.url}/v1/transfers/batch`, { transfers });
          const now = Date.now();
          if (now >= measureFrom) for (const t of transfers) pair(t.id, now, respondedAt, deliveredAt, 1);
          posted += BATCH;
        }
      }),
    );
    const loadSeconds = (Date.now() - loadStart) / 1000;
    const finalHead = await head();
    const drainDeadline = Date.now() + 60_000;
    while ((await checkpoint()) < finalHead && Date.now() < drainDeadline) await sleep(20);
    const expected = Number(finalHead) - (startSeq - 1);
    while (delivered < expected && Date.now() < drainDeadline) await sleep(20);
    await messages.close();
    await consuming;
    lags.sort((a, b) => a - b);
    commitLags.sort((a, b) => a - b);
    results.underLoad = {
      clients: CLIENTS,
      batch: BATCH,
      seconds: Number(loadSeconds.toFixed(1)),
      transfersPosted: posted,
      appendRatePerSecond: Math.round(posted / loadSeconds),
      delivered,
      measured: lags.length,
      lagMs: { p50: percentile(lags, 50), p90: percentile(lags, 90), p99: percentile(lags, 99), max: lags.at(-1) },
      commitToDeliveryMs: {
        p50: percentile(commitLags, 50),
        p90: percentile(commitLags, 90),
        p99: percentile(commitLags, 99),
        max: commitLags.at(-1),
        deliveredBeforeResponse: beforeResponse,
      },
    };
    log(
      `under write load: ${fmt(posted)} transfers in ${loadSeconds.toFixed(1)} s (${fmt(posted / loadSeconds)} events/s appended), ${fmt(delivered)} delivered`,
    );
    log(
      `append (recordedAt) → delivery lag over ${fmt(lags.length)} events: p50 ${percentile(lags, 50)} ms, p90 ${percentile(lags, 90)} ms, p99 ${percentile(lags, 99)} ms, max ${lags.at(-1)} ms (target p99 ≤ 250 ms)`,
    );
    log(
      `commit (HTTP response) → delivery lag over ${fmt(commitLags.length)} events: p50 ${percentile(commitLags, 50)} ms, p90 ${percentile(commitLags, 90)} ms, p99 ${percentile(commitLags, 99)} ms, max ${commitLags.at(-1)} ms (${fmt(beforeResponse)} delivered before their HTTP response arrived: counted as 0)`,
    );
    if (delivered !== expected) log(`WARNING: delivered ${delivered} of ${expected} events`);
    mkdirSync(path.join(root, 'bench/out'), { recursive: true });
    writeFileSync(path.join(root, 'bench/out/relay.json'), `${JSON.stringify(results, null, 2)}\n`);
    console.log(JSON.stringify(results));
  } finally {
    await relay?.stop().catch(() => {});
    await api?.stop().catch(() => {});
    await jsm.streams.delete(stream).catch(() => {});
    await nc.close().catch(() => {});
    await admin.query(`drop schema if exists ${schema} cascade`).catch(() => {});
    await admin.end();
  }
}

process.on('exit', () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});
main().catch((error) => {
  console.error('[bench:relay] failed:', error);
  process.exit(1);
});
