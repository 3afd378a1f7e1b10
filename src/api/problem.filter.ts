import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { WriterOverloadedError, WriterStoppedError } from '../commands/write-commands';
import { PROBLEM_CONTENT_TYPE, type ProblemDocument, ProblemException, type ProblemSlug, problem } from './problem';

const BY_STATUS: Record<number, ProblemSlug> = {
  400: 'validation',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not-found',
  405: 'method-not-allowed',
  413: 'payload-too-large',
  415: 'unsupported-media-type',
  429: 'rate-limited',
};

/** A 400 validation problem always lists its errors, even when the body could not be parsed at all. */
const bodyErrors = (slug: ProblemSlug, message: string) =>
  slug === 'validation' ? { errors: [{ path: 'body', message }] } : {};

/** Turns whatever was thrown into an RFC 9457 problem; never a stack trace to the client. */
export function toProblem(
  error: unknown,
  request: { method: string; url: string },
): {
  problem: ProblemDocument;
  headers: Record<string, string>;
  unexpected: boolean;
} {
  if (error instanceof ProblemException) return { problem: error.problem, headers: error.headers, unexpected: false };
  if (error instanceof WriterOverloadedError) {
    return { problem: problem('overloaded', error.message), headers: { 'retry-after': '1' }, unexpected: false };
  }
  if (error instanceof WriterStoppedError) {
    return { problem: problem('unavailable', error.message), headers: { 'retry-after': '1' }, unexpected: false };
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const slug = BY_STATUS[status];
    if (slug === 'not-found') {
      return {
        problem: problem('not-found', `no route ${request.method} ${request.url.split('?')[0]}`),
        headers: {},
        unexpected: false,
      };
    }
    if (slug)
      return { problem: problem(slug, error.message, bodyErrors(slug, error.message)), headers: {}, unexpected: false };
  }
  // Fastify's own errors (body parsing, size) carry a statusCode and a code.
  const fastifyError = error as { statusCode?: number; code?: string; message?: string };
  if (typeof fastifyError.statusCode === 'number' && fastifyError.statusCode < 500) {
    const slug = BY_STATUS[fastifyError.statusCode] ?? 'validation';
    const detail =
      fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
        ? 'the request body is larger than this service accepts (LEDGER_BODY_LIMIT_BYTES)'
        : fastifyError.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
          ? 'send the body as application/json'
          : `the body is not valid JSON: ${fastifyError.message ?? 'parse error'}`;
    return { problem: problem(slug, detail, bodyErrors(slug, detail)), headers: {}, unexpected: false };
  }
  return {
    problem: problem(
      'internal',
      'the request failed on our side and changed nothing it could not finish; it is safe to retry with the same id',
    ),
    headers: {},
    unexpected: true,
  };
}

export function sendProblem(reply: FastifyReply, body: ProblemDocument, headers: Record<string, string>): void {
  void reply.status(body.status).headers(headers).header('content-type', PROBLEM_CONTENT_TYPE).send(body);
}

@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('http');

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const { problem: body, headers, unexpected } = toProblem(error, request);
    if (unexpected)
      this.logger.error(`${request.method} ${request.url} failed: ${(error as Error)?.stack ?? String(error)}`);
    sendProblem(reply, { ...body, instance: request.url.split('?')[0] }, headers);
  }
}
