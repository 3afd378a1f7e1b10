import { EventEmitter } from 'node:events';
import type { Kysely, RawBuilder } from 'kysely';
import { Checkpoint } from './checkpoints';
import type { LeaderLock } from './leader-lock';
import type { Tables } from './tables';
import { WakeSignal } from './wake-signal';

/** What the follower needs of a log entry: its place in the global log. */
export interface Positioned {
  readonly position: bigint;
}

/** Where the events come from: pages of the global log after a position, in log order. */
export interface LogSource<E extends Positioned> {
  readAll(range: { after: bigint; limit: number }): Promise<readonly E[]>;
}

/** What `prepare` passed on: how many events of the page (a prefix) and what `handle` needs of them. */
export interface Prepared<R> {
  /** Events of the page this step passes, from the first; all when absent; 0 holds the checkpoint. */
  readonly passed?: number;
  readonly value: R;
}

/**
 * What one reader does with the events; the follower does the rest (loop, wake, backoff,
 * checkpoint, leader lock). Both steps are optional; a reader supplies at least one.
 */
export interface LogHandler<E extends Positioned, R = undefined> {
  /**
   * Work before the checkpoint's transaction, on a page read after the checkpoint: effects outside
   * PostgreSQL (publishing to NATS, appending to the event store). A crash after it and before the
   * checkpoint moves repeats it, so it must be idempotent (event ids, expected revisions).
   */
  prepare?(events: readonly E[]): Promise<Prepared<R>>;
  /**
   * The reader's PostgreSQL effect on the events passed, in the transaction that moves the
   * checkpoint past them: both commit, or neither.
   */
  handle?(events: readonly E[], tx: Kysely<Tables>, prepared: R | undefined): Promise<void>;
  /**
   * Instead of `handle`: the reader's PostgreSQL effect and the checkpoint's move from `from` to
   * `to` in one statement (ADR 0038), which writes nothing unless the checkpoint is still at `from`
   * (locked as it moves); true when it moved. One round trip a page instead of five. `db` is the
   * pool, or a transaction when a test hook must run before the commit.
   */
  handleMoving?(
    events: readonly E[],
    db: Kysely<Tables>,
    move: CheckpointMove,
    prepared: R | undefined,
  ): Promise<boolean>;
  /** After the checkpoint moved past `events` (metrics, progress). */
  committed?(events: readonly E[], prepared: R | undefined): void;
  /** A read found nothing after the checkpoint (housekeeping such as retries may run here). */
  idle?(): Promise<void>;
  /** Before a read: how long to wait instead of reading now (e.g. an open circuit breaker). */
  pausedForMs?(): number | undefined;
  /** Before each session (and before the leader lock is tried): connect what `prepare` needs. */
  connect?(): Promise<void>;
  /** A step failed: the follower backs off and starts a new session from the stored checkpoint. */
  failed?(error: unknown): Promise<void> | void;
}

/** A checkpoint's move, from the position the reader is at to its page's last. */
export interface CheckpointMove {
  readonly from: bigint;
  readonly to: bigint;
  /** The compare-and-move, to put in the reader's statement (`Checkpoint.moveStatement`). */
  readonly statement: RawBuilder<unknown>;
}

export interface LogFollowerOptions<E extends Positioned = Positioned> {
  /** The checkpoint row's name (one per reader). */
  readonly name: string;
  readonly batchSizeMax: number;
  /** Idle poll; new events in this process end it early (`wake`). */
  readonly pollMs: number;
  /** Error backoff: from backoffMinMs (default pollMs), doubling, capped at backoffMaxMs (default 5 s). */
  readonly backoffMinMs?: number;
  readonly backoffMaxMs?: number;
  /**
   * Only one follower of this name publishes at a time, across processes (the relay: per-account
   * order on NATS). The checkpoint then moves only through the lock's connection.
   */
  readonly leaderLock?: LeaderLock;
  /** How often a standby follower tries to take the lock. */
  readonly standbyRetryMs?: number;
  /**
   * Reads the next page while the previous one's `prepare` is still settling (its acks on their
   * way), then moves the checkpoint past the previous one. `prepare` must then pass every event.
   */
  readonly pipeline?: boolean;
  /**
   * Test hook: after the reader's effect, before the checkpoint moves (in its transaction, if any);
   * with `handleMoving`, after the statement that does both, before its transaction commits.
   */
  readonly beforeCheckpoint?: (events: readonly E[]) => Promise<void>;
}

export type FollowerState = 'starting' | 'active' | 'standby' | 'stopped';

/** One step's outcome; `passed` counts the events it moved the checkpoint past (positions need not be dense). */
type StepResult =
  | { readonly kind: 'progress'; readonly passed: number }
  | { readonly kind: 'idle' | 'blocked' }
  | { readonly kind: 'paused'; readonly waitMs: number };

interface Pending<E, R> {
  readonly events: readonly E[];
  readonly prepared: Promise<Prepared<R>>;
}

/**
 * Follows the global log for one reader (the read models, the NATS relay, the fraud scorer, …): reads
 * a page after its checkpoint, hands it to the reader, and moves the checkpoint with the reader's
 * effect. One implementation of the loop, so the readers cannot drift apart:
 *
 * - an idle poll is cut short by `wake()` (a wake during a busy step is remembered);
 * - an error backoff, a paused reader and a standby wait are not: new commits must not turn a
 *   failing database or NATS into a busy loop; only `stop()` interrupts them;
 * - the checkpoint is compared before it moves: in a transaction that locks its row (readers that
 *   write PostgreSQL), or compare-and-move (readers whose effect is elsewhere); a follower that
 *   finds it moved by another takes it from there, so a page is never applied twice.
 */
export class LogFollower<E extends Positioned, R = undefined> {
  private readonly checkpointRow: Checkpoint;
  private readonly wakeSignal = new WakeSignal();
  private readonly progress = new EventEmitter();
  private position = 0n;
  private running = false;
  private loop: Promise<void> | undefined;
  private backoffMs: number;
  state: FollowerState = 'stopped';
  lastError: unknown;

  constructor(
    private readonly db: Kysely<Tables>,
    private readonly source: LogSource<E>,
    private readonly handler: LogHandler<E, R>,
    private readonly options: LogFollowerOptions<E>,
  ) {
    this.checkpointRow = new Checkpoint(options.name);
    this.backoffMs = this.backoffMinMs;
    this.progress.setMaxListeners(0);
  }

  /** The position of the last event whose effect this follower committed (or read as stored). */
  get checkpoint(): bigint {
    return this.position;
  }

  get name(): string {
    return this.options.name;
  }

  get isRunning(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.state = 'starting';
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wakeSignal.interrupt();
    await this.loop;
    this.state = 'stopped';
  }

  /** New events were appended in this process: look now rather than at the next poll. */
  wake(): void {
    this.wakeSignal.wake();
  }

  /** Resolves true once the checkpoint reaches `position`, false after `timeoutMs`. */
  waitFor(position: bigint, timeoutMs: number): Promise<boolean> {
    if (this.position >= position) return Promise.resolve(true);
    return new Promise((resolve) => {
      const onProgress = (at: bigint) => {
        if (at < position) return;
        clearTimeout(timer);
        this.progress.off('progress', onProgress);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.progress.off('progress', onProgress);
        resolve(this.position >= position);
      }, timeoutMs);
      this.progress.on('progress', onProgress);
    });
  }

  /**
   * Handles everything up to the log's head now, without the loop (rebuilds, tools, tests); returns
   * how many events passed. Stops early, without error, when the reader pauses or holds an event back.
   */
  async catchUp(onPage?: (position: bigint, passed: number) => void): Promise<number> {
    this.position = await this.checkpointRow.read(this.db);
    let passed = 0;
    for (;;) {
      const result = await this.step(this.db);
      if (result.kind !== 'progress') return passed;
      passed += result.passed;
      onPage?.(this.position, passed);
    }
  }

  private get backoffMinMs(): number {
    return this.options.backoffMinMs ?? this.options.pollMs;
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        await this.handler.connect?.();
        const lock = this.options.leaderLock;
        if (!lock) {
          await this.follow(this.db);
          continue;
        }
        const held = await lock.hold((db) => this.follow(db));
        if (!held && this.running) {
          this.state = 'standby';
          this.lastError = undefined;
          await this.wakeSignal.wait(this.options.standbyRetryMs ?? 1000, { wakeable: false });
        }
      } catch (error) {
        this.lastError = error;
        if (this.state !== 'stopped') this.state = 'starting';
        await this.handler.failed?.(error);
        if (this.running) await this.backOff();
      }
    }
  }

  /** Waits the current backoff, which new commits do not cut short, and doubles it for next time. */
  private async backOff(): Promise<void> {
    await this.wakeSignal.wait(this.backoffMs, { wakeable: false });
    this.backoffMs = Math.min(this.backoffMs * 2, this.options.backoffMaxMs ?? 5000);
  }

  /** One session: from the stored checkpoint, step after step, until stopped or a step fails. */
  private async follow(db: Kysely<Tables>): Promise<void> {
    this.position = await this.checkpointRow.read(db);
    this.state = 'active';
    if (this.options.pipeline) return this.followPipelined(db);
    while (this.running) {
      const result = await this.step(db);
      if (result.kind === 'progress') continue;
      if (result.kind === 'idle') await this.wakeSignal.wait(this.options.pollMs);
      else if (result.kind === 'paused') await this.wakeSignal.wait(result.waitMs, { wakeable: false });
      else await this.backOff();
    }
  }

  /** Reads a page after the checkpoint, passes it to the reader, and moves the checkpoint with it. */
  private async step(db: Kysely<Tables>): Promise<StepResult> {
    const pausedMs = this.handler.pausedForMs?.();
    if (pausedMs !== undefined) return { kind: 'paused', waitMs: pausedMs };
    const page = await this.source.readAll({ after: this.position, limit: this.options.batchSizeMax });
    if (page.length === 0) {
      await this.handler.idle?.();
      this.recovered();
      return { kind: 'idle' };
    }
    const prepared = this.handler.prepare ? await this.handler.prepare(page) : undefined;
    const passed = Math.min(prepared?.passed ?? page.length, page.length);
    // The reader holds the first event back (it will retry it): back off, as after an error.
    if (passed === 0) return { kind: 'blocked' };
    return { kind: 'progress', passed: await this.commit(db, page.slice(0, passed), prepared?.value) };
  }

  /**
   * The pipelined session: page N+1 is read and prepared while page N's `prepare` settles, so
   * reads and round trips overlap; the checkpoint still moves page by page, in order.
   */
  private async followPipelined(db: Kysely<Tables>): Promise<void> {
    const prepare = this.handler.prepare;
    if (!prepare) throw new Error(`${this.options.name}: a pipelined follower needs prepare`);
    let readUpTo = this.position;
    let inFlight: Pending<E, R> | undefined;
    try {
      while (this.running) {
        const page = await this.source.readAll({ after: readUpTo, limit: this.options.batchSizeMax });
        let sent: Pending<E, R> | undefined;
        if (page.length > 0) {
          sent = { events: page, prepared: prepare.call(this.handler, page) };
          // Awaited below; if the page before it fails first, nobody awaits this one.
          sent.prepared.catch(() => {});
          readUpTo = page.at(-1)!.position;
        }
        if (inFlight) await this.completePipelined(db, inFlight);
        inFlight = sent;
        if (!inFlight) {
          await this.handler.idle?.();
          this.recovered();
          await this.wakeSignal.wait(this.options.pollMs);
        }
      }
      if (inFlight) await this.completePipelined(db, inFlight);
    } finally {
      inFlight = undefined;
    }
  }

  private async completePipelined(db: Kysely<Tables>, pending: Pending<E, R>): Promise<void> {
    const prepared = await pending.prepared;
    if ((prepared.passed ?? pending.events.length) !== pending.events.length) {
      throw new Error(`${this.options.name}: a pipelined reader must pass whole pages`);
    }
    await this.commit(db, pending.events, prepared.value);
  }

  /**
   * Moves the checkpoint past `events`, with the reader's PostgreSQL effect when it has one.
   * Returns how many events it moved past: 0 when another follower had moved it (taken from there).
   */
  private async commit(db: Kysely<Tables>, events: readonly E[], prepared: R | undefined): Promise<number> {
    const to = events.at(-1)!.position;
    const from = this.position;
    let moved: boolean;
    const handle = this.handler.handle;
    const handleMoving = this.handler.handleMoving;
    if (handleMoving) {
      const move = { from, to, statement: this.checkpointRow.moveStatement(from, to) };
      const hook = this.options.beforeCheckpoint;
      moved = hook
        ? await db.transaction().execute(async (tx) => {
            const done = await handleMoving.call(this.handler, events, tx, move, prepared);
            if (done) await hook(events);
            return done;
          })
        : await handleMoving.call(this.handler, events, db, move, prepared);
      if (!moved) this.adopt(await this.checkpointRow.read(db));
    } else if (handle) {
      moved = await db.transaction().execute(async (tx) => {
        const stored = await this.checkpointRow.lock(tx);
        if (stored !== from) {
          this.adopt(stored);
          return false;
        }
        await handle.call(this.handler, events, tx, prepared);
        await this.options.beforeCheckpoint?.(events);
        await this.checkpointRow.set(tx, to);
        return true;
      });
    } else {
      await this.options.beforeCheckpoint?.(events);
      moved = await this.checkpointRow.move(db, from, to);
      if (!moved) this.adopt(await this.checkpointRow.read(db));
    }
    if (!moved) return 0;
    this.position = to;
    this.handler.committed?.(events, prepared);
    this.progress.emit('progress', to);
    this.recovered();
    return events.length;
  }

  /**
   * Another follower of this checkpoint moved it (or a rebuild reset it). Without a leader lock
   * that is how followers take turns: continue from there. Under a leader lock it means the lock
   * was lost: stop this session.
   */
  private adopt(stored: bigint): void {
    if (this.options.leaderLock) {
      throw new Error(`checkpoint ${this.options.name} is no longer at ${this.position}: another follower moved it`);
    }
    this.position = stored;
  }

  private recovered(): void {
    this.lastError = undefined;
    this.backoffMs = this.backoffMinMs;
  }
}
