import { EsdbEventStore } from '../../src/eventstore/esdb/esdb-event-store';
import { ESDB_TRAITS } from './esdb-traits';
import { eventStoreContract } from './contract';
import { FakeKurrentDB } from './fake-kurrentdb';

/**
 * The EventStoreDB adapter's logic (revisions, links, checks, the chain, paging $all) held to the
 * whole contract against FakeKurrentDB: an in-memory model of what ADR 0007 assumes the server
 * does. A unit test: it says nothing about a real server; esdb.contract.int.spec.ts does that.
 */
eventStoreContract('EventStoreDB adapter on an in-memory fake of the client (no server)', async () => ({
  store: new EsdbEventStore(new FakeKurrentDB()),
  cleanup: async () => {},
  traits: ESDB_TRAITS,
}));
