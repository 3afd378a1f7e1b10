import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { apiKeyId } from '../../src/api/auth/api-keys';
import { createTestDatabase, postgresAvailable, type TestDatabase } from '../support/database';
import { TEST_KEYS, bearer } from '../support/keys';
import { type ServiceProcess, freePort, http, startServiceProcess } from '../support/service-process';

const MAIN = path.resolve(__dirname, '../../dist/src/main.js');

/** Runs the compiled service until it exits on its own; what it printed and its exit code. */
function runToExit(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.once('exit', (code) => resolve({ code, output }));
  });
}

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: Array<{ key: string; value: Record<string, unknown> }>;
}

/**
 * These tests look into the child process's database, or at its PostgreSQL spans: an in-memory
 * PGlite lives inside one process, so without a PostgreSQL server they skip (never under CI=true,
 * where a missing server fails the run).
 */
async function needsServer(ctx: { skip: () => void }): Promise<void> {
  if (await postgresAvailable()) return;
  console.warn('[tests] this service-process test needs a PostgreSQL server shared with the child process: skipped');
  ctx.skip();
}

describe('the service process', () => {
  let tdb: TestDatabase;
  beforeAll(async () => {
    tdb = await createTestDatabase();
  });
  afterAll(() => tdb.drop());

  it('with no keys configured, makes one admin key, prints it once, says so, and takes only it', async (ctx) => {
    await needsServer(ctx);
    const service = await startServiceProcess({
      ...tdb.env,
      LEDGER_ROLES: 'api,projector',
      LEDGER_API_KEYS: '',
      LOG_LEVEL: 'info',
    });
    try {
      const output = service.output();
      const keys = [...output.matchAll(/^ {4}([A-Za-z0-9_-]{43})$/gm)].map((match) => match[1]!);
      expect(keys, output).toHaveLength(1);
      const key = keys[0]!;
      expect(output).toContain('LEDGER_API_KEYS is not set: generated one admin API key');
      expect(output.split(key)).toHaveLength(2); // printed once, and nowhere else (not in the log)

      const opened = await http('POST', `${service.url}/v1/accounts`, { id: 'gen', currency: 'USD' }, bearer(key));
      expect(opened.status).toBe(201);
      expect((await http('GET', `${service.url}/v1/accounts/gen`, undefined, bearer(TEST_KEYS.admin))).status).toBe(
        401,
      );
      expect(
        (await http('GET', `${service.url}/v1/accounts/gen`, undefined, { authorization: undefined })).status,
      ).toBe(401);
      const rows = await tdb.query<{ metadata: string }>(
        `select metadata::text as metadata from events where stream_id = 'account-gen'`,
      );
      expect(JSON.parse(rows[0]!.metadata).actor).toBe(apiKeyId(key));
    } finally {
      await service.stop();
    }
  });

  it('with NODE_ENV=production and no keys, refuses to start and says why', async () => {
    const port = await freePort();
    const { code, output } = await runToExit({
      ...tdb.env,
      NODE_ENV: 'production',
      LEDGER_API_KEYS: '',
      PORT: String(port),
      HOST: '127.0.0.1',
    });
    expect(code).toBe(2);
    expect(output).toContain('NODE_ENV=production and LEDGER_API_KEYS is not set');
  });

  it('refuses a malformed LEDGER_API_KEYS without printing the keys', async () => {
    const { code, output } = await runToExit({
      ...tdb.env,
      LEDGER_API_KEYS: 'first-secret-key:admin,second-secret-key:root',
    });
    expect(code).toBe(2);
    expect(output).toContain('LEDGER_API_KEYS entry 2');
    expect(output).not.toContain('secret-key');
  });

  describe('with OTEL_EXPORTER_OTLP_ENDPOINT set', () => {
    let sink: Server;
    const spans: OtlpSpan[] = [];
    let service: ServiceProcess;
    beforeAll(async () => {
      sink = createServer((request, response) => {
        let body = '';
        request.on('data', (chunk) => (body += chunk));
        request.on('end', () => {
          if (request.url === '/v1/traces') {
            const payload = JSON.parse(body) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: OtlpSpan[] }> }> };
            for (const resource of payload.resourceSpans)
              for (const scope of resource.scopeSpans) spans.push(...scope.spans);
          }
          response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        });
      });
      await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
      service = await startServiceProcess({
        ...tdb.env,
        LEDGER_ROLES: 'api,projector',
        LOG_LEVEL: 'info',
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(sink.address() as AddressInfo).port}`,
        LEDGER_OTEL_INSTRUMENTATIONS: 'http,pg',
        OTEL_BSP_SCHEDULE_DELAY: '100',
      });
    });
    afterAll(async () => {
      await service?.stop();
      await new Promise((resolve) => sink.close(resolve));
    });

    it('exports HTTP, PostgreSQL and ledger spans of one trace, and logs one JSON line per request with its trace id', async (ctx) => {
      await needsServer(ctx);
      const traceId = randomBytes(16).toString('hex');
      const traceparent = `00-${traceId}-${randomBytes(8).toString('hex')}-01`;
      const operator = bearer(TEST_KEYS.operator);
      expect(
        (
          await http(
            'POST',
            `${service.url}/v1/accounts`,
            { id: 'o-a', currency: 'USD', normalSide: 'debit' },
            operator,
          )
        ).status,
      ).toBe(201);
      expect((await http('POST', `${service.url}/v1/accounts`, { id: 'o-b', currency: 'USD' }, operator)).status).toBe(
        201,
      );
      const posted = await http(
        'POST',
        `${service.url}/v1/transfers`,
        { id: 'o-t', debitAccountId: 'o-a', creditAccountId: 'o-b', amount: '7', currency: 'USD' },
        { ...operator, traceparent },
      );
      expect(posted.status).toBe(201);
      const requestSpanId = String(posted.headers.get('traceresponse')).split('-')[2];

      const rows = await tdb.query<{ metadata: string }>(
        `select metadata::text as metadata from events where stream_id = 'transfer-o-t'`,
      );
      expect(JSON.parse(rows[0]!.metadata).traceparent).toBe(`00-${traceId}-${requestSpanId}-01`);

      // Spans arrive in batches every 100 ms: wait for them (bounded by vi.waitFor's timeout).
      await vi.waitFor(
        () => {
          const server = spans.find((s) => s.traceId === traceId && s.spanId === requestSpanId);
          expect(server?.name).toBe('POST /v1/transfers');
          expect(spans.some((s) => s.name === 'ledger.append')).toBe(true);
          expect(spans.some((s) => s.name === 'ledger.project')).toBe(true);
        },
        { timeout: 15_000, interval: 100 },
      );
      if (tdb.env.DATABASE_URL) {
        const append = spans.filter((s) => s.name === 'ledger.append').map((s) => s.spanId);
        await vi.waitFor(
          () => {
            const pg = spans.filter((s) => s.parentSpanId !== undefined && append.includes(s.parentSpanId));
            expect(pg.some((s) => s.attributes?.some((a) => a.key === 'db.system' || a.key === 'db.system.name'))).toBe(
              true,
            );
          },
          { timeout: 15_000, interval: 100 },
        );
      }

      await vi.waitFor(
        () => {
          const lines = service
            .output()
            .split('\n')
            .filter((line) => line.startsWith('{'))
            .map((line) => JSON.parse(line));
          const request = lines.find((line) => line.msg === 'request' && line.traceId === traceId);
          expect(request).toMatchObject({
            level: 'info',
            method: 'POST',
            route: '/v1/transfers',
            status: 201,
            actor: apiKeyId(TEST_KEYS.operator),
          });
        },
        { timeout: 10_000, interval: 100 },
      );
      for (const key of Object.values(TEST_KEYS)) expect(service.output()).not.toContain(key);
    });
  });
});
