import { type Kysely, sql } from 'kysely';
import type { EventStore } from '../eventstore/port';
import { Checkpoint } from '../platform/checkpoints';
import type { Tables } from '../platform/tables';
import { Projector, READ_MODELS_CHECKPOINT } from './projector';

export interface RebuildProgress {
  readonly applied: number;
  readonly position: bigint;
  readonly head: bigint;
  readonly eventsPerSecond: number;
}

/**
 * Empties the read models and replays the whole global log into them. Events are never touched.
 * A projector running elsewhere sees its checkpoint go back to 0 and takes turns with this one
 * (the checkpoint row is locked per batch), so nothing is applied twice.
 */
export async function rebuildReadModels(
  db: Kysely<Tables>,
  store: EventStore,
  options: { batchSizeMax: number; onProgress?: (progress: RebuildProgress) => void },
): Promise<RebuildProgress> {
  await db.transaction().execute(async (trx) => {
    await sql`truncate rm_entries, rm_transfers, rm_accounts, rm_balance_known, rm_backdated_entries`.execute(trx);
    await new Checkpoint(READ_MODELS_CHECKPOINT).remove(trx);
  });
  const head = await store.headPosition();
  const projector = new Projector(db, store, { batchSizeMax: options.batchSizeMax, pollMs: 1000 });
  const started = performance.now();
  const progress = (applied: number, position: bigint): RebuildProgress => ({
    applied,
    position,
    head,
    eventsPerSecond: Math.round(applied / Math.max(0.001, (performance.now() - started) / 1000)),
  });
  const applied = await projector.catchUp((position, count) => options.onProgress?.(progress(count, position)));
  return progress(applied, projector.checkpoint);
}
