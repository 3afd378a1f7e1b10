// The reference figure: pgbench's built-in TPC-B-like workload on the same PostgreSQL server, in a
// database of its own (`bench_pgbench`), so the ledger's figures can be read as a ratio of what the
// server does for a plain, well-known OLTP load on this machine.
import { spawn } from 'node:child_process';
import pg from 'pg';
import { cpuMeter, log } from './util.mjs';

export const PGBENCH_DATABASE = 'bench_pgbench';

/** Creates the pgbench database when missing (CREATE DATABASE cannot run in a transaction). */
async function ensureDatabase(databaseUrl) {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'ledger-bench' });
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [PGBENCH_DATABASE]);
    if (found.rowCount === 0) {
      await client.query(`create database ${PGBENCH_DATABASE}`);
      log(`created database ${PGBENCH_DATABASE}`);
    }
  } finally {
    await client.end();
  }
}

/** libpq connection options for pgbench from a postgres:// URL, pointed at the pgbench database. */
function connectionArgs(databaseUrl) {
  const url = new URL(databaseUrl);
  const args = ['-h', url.hostname || '127.0.0.1', '-p', url.port || '5432'];
  if (url.username) args.push('-U', decodeURIComponent(url.username));
  return { args, password: url.password ? decodeURIComponent(url.password) : undefined };
}

const running = new Set();

/** Kills any pgbench still running (used by the driver's cleanup). */
export function killPgbench() {
  for (const child of running) child.kill('SIGKILL');
}

function runPgbench(extraArgs, databaseUrl, timeoutMs) {
  const { args, password } = connectionArgs(databaseUrl);
  return new Promise((resolve, reject) => {
    const child = spawn('pgbench', [...args, ...extraArgs, PGBENCH_DATABASE], {
      env: { ...process.env, ...(password ? { PGPASSWORD: password } : {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(child);
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      running.delete(child);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      if (code === 0) resolve(output);
      else
        reject(
          new Error(`pgbench ${extraArgs.join(' ')} failed (${signal ?? `exit ${code}`}):\n${output.slice(-2000)}`),
        );
    });
  });
}

/**
 * Initialises the pgbench tables at `scale` and runs the TPC-B-like load at each client count for
 * `seconds`. Returns `{scale, runs: {c16: {clients, tps, latencyAvgMs, transactions}, …}}`.
 */
export async function pgbenchReference({ databaseUrl, scale, clientCounts, seconds, threads = 2 }) {
  await ensureDatabase(databaseUrl);
  const initStarted = performance.now();
  await runPgbench(['-i', '-q', '-s', String(scale)], databaseUrl, 180_000);
  log(`pgbench -i -s ${scale}: ${((performance.now() - initStarted) / 1000).toFixed(1)} s`);

  const runs = {};
  for (const clients of clientCounts) {
    const cpu = cpuMeter(undefined);
    const output = await runPgbench(
      ['-c', String(clients), '-j', String(Math.min(threads, clients)), '-T', String(seconds)],
      databaseUrl,
      (seconds + 120) * 1000,
    );
    const tps = output.match(/^tps = ([\d.]+)/m);
    const latency = output.match(/^latency average = ([\d.]+) ms/m);
    const transactions = output.match(/^number of transactions actually processed: (\d+)/m);
    const failed = output.match(/^number of failed transactions: (\d+)/m);
    if (!tps) throw new Error(`could not read "tps = …" from pgbench:\n${output}`);
    runs[`c${clients}`] = {
      clients,
      tps: Number(tps[1]),
      latencyAvgMs: latency ? Number(latency[1]) : null,
      transactions: transactions ? Number(transactions[1]) : null,
      failed: failed ? Number(failed[1]) : 0,
      machineBusyPct: cpu.stop().machineBusyPct,
    };
    log(
      `pgbench -c ${clients} -j ${Math.min(threads, clients)} -T ${seconds}: ${tps[1]} TPS` +
        (latency ? `, latency avg ${latency[1]} ms` : '') +
        `, machine ${runs[`c${clients}`].machineBusyPct}% busy`,
    );
  }
  return { scale, seconds, runs };
}
