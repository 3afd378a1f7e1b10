import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Auditor } from './audit/auditor';
import type { Writer } from './commands/writer';
import { createHttpApp } from './composition/http';
import { composeLedger } from './composition/parts';
import { ledgerReadiness } from './composition/readiness';
import type { Config } from './config';
import type { EventStore } from './eventstore/port';
import type { FraudRole } from './fraud/fraud-role';
import type { ReviewProjection } from './fraud/review-projection';
import type { NatsRelay } from './messaging/relay';
import type { Database } from './platform/database';
import { PinoNestLogger, createLogger } from './platform/logging';
import type { Metrics } from './platform/metrics';
import type { Readiness } from './platform/readiness';
import { startTracing } from './platform/tracing';
import type { Projector } from './projections/projector';
import type { ReadModels } from './projections/queries';

export interface LedgerApp {
  readonly app: NestFastifyApplication;
  readonly database: Database;
  readonly store: EventStore;
  readonly writer: Writer;
  readonly projector: Projector | null;
  readonly relay: NatsRelay | null;
  readonly readModels: ReadModels;
  readonly readiness: Readiness;
  readonly metrics: Metrics;
  readonly auditor: Auditor;
  readonly fraud: FraudRole | null;
  /** The risk and review read models' follower (with the projector role). */
  readonly fraudReviews: ReviewProjection | null;
  close(): Promise<void>;
}

export function packageVersion(): string {
  for (const up of ['..', '../..']) {
    try {
      return JSON.parse(readFileSync(path.resolve(__dirname, up, 'package.json'), 'utf8')).version as string;
    } catch {
      // not here
    }
  }
  return '0.0.0';
}

/**
 * Builds one ledger process for its roles: the floors (composition/parts.ts), what /health/ready
 * checks (composition/readiness.ts), the HTTP side (composition/http.ts); then starts the readers.
 * Not listening yet.
 */
export async function createLedgerApp(config: Config, sharedDatabase?: Database): Promise<LedgerApp> {
  const version = packageVersion();
  startTracing({ endpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT, serviceVersion: version });
  const log = createLogger(config.LOG_LEVEL);
  const nestLogger = new PinoNestLogger(log);
  Logger.overrideLogger(nestLogger);
  const logger = new Logger('ledger');

  const parts = await composeLedger(config, logger, sharedDatabase);
  const readiness = ledgerReadiness(config, parts);
  const app = await createHttpApp(config, parts, readiness, { log, nestLogger, version });

  const { database, writer, projector, relay, fraud, fraudReviews, auditor, esdb, merkleTree } = parts;
  projector?.start();
  parts.holdExpirer?.start();
  fraudReviews?.start();
  merkleTree?.start();
  relay?.start();
  if (config.LEDGER_ROLES.includes('api')) auditor.startSigning(config.LEDGER_DIGEST_INTERVAL_MS);
  fraud?.start();
  esdb?.watch.start();

  return {
    app,
    database,
    store: parts.store,
    writer,
    projector,
    relay,
    readModels: parts.readModels,
    readiness,
    metrics: parts.metrics,
    fraud,
    fraudReviews,
    auditor,
    async close() {
      auditor.stopSigning();
      // The listener first: it stops accepting and drains the requests in flight while the writer
      // still serves them; only then does the writer stop (a request never meets a stopped writer).
      await app.close();
      await fraud?.close();
      await parts.holdExpirer?.stop();
      await writer.stop();
      await projector?.stop();
      await merkleTree?.stop();
      await fraudReviews?.stop();
      await relay?.stop();
      await esdb?.watch.stop();
      await esdb?.client.dispose();
      if (!sharedDatabase) await database.close();
    },
  };
}
