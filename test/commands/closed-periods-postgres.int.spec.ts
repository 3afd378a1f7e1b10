import { afterAll, beforeAll, describe, it } from 'vitest';
import { PostgresEventStore } from '../../src/eventstore/postgres-event-store';
import { type TestDatabase, createTestDatabase } from '../support/database';
import { closedPeriodsScenario } from './closed-periods-scenario';

describe('closed periods and adjustments on PostgreSQL (two writers as two processes)', () => {
  let tdb: TestDatabase;
  beforeAll(async () => {
    tdb = await createTestDatabase();
  });
  afterAll(() => tdb.drop());

  it('refuses a posting another process closed the period under, and posts an adjustment once another key approves', async () => {
    await closedPeriodsScenario([new PostgresEventStore(tdb.database.db), new PostgresEventStore(tdb.database.db)]);
  });
});
