import { type MsgHdrs, type NatsConnection, type Subscription, createInbox } from '@nats-io/nats-core';

export interface OutgoingMessage {
  readonly subject: string;
  readonly data: string;
  readonly headers: MsgHdrs;
}

/** JetStream's publish acknowledgement (the parts the relay reads). */
export interface PublishAck {
  readonly stream: string;
  readonly seq: number;
  readonly duplicate: boolean;
}

interface Pending {
  readonly batch: Batch;
  readonly index: number;
}

interface Batch {
  readonly acks: Array<PublishAck | undefined>;
  remaining: number;
  settled: boolean;
  resolve(acks: PublishAck[]): void;
  reject(error: Error): void;
  timer?: NodeJS.Timeout;
}

/**
 * Publishes a batch to JetStream without waiting in between, then awaits every ack: each message
 * carries its own reply subject under one inbox this publisher subscribes to once, so there is
 * one subscription and one timer per batch rather than one request (and timer) per message, which
 * is what nats.js's `js.publish` costs. The first error ack (or the timeout) fails the batch.
 */
export class PipelinedPublisher {
  private readonly inbox = createInbox();
  private readonly subscription: Subscription;
  private readonly pending = new Map<string, Pending>();
  private next = 0;

  constructor(private readonly nc: NatsConnection) {
    this.subscription = nc.subscribe(`${this.inbox}.*`, {
      callback: (error, message) => {
        if (error) return this.failAll(error);
        const entry = this.pending.get(message.subject);
        if (!entry) return; // a late ack of a batch that already failed
        this.pending.delete(message.subject);
        const { batch, index } = entry;
        if (batch.settled) return;
        if (message.headers?.hasError) {
          const status =
            message.headers.code === 503
              ? 'no stream captures the subject (no responders)'
              : message.headers.description;
          return this.fail(batch, new Error(`JetStream refused the message: ${message.headers.code} ${status}`));
        }
        let ack: { stream?: string; seq?: number; duplicate?: boolean; error?: { code: number; description: string } };
        try {
          ack = message.json();
        } catch {
          return this.fail(batch, new Error('JetStream answered with something that is not a publish ack'));
        }
        if (ack.error || !ack.stream) {
          return this.fail(batch, new Error(`JetStream refused the message: ${ack.error?.description ?? 'no ack'}`));
        }
        batch.acks[index] = { stream: ack.stream, seq: ack.seq ?? 0, duplicate: ack.duplicate === true };
        if (--batch.remaining === 0) {
          batch.settled = true;
          clearTimeout(batch.timer);
          batch.resolve(batch.acks as PublishAck[]);
        }
      },
    });
  }

  /** Resolves with every message's ack, in order; rejects on the first refusal or after timeoutMs. */
  publish(messages: readonly OutgoingMessage[], timeoutMs: number): Promise<PublishAck[]> {
    if (messages.length === 0) return Promise.resolve([]);
    return new Promise<PublishAck[]>((resolve, reject) => {
      const batch: Batch = {
        acks: new Array(messages.length),
        remaining: messages.length,
        settled: false,
        resolve,
        reject,
      };
      try {
        for (const [index, message] of messages.entries()) {
          const reply = `${this.inbox}.${this.next++}`;
          this.pending.set(reply, { batch, index });
          this.nc.publish(message.subject, message.data, { reply, headers: message.headers });
        }
      } catch (error) {
        return this.fail(batch, error instanceof Error ? error : new Error(String(error)));
      }
      batch.timer = setTimeout(
        () =>
          this.fail(
            batch,
            new Error(`${batch.remaining} of ${messages.length} publish acks did not come within ${timeoutMs} ms`),
          ),
        timeoutMs,
      );
    });
  }

  close(): void {
    this.subscription.unsubscribe();
    this.failAll(new Error('publisher closed'));
  }

  private fail(batch: Batch, error: Error): void {
    if (batch.settled) return;
    batch.settled = true;
    clearTimeout(batch.timer);
    for (const [reply, entry] of this.pending) if (entry.batch === batch) this.pending.delete(reply);
    batch.reject(error);
  }

  private failAll(error: Error): void {
    for (const { batch } of [...this.pending.values()]) this.fail(batch, error);
  }
}
