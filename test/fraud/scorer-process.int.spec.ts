import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestDatabase, createTestDatabase, postgresAvailable } from '../support/database';
import { type ServiceProcess, http, startServiceProcess } from '../support/service-process';
import { expectScoredOnce, fraudScores, transferIds, until } from './fraud-helpers';

describe('the fraud scorer as its own process (LEDGER_ROLES=fraud)', () => {
  let tdb: TestDatabase;
  let api: ServiceProcess | undefined;
  let scorer: ServiceProcess | undefined;
  let onPostgres = false;

  beforeAll(async () => {
    onPostgres = await postgresAvailable();
    if (!onPostgres) return;
    tdb = await createTestDatabase();
    api = await startServiceProcess({ ...tdb.env, LEDGER_ROLES: 'api,projector', LEDGER_DB_POOL_MAX: '3' } as Record<
      string,
      string
    >);
  });
  afterAll(async () => {
    await Promise.all([api?.kill(), scorer?.kill()]);
    await tdb?.drop();
  });

  const startScorer = () =>
    startServiceProcess({
      ...tdb.env,
      LEDGER_ROLES: 'fraud',
      LEDGER_DB_POOL_MAX: '3',
      FRAUD_BATCH_MAX: '20',
      FRAUD_POLL_MS: '10',
    } as Record<string, string>);

  it('scores what another process posts; killed (SIGKILL) while scoring and restarted, it loses nothing and scores nothing twice', async (ctx) => {
    if (!onPostgres) {
      console.warn('[tests] the scorer-process test needs a PostgreSQL server (PGlite is one process): skipped');
      ctx.skip();
    }
    scorer = await startScorer();
    const ready = await http('GET', `${scorer.url}/health/ready`);
    expect(ready.body.roles).toEqual(['fraud']);
    expect(ready.body.checks.fraud).toMatchObject({ status: 'up', provider: 'cpu', breaker: 'closed' });

    for (const id of ['bank', 'kim', 'lee']) {
      const opened = await http('POST', `${api!.url}/v1/accounts`, {
        id,
        currency: 'USD',
        ...(id === 'bank' ? { normalSide: 'debit' } : {}),
      });
      expect(opened.status).toBe(201);
    }
    let n = 0;
    const post = async (count: number) => {
      const transfers = Array.from({ length: count }, () => {
        const i = n++;
        return {
          id: `k-${i}`,
          debitAccountId: i % 3 ? 'bank' : 'kim',
          creditAccountId: i % 3 ? 'kim' : 'lee',
          amount: String(100 + i),
          currency: 'USD',
        };
      });
      const response = await http('POST', `${api!.url}/v1/transfers/batch`, { transfers });
      expect(response.status).toBe(200);
    };
    await post(200);
    await until('some scores', async () => (await fraudScores(tdb)).size > 0);
    await scorer.kill();
    // The ledger keeps posting with no scorer at all.
    await post(200);
    scorer = await startScorer();
    await post(100);
    await until('every transfer scored', async () => (await fraudScores(tdb)).size === (await transferIds(tdb)).length);
    await expectScoredOnce(tdb, 500);
  });
});
