import { eventHashWithoutPosition } from '../../src/eventstore/hash-chain';
import type { RecordedEvent } from '../../src/eventstore/port';

/**
 * Where the EventStoreDB adapter's guarantees differ from PostgreSQL's (ADR 0007), as the contract
 * suite (test/eventstore/contract.ts) takes them.
 */
export const ESDB_TRAITS = {
  /** $all positions are log offsets: increasing, not dense. */
  densePositions: false,
  /** Event ids are unique within a request; across streams the server does not index them. */
  eventIdsUniqueInLog: false,
  /** The hash is computed before the server assigns the position, so it cannot cover it. */
  eventHash: (prevHash: string, event: RecordedEvent) => eventHashWithoutPosition(prevHash, event),
} as const;
