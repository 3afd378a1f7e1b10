import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { refuse } from './http-operations';
import { problem } from './problem';

/**
 * The console's own content policy (ADR 0026): its scripts, styles and API calls come from this
 * origin only; nothing inline (the build emits none), no frames, no plugins. The rest of the
 * service keeps `default-src 'none'`.
 */
export const CONSOLE_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

/** Where `vite build` put the console: dist/console, seen from dist/src/api (built) or src/api (tests). */
export function consoleDir(): string | undefined {
  for (const up of ['../../dist/console', '../../console']) {
    const candidate = path.resolve(__dirname, up);
    // The build has assets/ beside index.html; console/ at the root (the source) has not.
    if (existsSync(path.join(candidate, 'index.html')) && existsSync(path.join(candidate, 'assets'))) return candidate;
  }
  return undefined;
}

function filesUnder(dir: string, prefix = ''): Map<string, { body: Buffer; type: string }> {
  const files = new Map<string, { body: Buffer; type: string }>();
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) {
      for (const [key, file] of filesUnder(full, `${prefix}${name}/`)) files.set(key, file);
    } else {
      const type = TYPES[path.extname(name)];
      if (type) files.set(`${prefix}${name}`, { body: readFileSync(full), type });
    }
  }
  return files;
}

/**
 * Serves the built console at /console/ from memory: the build is a handful of files read once at
 * start, and only those names are answered, so no request path ever reaches the file system.
 * (@fastify/static's current major needs Node 22; this service runs on Node 20.)
 * Routing inside the console uses the URL fragment, so the server knows only these files.
 */
export function installConsole(fastify: FastifyInstance, dir: string | undefined): void {
  const files = dir ? filesUnder(dir) : new Map<string, { body: Buffer; type: string }>();
  const index = files.get('index.html');
  fastify.get('/console', async (_request, reply) => reply.redirect('/console/', 308));
  fastify.get('/console/*', async (request, reply) => {
    const name = (request.params as { '*': string })['*'] || 'index.html';
    if (!index) {
      return refuse(
        request,
        reply,
        problem('unavailable', 'the console is not built in this installation: run npm run build, then restart'),
      );
    }
    const file = files.get(name);
    if (!file) return refuse(request, reply, problem('not-found', `the console has no file ${name}`));
    reply.header('content-security-policy', CONSOLE_CONTENT_SECURITY_POLICY);
    reply.type(file.type);
    return reply.send(file.body);
  });
}
