import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { sql } from 'kysely';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { ApiKeys } from './api/auth/api-keys';
import { rateLimitModule } from './api/auth/rate-limit';
import { corsOrigins, docsContentSecurityPolicy, installHttpOperations, refuse } from './api/http-operations';
import { openApiDocument } from './api/openapi';
import { problem } from './api/problem';
import { ProblemFilter } from './api/problem.filter';
import { Auditor } from './audit/auditor';
import { KeyRegistry } from './audit/key-registry';
import { LogProofs } from './audit/log-proofs';
import { loadKeyRing } from './audit/signing-keys';
import { AccountStates } from './commands/account-states';
import { Writer } from './commands/writer';
import type { Config } from './config';
import { ConnectionWatch, connectEsdb, probe } from './eventstore/esdb/connection';
import { EsdbEventStore } from './eventstore/esdb/esdb-event-store';
import { PostgresEventStore } from './eventstore/postgres-event-store';
import type { EventStore } from './eventstore/port';
import { type FraudRole, createFraudRole, registerFraudReadiness } from './fraud/fraud-role';
import { FraudStore } from './fraud/fraud-store';
import { LedgerModule } from './ledger.module';
import { asyncApiDocument } from './messaging/asyncapi';
import type { NatsRelay } from './messaging/relay';
import { createRelay, relayReadiness } from './messaging/relay-role';
import { type Database, openDatabase } from './platform/database';
import { collectLedgerGauges, countCommands } from './platform/ledger-metrics';
import { PinoNestLogger, createLogger } from './platform/logging';
import { Metrics } from './platform/metrics';
import { startTracing } from './platform/tracing';
import { Readiness } from './platform/readiness';
import { migrate } from './platform/migrations';
import { CatchUp } from './projections/catch-up';
import { Projector } from './projections/projector';
import { ReadModels } from './projections/queries';

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

/** Builds one ledger process for its roles: storage, write path, projector, HTTP. Not listening yet. */
export async function createLedgerApp(config: Config, sharedDatabase?: Database): Promise<LedgerApp> {
  startTracing({ endpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT, serviceVersion: packageVersion() });
  const log = createLogger(config.LOG_LEVEL);
  const nestLogger = new PinoNestLogger(log);
  Logger.overrideLogger(nestLogger);
  const logger = new Logger('ledger');
  // EventStoreDB first: an unreachable one stops the start before anything else is opened.
  const esdb =
    config.EVENTSTORE === 'esdb'
      ? await connectEsdb(config.ESDB_URL!, { timeoutMs: config.LEDGER_ESDB_CONNECT_TIMEOUT_MS })
      : undefined;
  const database = sharedDatabase ?? (await openDatabase(config));
  const applied = await migrate(database);
  if (applied.length > 0) logger.log(`applied migrations ${applied.join(', ')}`);

  // With EVENTSTORE=esdb the events live in EventStoreDB; PostgreSQL (or PGlite) still holds the
  // read models and every reader's checkpoint, next to its effects (ADR 0007).
  const store: EventStore = esdb ? new EsdbEventStore(esdb) : new PostgresEventStore(database.db);
  const esdbWatch = esdb
    ? new ConnectionWatch(() => probe(esdb), { intervalMs: 5_000, backoff: { initialMs: 250, maxMs: 10_000 } })
    : undefined;
  const readModels = new ReadModels(database.db);
  const projector = config.LEDGER_ROLES.includes('projector')
    ? new Projector(database.db, store, {
        batchSizeMax: config.LEDGER_PROJECTOR_BATCH_MAX,
        pollMs: config.LEDGER_PROJECTOR_POLL_MS,
      })
    : null;
  const metrics = new Metrics();
  const relay = createRelay(config, { database, store, metrics, logger });
  let fraud: FraudRole | null = null;
  const writer = new Writer(store, new AccountStates(store), {
    batchSizeMax: config.LEDGER_WRITE_BATCH_MAX,
    queueSizeMax: config.LEDGER_WRITE_QUEUE_MAX,
    onCommitted: ({ commands, events, ms, appendMs }) => {
      projector?.wake();
      relay?.wake();
      fraud?.consumer.wake();
      metrics.writeBatches.observe(commands);
      metrics.writeBatchSeconds.observe(ms / 1000);
      metrics.eventsAppended.inc(events);
      metrics.appendSeconds.observe(appendMs / 1000);
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
  const keyRegistry = new KeyRegistry(database.db, keys.active.keyId);
  try {
    await keyRegistry.register(keys.all);
  } catch (error) {
    if (!sharedDatabase) await database.close();
    throw error;
  }
  const auditor = new Auditor(
    database.db,
    store,
    readModels,
    catchUp,
    keys,
    keyRegistry,
    new LogProofs(database.db, store, keys, keyRegistry),
  );

  const readiness = new Readiness();
  readiness.register('database', async () => {
    await sql`select 1`.execute(database.db);
    return { status: 'up', kind: database.kind };
  });
  readiness.register('eventstore', () =>
    esdbWatch ? { ...esdbWatch.check(), kind: 'esdb' } : { status: 'up', kind: database.kind },
  );
  readiness.register('projector', () => {
    if (!projector) return { status: 'off' };
    const error = projector.lastError;
    return {
      status: error !== undefined || !projector.isRunning ? 'down' : 'up',
      position: projector.checkpoint.toString(),
      lagMs: projector.lastLagMs,
      ...(error !== undefined ? { error: error instanceof Error ? error.message : String(error) } : {}),
    };
  });

  readiness.register('relay', () => relayReadiness(config, relay));
  readiness.register('audit-signing', () => ({
    status: auditor.lastSigningError !== undefined ? 'down' : 'up',
    keyId: keys.active.keyId,
    generatedKey: keys.active.generated,
    ...(auditor.lastSigningError !== undefined ? { error: String(auditor.lastSigningError) } : {}),
  }));
  registerFraudReadiness(readiness, fraud, config.LEDGER_ROLES.length === 1);

  const adapter = new FastifyAdapter({
    bodyLimit: config.LEDGER_BODY_LIMIT_BYTES,
    genReqId: () => randomUUID(),
    // Ids may be 128 characters (Fastify's default stops path parameters at 100); longer ones
    // reach the schema and get a 400 rather than the router's bare 414.
    routerOptions: { maxParamLength: 1024 },
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    LedgerModule.register({
      config,
      readiness,
      writer,
      readModels,
      catchUp,
      fraudStore: new FraudStore(database.db),
      rateLimit: rateLimitModule(config.LEDGER_RATE_LIMIT),
      auditor,
    }),
    adapter,
    { logger: nestLogger, abortOnError: false },
  );
  const fastify = app.getHttpAdapter().getInstance();
  await installHttpOperations(app, {
    keys: ApiKeys.fromConfig(config.LEDGER_API_KEYS),
    logger: log,
    corsOrigins: corsOrigins(config.LEDGER_CORS_ORIGINS),
  });
  // Errors Fastify raises before a route runs (bad JSON, too large, wrong media type) reach the
  // ProblemFilter too: Nest installs Fastify's error handler and sends them through its filters.
  // JSON everywhere: Nest also registers a form parser, so refuse every other media type first.
  fastify.addHook('onRequest', async (request, reply) => {
    const type = request.headers['content-type'];
    if (type !== undefined && !/^application\/json\s*(;|$)/i.test(type)) {
      return refuse(
        request,
        reply,
        problem('unsupported-media-type', `send the body as application/json, not ${type.split(';')[0]}`),
      );
    }
  });
  fastify.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('cache-control', 'no-store');
  });
  app.useGlobalFilters(new ProblemFilter());

  fastify.addHook('onResponse', async (request, reply) => {
    metrics.httpRequests.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
  fastify.get('/metrics', async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.render();
  });

  const document = openApiDocument(packageVersion());
  fastify.get('/openapi.json', async () => document);
  const asyncApi = asyncApiDocument(packageVersion());
  fastify.get('/asyncapi.json', async () => asyncApi);
  await app.register(require('@fastify/swagger'), { mode: 'static', specification: { document } });
  await app.register(require('@fastify/swagger-ui'), {
    routePrefix: '/docs',
    staticCSP: true,
    transformStaticCSP: docsContentSecurityPolicy,
  });

  await app.init();
  projector?.start();
  relay?.start();
  if (config.LEDGER_ROLES.includes('api')) auditor.startSigning(config.LEDGER_DIGEST_INTERVAL_MS);
  fraud?.consumer.start();
  esdbWatch?.start();

  return {
    app,
    database,
    store,
    writer,
    projector,
    relay,
    readModels,
    readiness,
    metrics,
    fraud,
    auditor,
    async close() {
      auditor.stopSigning();
      await fraud?.close();
      await writer.stop();
      await projector?.stop();
      await relay?.stop();
      await esdbWatch?.stop();
      await app.close();
      await esdb?.dispose();
      if (!sharedDatabase) await database.close();
    },
  };
}
