import { type KurrentDBClient, START } from '@kurrent/kurrentdb-client';
import type { RecordedEvent } from '../port';
import { type BackoffOptions, type Sleep, backoffDelayMs, sleep as realSleep } from './backoff';
import { fromResolved, isLedgerEventType, ledgerEventsFilter } from './mapping';
import { decodePosition } from './positions';

/** A live feed of the global log after a position (a $all subscription, for EventStoreDB). */
export interface LogSubscriptions {
  /** Events after `after`, live; `signal` ends the subscription (the iterable then ends). */
  subscribe(after: bigint, signal?: AbortSignal): AsyncIterable<RecordedEvent>;
}

/** $all subscriptions of the official client: system events filtered out by the server. */
export function esdbSubscriptions(client: Pick<KurrentDBClient, 'subscribeToAll'>): LogSubscriptions {
  return {
    async *subscribe(after, signal) {
      const subscription = client.subscribeToAll({
        fromPosition: after === 0n ? START : decodePosition(after),
        filter: ledgerEventsFilter(),
      });
      // Unsubscribing ends the subscription's stream, so a reader waiting for the next event stops.
      signal?.addEventListener('abort', () => void subscription.unsubscribe().catch(() => {}), { once: true });
      try {
        for await (const resolved of subscription) {
          if (!resolved.event || !isLedgerEventType(resolved.event.type)) continue;
          yield fromResolved(resolved);
        }
      } finally {
        await subscription.unsubscribe().catch(() => {});
      }
    },
  };
}

export interface LogFollowerOptions {
  /** The reader's checkpoint, from where it keeps it (PostgreSQL), read at every (re)start. */
  readonly checkpoint: () => Promise<bigint>;
  /** Applies one event and moves the checkpoint with it, atomically. */
  readonly handle: (event: RecordedEvent) => Promise<void>;
  readonly backoff: BackoffOptions;
  readonly sleep?: Sleep;
  readonly onError?: (error: unknown, failures: number) => void;
}

/**
 * Follows the global log for a reader that keeps its checkpoint next to its effects (the NATS
 * relay, the fraud scorer). A dropped subscription, a lost connection or a leader change ends the
 * subscription with an error (or just ends it); the follower waits with capped backoff and
 * subscribes again from the checkpoint as stored, so nothing is skipped and, the checkpoint moving
 * with each effect, nothing is applied twice.
 */
export class LogFollower {
  private readonly stopping = new AbortController();
  private loop: Promise<void> | undefined;
  /** Failures since the last event that went through. */
  failures = 0;
  lastError: unknown;

  constructor(
    private readonly subscriptions: LogSubscriptions,
    private readonly options: LogFollowerOptions,
  ) {}

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
  }

  get isHealthy(): boolean {
    return this.failures === 0;
  }

  private async run(): Promise<void> {
    const wait = this.options.sleep ?? realSleep;
    while (!this.stopping.signal.aborted) {
      try {
        let position = await this.options.checkpoint();
        const events = this.subscriptions.subscribe(position, this.stopping.signal)[Symbol.asyncIterator]();
        const stopped = new Promise<IteratorReturnResult<undefined>>((resolve) =>
          this.stopping.signal.addEventListener('abort', () => resolve({ done: true, value: undefined }), {
            once: true,
          }),
        );
        for (;;) {
          // A live subscription waits for the next event as long as there is none: stopping must not.
          const next = await Promise.race([events.next(), stopped]);
          if (next.done || this.stopping.signal.aborted) break;
          const event = next.value;
          // A resubscription may hand back what the checkpoint already holds: skip, never reapply.
          if (event.position <= position) continue;
          await this.options.handle(event);
          position = event.position;
          this.failures = 0;
          this.lastError = undefined;
        }
        if (this.stopping.signal.aborted) {
          void events.return?.();
          return;
        }
        throw new Error('the subscription ended');
      } catch (error) {
        if (this.stopping.signal.aborted) return;
        this.failures++;
        this.lastError = error;
        this.options.onError?.(error, this.failures);
        await wait(backoffDelayMs(this.failures, this.options.backoff), this.stopping.signal);
      }
    }
  }
}
