// The relay's lag under the benchmark's load: a JetStream consumer in the bench process records,
// for every message published after `start()`, now − recordedAt. recordedAt is the transaction time
// the writer gives a batch as it decides it, just before the append commits, so the figure is the
// commit → delivery lag plus at most one group commit.
import { createRequire } from 'node:module';
import { latencyFigures } from './phases.mjs';
import { Samples } from './util.mjs';

const require = createRequire(import.meta.url);
const { connect } = require('@nats-io/transport-node');
const { jetstream, jetstreamManager, DeliverPolicy } = require('@nats-io/jetstream');

/** Whether NATS answers at `url` (the relay phase is skipped, and says so, when it does not). */
export async function natsAnswers(url) {
  try {
    const nc = await connect({ servers: url, name: 'ledger-bench-probe', timeout: 2000, reconnect: false });
    await nc.close();
    return true;
  } catch {
    return false;
  }
}

export class RelayLag {
  /** @param {{url: string, stream: string}} options */
  constructor(options) {
    this.options = options;
    this.nc = undefined;
    this.lags = new Samples();
    this.delivered = 0;
    this.measureFrom = Number.POSITIVE_INFINITY;
    this.measureTo = Number.POSITIVE_INFINITY;
    this.lastDeliveryMs = 0;
    this.sawAfterWindow = false;
    this.consuming = undefined;
    this.messages = undefined;
  }

  /** Waits until the relay has created its stream, then consumes from the next message on. */
  async start({ timeoutMs = 30_000 } = {}) {
    this.nc = await connect({ servers: this.options.url, name: 'ledger-bench-relay-lag' });
    const jsm = await jetstreamManager(this.nc);
    const deadline = Date.now() + timeoutMs;
    let info;
    for (;;) {
      try {
        info = await jsm.streams.info(this.options.stream);
        break;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`the relay never created stream ${this.options.stream}: ${error}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    const consumer = await jetstream(this.nc).consumers.get(this.options.stream, {
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: info.state.last_seq + 1,
    });
    this.messages = await consumer.consume({ max_messages: 10_000 });
    this.consuming = (async () => {
      for await (const message of this.messages) {
        const now = Date.now();
        this.delivered++;
        this.lastDeliveryMs = now;
        const recordedAt = Date.parse(message.json().recordedAt);
        if (recordedAt > this.measureTo) this.sawAfterWindow = true;
        else if (recordedAt >= this.measureFrom) this.lags.add(now - recordedAt);
      }
    })();
  }

  /** Events recorded from now on are measured. */
  measure() {
    this.lags = new Samples();
    this.measureFrom = Date.now();
    this.measureTo = Number.POSITIVE_INFINITY;
    this.sawAfterWindow = false;
  }

  /**
   * Ends the window (events recorded after now do not count) and waits for the events recorded in
   * it to arrive: until one recorded after the window is delivered, or nothing arrives for 2 s, or
   * `timeoutMs`. Returns the lag figures of the window.
   */
  async finish({ timeoutMs = 30_000 } = {}) {
    this.measureTo = Date.now();
    const deadline = this.measureTo + timeoutMs;
    while (!this.sawAfterWindow && Date.now() < deadline && Date.now() - this.lastDeliveryMs < 2000) {
      await new Promise((r) => setTimeout(r, 50));
    }
    return { samples: this.lags.length, ...latencyFigures(this.lags) };
  }

  async close() {
    await this.messages?.close();
    await this.consuming?.catch(() => {});
    if (this.nc) {
      try {
        await (await jetstreamManager(this.nc)).streams.delete(this.options.stream);
      } catch {
        // already gone
      }
      await this.nc.close();
    }
  }
}
