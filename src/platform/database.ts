import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Tables } from './tables';
import { PGliteDialect } from './pglite-dialect';

const MIGRATIONS_TABLE =
  'create table if not exists schema_migrations (version text primary key, applied_at timestamptz not null default now())';

export interface Database {
  readonly db: Kysely<Tables>;
  readonly kind: 'postgres' | 'pglite';
  /** Where the data lives, for the log (never a password). */
  readonly description: string;
  readonly schema: string;
  /**
   * Applies one migration script and records `version` in one transaction, unless it is recorded
   * already. Serialised across processes, so two starting at once do not both migrate.
   */
  applyMigration(version: string, script: string): Promise<boolean>;
  close(): Promise<void>;
}

/** Where the database is: the configuration's names for it (src/config.ts validates them). */
export interface DatabaseSettings {
  /** PostgreSQL; unset: the embedded PGlite in LEDGER_DATA_DIR. */
  readonly DATABASE_URL?: string | undefined;
  readonly LEDGER_DATA_DIR: string;
  readonly LEDGER_DB_SCHEMA: string;
  readonly LEDGER_DB_POOL_MAX: number;
}

export async function openDatabase(config: DatabaseSettings): Promise<Database> {
  const schema = config.LEDGER_DB_SCHEMA;
  if (config.DATABASE_URL) return openPostgres(config.DATABASE_URL, schema, config.LEDGER_DB_POOL_MAX);
  return openPGlite(config.LEDGER_DATA_DIR, schema);
}

async function openPostgres(url: string, schema: string, poolMax: number): Promise<Database> {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolMax,
    // No parallel query: the service's reads are point and page reads, and starting workers for
    // one (on an estimate gone stale, e.g. a stream that grew fast) cost 8 ms of a 0.2 ms read of
    // an account's events after its snapshot (ADR 0027).
    options: `-c search_path=${schema} -c max_parallel_workers_per_gather=0`,
    application_name: 'ledger',
  });
  // A dropped idle connection must not crash the process; the next query opens a new one.
  pool.on('error', () => {});
  const admin = await pool.connect();
  try {
    await admin.query(`create schema if not exists ${schema}`);
  } finally {
    admin.release();
  }
  const db = new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) });
  const safeUrl = new URL(url);
  safeUrl.password = '';
  return {
    db,
    kind: 'postgres',
    schema,
    description: `PostgreSQL ${safeUrl.host}${safeUrl.pathname} (schema ${schema})`,
    async applyMigration(version, script) {
      const client = await pool.connect();
      try {
        await client.query('begin');
        await client.query(`select pg_advisory_xact_lock(hashtext('ledger-migrations:' || $1))`, [schema]);
        await client.query(MIGRATIONS_TABLE);
        const seen = await client.query('select 1 from schema_migrations where version = $1', [version]);
        if (seen.rowCount) {
          await client.query('commit');
          return false;
        }
        await client.query(script);
        await client.query('insert into schema_migrations (version) values ($1)', [version]);
        await client.query('commit');
        return true;
      } catch (error) {
        await client.query('rollback').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
    close: () => db.destroy(),
  };
}

async function openPGlite(dataDir: string, schema: string): Promise<Database> {
  const { PGlite } = await import('@electric-sql/pglite');
  const dir = path.resolve(dataDir);
  if (dataDir !== 'memory://') mkdirSync(dir, { recursive: true });
  const pglite = await PGlite.create(dataDir === 'memory://' ? undefined : dir);
  await pglite.exec(`create schema if not exists ${schema}; set search_path = ${schema};`);
  const db = new Kysely<Tables>({ dialect: new PGliteDialect(pglite) });
  return {
    db,
    kind: 'pglite',
    schema,
    description: dataDir === 'memory://' ? 'embedded PGlite in memory' : `embedded PGlite in ${dir}`,
    async applyMigration(version, script) {
      await pglite.exec(MIGRATIONS_TABLE);
      const seen = await pglite.query('select 1 from schema_migrations where version = $1', [version]);
      if (seen.rows.length) return false;
      await pglite.transaction(async (tx) => {
        await tx.exec(script);
        await tx.query('insert into schema_migrations (version) values ($1)', [version]);
      });
      return true;
    },
    async close() {
      await db.destroy();
      await pglite.close();
    },
  };
}
