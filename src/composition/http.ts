import { randomUUID } from 'node:crypto';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Logger as PinoLogger } from 'pino';
import { ApiKeys } from '../api/auth/api-keys';
import { rateLimitModule } from '../api/auth/rate-limit';
import { clientErrorHandler, frameworkErrors } from '../api/framework-errors';
import { corsOrigins, docsContentSecurityPolicy, installHttpOperations, refuse } from '../api/http-operations';
import { consoleDir, installConsole } from '../api/console-static';
import { openApiDocument } from '../api/openapi';
import { problem } from '../api/problem';
import { ProblemFilter } from '../api/problem.filter';
import type { Config } from '../config';
import { FraudStore } from '../fraud/fraud-store';
import { FraudReviews } from '../fraud/fraud-reviews';
import { LedgerModule } from '../ledger.module';
import { asyncApiDocument } from '../messaging/asyncapi';
import type { PinoNestLogger } from '../platform/logging';
import type { Readiness } from '../platform/readiness';
import { ReadLists } from '../projections/lists';
import type { LedgerParts } from './parts';

/**
 * The HTTP side of one process: Nest on Fastify with the controllers, the hooks every request goes
 * through (auth, rate limit, media type, headers, metrics), and the documents (/openapi.json,
 * /asyncapi.json, /docs, /metrics). Initialised, not listening.
 */
export async function createHttpApp(
  config: Config,
  parts: LedgerParts,
  readiness: Readiness,
  logging: { readonly log: PinoLogger; readonly nestLogger: PinoNestLogger; readonly version: string },
): Promise<NestFastifyApplication> {
  const { database, metrics } = parts;
  const adapter = new FastifyAdapter({
    bodyLimit: config.LEDGER_BODY_LIMIT_BYTES,
    genReqId: () => randomUUID(),
    // Ids may be 128 characters (Fastify's default stops path parameters at 100); longer ones
    // reach the schema and get a 400 rather than the router's bare 414.
    routerOptions: { maxParamLength: 1024 },
    // The framework's own refusals answer problem+json too (bad percent-encoding, oversized headers).
    frameworkErrors,
    clientErrorHandler,
    // While closing, requests on open connections are served (the writer stops only after the
    // listener has drained), not answered with Fastify's bare 503 without Retry-After.
    return503OnClosing: false,
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    LedgerModule.register({
      config,
      readiness,
      writer: parts.writer,
      readModels: parts.readModels,
      catchUp: parts.catchUp,
      fraudStore: new FraudStore(database.db),
      fraudReviews: new FraudReviews(database.db, parts.writer),
      readLists: new ReadLists(database.db),
      eventStore: parts.store,
      rateLimit: rateLimitModule(config.LEDGER_RATE_LIMIT),
      auditor: parts.auditor,
    }),
    adapter,
    { logger: logging.nestLogger, abortOnError: false },
  );
  const fastify = app.getHttpAdapter().getInstance();
  await installHttpOperations(app, {
    keys: ApiKeys.fromConfig(config.LEDGER_API_KEYS),
    logger: logging.log,
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

  const document = openApiDocument(logging.version);
  fastify.get('/openapi.json', async () => document);
  const asyncApi = asyncApiDocument(logging.version);
  fastify.get('/asyncapi.json', async () => asyncApi);
  await app.register(require('@fastify/swagger'), { mode: 'static', specification: { document } });
  await app.register(require('@fastify/swagger-ui'), {
    routePrefix: '/docs',
    staticCSP: true,
    transformStaticCSP: docsContentSecurityPolicy,
  });

  // The web console (ADR 0026): static files, no key; the key the user types goes in each call.
  if (config.LEDGER_ROLES.includes('api')) installConsole(fastify, consoleDir());

  await app.init();
  return app;
}
