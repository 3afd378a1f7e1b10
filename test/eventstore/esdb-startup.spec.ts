import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLedgerApp } from '../../src/app';
import { loadConfig } from '../../src/config';

const ROOT = path.resolve(__dirname, '../..');
const MAIN = path.join(ROOT, 'dist/src/main.js');
/** Nothing listens on port 1: the connection is refused at once. */
const UNREACHABLE = 'esdb://127.0.0.1:1?tls=false';

/** Runs the compiled service to its exit; its output and exit code. */
function runToExit(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build (npm test does it)`);
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    PORT: '0',
    LEDGER_DATA_DIR: 'memory://',
    ...env,
  };
  // Not a word about PostgreSQL: the refusal must come before any database is opened.
  delete childEnv.DATABASE_URL;
  for (const [key, value] of Object.entries(childEnv)) if (value === '') delete childEnv[key];
  return new Promise((resolve) => {
    let output = '';
    const child = spawn(process.execPath, [MAIN], {
      cwd: ROOT,
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.once('exit', (code) => resolve({ code, output }));
  });
}

describe('EVENTSTORE=esdb at start', () => {
  it('the service refuses to start when EventStoreDB is unreachable, and says what to do', async () => {
    const { code, output } = await runToExit({
      EVENTSTORE: 'esdb',
      ESDB_URL: UNREACHABLE,
      LEDGER_ESDB_CONNECT_TIMEOUT_MS: '5000',
    });
    expect(code).toBe(1);
    expect(output).toContain('the ledger could not start: EventStoreDB at esdb://127.0.0.1:1?tls=false is unreachable');
    expect(output).toMatch(/docker compose up kurrentdb|EVENTSTORE=postgres/);
    expect(output).not.toMatch(/listening on/);
  }, 60_000);

  it('the service refuses to start when ESDB_URL is missing', async () => {
    const { code, output } = await runToExit({ EVENTSTORE: 'esdb', ESDB_URL: '' });
    expect(code).toBe(2);
    expect(output).toContain('EVENTSTORE=esdb needs ESDB_URL');
  }, 60_000);

  it('createLedgerApp rejects before opening anything else', async () => {
    const config = loadConfig({
      EVENTSTORE: 'esdb',
      ESDB_URL: UNREACHABLE,
      LEDGER_ESDB_CONNECT_TIMEOUT_MS: '5000',
      LOG_LEVEL: 'silent',
    });
    const closed: string[] = [];
    const database = { close: async () => void closed.push('database') } as never;
    await expect(createLedgerApp(config, database)).rejects.toThrow(
      /EventStoreDB at esdb:\/\/127\.0\.0\.1:1\?tls=false is unreachable/,
    );
    expect(closed).toEqual([]);
  }, 60_000);
});
