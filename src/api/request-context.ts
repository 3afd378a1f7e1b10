import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { CommandContext } from '../commands/write-commands';
import { currentTraceparent, traceparentOf } from '../platform/tracing';

const CORRELATION_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
const TRACEPARENT_PATTERN = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/**
 * Correlation and causation of a request's events: the caller's `X-Correlation-Id` when it sends
 * a well-formed one (a longer business flow), else the request's own id.
 */
export function commandContext(request: FastifyRequest): CommandContext {
  const requestId = String(request.id ?? randomUUID());
  const correlationHeader = request.headers['x-correlation-id'];
  const correlationId =
    typeof correlationHeader === 'string' && CORRELATION_PATTERN.test(correlationHeader)
      ? correlationHeader
      : requestId;
  // The request's own span (a child of the caller's traceparent, if it sent one): the events it
  // causes carry it, so a trace runs from the request through every reader of the log.
  const span = request.traceSpan;
  const header = request.headers.traceparent;
  const traceparent = span
    ? traceparentOf(span.spanContext())
    : (currentTraceparent() ?? (typeof header === 'string' && TRACEPARENT_PATTERN.test(header) ? header : undefined));
  const actor = request.apiKeyId;
  return {
    correlationId,
    causationId: requestId,
    ...(actor ? { actor } : {}),
    ...(traceparent ? { traceparent } : {}),
  };
}
