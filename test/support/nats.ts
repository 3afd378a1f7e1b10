import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { type JsMsg, type StreamInfo, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { inject } from 'vitest';
import { freePort } from './service-process';

/** The shared NATS of the integration tests. */
export const TEST_NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

/**
 * Whether the NATS tests run here (probed once, in global-setup.ts): under CI=true a missing NATS
 * fails the run; otherwise the tests that need it are skipped, and this says so for each file.
 */
export function natsForTests(file: string): boolean {
  const up = inject('natsAvailable');
  if (!up)
    console.warn(`[tests] ${file}: no NATS at ${TEST_NATS_URL}, so its NATS tests are SKIPPED (start nats-server -js)`);
  return up;
}

/**
 * A stream name and subject prefix of this test's own, so that test files (and other people) can
 * share one NATS server: the env of a ledger that publishes there.
 */
export function uniqueStream(): { LEDGER_NATS_STREAM: string; LEDGER_NATS_SUBJECT_PREFIX: string } {
  const tag = randomBytes(5).toString('hex');
  return { LEDGER_NATS_STREAM: `T_${tag}`, LEDGER_NATS_SUBJECT_PREFIX: `t_${tag}` };
}

export interface StoredMessage {
  readonly seq: number;
  readonly subject: string;
  readonly headers: Record<string, string>;
  readonly body: any;
}

export const natsConnect = (url = TEST_NATS_URL): Promise<NatsConnection> =>
  connect({ servers: url, name: 'ledger-tests', maxReconnectAttempts: 0 });

export async function streamInfo(nc: NatsConnection, stream: string): Promise<StreamInfo> {
  return (await jetstreamManager(nc)).streams.info(stream);
}

/** Every message of a stream, in stream order (an ordered consumer, read to the last sequence). */
export async function readStream(nc: NatsConnection, stream: string): Promise<StoredMessage[]> {
  const info = await streamInfo(nc, stream);
  const count = info.state.messages;
  const messages: StoredMessage[] = [];
  if (count === 0) return messages;
  const consumer = await jetstream(nc).consumers.get(stream);
  while (messages.length < count) {
    const batch = await consumer.fetch({ max_messages: Math.min(1000, count - messages.length), expires: 5000 });
    for await (const message of batch) messages.push(stored(message));
  }
  return messages;
}

function stored(message: JsMsg): StoredMessage {
  const headers: Record<string, string> = {};
  for (const [name, values] of message.headers ?? []) headers[name] = values[0]!;
  return { seq: message.seq, subject: message.subject, headers, body: message.json() };
}

export async function deleteStream(nc: NatsConnection, stream: string): Promise<void> {
  await (await jetstreamManager(nc)).streams.delete(stream).catch(() => {});
}

/** Polls `check` until it returns true (or a value), failing after `timeoutMs` with `what`. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | false> | T | false,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const result = await check();
      if (result !== false) return result;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * A nats-server of the test's own (the outage tests kill it; the shared one must stay up), on a
 * free port with its own store directory, restartable on the same port and directory.
 */
export class OwnNatsServer {
  private child: ChildProcess | undefined;
  readonly storeDir = mkdtempSync(path.join(os.tmpdir(), 'ledger-nats-'));
  private constructor(readonly port: number) {}

  static async create(): Promise<OwnNatsServer> {
    return new OwnNatsServer(await freePort());
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn(
      '/usr/sbin/nats-server',
      ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir],
      {
        stdio: 'ignore',
      },
    );
    this.child = child;
    const deadline = Date.now() + 15_000;
    while (!(await portOpen(this.port))) {
      if (child.exitCode !== null) throw new Error(`nats-server exited with ${child.exitCode}`);
      if (Date.now() > deadline) throw new Error('nats-server did not listen within 15 s');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** SIGKILL: NATS vanishes without a goodbye. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  async dispose(): Promise<void> {
    await this.kill();
    rmSync(this.storeDir, { recursive: true, force: true });
  }
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
