import type { Kysely } from 'kysely';
import {
  type CheckpointMove,
  LogFollower,
  type LogFollowerOptions,
  type LogHandler,
  type LogSource,
  type Positioned,
  type Prepared,
} from './log-follower';
import type { Tables } from './tables';

/**
 * A reader of the log that is its own handler: extend it, implement `handle` and/or `prepare`, and
 * the follower's controls (start, stop, wake, checkpoint, errors, waits) come with it, so each
 * reader does not forward them by hand.
 */
export abstract class LogReader<E extends Positioned, R = undefined> implements LogHandler<E, R> {
  protected readonly follower: LogFollower<E, R>;

  // What a reader supplies (see LogHandler): at least one of the two.
  prepare?(events: readonly E[]): Promise<Prepared<R>>;
  handle?(events: readonly E[], tx: Kysely<Tables>, prepared: R | undefined): Promise<void>;
  handleMoving?(
    events: readonly E[],
    db: Kysely<Tables>,
    move: CheckpointMove,
    prepared: R | undefined,
  ): Promise<boolean>;

  constructor(db: Kysely<Tables>, source: LogSource<E>, options: LogFollowerOptions<E>) {
    this.follower = new LogFollower<E, R>(db, source, this, options);
  }

  /** The position of the last event whose effect this reader committed. */
  get checkpoint(): bigint {
    return this.follower.checkpoint;
  }

  get isRunning(): boolean {
    return this.follower.isRunning;
  }

  get lastError(): unknown {
    return this.follower.lastError;
  }

  start(): void {
    this.follower.start();
  }

  stop(): Promise<void> {
    return this.follower.stop();
  }

  /** New events were appended in this process: look now rather than at the next poll. */
  wake(): void {
    this.follower.wake();
  }

  /** Resolves true once the checkpoint reaches `position`, false after `timeoutMs`. */
  waitFor(position: bigint, timeoutMs: number): Promise<boolean> {
    return this.follower.waitFor(position, timeoutMs);
  }

  /** Handles everything up to the log's head now, without the loop; returns how many events passed. */
  catchUp(onPage?: (position: bigint, passed: number) => void): Promise<number> {
    return this.follower.catchUp(onPage);
  }
}
