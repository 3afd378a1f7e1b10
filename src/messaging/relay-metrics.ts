import type { Kysely } from 'kysely';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { EventStore, RecordedEvent } from '../eventstore/port';
import type { PublishAck } from './pipelined-publisher';
import { Checkpoint } from '../platform/checkpoints';
import type { Tables } from '../platform/tables';

/**
 * The relay's Prometheus figures. The lag gauges are computed when scraped, from the database
 * (the checkpoint every relay process shares, the log's head, the oldest event not yet published),
 * so a standby process and a relay stuck behind a NATS outage both report the truth.
 */
export class RelayMetrics {
  readonly published: Counter;
  readonly duplicates: Counter;
  readonly failures: Counter;
  readonly deliverySeconds: Histogram;

  constructor(registry: Registry, db: Kysely<Tables>, store: EventStore, checkpointName: string) {
    const registers = [registry];
    this.published = new Counter({
      name: 'ledger_relay_published_total',
      help: 'Events the relay published to JetStream and saw stored (acknowledged, not as duplicates)',
      registers,
    });
    this.duplicates = new Counter({
      name: 'ledger_relay_duplicates_total',
      help: 'Re-published events JetStream acknowledged as duplicates (dropped by Nats-Msg-Id)',
      registers,
    });
    this.failures = new Counter({
      name: 'ledger_relay_failures_total',
      help: 'Batches the relay could not publish or checkpoint (it retries with backoff)',
      registers,
    });
    this.deliverySeconds = new Histogram({
      name: 'ledger_relay_append_to_ack_seconds',
      help: 'From an event being recorded to JetStream acknowledging it',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 30, 300],
      registers,
    });

    type Lag = { checkpoint: bigint; head: bigint; oldestAgeSeconds: number };
    let lag: Promise<Lag> | undefined;
    let lastKnown: Lag = { checkpoint: 0n, head: 0n, oldestAgeSeconds: 0 };
    // One set of queries per scrape, shared by the three gauges; with the database away, the last
    // figures stand (the scrape itself must not fail).
    const measure = () =>
      (lag ??= (async () => {
        try {
          const checkpoint = (await new Checkpoint(checkpointName).peek(db)) ?? 0n;
          const head = await store.headPosition();
          const [oldest] = head > checkpoint ? await store.readAll({ after: checkpoint, limit: 1 }) : [];
          const oldestAgeSeconds = oldest ? Math.max(0, (Date.now() - Date.parse(oldest.recordedAt)) / 1000) : 0;
          lastKnown = { checkpoint, head, oldestAgeSeconds };
          return lastKnown;
        } catch {
          return lastKnown;
        } finally {
          setImmediate(() => (lag = undefined));
        }
      })());

    new Gauge({
      name: 'ledger_relay_position',
      help: 'Global-log position up to which every event is published to JetStream (the relay checkpoint)',
      registers,
      async collect() {
        this.set(Number((await measure()).checkpoint));
      },
    });
    new Gauge({
      name: 'ledger_relay_lag_positions',
      help: 'Log head minus relay checkpoint: events not yet published on PostgreSQL (dense positions); on EventStoreDB a distance in packed positions, not a count',
      registers,
      async collect() {
        const { checkpoint, head } = await measure();
        this.set(Number(head > checkpoint ? head - checkpoint : 0n));
      },
    });
    new Gauge({
      name: 'ledger_relay_lag_seconds',
      help: 'Age of the oldest event not yet published to JetStream (0 when caught up)',
      registers,
      async collect() {
        this.set((await measure()).oldestAgeSeconds);
      },
    });
  }

  observe(events: readonly RecordedEvent[], acks: readonly PublishAck[]): void {
    const now = Date.now();
    let duplicates = 0;
    for (const ack of acks) if (ack.duplicate) duplicates++;
    this.published.inc(events.length - duplicates);
    if (duplicates > 0) this.duplicates.inc(duplicates);
    for (const event of events) this.deliverySeconds.observe(Math.max(0, now - Date.parse(event.recordedAt)) / 1000);
  }
}
