import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { CommandContext } from '../commands/write-commands';

const CORRELATION_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Correlation and causation of a request's events: the caller's `X-Correlation-Id` when it sends
 * a well-formed one (a longer business flow), else the request's own id.
 */
export function commandContext(request: FastifyRequest): CommandContext {
  const requestId = String(request.id ?? randomUUID());
  const header = request.headers['x-correlation-id'];
  const correlationId = typeof header === 'string' && CORRELATION_PATTERN.test(header) ? header : requestId;
  const traceparent = request.headers.traceparent;
  const actor = (request as FastifyRequest & { apiKeyId?: string }).apiKeyId;
  return {
    correlationId,
    causationId: requestId,
    ...(actor ? { actor } : {}),
    ...(typeof traceparent === 'string' ? { traceparent } : {}),
  };
}
