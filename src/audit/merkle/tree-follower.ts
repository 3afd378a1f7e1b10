import type { Kysely } from 'kysely';
import type { RecordedEvent } from '../../eventstore/port';
import type { LogSource } from '../../platform/log-follower';
import { LogReader } from '../../platform/log-reader';
import type { Tables } from '../../platform/tables';
import { appendToTree } from './tree-appender';

export const MERKLE_TREE_CHECKPOINT = 'merkle-tree';

/**
 * Keeps the Merkle tree of the log (ADR 0021): a handler of the common log follower, so each page
 * of events enters the tree in the transaction that moves its checkpoint. Not on the append path:
 * the write path pays nothing for the tree, and proofs of the newest events wait for it (503
 * not-caught-up for a moment).
 */
export class MerkleTreeFollower extends LogReader<RecordedEvent> {
  constructor(db: Kysely<Tables>, source: LogSource<RecordedEvent>, options: { batchSizeMax: number; pollMs: number }) {
    super(db, source, { name: MERKLE_TREE_CHECKPOINT, ...options });
  }

  override async handle(events: readonly RecordedEvent[], tx: Kysely<Tables>): Promise<void> {
    await appendToTree(tx, events);
  }
}
