import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import helmet, { type HelmetOptions } from 'helmet';
import { ROOT_CONTEXT, type Span, SpanKind, SpanStatusCode, propagation, trace } from '@opentelemetry/api';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { PinoLogger } from '../platform/logging';
import { traceparentOf, tracer } from '../platform/tracing';
import { type ApiKeys, type ApiRole, bearerToken } from './auth/api-keys';
import { isOpenRoute, mayCall } from './auth/role-policy';
import { type ProblemDocument, problem } from './problem';
import { sendProblem } from './problem.filter';

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller's key id (`key-…`, never the key), once authenticated; events record it as `actor`. */
    apiKeyId?: string;
    apiKeyRole?: ApiRole;
    /** The request's span: the HTTP instrumentation's, or ours when there is none (in-process requests). */
    traceSpan?: Span;
    ownsTraceSpan?: boolean;
  }
}

export interface HttpOperationsOptions {
  readonly keys: ApiKeys;
  readonly logger: PinoLogger;
  /** Origins allowed to call from a browser (`LEDGER_CORS_ORIGINS`); none: no CORS headers at all. */
  readonly corsOrigins: readonly string[];
}

/**
 * Answers a request with a problem from a hook, before any handler. Sent here rather than thrown:
 * a route registered on Fastify before Nest installed its error handler (/metrics, /docs,
 * /openapi.json) would otherwise answer a thrown refusal with a bare 500.
 */
export function refuse(
  request: FastifyRequest,
  reply: FastifyReply,
  body: ProblemDocument,
  headers: Record<string, string> = {},
): FastifyReply {
  sendProblem(reply, { ...body, instance: request.url.split('?')[0] }, headers);
  return reply;
}

const pathOf = (request: FastifyRequest): string => request.routeOptions.url ?? request.url.split('?')[0]!;

const headerGetter = {
  get: (carrier: FastifyRequest['headers'], key: string) => carrier[key],
  keys: (carrier: FastifyRequest['headers']) => Object.keys(carrier),
};

/** A JSON API needs no content policy beyond "nothing". */
const HELMET_OPTIONS: HelmetOptions = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"] },
  },
};

/**
 * The security headers of every answer, as helmet writes them, computed once: they do not depend
 * on the request, and helmet's Fastify plugin built its whole middleware again on every request
 * (its CSP parsing showed in the profile of the write path, ADR 0027).
 */
export function securityHeaders(options: HelmetOptions = HELMET_OPTIONS): Record<string, string> {
  const request = new IncomingMessage(new Socket());
  const response = new ServerResponse(request);
  let written = false;
  helmet(options)(request, response, (error?: unknown) => {
    if (error) throw error;
    written = true;
  });
  if (!written) throw new Error('helmet did not write its headers at once: they depend on the request');
  return Object.fromEntries(Object.entries(response.getHeaders()).map(([name, value]) => [name, String(value)]));
}

/**
 * What every request goes through before its handler (ADR 0011, 0012): a span, the API key and
 * the role policy; after it, one JSON log line. Also security headers and, if configured, CORS.
 * Installed before any other hook so that refusals are traced and logged like everything else.
 */
export async function installHttpOperations(
  app: NestFastifyApplication,
  options: HttpOperationsOptions,
): Promise<void> {
  const { keys, logger } = options;
  const fastify = app.getHttpAdapter().getInstance();
  fastify.decorateRequest('apiKeyId', undefined);
  fastify.decorateRequest('apiKeyRole', undefined);
  fastify.decorateRequest('traceSpan', undefined);
  fastify.decorateRequest('ownsTraceSpan', false);

  // Security headers first, so that refusals carry them too. /docs sets its own policy (see app.ts).
  const headers = securityHeaders();
  fastify.addHook('onRequest', (_request, reply, done) => {
    reply.headers(headers);
    done();
  });

  fastify.addHook('onRequest', async (request) => {
    const route = pathOf(request);
    if (isOpenRoute(route)) return;
    const name = `${request.method} ${request.routeOptions.url ?? 'unmatched'}`;
    const active = trace.getActiveSpan();
    if (active) {
      // The HTTP instrumentation's server span: give it the route.
      active.updateName(name);
      if (request.routeOptions.url) active.setAttribute('http.route', request.routeOptions.url);
      request.traceSpan = active;
      return;
    }
    const parent = propagation.extract(ROOT_CONTEXT, request.headers, headerGetter);
    request.traceSpan = tracer().startSpan(
      name,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': request.method,
          ...(request.routeOptions.url ? { 'http.route': request.routeOptions.url } : {}),
        },
      },
      parent,
    );
    request.ownsTraceSpan = true;
  });

  fastify.addHook('onRequest', async (request, reply) => {
    if (request.method === 'OPTIONS') return; // CORS preflights carry no credentials
    const route = pathOf(request);
    if (isOpenRoute(route)) return;
    const token = bearerToken(request.headers.authorization);
    if (token === undefined) {
      return refuse(
        request,
        reply,
        problem('unauthenticated', 'send an API key in the Authorization header: Bearer <key>'),
        {
          'www-authenticate': 'Bearer realm="ledger"',
        },
      );
    }
    const key = keys.find(token);
    if (!key) {
      return refuse(
        request,
        reply,
        problem('unauthenticated', 'this API key is not one the ledger knows (LEDGER_API_KEYS)'),
        {
          'www-authenticate': 'Bearer realm="ledger", error="invalid_token"',
        },
      );
    }
    request.apiKeyId = key.id;
    request.apiKeyRole = key.role;
    request.traceSpan?.setAttribute('ledger.actor', key.id);
    // No such route: any valid key hears 404, as the router says.
    if (request.routeOptions.url === undefined) return;
    if (!mayCall(key.role, request.method, route)) {
      return refuse(request, reply, problem('forbidden', `an ${key.role} key may not call ${request.method} ${route}`));
    }
  });

  fastify.addHook('onSend', async (request, reply) => {
    if (request.traceSpan) reply.header('traceresponse', traceparentOf(request.traceSpan.spanContext()));
  });

  fastify.addHook('onResponse', async (request, reply) => {
    const span = request.traceSpan;
    const status = reply.statusCode;
    if (span && request.ownsTraceSpan) {
      span.setAttribute('http.response.status_code', status);
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    }
    if (!logger.isLevelEnabled('info')) return;
    logger.info(
      {
        reqId: request.id,
        method: request.method,
        route: request.routeOptions.url ?? null,
        path: request.url.split('?')[0],
        status,
        ms: Math.round(reply.elapsedTime * 100) / 100,
        traceId: span?.spanContext().traceId ?? null,
        actor: request.apiKeyId ?? null,
      },
      'request',
    );
  });

  if (options.corsOrigins.length > 0) {
    app.enableCors({
      origin: [...options.corsOrigins],
      methods: ['GET', 'HEAD', 'POST'],
      allowedHeaders: ['authorization', 'content-type', 'traceparent', 'tracestate', 'x-correlation-id'],
      exposedHeaders: ['x-request-id', 'traceresponse', 'retry-after', 'location'],
      maxAge: 600,
    });
  }
}

/** `LEDGER_CORS_ORIGINS`: comma-separated origins, e.g. `https://console.example.com`. */
export const corsOrigins = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);

/** The swagger-ui page's own content policy, minus `upgrade-insecure-requests` (which breaks /docs over plain HTTP). */
export const docsContentSecurityPolicy = (header: string): string =>
  header.replace(/\s*upgrade-insecure-requests;?/g, '').trim();
