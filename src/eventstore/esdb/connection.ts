import { BACKWARDS, END, KurrentDBClient } from '@kurrent/kurrentdb-client';
import { StreamsServiceService } from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v2/streams/streams_grpc_pb';
import type { ReadinessCheck } from '../../platform/readiness';
import { type BackoffOptions, type Sleep, backoffDelayMs, sleep as realSleep } from './backoff';
import { ledgerEventsFilter } from './mapping';

/** appendRecords (interleaved records, checks on any stream) came with KurrentDB 26.1 (ADR 0007). */
export const ESDB_MIN_SERVER_VERSION = '26.1';

/** The connection string without credentials, for logs and errors. */
export const redactUrl = (url: string): string => url.replace(/\/\/[^@/]*@/, '//***@');

/** The cheapest read that proves the server answers and $all is readable. */
export async function probe(client: Pick<KurrentDBClient, 'readAll'>): Promise<void> {
  for await (const _ of client.readAll({
    direction: BACKWARDS,
    fromPosition: END,
    maxCount: 1,
    filter: ledgerEventsFilter(),
  })) {
    break;
  }
}

async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Connects at start, or refuses to: an unreachable server, a malformed ESDB_URL or a server older
 * than 26.1 stops the service with a message that says what to do.
 */
export async function connectEsdb(url: string, { timeoutMs }: { timeoutMs: number }): Promise<KurrentDBClient> {
  const where = `EventStoreDB at ${redactUrl(url)}`;
  let client: KurrentDBClient;
  try {
    client = KurrentDBClient.connectionString(url);
  } catch (error) {
    throw new Error(
      `ESDB_URL is not a valid connection string (${errorText(error)}); e.g. esdb://localhost:2113?tls=false`,
    );
  }
  try {
    await withTimeout(probe(client), timeoutMs, where);
    // The client learns what the server offers when it first connects, and keeps it to itself
    // (`capabilities` and `supports` are protected): ask it what appendRecords itself will ask.
    const internals = client as unknown as {
      capabilities: Promise<{ serverVersion?: string }>;
      supports(method: typeof StreamsServiceService.appendRecords): Promise<boolean>;
    };
    const version = (await withTimeout(internals.capabilities, timeoutMs, where)).serverVersion ?? '';
    if (!(await internals.supports(StreamsServiceService.appendRecords))) {
      throw new Error(
        `${where} is version ${version || 'unknown'}; the ledger needs KurrentDB ${ESDB_MIN_SERVER_VERSION} or later (appendRecords, ADR 0007)`,
      );
    }
    return client;
  } catch (error) {
    await client.dispose().catch(() => {});
    const message = errorText(error);
    throw new Error(
      message.includes('needs KurrentDB')
        ? message
        : `${where} is unreachable (${message}). Start it (docker compose up kurrentdb), fix ESDB_URL, or use EVENTSTORE=postgres`,
    );
  }
}

export interface ConnectionWatchOptions {
  /** Between probes while the connection is up. */
  readonly intervalMs: number;
  /** Between probes after failures: grows from initialMs to maxMs. */
  readonly backoff: BackoffOptions;
  readonly sleep?: Sleep;
}

/**
 * Watches the connection after start: a probe every `intervalMs`; after a failure, probes again
 * with capped backoff until it answers. /health/ready says `down` meanwhile. The client reconnects
 * by itself (it re-discovers the leader after NotLeader and Unavailable errors); the watch is what
 * makes the outage visible, and proves the way back.
 */
export class ConnectionWatch {
  private status: 'up' | 'down' = 'up';
  private failures = 0;
  private lastError: string | undefined;
  private since = new Date().toISOString();
  private loop: Promise<void> | undefined;
  private readonly stopping = new AbortController();

  constructor(
    private readonly probeOnce: () => Promise<void>,
    private readonly options: ConnectionWatchOptions,
  ) {}

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
  }

  check(): ReadinessCheck {
    return {
      status: this.status,
      since: this.since,
      ...(this.status === 'down' ? { failures: this.failures, error: this.lastError } : {}),
    };
  }

  /** One probe and the state it leads to; returns the wait before the next one. */
  async tick(): Promise<number> {
    try {
      await this.probeOnce();
      if (this.status === 'down') this.since = new Date().toISOString();
      this.status = 'up';
      this.failures = 0;
      this.lastError = undefined;
      return this.options.intervalMs;
    } catch (error) {
      if (this.status === 'up') this.since = new Date().toISOString();
      this.status = 'down';
      this.failures++;
      this.lastError = errorText(error);
      return backoffDelayMs(this.failures, this.options.backoff);
    }
  }

  private async run(): Promise<void> {
    const wait = this.options.sleep ?? realSleep;
    let delayMs = this.options.intervalMs;
    while (!this.stopping.signal.aborted) {
      await wait(delayMs, this.stopping.signal);
      if (this.stopping.signal.aborted) return;
      delayMs = await this.tick();
    }
  }
}

const errorText = (error: unknown): string =>
  error instanceof Error ? (error.message ? error.message : error.name) : String(error);
