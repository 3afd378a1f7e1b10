import { jetstreamManager } from '@nats-io/jetstream';
import { type NatsConnection, headers } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { type Kysely, sql } from 'kysely';
import type { EventStore, RecordedEvent } from '../eventstore/port';
import type { Tables } from '../platform/tables';
import { cloudEventHeaders, subjectFor, toEnvelope, traceparentFor } from './envelope';
import { type OutgoingMessage, PipelinedPublisher, type PublishAck } from './pipelined-publisher';
import type { RelayLock } from './relay-lock';
import { type StreamSettings, ensureStream } from './stream';
import { WakeSignal } from '../platform/wake-signal';

export interface RelayOptions {
  readonly natsUrl: string;
  readonly stream: StreamSettings;
  /** Events published (pipelined) before their acks are awaited and the checkpoint moves. */
  readonly batchSizeMax: number;
  readonly pollMs: number;
  readonly ackTimeoutMs: number;
  /** Backoff while NATS or the database is away: from backoffMinMs, doubling, capped here. */
  readonly backoffMaxMs: number;
  readonly backoffMinMs?: number;
  /** How often a standby relay tries to take over from the active one. */
  readonly standbyRetryMs?: number;
  /** Test hook: runs after a batch's acks, before the checkpoint moves (a crash here re-publishes). */
  readonly beforeCheckpoint?: (events: readonly RecordedEvent[]) => Promise<void>;
  readonly log?: (level: 'log' | 'warn', message: string) => void;
  readonly onPublished?: (events: readonly RecordedEvent[], acks: readonly PublishAck[]) => void;
  readonly onFailure?: (error: unknown) => void;
}

interface InFlight {
  readonly events: readonly RecordedEvent[];
  readonly acks: Promise<PublishAck[]>;
}

export type RelayState = 'connecting' | 'active' | 'standby' | 'stopped';

/** Checkpoint row name: one per stream, so pointing the relay at a new stream publishes it all. */
export const relayCheckpointName = (streamName: string): string => `nats-relay:${streamName}`;

/**
 * The NATS relay (docs/contract.md, "Events"; ADR 0008). Reads the global log after its checkpoint,
 * publishes each event to JetStream with `Nats-Msg-Id` = event id, awaits the acks of the whole
 * batch (pipelined) and only then moves its checkpoint in PostgreSQL. A crash between publish and
 * checkpoint re-publishes, and JetStream's de-duplication drops the repeats.
 *
 * Order: each message but the first of a run expects the previous event's id to be the stream's
 * last (`Nats-Expected-Last-Msg-Id`), so a message lost in a pipeline can never be overtaken by the
 * ones after it; re-published duplicates are dropped before that check.
 */
export class NatsRelay {
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly wakeSignal = new WakeSignal();
  private nc: NatsConnection | undefined;
  private publisher: PipelinedPublisher | undefined;
  private position = 0n;
  /** The id of the last event acked in this run: the next message expects it to be the stream's last. */
  private chainFrom: string | undefined;
  private backoffMs: number;
  private lastLoggedError = '';
  state: RelayState = 'stopped';
  lastError: unknown;

  constructor(
    private readonly store: EventStore,
    private readonly lock: RelayLock,
    private readonly options: RelayOptions,
  ) {
    this.backoffMs = this.backoffMin;
  }

  private get backoffMin(): number {
    return this.options.backoffMinMs ?? 100;
  }

  /** The position of the last event this relay saw acknowledged. */
  get checkpoint(): bigint {
    return this.position;
  }

  get isRunning(): boolean {
    return this.running;
  }

  get checkpointName(): string {
    return relayCheckpointName(this.options.stream.name);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.state = 'connecting';
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wakeSignal.interrupt();
    await this.loop;
    await this.disconnect();
    this.state = 'stopped';
  }

  /** New events were appended in this process: look now rather than at the next poll. */
  wake(): void {
    this.wakeSignal.wake();
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        await this.connectOnce();
        const held = await this.lock.hold((db) => this.publishWhileActive(db));
        if (!held) {
          this.state = 'standby';
          this.lastError = undefined;
          await this.sleep(this.options.standbyRetryMs ?? 1000);
        }
      } catch (error) {
        this.fail(error);
        await this.disconnect();
        await this.sleep(this.backoffMs);
        this.backoffMs = Math.min(this.backoffMs * 2, this.options.backoffMaxMs);
      }
    }
  }

  private async connectOnce(): Promise<void> {
    if (this.nc && !this.nc.isClosed()) return;
    this.state = 'connecting';
    const nc = await connect({
      servers: this.options.natsUrl,
      name: 'ledger-relay',
      timeout: Math.min(this.options.ackTimeoutMs, 5000),
      // We reconnect ourselves, after backoff, and re-publish from the checkpoint: the client's
      // own reconnect would replay its buffered, no longer awaited publishes.
      reconnect: false,
    });
    try {
      await ensureStream(await jetstreamManager(nc), this.options.stream);
    } catch (error) {
      await nc.close().catch(() => {});
      throw error;
    }
    this.nc = nc;
    this.publisher = new PipelinedPublisher(nc);
    this.options.log?.(
      'log',
      `relay: connected to ${this.options.natsUrl}, stream ${this.options.stream.name} (subjects ${this.options.stream.subjectPrefix}.>)`,
    );
  }

  private async disconnect(): Promise<void> {
    const nc = this.nc;
    this.nc = undefined;
    this.publisher?.close();
    this.publisher = undefined;
    this.chainFrom = undefined;
    if (!nc || nc.isClosed()) return;
    // close() flushes when it can; a server that is gone must not hold the relay up.
    await Promise.race([nc.close().catch(() => {}), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
  }

  /**
   * While holding the lock: publish batch after batch, each one's checkpoint after its acks. The
   * next batch is read and sent while the acks of the one before are on their way, so the reads
   * from the database and the round trips to JetStream overlap.
   */
  private async publishWhileActive(db: Kysely<Tables>): Promise<void> {
    this.position = await readCheckpoint(db, this.checkpointName);
    this.chainFrom = undefined;
    this.state = 'active';
    let readUpTo = this.position;
    let inFlight: InFlight | undefined;
    while (this.running) {
      const events = await this.store.readAll({ after: readUpTo, limit: this.options.batchSizeMax });
      let sent: InFlight | undefined;
      if (events.length > 0) {
        sent = { events, acks: this.send(events) };
        // Awaited below; if the batch before it fails first, nobody awaits this one.
        sent.acks.catch(() => {});
        readUpTo = events.at(-1)!.position;
      }
      if (inFlight) await this.complete(db, inFlight);
      inFlight = sent;
      if (!inFlight) {
        this.recovered();
        await this.sleep(this.options.pollMs, true);
      }
    }
    if (inFlight) await this.complete(db, inFlight);
  }

  /** Awaits a batch's acks, then moves the checkpoint past it. */
  private async complete(db: Kysely<Tables>, batch: InFlight): Promise<void> {
    const acks = await batch.acks;
    await this.options.beforeCheckpoint?.(batch.events);
    const last = batch.events.at(-1)!;
    await moveCheckpoint(db, this.checkpointName, this.position, last.position);
    this.position = last.position;
    this.options.onPublished?.(batch.events, acks);
    this.recovered();
  }

  /** Sends every event of the batch without waiting in between; resolves with all the acks. */
  private send(events: readonly RecordedEvent[]): Promise<PublishAck[]> {
    const publisher = this.publisher;
    if (!publisher) return Promise.reject(new Error('not connected to NATS'));
    const prefix = this.options.stream.subjectPrefix;
    const messages = events.map((event, index): OutgoingMessage => {
      const expected = index === 0 ? this.chainFrom : events[index - 1]!.eventId;
      const h = headers();
      h.set('Nats-Msg-Id', event.eventId);
      if (expected) h.set('Nats-Expected-Last-Msg-Id', expected);
      for (const [name, value] of cloudEventHeaders(event)) h.set(name, value);
      h.set('traceparent', traceparentFor(event));
      if (event.metadata.tracestate) h.set('tracestate', event.metadata.tracestate);
      return { subject: subjectFor(prefix, event), data: JSON.stringify(toEnvelope(event)), headers: h };
    });
    // The next batch chains on this one at once: if this one fails, so does the next.
    this.chainFrom = events.at(-1)!.eventId;
    return publisher.publish(messages, this.options.ackTimeoutMs).catch((error: unknown) => {
      throw new Error(
        `publishing positions ${events[0]!.position}–${events.at(-1)!.position} failed: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    });
  }

  private fail(error: unknown): void {
    this.lastError = error;
    if (this.state !== 'stopped') this.state = 'connecting';
    this.options.onFailure?.(error);
    const message = error instanceof Error ? error.message : String(error);
    if (message !== this.lastLoggedError) {
      this.lastLoggedError = message;
      this.options.log?.('warn', `relay: ${message}; retrying with backoff (the ledger keeps taking commands)`);
    }
  }

  private recovered(): void {
    if (this.lastError !== undefined) this.options.log?.('log', 'relay: publishing again');
    this.lastError = undefined;
    this.lastLoggedError = '';
    this.backoffMs = this.backoffMin;
  }

  /** Waits; only a poll (`wakeable`) is cut short by new events, never a backoff or a standby retry. */
  private sleep(ms: number, wakeable = false): Promise<void> {
    if (!this.running) return Promise.resolve();
    return this.wakeSignal.wait(ms, { wakeable });
  }
}

async function readCheckpoint(db: Kysely<Tables>, name: string): Promise<bigint> {
  await sql`insert into checkpoints (name, position) values (${name}, 0) on conflict (name) do nothing`.execute(db);
  const rows = await sql<{ position: string }>`
    select position::text as position from checkpoints where name = ${name}`.execute(db);
  return BigInt(rows.rows[0]!.position);
}

/** Moves the checkpoint from `from` to `to`; if it is not at `from`, another relay moved it: stop. */
async function moveCheckpoint(db: Kysely<Tables>, name: string, from: bigint, to: bigint): Promise<void> {
  const result = await sql`update checkpoints set position = ${to.toString()}::numeric, updated_at = now()
            where name = ${name} and position = ${from.toString()}::numeric`.execute(db);
  if (result.numAffectedRows !== 1n) {
    throw new Error(`relay checkpoint ${name} is no longer at ${from}: another relay moved it`);
  }
}
