import { type Kysely, sql } from 'kysely';
import type { Tables } from '../platform/tables';

/**
 * Makes one relay the only one publishing, across processes, so that the per-account order holds.
 * `hold` runs `active` while this process holds the lock, on the database handle to write the
 * checkpoint through (the connection that holds the lock: a checkpoint can only move while the lock
 * is ours). It resolves false at once when another relay holds it.
 */
export interface RelayLock {
  hold(active: (db: Kysely<Tables>) => Promise<void>): Promise<boolean>;
}

/**
 * A PostgreSQL session advisory lock, on one connection kept for as long as this relay publishes.
 * If the process dies or its connection drops, PostgreSQL releases the lock and a standby relay
 * takes over from the checkpoint; the dropped relay's next checkpoint write fails on the dead
 * connection, so it stops publishing.
 */
export function advisoryLock(db: Kysely<Tables>, name: string): RelayLock {
  return {
    hold: (active) =>
      db.connection().execute(async (connection) => {
        const got = await sql<{ locked: boolean }>`
          select pg_try_advisory_lock(hashtext(current_schema() || ':' || ${name})) as locked`.execute(connection);
        if (!got.rows[0]?.locked) return false;
        try {
          await active(connection);
        } finally {
          await sql`select pg_advisory_unlock(hashtext(current_schema() || ':' || ${name}))`
            .execute(connection)
            .catch(() => {});
        }
        return true;
      }),
  };
}

/** Databases whose relay lock is held in this process. */
const heldHere = new WeakSet<object>();

/** The embedded PGlite serves one process (and one connection): only relays in this process compete. */
export function processLocalLock(db: Kysely<Tables>): RelayLock {
  return {
    async hold(active) {
      if (heldHere.has(db)) return false;
      heldHere.add(db);
      try {
        await active(db);
      } finally {
        heldHere.delete(db);
      }
      return true;
    },
  };
}
