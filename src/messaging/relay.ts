import { jetstreamManager } from '@nats-io/jetstream';
import { type NatsConnection, headers } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import type { Kysely } from 'kysely';
import type { RecordedEvent } from '../eventstore/port';
import { decodeEvent } from '../events/decode';
import type { LeaderLock } from '../platform/leader-lock';
import { LogFollower, type LogHandler, type LogSource, type Prepared } from '../platform/log-follower';
import type { Tables } from '../platform/tables';
import { cloudEventHeaders, subjectFor, toEnvelope, traceparentFor } from './envelope';
import { type OutgoingMessage, PipelinedPublisher, type PublishAck } from './pipelined-publisher';
import { type StreamSettings, ensureStream } from './stream';

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

export type RelayState = 'connecting' | 'active' | 'standby' | 'stopped';

/** Checkpoint row name: one per stream, so pointing the relay at a new stream publishes it all. */
export const relayCheckpointName = (streamName: string): string => `nats-relay:${streamName}`;

/**
 * The NATS relay (docs/contract.md, "Events"; ADR 0008). Reads the global log after its checkpoint,
 * publishes each event to JetStream with `Nats-Msg-Id` = event id, awaits the acks of the whole
 * batch (pipelined) and only then moves its checkpoint in PostgreSQL. A crash between publish and
 * checkpoint re-publishes, and JetStream's de-duplication drops the repeats. One relay publishes at
 * a time (the leader lock); the loop, backoff and checkpoint are the common log follower's.
 *
 * Order: each message but the first of a run expects the previous event's id to be the stream's
 * last (`Nats-Expected-Last-Msg-Id`), so a message lost in a pipeline can never be overtaken by the
 * ones after it; re-published duplicates are dropped before that check.
 */
export class NatsRelay implements LogHandler<RecordedEvent, PublishAck[]> {
  private readonly follower: LogFollower<RecordedEvent, PublishAck[]>;
  private nc: NatsConnection | undefined;
  private publisher: PipelinedPublisher | undefined;
  /** The id of the last event sent in this session: the next message expects it to be the stream's last. */
  private chainFrom: string | undefined;
  private lastLoggedError = '';
  private failing = false;

  constructor(
    db: Kysely<Tables>,
    source: LogSource<RecordedEvent>,
    lock: LeaderLock,
    private readonly options: RelayOptions,
  ) {
    this.follower = new LogFollower(db, source, this, {
      name: relayCheckpointName(options.stream.name),
      batchSizeMax: options.batchSizeMax,
      pollMs: options.pollMs,
      backoffMinMs: options.backoffMinMs ?? 100,
      backoffMaxMs: options.backoffMaxMs,
      leaderLock: lock,
      standbyRetryMs: options.standbyRetryMs ?? 1000,
      pipeline: true,
      beforeCheckpoint: options.beforeCheckpoint,
    });
  }

  /** The position of the last event this relay saw acknowledged. */
  get checkpoint(): bigint {
    return this.follower.checkpoint;
  }

  get isRunning(): boolean {
    return this.follower.isRunning;
  }

  get checkpointName(): string {
    return this.follower.name;
  }

  get state(): RelayState {
    const state = this.follower.state;
    return state === 'starting' ? 'connecting' : state;
  }

  get lastError(): unknown {
    return this.follower.lastError;
  }

  start(): void {
    this.follower.start();
  }

  async stop(): Promise<void> {
    await this.follower.stop();
    await this.disconnect();
  }

  /** New events were appended in this process: look now rather than at the next poll. */
  wake(): void {
    this.follower.wake();
  }

  async connect(): Promise<void> {
    // A new session chains from nothing: its first message expects no particular last id.
    this.chainFrom = undefined;
    if (this.nc && !this.nc.isClosed()) return;
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

  /** Sends the page at once (the follower pipelines pages); settles with every ack. */
  async prepare(events: readonly RecordedEvent[]): Promise<Prepared<PublishAck[]>> {
    return { value: await this.send(events) };
  }

  committed(events: readonly RecordedEvent[], acks: PublishAck[] | undefined): void {
    this.options.onPublished?.(events, acks ?? []);
    this.recovered();
  }

  async idle(): Promise<void> {
    this.recovered();
  }

  async failed(error: unknown): Promise<void> {
    this.failing = true;
    this.options.onFailure?.(error);
    const message = error instanceof Error ? error.message : String(error);
    if (message !== this.lastLoggedError) {
      this.lastLoggedError = message;
      this.options.log?.('warn', `relay: ${message}; retrying with backoff (the ledger keeps taking commands)`);
    }
    await this.disconnect();
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

  /** Sends every event of the batch without waiting in between; resolves with all the acks. */
  private send(events: readonly RecordedEvent[]): Promise<PublishAck[]> {
    const publisher = this.publisher;
    if (!publisher) return Promise.reject(new Error('not connected to NATS'));
    const prefix = this.options.stream.subjectPrefix;
    // The next batch chains on this one at once: if this one fails, so does the next.
    const chainFrom = this.chainFrom;
    this.chainFrom = events.at(-1)!.eventId;
    // Only what decodes is published, so every message fits its published schema. An event that
    // does not fails its page here, named, and (chained on it) the page read after it: the relay
    // stops there, never skips it.
    for (const event of events) decodeEvent(event);
    const messages = events.map((event, index): OutgoingMessage => {
      const expected = index === 0 ? chainFrom : events[index - 1]!.eventId;
      const h = headers();
      h.set('Nats-Msg-Id', event.eventId);
      if (expected) h.set('Nats-Expected-Last-Msg-Id', expected);
      for (const [name, value] of cloudEventHeaders(event)) h.set(name, value);
      h.set('traceparent', traceparentFor(event));
      if (event.metadata.tracestate) h.set('tracestate', event.metadata.tracestate);
      return { subject: subjectFor(prefix, event), data: JSON.stringify(toEnvelope(event)), headers: h };
    });
    return publisher.publish(messages, this.options.ackTimeoutMs).catch((error: unknown) => {
      throw new Error(
        `publishing positions ${events[0]!.position}–${events.at(-1)!.position} failed: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    });
  }

  private recovered(): void {
    if (this.failing) this.options.log?.('log', 'relay: publishing again');
    this.failing = false;
    this.lastLoggedError = '';
  }
}
