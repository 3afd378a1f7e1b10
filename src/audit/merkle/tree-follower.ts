import type { Kysely } from 'kysely';
import type { EventStore, RecordedEvent } from '../../eventstore/port';
import { type LogHandler, LogFollower } from '../../platform/log-follower';
import type { Tables } from '../../platform/tables';
import { appendToTree } from './tree-appender';

export const MERKLE_TREE_CHECKPOINT = 'merkle-tree';

/**
 * Keeps the Merkle tree of the log (ADR 0021): a handler of the common log follower, so each page
 * of events enters the tree in the transaction that moves its checkpoint. Not on the append path:
 * the write path pays nothing for the tree, and proofs of the newest events wait for it (503
 * not-caught-up for a moment).
 */
export class MerkleTreeFollower implements LogHandler<RecordedEvent> {
  private readonly follower: LogFollower<RecordedEvent>;

  constructor(db: Kysely<Tables>, store: EventStore, options: { batchSizeMax: number; pollMs: number }) {
    this.follower = new LogFollower(db, store, this, { name: MERKLE_TREE_CHECKPOINT, ...options });
  }

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

  wake(): void {
    this.follower.wake();
  }

  /** Adds everything up to the log's head now (tools, tests). */
  catchUp(): Promise<number> {
    return this.follower.catchUp();
  }

  async handle(events: readonly RecordedEvent[], tx: Kysely<Tables>): Promise<void> {
    await appendToTree(tx, events);
  }
}
