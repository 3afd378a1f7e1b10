import { type LedgerApp, createLedgerApp } from '../../src/app';
import { loadConfig } from '../../src/config';
import { createTestDatabase, type TestDatabase } from './database';
import { TEST_API_KEYS, withDefaultKey } from './keys';

export interface TestApp {
  readonly ledger: LedgerApp;
  readonly tdb: TestDatabase;
  /**
   * An HTTP request through Fastify's injector (no socket): JSON in, parsed JSON out. Sends the
   * test admin key unless `headers` names `authorization` (`authorization: undefined`: no key).
   */
  request(
    method: string,
    url: string,
    body?: unknown,
    headers?: Record<string, string | undefined>,
  ): Promise<TestResponse>;
  close(): Promise<void>;
}

export interface TestResponse {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: any;
  text: string;
}

/**
 * A whole ledger process (all roles but NATS) on a fresh schema, with the test keys (keys.ts) and a
 * rate limit high enough that only the rate-limit tests meet it.
 */
export async function startTestApp(env: Record<string, string> = {}, tdb?: TestDatabase): Promise<TestApp> {
  const database = tdb ?? (await createTestDatabase());
  const config = loadConfig({
    LOG_LEVEL: 'error',
    LEDGER_ROLES: 'api,projector',
    LEDGER_DB_POOL_MAX: '5',
    LEDGER_API_KEYS: TEST_API_KEYS,
    LEDGER_RATE_LIMIT: '1000000',
    ...database.env,
    ...env,
  });
  // PGlite in memory cannot be shared between two handles: reuse the test's own.
  const ledger = await createLedgerApp(config, database.env.DATABASE_URL ? undefined : database.database);
  const fastify = ledger.app.getHttpAdapter().getInstance();
  return {
    ledger,
    tdb: database,
    async request(method, url, body, headers = {}) {
      const response = await fastify.inject({
        method: method as 'GET',
        url,
        ...(body !== undefined ? { payload: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
        headers: withDefaultKey({ ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers }),
      });
      let parsed: unknown;
      try {
        parsed = response.body ? JSON.parse(response.body) : undefined;
      } catch {
        parsed = undefined;
      }
      return { status: response.statusCode, headers: response.headers, body: parsed, text: response.body };
    },
    async close() {
      await ledger.close().catch(() => {});
      if (!tdb) await database.drop();
    },
  };
}
