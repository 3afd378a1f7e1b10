import pg from 'pg';
import { TEST_DATABASE_URL, type TestDatabase } from './database';

export interface LogLock {
  /** Commits the holding transaction: the appends queued behind it go on. */
  release(): Promise<void>;
  /** Resolves once `n` backends wait for this transaction, directly or in the lock's queue. */
  waiting(n: number): Promise<void>;
}

/**
 * Holds the log head's row lock (the appends' critical section, ADR 0027) in a transaction of its
 * own, so that a test knows in which order appends reach it. PostgreSQL only.
 */
export async function holdLogLock(tdb: TestDatabase): Promise<LogLock> {
  const client = new pg.Client({
    connectionString: TEST_DATABASE_URL,
    options: `-c search_path=${tdb.env.LEDGER_DB_SCHEMA}`,
  });
  await client.connect();
  await client.query('begin');
  await client.query('select position from log_head where id = 1 for update');
  const pid = Number((await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid);
  return {
    async release() {
      await client.query('commit');
      await client.end();
    },
    async waiting(n: number) {
      for (let tries = 0; ; tries++) {
        // Asked outside the holding transaction: inside it, pg_stat_activity keeps its first answer.
        // The first append waits for this transaction, the next for the first (the row lock's queue).
        const rows = await tdb.query<{ n: string }>(
          `with recursive blocked(pid) as (
             select a.pid from pg_stat_activity a where $1 = any(pg_blocking_pids(a.pid))
             union
             select a.pid from pg_stat_activity a join blocked b on b.pid = any(pg_blocking_pids(a.pid))
           )
           select count(*)::text as n from blocked`,
          [pid],
        );
        if (Number(rows[0]!.n) >= n) return;
        if (tries > 500) throw new Error(`fewer than ${n} appends are waiting for the log's lock`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
  };
}
