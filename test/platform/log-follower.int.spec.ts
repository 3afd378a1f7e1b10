/**
 * The one log follower (ADR 0016), on a real database: what every reader of the log relies on.
 * The log is a list in memory (the follower only needs `readAll`); the handler's effect is a row per
 * event in a table of the test's schema, so "nothing skipped, nothing twice" is a query.
 */
import { type Kysely, sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Checkpoint } from '../../src/platform/checkpoints';
import { advisoryLock, processLocalLock } from '../../src/platform/leader-lock';
import { type LogHandler, LogFollower, type LogFollowerOptions } from '../../src/platform/log-follower';
import type { Tables } from '../../src/platform/tables';
import { type TestDatabase, createTestDatabase } from '../support/database';

interface Entry {
  readonly position: bigint;
}

/** A log whose positions are sparse and beyond 2^64, as packed EventStoreDB positions are. */
class MemoryLog {
  readonly entries: Entry[] = [];
  reads = 0;
  append(count: number): void {
    for (let i = 0; i < count; i++) this.entries.push({ position: 2n ** 70n + BigInt(this.entries.length) * 7n + 3n });
  }
  async readAll({ after, limit }: { after: bigint; limit: number }): Promise<readonly Entry[]> {
    this.reads++;
    return this.entries.filter((e) => e.position > after).slice(0, limit);
  }
}

const eventually = async (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

/** A handler whose PostgreSQL effect is one row per event in `effects`. */
const recording = (overrides: Partial<LogHandler<Entry>> = {}): LogHandler<Entry> => ({
  async handle(events, tx) {
    for (const e of events) await sql`insert into effects (position) values (${e.position.toString()})`.execute(tx);
  },
  ...overrides,
});

describe('LogFollower', () => {
  let t: TestDatabase;
  let db: Kysely<Tables>;
  const followers: Array<LogFollower<Entry, unknown>> = [];
  const follow = <R>(
    log: MemoryLog,
    handler: LogHandler<Entry, R>,
    options: Partial<LogFollowerOptions<Entry>> = {},
  ) => {
    const follower = new LogFollower<Entry, R>(db, log, handler, {
      name: 'test-reader',
      batchSizeMax: 10,
      pollMs: 20,
      ...options,
    });
    followers.push(follower as LogFollower<Entry, unknown>);
    return follower;
  };
  const effects = async () =>
    (
      await sql<{ position: string }>`select position::text as position from effects order by position`.execute(db)
    ).rows.map((r) => BigInt(r.position));
  const stored = () => new Checkpoint('test-reader').peek(db);

  beforeAll(async () => {
    t = await createTestDatabase();
    db = t.database.db;
  });
  afterEach(async () => {
    for (const f of followers.splice(0)) await f.stop();
    await sql`drop table if exists effects`.execute(db);
    await sql`delete from checkpoints`.execute(db);
  });
  afterAll(() => t?.drop());

  const createEffects = () => sql`create table effects (position numeric(39, 0) primary key)`.execute(db);

  it('applies every event once, page by page, and moves the numeric checkpoint with the effect', async () => {
    await createEffects();
    const log = new MemoryLog();
    log.append(35);
    const follower = follow(log, recording());
    follower.start();
    await eventually('the head', () => follower.checkpoint === log.entries.at(-1)!.position);
    expect(await effects()).toEqual(log.entries.map((e) => e.position));
    expect(await stored()).toBe(log.entries.at(-1)!.position);
    // New events, and a wake: the idle poll ends at once (the poll alone would take a minute).
    follower.wake();
    await follower.stop();
    const slow = follow(log, recording(), { pollMs: 60_000 });
    slow.start();
    await eventually('the stored checkpoint', () => slow.checkpoint === log.entries.at(-1)!.position);
    log.append(3);
    slow.wake();
    await eventually('the new events', () => slow.checkpoint === log.entries.at(-1)!.position, 2000);
    expect(await effects()).toEqual(log.entries.map((e) => e.position));
  });

  it('a handler that fails rolls back its effect with the checkpoint; the page is applied once it succeeds', async () => {
    await createEffects();
    const log = new MemoryLog();
    log.append(5);
    let failures = 0;
    const follower = follow(
      log,
      recording({
        async handle(events, tx) {
          for (const e of events)
            await sql`insert into effects (position) values (${e.position.toString()})`.execute(tx);
          if (failures++ < 2) throw new Error('the database went away mid-page');
        },
      }),
      { backoffMinMs: 5 },
    );
    follower.start();
    await eventually('the head', () => follower.checkpoint === log.entries.at(-1)!.position);
    expect(failures).toBe(3);
    expect(await effects()).toEqual(log.entries.map((e) => e.position));
  });

  it("an error backoff is not cut short by new commits' wakes; stop ends it", async () => {
    await createEffects();
    const log = new MemoryLog();
    log.append(1);
    const follower = follow(
      log,
      recording({
        async handle() {
          throw new Error('broken');
        },
      }),
      { backoffMinMs: 400, backoffMaxMs: 400 },
    );
    follower.start();
    await eventually('the first failure', () => follower.lastError !== undefined);
    const readsAfterFailure = log.reads;
    // A burst of commits in this process: each wakes the follower; none may end the backoff.
    for (let i = 0; i < 20; i++) {
      follower.wake();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(log.reads).toBe(readsAfterFailure);
    const stopping = Date.now();
    await follower.stop();
    expect(Date.now() - stopping).toBeLessThan(300);
  });

  it('two followers of one checkpoint take turns: each event applied exactly once', async () => {
    await createEffects();
    const log = new MemoryLog();
    log.append(200);
    const a = follow(log, recording(), { batchSizeMax: 7 });
    const b = follow(log, recording(), { batchSizeMax: 7 });
    a.start();
    b.start();
    const head = log.entries.at(-1)!.position;
    await eventually('both at the head', async () => (await stored()) === head);
    // A duplicate would break the primary key and never reach the head; a gap shows here.
    expect(await effects()).toEqual(log.entries.map((e) => e.position));
  });

  it('prepare may pass a prefix of the page; 0 holds the checkpoint and backs off', async () => {
    await createEffects();
    const log = new MemoryLog();
    log.append(6);
    let held = true;
    const seen: number[] = [];
    const follower = follow<number>(
      log,
      {
        async prepare(events) {
          seen.push(events.length);
          if (held) return { passed: 0, value: 0 };
          return { passed: 2, value: 2 };
        },
        async handle(events, tx, value) {
          expect(events).toHaveLength(value!);
          for (const e of events)
            await sql`insert into effects (position) values (${e.position.toString()})`.execute(tx);
        },
      },
      { backoffMinMs: 10 },
    );
    follower.start();
    await eventually('a few held-back tries', () => seen.length >= 2);
    expect(await stored()).toBe(0n);
    held = false;
    await eventually('the head', () => follower.checkpoint === log.entries.at(-1)!.position);
    expect(await effects()).toEqual(log.entries.map((e) => e.position));
  });

  it('without handle, the checkpoint moves by compare-and-move after prepare (pipelined)', async () => {
    const log = new MemoryLog();
    log.append(50);
    const published: bigint[] = [];
    const follower = follow<number>(
      log,
      {
        async prepare(events) {
          await new Promise((resolve) => setTimeout(resolve, 5));
          published.push(...events.map((e) => e.position));
          return { value: events.length };
        },
      },
      { pipeline: true },
    );
    follower.start();
    await eventually('the head', async () => (await stored()) === log.entries.at(-1)!.position);
    expect(published).toEqual(log.entries.map((e) => e.position));
  });

  it('under a leader lock one follower works and the other stands by, then takes over', async () => {
    await createEffects();
    const log = new MemoryLog();
    log.append(10);
    const lock = () =>
      t.database.kind === 'pglite' ? processLocalLock(db, 'test-reader') : advisoryLock(db, 'test-reader');
    const a = follow(log, recording(), { leaderLock: lock(), standbyRetryMs: 20 });
    const b = follow(log, recording(), { leaderLock: lock(), standbyRetryMs: 20 });
    a.start();
    b.start();
    await eventually('one active, one standby', () => [a.state, b.state].sort().join() === 'active,standby');
    const [active, standby] = a.state === 'active' ? [a, b] : [b, a];
    await eventually('the head', () => active.checkpoint === log.entries.at(-1)!.position);
    await active.stop();
    log.append(5);
    await eventually('the standby takes over', () => standby.state === 'active');
    await eventually('the new head', () => standby.checkpoint === log.entries.at(-1)!.position);
    expect(await effects()).toEqual(log.entries.map((e) => e.position));
  });
});
