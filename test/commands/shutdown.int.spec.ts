import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestDatabase, createTestDatabase, postgresAvailable } from '../support/database';
import { withDefaultKey } from '../support/keys';
import { type ServiceProcess, http, startServiceProcess } from '../support/service-process';

/**
 * Requests through SIGTERM (issue 10): each is served (2xx), or answered 503 problem+json with
 * Retry-After, or its connection is refused or closed: never a 500. Everything acknowledged is
 * there after the restart. Before, requests arriving 30–60 ms after SIGTERM met a stopped writer
 * and got 500 internal.
 */
describe('a service stopped with SIGTERM under load', () => {
  let available = false;
  let tdb: TestDatabase;
  const started: ServiceProcess[] = [];
  const needsServer = (ctx: { skip: (why: string) => void }) => {
    if (!available) ctx.skip('needs a PostgreSQL server shared with the restarted service');
  };
  beforeAll(async () => {
    available = await postgresAvailable();
    if (available) tdb = await createTestDatabase();
  });
  afterAll(async () => {
    for (const s of started) await s.kill();
    await tdb?.drop();
  });

  it('answers 2xx or 503 with Retry-After, never 500, and keeps all it acknowledged', async (ctx) => {
    needsServer(ctx);
    const env = { ...tdb.env, LEDGER_ROLES: 'api,projector' } as Record<string, string>;
    const first = await startServiceProcess(env);
    started.push(first);
    expect(
      (await http('POST', `${first.url}/v1/accounts`, { id: 'bank', currency: 'USD', normalSide: 'debit' })).status,
    ).toBe(201);
    expect((await http('POST', `${first.url}/v1/accounts`, { id: 'shop', currency: 'USD' })).status).toBe(201);

    const acknowledged: string[] = [];
    const statuses = new Map<number, number>();
    const unexpected: string[] = [];
    let refused = 0;
    let sent = 0;
    let lastPosition = 0n;
    const exited = new Promise<void>((resolve) => first.child.once('exit', () => resolve()));
    let stoppedAt = 0;
    const client = async (c: number) => {
      for (let i = 0; ; i++) {
        const id = `t-${c}-${i}`;
        sent++;
        try {
          const response = await fetch(`${first.url}/v1/transfers`, {
            method: 'POST',
            headers: withDefaultKey({ 'content-type': 'application/json' }),
            body: JSON.stringify({ id, debitAccountId: 'bank', creditAccountId: 'shop', amount: '1', currency: 'USD' }),
          }).catch((error: unknown) => error as Error);
          if (response instanceof Error) {
            // Refused, or closed by the server between requests: the client knows nothing happened.
            refused++;
            if (stoppedAt === 0) unexpected.push(`connection failed before SIGTERM: ${response.message}`);
            if (first.child.exitCode !== null || refused > 2000) return;
            continue;
          }
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
          const body = await response.text();
          if (response.status === 201) {
            acknowledged.push(id);
            const position = BigInt(JSON.parse(body).position);
            if (position > lastPosition) lastPosition = position;
          } else if (response.status === 503) {
            if (!response.headers.get('retry-after')) unexpected.push(`503 without Retry-After: ${body}`);
            if (!response.headers.get('content-type')?.startsWith('application/problem+json')) {
              unexpected.push(`503 not problem+json: ${body}`);
            }
          } else unexpected.push(`${response.status}: ${body}`);
        } catch (error) {
          unexpected.push(String(error));
        }
        if (first.child.exitCode !== null) return;
      }
    };
    const clients = Array.from({ length: 16 }, (_, c) => client(c));
    await new Promise((r) => setTimeout(r, 700));
    stoppedAt = Date.now();
    first.child.kill('SIGTERM');
    await exited;
    await Promise.all(clients);

    expect(unexpected).toEqual([]);
    expect(statuses.get(500) ?? 0).toBe(0);
    expect(acknowledged.length).toBeGreaterThan(0);
    expect(first.child.exitCode).toBe(0);

    // After the restart, every acknowledged transfer is there.
    const second = await startServiceProcess(env);
    started.push(second);
    const shop = await http('GET', `${second.url}/v1/accounts/shop?minPosition=${lastPosition}`);
    expect(shop.status).toBe(200);
    expect(BigInt(shop.body.creditsPosted)).toBeGreaterThanOrEqual(BigInt(acknowledged.length));
    for (const id of acknowledged) {
      const transfer = await http('GET', `${second.url}/v1/transfers/${id}?minPosition=${lastPosition}`);
      expect(transfer.status, id).toBe(200);
    }
    console.log(
      `[tests] ${sent} sent, ${acknowledged.length} acknowledged, statuses ${JSON.stringify(Object.fromEntries(statuses))}, ${refused} refused`,
    );
  }, 120_000);
});
