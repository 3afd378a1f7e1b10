import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PROBLEM_CONTENT_TYPE, type ProblemDocument, problem } from './problem';

/**
 * Errors Fastify answers itself, before any hook or route runs (docs/contract.md, "Errors": every
 * answer, the framework's own included, is problem+json). `frameworkErrors` gets a path that is not
 * valid percent-encoding (FST_ERR_BAD_URL); everything else reaches the ProblemFilter.
 */
export function frameworkErrors(error: Error & { code?: string }, request: FastifyRequest, reply: FastifyReply): void {
  const path = request.url.split('?')[0] ?? request.url;
  const detail =
    error.code === 'FST_ERR_BAD_URL'
      ? 'the path is not valid percent-encoding (RFC 3986): encode each byte of an id as %XX of its UTF-8'
      : error.message;
  const body = problem('validation', detail, { errors: [{ path: 'path', message: detail }], instance: path });
  void reply.status(body.status).header('content-type', PROBLEM_CONTENT_TYPE).send(body);
}

/** What Node's HTTP parser refused, as a problem; nothing of the request was read. */
function clientProblem(error: Error & { code?: string }): ProblemDocument {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return problem(
        'headers-too-large',
        'the request line and headers together exceed 16 KiB: send long filters in fewer, shorter parameters',
      );
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return problem('request-timeout', 'the request did not arrive in time; send it again');
    default:
      return problem('malformed-request', `the request is not valid HTTP/1.1 (${error.code ?? error.message})`);
  }
}

/**
 * Fastify's `clientErrorHandler`: Node's parser refused the request (headers over the limit, a
 * 100 KB query string, a malformed request line) before Fastify saw it, so the answer is written
 * straight to the socket, as problem+json, and the connection closed.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || error.code === 'EPIPE' || !socket.writable) {
    socket.destroy();
    return;
  }
  const refusal = clientProblem(error);
  const body = JSON.stringify(refusal);
  socket.end(
    `HTTP/1.1 ${refusal.status} ${refusal.title}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
