import { type Kysely, sql } from 'kysely';
import type { Tables } from '../platform/tables';

/**
 * Makes one follower the only one at work, across processes (the NATS relay: so that per-account
 * order holds on the stream). `hold` runs `active` while this process holds the lock, on the
 * database handle to write the checkpoint through (the connection that holds the lock: a
 * checkpoint can only move while the lock is ours). It resolves false at once when another holds it.
 */
export interface LeaderLock {
  hold(active: (db: Kysely<Tables>) => Promise<void>): Promise<boolean>;
}

/**
 * A PostgreSQL session advisory lock, on one connection kept for as long as the holder works.
 * If the process dies or its connection drops, PostgreSQL releases the lock and a standby takes
 * over from the checkpoint; the dropped holder's next checkpoint write fails on the dead
 * connection, so it stops.
 */
export function advisoryLock(db: Kysely<Tables>, name: string): LeaderLock {
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

/** The names whose leader lock is held in this process, per database. */
const heldHere = new WeakMap<object, Set<string>>();

/** The embedded PGlite serves one process (and one connection): only followers in this process compete. */
export function processLocalLock(db: Kysely<Tables>, name: string): LeaderLock {
  return {
    async hold(active) {
      const held = heldHere.get(db) ?? new Set<string>();
      heldHere.set(db, held);
      if (held.has(name)) return false;
      held.add(name);
      try {
        await active(db);
      } finally {
        held.delete(name);
      }
      return true;
    },
  };
}
