import { describe, it } from 'vitest';
import { EsdbEventStore } from '../../src/eventstore/esdb/esdb-event-store';
import { FakeKurrentDB } from '../eventstore/fake-kurrentdb';
import { closedPeriodsScenario } from './closed-periods-scenario';

describe('closed periods and adjustments on EventStoreDB (in-memory fake of the client, two adapters as two processes)', () => {
  it('refuses a posting another process closed the period under, and posts an adjustment once another key approves', async () => {
    // The periods check is the stream's consistency check on `periods`, which the fake enforces like the server.
    const server = new FakeKurrentDB();
    await closedPeriodsScenario([new EsdbEventStore(server), new EsdbEventStore(server)]);
  });
});
