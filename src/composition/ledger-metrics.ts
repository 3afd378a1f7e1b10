import { commandNames, commandOutcomes } from '../commands/command-outcomes';
import { WriterOverloadedError, type WriteJob } from '../commands/write-commands';
import type { Writer } from '../commands/writer';
import type { EventStore } from '../eventstore/port';
import type { Projector } from '../projections/projector';
import type { Metrics } from '../platform/metrics';

const STORE_PROBE_TIMEOUT_MS = 2000;

/** The writer's `onSettled`: counts every command by name and outcome (`ledger_commands_total`). */
export function countCommands(metrics: Metrics): (job: WriteJob, outcome: unknown, error?: unknown) => void {
  return (job, outcome, error) => {
    if (error !== undefined) {
      const label = error instanceof WriterOverloadedError ? 'overloaded' : 'error';
      for (const command of commandNames(job)) metrics.commands.inc({ command, outcome: label });
      return;
    }
    for (const { command, outcome: label } of commandOutcomes(job, outcome))
      metrics.commands.inc({ command, outcome: label });
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Gauges read at each scrape: the write queue, the event store's head and whether it answers, and
 * how far the read models are behind it, in positions and in seconds (the age of the oldest event
 * they do not include yet).
 */
export function collectLedgerGauges(
  metrics: Metrics,
  parts: {
    readonly writer: Writer;
    readonly store: EventStore;
    readonly projector: Projector | null;
    readonly adapter: string;
  },
): void {
  const { writer, store, projector, adapter } = parts;
  metrics.onScrape(() => metrics.writeQueue.set(writer.queueLength));
  metrics.onScrape(async () => {
    let head: bigint;
    try {
      head = await withTimeout(store.headPosition(), STORE_PROBE_TIMEOUT_MS);
    } catch (error) {
      metrics.eventStoreUp.set({ adapter }, 0);
      throw error;
    }
    metrics.eventStoreUp.set({ adapter }, 1);
    metrics.eventStoreHead.set(Number(head));
    if (!projector) return;
    const checkpoint = projector.checkpoint;
    metrics.projectorPosition.set(Number(checkpoint));
    const behind = head > checkpoint ? head - checkpoint : 0n;
    metrics.projectorLagPositions.set(Number(behind));
    if (behind === 0n) {
      metrics.projectorLagSeconds.set(0);
      return;
    }
    const [oldest] = await withTimeout(store.readAll({ after: checkpoint, limit: 1 }), STORE_PROBE_TIMEOUT_MS);
    metrics.projectorLagSeconds.set(oldest ? Math.max(0, Date.now() - Date.parse(oldest.recordedAt)) / 1000 : 0);
  });
}
