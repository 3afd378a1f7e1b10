import type { Logger } from '@nestjs/common';
import type { Auditor } from '../audit/auditor';
import { composeAudit } from '../audit/compose-audit';
import type { MerkleTreeFollower } from '../audit/merkle/tree-follower';
import type { KeyRing } from '../audit/signing-keys';
import { AccountStates } from '../commands/account-states';
import { Writer } from '../commands/writer';
import type { Config } from '../config';
import type { ConnectionWatch, connectEsdb } from '../eventstore/esdb/connection';
import { PostgresEventStore } from '../eventstore/postgres-event-store';
import type { EventStore } from '../eventstore/port';
import { RecentEvents, recentFirst } from '../eventstore/recent-events';
import { type FraudRole, createFraudRole } from '../fraud/fraud-role';
import { ReviewProjection } from '../fraud/review-projection';
import type { NatsRelay } from '../messaging/relay';
import { createRelay } from '../messaging/relay-role';
import { type Database, openDatabase } from '../platform/database';
import { Metrics } from '../platform/metrics';
import { migrate } from '../platform/migrations';
import { CatchUp } from '../projections/catch-up';
import { Projector } from '../projections/projector';
import { HoldExpirer } from '../commands/hold-expirer';
import { ReadModels } from '../projections/queries';
import { collectLedgerGauges, countCommands } from './ledger-metrics';

/** Events kept for this process's readers (a few MB; a reader further behind reads the store). */
const RECENT_EVENTS_MAX = 8192;

/** The floors of one ledger process, wired for its roles; nothing started, no HTTP yet. */
export interface LedgerParts {
  readonly database: Database;
  readonly store: EventStore;
  /** Set with EVENTSTORE=esdb: the client, and the watch that probes it. */
  readonly esdb:
    | { readonly client: Awaited<ReturnType<typeof connectEsdb>>; readonly watch: ConnectionWatch }
    | undefined;
  readonly metrics: Metrics;
  readonly writer: Writer;
  readonly readModels: ReadModels;
  readonly catchUp: CatchUp;
  readonly projector: Projector | null;
  /** Releases holds past their expiresAt (with the projector role: it reads the read model). */
  readonly holdExpirer: HoldExpirer | null;
  readonly relay: NatsRelay | null;
  readonly fraud: FraudRole | null;
  /** The risk and review read models' follower (with the projector role). */
  readonly fraudReviews: ReviewProjection | null;
  readonly auditor: Auditor;
  readonly signingKeys: KeyRing;
  readonly merkleTree: MerkleTreeFollower | null;
}

/**
 * Opens storage (EventStoreDB first: an unreachable one stops the start before anything else is
 * opened), migrates, and builds the write path and the readers of the log for the process's roles.
 */
export async function composeLedger(config: Config, logger: Logger, sharedDatabase?: Database): Promise<LedgerParts> {
  const esdb = config.EVENTSTORE === 'esdb' ? await openEsdb(config) : undefined;
  const database = sharedDatabase ?? (await openDatabase(config));
  const applied = await migrate(database);
  if (applied.length > 0) logger.log(`applied migrations ${applied.join(', ')}`);

  // With EVENTSTORE=esdb the events live in EventStoreDB; PostgreSQL (or PGlite) still holds the
  // read models and every reader's checkpoint, next to its effects (ADR 0007).
  // This process's readers of the log read what it just appended from memory (PostgreSQL only:
  // its positions are dense, ADR 0038).
  const recent = esdb ? undefined : new RecentEvents(RECENT_EVENTS_MAX);
  const store: EventStore = esdb?.store ?? new PostgresEventStore(database.db, { recent });
  const logSource = recent ? recentFirst(recent, store) : store;
  const readModels = new ReadModels(database.db);
  const projector = config.LEDGER_ROLES.includes('projector')
    ? new Projector(database.db, logSource, {
        batchSizeMax: config.LEDGER_PROJECTOR_BATCH_MAX,
        pollMs: config.LEDGER_PROJECTOR_POLL_MS,
      })
    : null;
  const fraudReviews = projector
    ? new ReviewProjection(database.db, store, logSource, {
        batchSizeMax: config.LEDGER_PROJECTOR_BATCH_MAX,
        pollMs: config.LEDGER_PROJECTOR_POLL_MS,
      })
    : null;
  const metrics = new Metrics();
  const relay = createRelay(config, { database, store, logSource, metrics, logger });
  let fraud: FraudRole | null = null;
  let audit: Awaited<ReturnType<typeof composeAudit>> | undefined;
  const writer = new Writer(store, new AccountStates(store), {
    batchSizeMax: config.LEDGER_WRITE_BATCH_MAX,
    queueSizeMax: config.LEDGER_WRITE_QUEUE_MAX,
    onCommitted: ({ commands, events, ms, appendMs, decidedAhead, sentAhead }) => {
      // Readers in this process look now rather than at their next poll.
      projector?.wake();
      fraudReviews?.wake();
      relay?.wake();
      audit?.merkleTree?.wake();
      fraud?.wake();
      metrics.writeBatches.observe(commands);
      metrics.writeBatchSeconds.observe(ms / 1000);
      metrics.eventsAppended.inc(events);
      metrics.appendSeconds.observe(appendMs / 1000);
      if (decidedAhead) metrics.writeBatchesDecidedAhead.inc();
      if (sentAhead) metrics.writeAppendsSentAhead.inc();
    },
    onSettled: countCommands(metrics),
  });
  if (config.LEDGER_ROLES.includes('fraud')) {
    try {
      fraud = await createFraudRole({
        config,
        db: database.db,
        store,
        writer,
        metrics,
        log: (message) => logger.log(message),
        warn: (message) => logger.warn(message),
      });
    } catch (error) {
      if (!sharedDatabase) await database.close();
      throw error;
    }
  }
  collectLedgerGauges(metrics, { writer, store, projector, adapter: config.EVENTSTORE });
  const catchUp = new CatchUp(readModels, projector ?? undefined, config.LEDGER_MIN_POSITION_WAIT_MS);

  try {
    audit = await composeAudit(config, { database, store, logSource, readModels, catchUp }, logger);
  } catch (error) {
    if (!sharedDatabase) await database.close();
    throw error;
  }
  return {
    database,
    store,
    esdb,
    metrics,
    writer,
    readModels,
    catchUp,
    projector,
    holdExpirer: projector ? new HoldExpirer(database.db, writer) : null,
    relay,
    fraud,
    fraudReviews,
    auditor: audit.auditor,
    signingKeys: audit.keys,
    merkleTree: audit.merkleTree,
  };
}

/**
 * EventStoreDB's client, its adapter and the watch that probes it. Its modules (a gRPC stack,
 * about 25 MB a process) are loaded only here, with EVENTSTORE=esdb (ADR 0039).
 */
async function openEsdb(config: Config) {
  const { ConnectionWatch, connectEsdb, probe } = await import('../eventstore/esdb/connection');
  const { EsdbEventStore } = await import('../eventstore/esdb/esdb-event-store');
  const client = await connectEsdb(config.ESDB_URL!, { timeoutMs: config.LEDGER_ESDB_CONNECT_TIMEOUT_MS });
  const watch = new ConnectionWatch(() => probe(client), {
    intervalMs: 5_000,
    backoff: { initialMs: 250, maxMs: 10_000 },
  });
  return { client, watch, store: new EsdbEventStore(client) };
}
