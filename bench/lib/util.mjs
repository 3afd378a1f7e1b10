// Small helpers shared by the benchmark modules: statistics, timing, CPU accounting, formatting.
import { readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A free TCP port on 127.0.0.1 (asked of the kernel, then released). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
      server.close(() => resolve(port));
    });
  });
}

/** A growable list of float samples (latencies in ms) with percentiles. */
export class Samples {
  constructor(initial = 1 << 16) {
    this.values = new Float64Array(initial);
    this.length = 0;
  }

  add(value) {
    if (this.length === this.values.length) {
      const bigger = new Float64Array(this.values.length * 2);
      bigger.set(this.values);
      this.values = bigger;
    }
    this.values[this.length++] = value;
  }

  /** Percentiles (0–100) by nearest rank; null when there is no sample. */
  percentiles(...ps) {
    if (this.length === 0) return ps.map(() => null);
    const sorted = this.values.slice(0, this.length).sort();
    return ps.map((p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]);
  }

  max() {
    let max = null;
    for (let i = 0; i < this.length; i++) if (max === null || this.values[i] > max) max = this.values[i];
    return max;
  }
}

// ---- CPU accounting (Linux /proc), to tell who used the two cores during a phase -----------------

const CLOCK_TICKS = 100; // USER_HZ on Linux x86_64

function procTicks(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); utime is field 14, stime field 15.
    return {
      comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
      ticks: Number(fields[11]) + Number(fields[12]),
    };
  } catch {
    return undefined;
  }
}

/** CPU ticks of every postgres process now, by pid. */
function postgresTicks() {
  const byPid = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const info = procTicks(name);
    if (info && (info.comm === 'postgres' || info.comm.startsWith('postgres:'))) byPid.set(name, info.ticks);
  }
  return byPid;
}

/** Ticks postgres processes used since `before` (processes that ended meanwhile are not counted). */
function postgresTicksSince(before) {
  let total = 0;
  for (const [pid, ticks] of postgresTicks()) total += ticks - (before.get(pid) ?? 0);
  return total;
}

function systemTicks() {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const values = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = values[3] + (values[4] ?? 0);
    const total = values.reduce((a, b) => a + b, 0);
    return { idle, total };
  } catch {
    return { idle: 0, total: 0 };
  }
}

/**
 * Starts a CPU measurement; `stop()` returns the share of one core used by the service, by all
 * postgres processes (other users of the same server included), by this benchmark process, and
 * the whole machine's busy share (0–100 % of all cores).
 */
export function cpuMeter(servicePid) {
  const started = performance.now();
  const service = procTicks(servicePid)?.ticks ?? 0;
  const pg = postgresTicks();
  const own = process.cpuUsage();
  const system = systemTicks();
  return {
    stop() {
      const seconds = (performance.now() - started) / 1000;
      const ownUsed = process.cpuUsage(own);
      const systemNow = systemTicks();
      const totalDelta = systemNow.total - system.total;
      const pct = (ticks) => Math.round((ticks / CLOCK_TICKS / seconds) * 100);
      const servicePct = pct((procTicks(servicePid)?.ticks ?? service) - service);
      const postgresPct = pct(postgresTicksSince(pg));
      const benchPct = Math.round(((ownUsed.user + ownUsed.system) / 1e6 / seconds) * 100);
      const machineBusyPct =
        totalDelta > 0 ? Math.round((1 - (systemNow.idle - system.idle) / totalDelta) * 100) : null;
      return {
        servicePct,
        postgresPct,
        benchPct,
        // Everything else on the machine (other processes), in % of one core.
        otherPct:
          machineBusyPct === null
            ? null
            : Math.max(0, machineBusyPct * os.cpus().length - servicePct - postgresPct - benchPct),
        machineBusyPct,
      };
    },
  };
}

// ---- formatting ---------------------------------------------------------------------------------

/** How busy the machine is before anything of ours runs: % of all cores over `ms`, and loadavg. */
export async function backgroundLoad(ms = 2000) {
  const before = systemTicks();
  await sleep(ms);
  const after = systemTicks();
  const total = after.total - before.total;
  return {
    busyPct: total > 0 ? Math.round((1 - (after.idle - before.idle) / total) * 100) : null,
    loadAverage: os.loadavg().map((v) => round(v, 2)),
  };
}

export function fmtNumber(value, digits = 0) {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export const fmtMs = (value) =>
  value === null || value === undefined ? '–' : value < 10 ? value.toFixed(2) : value.toFixed(1);

export const round = (value, digits = 2) =>
  value === null || value === undefined || Number.isNaN(value) ? null : Math.round(value * 10 ** digits) / 10 ** digits;

/** Left-aligned text table with a header row. */
export function table(header, rows) {
  const all = [header, ...rows].map((row) => row.map((cell) => String(cell ?? '')));
  const widths = header.map((_, i) => Math.max(...all.map((row) => row[i].length)));
  const line = (row) =>
    row
      .map((cell, i) => cell.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(all[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...all.slice(1).map(line)].join('\n');
}

export function log(message) {
  const t = new Date().toISOString().slice(11, 19);
  console.log(`[bench ${t}] ${message}`);
}
