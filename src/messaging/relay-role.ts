import type { Logger } from '@nestjs/common';
import type { Config } from '../config';
import type { EventStore, RecordedEvent } from '../eventstore/port';
import type { LogSource } from '../platform/log-follower';
import type { Database } from '../platform/database';
import type { Metrics } from '../platform/metrics';
import type { ReadinessCheck } from '../platform/readiness';
import { NatsRelay, relayCheckpointName } from './relay';
import { advisoryLock, processLocalLock } from '../platform/leader-lock';
import { RelayMetrics } from './relay-metrics';
import type { StreamSettings } from './stream';

export const streamSettings = (config: Config): StreamSettings => ({
  name: config.LEDGER_NATS_STREAM,
  subjectPrefix: config.LEDGER_NATS_SUBJECT_PREFIX,
  duplicateWindowMs: config.LEDGER_NATS_DUPLICATE_WINDOW_MS,
  maxAgeMs: config.LEDGER_NATS_MAX_AGE_MS,
  maxBytes: config.LEDGER_NATS_MAX_BYTES,
  maxMsgs: config.LEDGER_NATS_MAX_MSGS,
  replicas: config.LEDGER_NATS_REPLICAS,
});

/** Why this process does not publish, or undefined when it does. */
export function relayOffReason(config: Config): string | undefined {
  if (!config.LEDGER_ROLES.includes('relay')) return 'the relay role is not in LEDGER_ROLES';
  if (!config.NATS_URL) return 'NATS_URL is not set';
  return undefined;
}

/**
 * The relay of this process, when it plays the `relay` role and NATS_URL is set; null (and a line
 * in the log saying why) otherwise. Not started: app.ts starts it once the app is up.
 */
export function createRelay(
  config: Config,
  parts: {
    database: Database;
    store: EventStore;
    /** The log as this process's readers follow it (ADR 0038). */
    logSource: LogSource<RecordedEvent>;
    metrics: Metrics;
    logger: Logger;
  },
): NatsRelay | null {
  const off = relayOffReason(config);
  if (off) {
    // Said when it matters: the relay role is played but cannot publish (`npm start` on a bare machine).
    if (config.LEDGER_ROLES.includes('relay')) parts.logger.log(`relay: ${off}, so publishing events to NATS is off`);
    return null;
  }
  const stream = streamSettings(config);
  const { db } = parts.database;
  const metrics = new RelayMetrics(parts.metrics.registry, db, parts.store, relayCheckpointName(stream.name));
  const name = relayCheckpointName(stream.name);
  return new NatsRelay(
    db,
    parts.logSource,
    // PGlite is one process with one connection: there is no other relay to exclude.
    parts.database.kind === 'pglite' ? processLocalLock(db, name) : advisoryLock(db, name),
    {
      natsUrl: config.NATS_URL!,
      stream,
      batchSizeMax: config.LEDGER_RELAY_BATCH_MAX,
      pollMs: config.LEDGER_RELAY_POLL_MS,
      ackTimeoutMs: config.LEDGER_RELAY_ACK_TIMEOUT_MS,
      backoffMaxMs: config.LEDGER_RELAY_BACKOFF_MAX_MS,
      log: (level, message) => (level === 'warn' ? parts.logger.warn(message) : parts.logger.log(message)),
      onPublished: (events, acks) => metrics.observe(events, acks),
      onFailure: () => metrics.failures.inc(),
    },
  );
}

/** /health/ready's `relay` check: down while it cannot publish (NATS away), off when not played. */
export function relayReadiness(config: Config, relay: NatsRelay | null): ReadinessCheck {
  if (!relay) return { status: 'off', reason: relayOffReason(config) };
  const error = relay.lastError;
  const down = error !== undefined || !relay.isRunning || relay.state === 'connecting';
  return {
    status: down ? 'down' : 'up',
    state: relay.state,
    stream: config.LEDGER_NATS_STREAM,
    ...(relay.state === 'active' ? { position: relay.checkpoint.toString() } : {}),
    ...(error !== undefined ? { error: error instanceof Error ? error.message : String(error) } : {}),
  };
}
