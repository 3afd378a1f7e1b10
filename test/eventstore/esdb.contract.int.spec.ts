import { KurrentDBClient } from '@kurrent/kurrentdb-client';
import { describe, it } from 'vitest';
import { EsdbEventStore } from '../../src/eventstore/esdb/esdb-event-store';
import { ESDB_TRAITS } from './esdb-traits';
import { eventStoreContract } from './contract';

/**
 * The contract suite against a real EventStoreDB / KurrentDB 26.1+ at ESDB_URL, e.g.
 *   docker compose up -d kurrentdb
 *   ESDB_URL='esdb://127.0.0.1:2113?tls=false' npx vitest run test/eventstore/esdb.contract.int.spec.ts
 * The server is shared by every store the suite makes, so its log is not fresh: use a server that
 * nothing else writes to while the suite runs (the compose one runs in memory).
 * Without ESDB_URL it does not run, and says so in one line (allowed under CI=true too: no
 * EventStoreDB can run on our own machines).
 */
const url = process.env.ESDB_URL;

if (!url) {
  console.log('[tests] EventStoreDB contract suite skipped: ESDB_URL is not set (see docs/testing.md)');
  describe.skip('event store contract: EventStoreDB (ESDB_URL not set)', () => {
    it('needs ESDB_URL', () => {});
  });
} else {
  eventStoreContract(`EventStoreDB at ${url.replace(/\/\/[^@/]*@/, '//')}`, async () => {
    const client = KurrentDBClient.connectionString(url);
    return {
      store: new EsdbEventStore(client),
      cleanup: () => client.dispose(),
      traits: { ...ESDB_TRAITS, freshLog: false },
    };
  });
}
