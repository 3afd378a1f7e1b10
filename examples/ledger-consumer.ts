/**
 * A durable consumer of the ledger's events, for a downstream team to copy (docs/events.md,
 * "Subscribing to ledger events"). Needs @nats-io/jetstream, @nats-io/transport-node (3.x) and pg.
 *
 * What it does for you:
 * - a durable pull consumer on the LEDGER stream (it survives restarts and remembers its place);
 * - explicit acks, sent only after your handler's transaction committed;
 * - idempotent handling: the Nats-Msg-Id (the event id) is recorded in your database, in the same
 *   transaction as your handler's writes, so a redelivery (a crash between commit and ack) changes
 *   nothing the second time;
 * - redelivery with backoff when the handler throws (nak with a delay from `backoffMs`);
 * - a dead-letter subject after `maxAttempts` failed attempts (the message, its headers, the last
 *   error), then the message is terminated so it no longer blocks the ones behind it.
 *
 * Order: with `maxAckPending: 1` (the default) the next message is delivered only after this one
 * is acked or dead-lettered, so every account's events are handled in the order the ledger
 * recorded them. Raise it for throughput if your handler does not care about order.
 */
import {
  AckPolicy,
  DeliverPolicy,
  type JetStreamClient,
  JetStreamApiCodes,
  JetStreamApiError,
  type JsMsg,
  jetstream,
  jetstreamManager,
  StorageType,
} from '@nats-io/jetstream';
import { headers as natsHeaders, type NatsConnection } from '@nats-io/nats-core';
import type pg from 'pg';

/** The table that remembers which messages this consumer handled (create it with your migrations). */
export const INBOX_TABLE = `
  create table if not exists ledger_inbox (
    consumer      text not null,
    msg_id        text not null,
    stream_seq    bigint not null,
    subject       text not null,
    processed_at  timestamptz not null default now(),
    primary key (consumer, msg_id)
  )`;

/** The message body: the event envelope (see docs/asyncapi.json for each type's `data`). */
export interface LedgerEvent {
  id: string;
  type: string;
  stream: string;
  revision: string;
  position: string;
  recordedAt: string;
  correlationId: string;
  causationId: string;
  data: Record<string, unknown>;
}

export interface HandlerContext {
  /** Your transaction: write your effects through it; it commits with the inbox row. */
  client: pg.PoolClient;
  msgId: string;
  subject: string;
  /** 1 on the first delivery. */
  attempt: number;
  headers: Record<string, string>;
}

export interface LedgerConsumerOptions {
  nc: NatsConnection;
  pool: pg.Pool;
  /** Durable consumer name: one per service (letters, digits, "-", "_"). */
  durable: string;
  handle: (event: LedgerEvent, context: HandlerContext) => Promise<void>;
  /** Default LEDGER. */
  stream?: string;
  /** Default ledger.> (everything); e.g. ledger.transfer.> for transfers only. */
  filterSubject?: string;
  /** Failed attempts before a message goes to the dead-letter subject. Default 5. */
  maxAttempts?: number;
  /** Delay before the n-th redelivery after a handler error (the last one repeats). */
  backoffMs?: number[];
  /** Default ledger-dlq.<durable>: outside ledger.>, which only the ledger's relay publishes to. */
  deadLetterSubject?: string;
  /** A stream capturing the dead-letter subject, created if missing. Default <durable>_DLQ. */
  deadLetterStream?: string;
  /** Unacked messages the server allows; 1 keeps every account's order. */
  maxAckPending?: number;
  /** How long the server waits for an ack before redelivering (a crashed handler). Default 30 s. */
  ackWaitMs?: number;
  /** Test hook: runs after the transaction committed, before the ack. */
  beforeAck?: (event: LedgerEvent, msgId: string) => Promise<void>;
  log?: (message: string) => void;
}

export interface RunningConsumer {
  /** Resolves when the consumer has stopped. */
  readonly done: Promise<void>;
  stop(): Promise<void>;
}

const nanos = (ms: number) => ms * 1_000_000;

export async function startLedgerConsumer(options: LedgerConsumerOptions): Promise<RunningConsumer> {
  const stream = options.stream ?? 'LEDGER';
  const maxAttempts = options.maxAttempts ?? 5;
  const backoffMs = options.backoffMs ?? [1000, 5000, 30_000];
  const deadLetterSubject = options.deadLetterSubject ?? `ledger-dlq.${options.durable}`;
  const log = options.log ?? ((message: string) => console.log(`[ledger-consumer ${options.durable}] ${message}`));
  const jsm = await jetstreamManager(options.nc);
  const js = jetstream(options.nc);

  await ensureStream(jsm, options.deadLetterStream ?? `${options.durable}_DLQ`, deadLetterSubject);
  const client = await options.pool.connect();
  try {
    await client.query(INBOX_TABLE);
  } finally {
    client.release();
  }
  const config = {
    durable_name: options.durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: options.filterSubject ?? 'ledger.>',
    ack_wait: nanos(options.ackWaitMs ?? 30_000),
    max_ack_pending: options.maxAckPending ?? 1,
    // Unlimited: this code dead-letters after maxAttempts itself, so the server never drops one silently.
    max_deliver: -1,
  };
  try {
    await jsm.consumers.info(stream, options.durable);
    const { durable_name: _name, deliver_policy: _fixed, ...changes } = config;
    await jsm.consumers.update(stream, options.durable, changes);
  } catch (error) {
    if (!(error instanceof JetStreamApiError && error.code === JetStreamApiCodes.ConsumerNotFound)) throw error;
    await jsm.consumers.add(stream, config);
  }

  const consumer = await js.consumers.get(stream, options.durable);
  const messages = await consumer.consume({ max_messages: 100 });
  const done = (async () => {
    for await (const message of messages) {
      try {
        await handleOne(message);
      } catch (error) {
        // The database is away, say: leave the message unacked; it comes back after ack_wait.
        log(`message ${message.seq} left for redelivery: ${String(error)}`);
      }
    }
  })();

  async function handleOne(message: JsMsg): Promise<void> {
    const headers: Record<string, string> = {};
    for (const [name, values] of message.headers ?? []) headers[name] = values[0] ?? '';
    const msgId = headers['Nats-Msg-Id'] ?? `${stream}:${message.seq}`;
    const attempt = message.info.deliveryCount;
    let event: LedgerEvent;
    try {
      event = message.json<LedgerEvent>();
    } catch (error) {
      return deadLetter(message, headers, msgId, attempt, error);
    }
    // Handled and dead-lettered before but the term was lost, or a handler that crashes the process:
    if (attempt > maxAttempts) return deadLetter(message, headers, msgId, attempt, new Error('too many deliveries'));

    const client = await options.pool.connect();
    let failure: unknown;
    try {
      await client.query('begin');
      const fresh = await client.query(
        'insert into ledger_inbox (consumer, msg_id, stream_seq, subject) values ($1, $2, $3, $4) on conflict do nothing',
        [options.durable, msgId, message.seq, message.subject],
      );
      // Seen before (a redelivery after a crash between commit and ack): the effects are in already.
      if (fresh.rowCount === 1)
        await options.handle(event, { client, msgId, subject: message.subject, attempt, headers });
      await client.query('commit');
    } catch (error) {
      failure = error;
      await client.query('rollback').catch(() => {});
    } finally {
      client.release();
    }
    if (failure !== undefined) {
      if (attempt >= maxAttempts) return deadLetter(message, headers, msgId, attempt, failure);
      const delay = backoffMs[Math.min(attempt - 1, backoffMs.length - 1)] ?? 1000;
      log(
        `${event.type} ${msgId} failed (attempt ${attempt} of ${maxAttempts}), again in ${delay} ms: ${String(failure)}`,
      );
      message.nak(delay);
      return;
    }
    await options.beforeAck?.(event, msgId);
    await message.ackAck();
  }

  async function deadLetter(
    message: JsMsg,
    headers: Record<string, string>,
    msgId: string,
    attempt: number,
    error: unknown,
  ) {
    const h = natsHeaders();
    for (const [name, value] of Object.entries(headers)) if (!name.startsWith('Nats-')) h.set(name, value);
    h.set('Ledger-Original-Subject', message.subject);
    h.set('Ledger-Original-Msg-Id', msgId);
    h.set('Ledger-Attempts', String(attempt));
    h.set(
      'Ledger-Error',
      String(error instanceof Error ? error.message : error)
        .replace(/[\r\n]+/g, ' ')
        .slice(0, 1000),
    );
    await publishDeadLetter(js, deadLetterSubject, message.data, h, `${options.durable}:${msgId}`);
    log(`${msgId} dead-lettered to ${deadLetterSubject} after ${attempt} attempt(s): ${String(error)}`);
    message.term();
  }

  return {
    done,
    async stop() {
      await messages.close();
      await done;
    },
  };
}

async function publishDeadLetter(
  js: JetStreamClient,
  subject: string,
  data: Uint8Array,
  headers: ReturnType<typeof natsHeaders>,
  msgID: string,
): Promise<void> {
  // msgID: dead-lettering the same message twice (a crash before the term) stores it once.
  await js.publish(subject, data, { headers, msgID });
}

async function ensureStream(
  jsm: Awaited<ReturnType<typeof jetstreamManager>>,
  name: string,
  subject: string,
): Promise<void> {
  try {
    await jsm.streams.info(name);
  } catch (error) {
    if (!(error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound)) throw error;
    await jsm.streams.add({ name, subjects: [subject], storage: StorageType.File });
  }
}
