import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The process's Prometheus metrics. One registry per process (tests build several apps in one
 * process, so nothing here is global).
 */
export class Metrics {
  readonly registry = new Registry();

  readonly httpRequests = new Histogram({
    name: 'ledger_http_request_duration_seconds',
    help: 'HTTP requests by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
    registers: [this.registry],
  });

  readonly writeBatches = new Histogram({
    name: 'ledger_write_batch_commands',
    help: 'Commands decided and appended per group-commit transaction',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192],
    registers: [this.registry],
  });

  readonly writeBatchSeconds = new Histogram({
    name: 'ledger_write_batch_duration_seconds',
    help: 'Time to decide and append one batch, conflicts and retries included',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });

  readonly writeBatchesDecidedAhead = new Counter({
    name: 'ledger_write_batches_decided_ahead_total',
    help: 'Group-commit batches decided while the batch before them appended (pipelined group commit)',
    registers: [this.registry],
  });

  readonly writeAppendsSentAhead = new Counter({
    name: 'ledger_write_appends_sent_ahead_total',
    help: 'Group-commit batches whose append was sent before the batch before them committed, and committed so',
    registers: [this.registry],
  });

  readonly eventsAppended = new Counter({
    name: 'ledger_events_appended_total',
    help: 'Events appended to the event store by this process',
    registers: [this.registry],
  });

  readonly writeQueue = new Gauge({
    name: 'ledger_write_queue_commands',
    help: 'Commands waiting for the writer',
    registers: [this.registry],
  });

  readonly projectorPosition = new Gauge({
    name: 'ledger_projector_position',
    help: 'Global-log position the read models include',
    registers: [this.registry],
  });

  readonly projectorLagSeconds = new Gauge({
    name: 'ledger_projector_lag_seconds',
    help: 'Age of the oldest event the read models do not include yet (0 when caught up)',
    registers: [this.registry],
  });

  readonly projectorLagPositions = new Gauge({
    name: 'ledger_projector_lag_positions',
    help: 'Events in the global log the read models do not include yet',
    registers: [this.registry],
  });

  readonly commands = new Counter({
    name: 'ledger_commands_total',
    help: 'Commands by name and outcome: created, duplicate (an idempotent repeat), applied, the refusal slug, overloaded or error',
    labelNames: ['command', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly appendSeconds = new Histogram({
    name: 'ledger_append_duration_seconds',
    help: 'Time of one append to the event store (one group-commit transaction)',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });

  readonly eventStoreUp = new Gauge({
    name: 'ledger_eventstore_up',
    help: 'Whether the event store answered at the last scrape (1) or not (0)',
    labelNames: ['adapter'] as const,
    registers: [this.registry],
  });

  readonly eventStoreHead = new Gauge({
    name: 'ledger_eventstore_head_position',
    help: 'Position of the last event in the global log, at the last scrape',
    registers: [this.registry],
  });

  private readonly collectors: Array<() => Promise<void> | void> = [];

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'ledger_' });
  }

  /**
   * Runs `collect` before every scrape (gauges read from a part's state: queue length, lag,
   * connection state). A collector that throws leaves its gauges as they were.
   */
  onScrape(collect: () => Promise<void> | void): void {
    this.collectors.push(collect);
  }

  /** The Prometheus text of every metric, after running the collectors. */
  async render(): Promise<string> {
    await Promise.all(
      this.collectors.map(async (collect) => {
        try {
          await collect();
        } catch {
          // a part that cannot say how it is doing says it through its own gauges (e.g. eventstore_up)
        }
      }),
    );
    return this.registry.metrics();
  }
}
