import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EsdbEventStore } from '../../src/eventstore/esdb/esdb-event-store';
import { ESDB_TRAITS } from './esdb-traits';
import type { RecordedEvent } from '../../src/eventstore/port';
import { expect as rev } from '../../src/eventstore/port';
import { firstBrokenLink } from './contract';
import { FakeKurrentDB } from './fake-kurrentdb';

/**
 * Several service processes on one EventStoreDB, each with its own adapter (and its own cached
 * chain head), against the in-memory fake of the client. The chain stream's check is what keeps one
 * chain across processes (ADR 0007); without it each process would chain from its own head.
 */
describe('EventStoreDB adapter: several processes on one server (in-memory fake, no server)', () => {
  it('keeps one unbroken hash chain in $all order while they append at once', async () => {
    const server = new FakeKurrentDB();
    const processes = Array.from({ length: 4 }, () => new EsdbEventStore(server));
    await Promise.all(
      processes.map(async (store) => {
        const account = `account-${randomUUID()}`;
        for (let i = 0; i < 25; i++) {
          const transfer = `transfer-${randomUUID()}`;
          await store.append({
            events: [
              {
                eventId: randomUUID(),
                streamId: transfer,
                type: 'TransferPosted',
                data: { i },
                metadata: { correlationId: 'c', causationId: 'c' },
                alsoIn: [account],
              },
            ],
            expected: new Map([[transfer, rev.noStream]]),
            recordedAt: new Date().toISOString(),
          });
        }
      }),
    );
    const log: RecordedEvent[] = [];
    for (;;) {
      const page = await processes[0]!.readAll({ after: log.at(-1)?.position ?? 0n, limit: 40 });
      if (page.length === 0) break;
      log.push(...page);
    }
    expect(log).toHaveLength(100);
    expect(firstBrokenLink(log, { hash: ESDB_TRAITS.eventHash })).toBeNull();
    // They did race: some appends lost the chain check and went again; each landed once.
    expect(server.refused).toBeGreaterThan(0);
    expect(server.appends).toBe(100);
  });
});
