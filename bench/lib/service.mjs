// The ledger under test: the compiled service (`node dist/src/main.js`) as a child process in a
// fresh PostgreSQL schema of its own, its memory sampled from /proc, and a teardown that kills it and
// drops the schema, also when the benchmark fails or is interrupted.
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { log, sleep } from './util.mjs';

export const API_KEY = 'bench-admin-key';

function readProcStatus(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name) => {
      const match = text.match(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm'));
      return match ? Number(match[1]) : null;
    };
    return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
  } catch {
    return undefined;
  }
}

export class Service {
  /**
   * @param {{root: string, databaseUrl: string, schema: string, port: number, logFile: string,
   *          env?: Record<string, string>, nodeArgs?: string[]}} options
   */
  constructor(options) {
    this.options = options;
    this.child = undefined;
    this.exited = undefined; // {code, signal} once the process is gone
    this.rss = { samples: [], peakSampledKb: 0, hwmKb: null, lastKb: null };
    this.sampler = undefined;
    this.schemaDropped = false;
  }

  get baseUrl() {
    return `http://127.0.0.1:${this.options.port}`;
  }

  get pid() {
    return this.child?.pid;
  }

  get env() {
    const { databaseUrl, schema, port } = this.options;
    const env = { ...process.env };
    // Nothing from the caller's shell that would change what is measured.
    for (const name of ['NATS_URL', 'EVENTSTORE', 'ESDB_URL', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'LEDGER_DATA_DIR'])
      delete env[name];
    return {
      ...env,
      NODE_ENV: 'production',
      DATABASE_URL: databaseUrl,
      LEDGER_DB_SCHEMA: schema,
      LEDGER_ROLES: 'api,projector',
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      PORT: String(port),
      LEDGER_API_KEYS: `${API_KEY}:admin`,
      // The per-key rate limit is a policy, not a capacity: lift it so it does not cap what is measured.
      LEDGER_RATE_LIMIT: '10000000',
      ...(this.options.env ?? {}),
    };
  }

  async start({ readyTimeoutMs = 90_000 } = {}) {
    const { root, logFile } = this.options;
    const logStream = createWriteStream(logFile);
    this.child = spawn(process.execPath, [...(this.options.nodeArgs ?? []), path.join(root, 'dist/src/main.js')], {
      cwd: root,
      env: this.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout.pipe(logStream);
    this.child.stderr.pipe(logStream);
    this.child.on('exit', (code, signal) => {
      this.exited = { code, signal };
      this.stopSampling();
    });
    const started = performance.now();
    for (;;) {
      if (this.exited) {
        throw new Error(
          `the service exited while starting (${this.exited.signal ?? `exit ${this.exited.code}`}); its log:\n${this.logTail()}`,
        );
      }
      try {
        const response = await fetch(`${this.baseUrl}/health/ready`, { signal: AbortSignal.timeout(2000) });
        await response.text();
        if (response.status === 200) break;
      } catch {
        // not listening yet
      }
      if (performance.now() - started > readyTimeoutMs) {
        throw new Error(`the service was not ready within ${readyTimeoutMs / 1000} s; its log:\n${this.logTail()}`);
      }
      await sleep(100);
    }
    const ms = performance.now() - started;
    this.startSampling();
    return ms;
  }

  startSampling(intervalMs = 200) {
    const sample = () => {
      const status = this.pid ? readProcStatus(this.pid) : undefined;
      if (!status || status.rssKb === null) return;
      this.rss.lastKb = status.rssKb;
      this.rss.peakSampledKb = Math.max(this.rss.peakSampledKb, status.rssKb);
      if (status.hwmKb !== null) this.rss.hwmKb = status.hwmKb;
      this.rss.samples.push([Math.round(performance.now()), status.rssKb]);
    };
    sample();
    this.sampler = setInterval(sample, intervalMs);
    this.sampler.unref();
  }

  stopSampling() {
    if (this.sampler) clearInterval(this.sampler);
    this.sampler = undefined;
  }

  /** RSS now (kB), read on demand. */
  rssNowKb() {
    return (this.pid && readProcStatus(this.pid)?.rssKb) ?? null;
  }

  /** Final memory figures: VmHWM (the kernel's peak) read before the process is stopped. */
  memoryFigures() {
    const status = this.pid && !this.exited ? readProcStatus(this.pid) : undefined;
    if (status?.hwmKb) this.rss.hwmKb = status.hwmKb;
    return {
      peakRssMb: this.rss.hwmKb !== null ? this.rss.hwmKb / 1024 : this.rss.peakSampledKb / 1024,
      peakSampledRssMb: this.rss.peakSampledKb / 1024,
      lastRssMb: (status?.rssKb ?? this.rss.lastKb ?? 0) / 1024,
      samples: this.rss.samples.length,
    };
  }

  logTail(lines = 40) {
    try {
      return readFileSync(this.options.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** SIGTERM (the service finishes queued commands), SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000) {
    this.stopSampling();
    if (!this.child || this.exited) return this.exited;
    const gone = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
    this.child.kill('SIGTERM');
    const result = await Promise.race([gone, sleep(graceMs).then(() => undefined)]);
    if (result) return result;
    log(`the service did not stop within ${graceMs / 1000} s of SIGTERM: SIGKILL`);
    this.child.kill('SIGKILL');
    return gone;
  }

  async dropSchema() {
    if (this.schemaDropped) return;
    const client = new pg.Client({ connectionString: this.options.databaseUrl, application_name: 'ledger-bench' });
    await client.connect();
    try {
      await client.query('set lock_timeout = 10000');
      await client.query(`drop schema if exists ${this.options.schema} cascade`);
      this.schemaDropped = true;
    } finally {
      await client.end();
    }
  }

  /** Last-resort cleanup from a synchronous `exit` handler: no promises, only blocking calls. */
  cleanupSync() {
    if (this.child && !this.exited) {
      try {
        this.child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
    if (!this.schemaDropped) {
      spawnSync(
        'psql',
        [this.options.databaseUrl, '-q', '-c', `drop schema if exists ${this.options.schema} cascade`],
        {
          stdio: 'ignore',
          timeout: 15_000,
        },
      );
      this.schemaDropped = true;
    }
  }
}
