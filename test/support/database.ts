import { randomBytes } from 'node:crypto';
import net from 'node:net';
import pg from 'pg';
import { type Database, openDatabase } from '../../src/platform/database';
import { migrate } from '../../src/platform/migrations';

/** The PostgreSQL the integration tests use: TEST_DATABASE_URL, or the local server. */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let probe: Promise<boolean> | undefined;

/** Whether the test PostgreSQL answers; under CI=true a missing server is a failure, not a fallback. */
export function postgresAvailable(): Promise<boolean> {
  probe ??= (async () => {
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      await client.query('select 1');
      return true;
    } catch {
      if (process.env.CI === 'true') {
        throw new Error(`CI=true and no PostgreSQL answers at ${TEST_DATABASE_URL}: start it (see .ci/run)`);
      }
      console.warn(`[tests] no PostgreSQL at ${TEST_DATABASE_URL}: running on the embedded PGlite instead`);
      return false;
    } finally {
      await client.end().catch(() => {});
    }
  })();
  return probe;
}

export interface TestDatabase {
  readonly database: Database;
  /** Settings that point a service (in this process or another) at the same schema. */
  readonly env: { DATABASE_URL?: string; LEDGER_DB_SCHEMA: string; LEDGER_DATA_DIR: string };
  /** Plain SQL on the same schema, outside the service (for tampering and inspection). */
  query<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<R[]>;
  drop(): Promise<void>;
}

/** A fresh, migrated schema of its own on the test PostgreSQL (or an in-memory PGlite). */
export async function createTestDatabase(): Promise<TestDatabase> {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  if (await postgresAvailable()) {
    const settings = { DATABASE_URL: TEST_DATABASE_URL, LEDGER_DB_SCHEMA: schema, LEDGER_DATA_DIR: 'memory://' };
    const database = await openDatabase({ ...settings, LEDGER_DB_POOL_MAX: 5 });
    await migrate(database);
    const admin = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 2, options: `-c search_path=${schema}` });
    return {
      database,
      env: settings,
      async query(text, params) {
        return (await admin.query(text, params as unknown[])).rows;
      },
      async drop() {
        await database.close();
        await admin.query(`drop schema if exists ${schema} cascade`);
        await admin.end();
      },
    };
  }
  const settings = { LEDGER_DB_SCHEMA: schema, LEDGER_DATA_DIR: 'memory://' };
  const database = await openDatabase({ ...settings, LEDGER_DB_POOL_MAX: 1 });
  await migrate(database);
  const { sql } = await import('kysely');
  return {
    database,
    env: settings,
    async query<R>(text: string, params: unknown[] = []) {
      // PGlite has one connection: go through kysely so we queue behind the service's queries.
      const compiled = { sql: text, parameters: params, query: { kind: 'RawNode' }, queryId: { queryId: 'raw' } };
      void sql;
      return (await database.db.executeQuery<R>(compiled as never)).rows;
    },
    drop: () => database.close(),
  };
}

/** Whether NATS answers on NATS_URL or 127.0.0.1:4222; under CI=true its absence is a failure. */
export async function natsAvailable(url = process.env.NATS_URL ?? 'nats://127.0.0.1:4222'): Promise<boolean> {
  const { hostname, port } = new URL(url);
  const up = await new Promise<boolean>((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port || 4222) });
    socket.setTimeout(1500);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
  if (!up && process.env.CI === 'true') throw new Error(`CI=true and no NATS answers at ${url}`);
  return up;
}
