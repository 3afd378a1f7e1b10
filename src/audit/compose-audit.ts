import type { Logger } from '@nestjs/common';
import type { Config } from '../config';
import { PostgresEventStore } from '../eventstore/postgres-event-store';
import type { EventStore, RecordedEvent } from '../eventstore/port';
import type { LogSource } from '../platform/log-follower';
import type { Database } from '../platform/database';
import type { CatchUp } from '../projections/catch-up';
import type { ReadModels } from '../projections/queries';
import { Auditor } from './auditor';
import { KeyRegistry } from './key-registry';
import { LogProofs } from './log-proofs';
import { MerkleTreeFollower } from './merkle/tree-follower';
import { type KeyRing, loadKeyRing } from './signing-keys';

export interface AuditParts {
  readonly auditor: Auditor;
  readonly keys: KeyRing;
  /** Keeps the Merkle tree, in processes with the projector role on the PostgreSQL log (ADR 0021). */
  readonly merkleTree: MerkleTreeFollower | null;
}

/** The audit floor of one process: its signing keys (registered in the database), the proofs, and the tree's follower. */
export async function composeAudit(
  config: Config,
  floors: {
    database: Database;
    store: EventStore;
    /** The log as this process's readers follow it (ADR 0038). */
    logSource: LogSource<RecordedEvent>;
    readModels: ReadModels;
    catchUp: CatchUp;
  },
  logger: Logger,
): Promise<AuditParts> {
  const { database, store } = floors;
  const keys = loadKeyRing(config);
  if (keys.source === 'generated') {
    logger.warn(
      `no LEDGER_SIGNING_KEYS: heads are signed with a key generated for this process (key id ${keys.active.keyId}); ` +
        'its public part is kept in the database (GET /v1/audit/public-keys), so what it signed still verifies after a restart. ' +
        'Set LEDGER_SIGNING_KEYS to keep signing with one key.',
    );
  } else if (keys.source === 'data-dir') {
    logger.log(`heads are signed with the key kept in ${keys.file} (key id ${keys.active.keyId})`);
  }
  const registry = new KeyRegistry(database.db, keys.active.keyId);
  await registry.register(keys.all);
  const proofs = new LogProofs(database.db, store, keys, registry);
  const auditor = new Auditor(database.db, store, floors.readModels, floors.catchUp, keys, registry, proofs);
  const merkleTree =
    config.LEDGER_ROLES.includes('projector') && store instanceof PostgresEventStore
      ? new MerkleTreeFollower(database.db, floors.logSource, {
          batchSizeMax: config.LEDGER_PROJECTOR_BATCH_MAX,
          pollMs: config.LEDGER_PROJECTOR_POLL_MS,
        })
      : null;
  return { auditor, keys, merkleTree };
}
