import { UnavailableError } from '@kurrent/kurrentdb-client';
import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../port';
import { backoffDelayMs } from './backoff';
import { LogFollower, type LogSubscriptions, esdbSubscriptions } from './log-follower';
import { encodePosition } from './positions';

const recorded = (n: number): RecordedEvent => ({
  position: BigInt(n) * 100n, // increasing, not dense, like $all
  eventId: `e-${n}`,
  streamId: 'account-a',
  revision: BigInt(n - 1),
  type: 'AccountFrozen',
  data: {},
  metadata: { correlationId: 'c', causationId: 'c' },
  recordedAt: '2025-01-01T00:00:00.000Z',
  prevHash: '0'.repeat(64),
  hash: '0'.repeat(64),
});

/**
 * A log of 20 events whose subscriptions drop as scripted: after `dropAfter[i]` events the i-th
 * subscription fails as a lost connection does (or ends, as a server closing it does); each new
 * subscription also hands back the event at its start position first, as a resumed one may.
 */
function flakyLog(dropAfter: Array<number | 'end'>) {
  const log = Array.from({ length: 20 }, (_, i) => recorded(i + 1));
  const starts: bigint[] = [];
  const source: LogSubscriptions = {
    async *subscribe(after) {
      starts.push(after);
      const plan = dropAfter[starts.length - 1];
      const atStart = log.find((e) => e.position === after);
      if (atStart) yield atStart;
      let sent = 0;
      for (const event of log.filter((e) => e.position > after)) {
        if (typeof plan === 'number' && sent === plan) throw new UnavailableError(undefined, 'connection dropped');
        if (plan === 'end' && sent === 3) return;
        yield event;
        sent++;
      }
      await new Promise(() => {}); // live: waits for more, forever
    },
  };
  return { log, starts, source };
}

describe('LogFollower: a reader that survives dropped subscriptions', () => {
  it('resubscribes from its stored checkpoint, with capped backoff, and applies every event once, in order', async () => {
    const { log, starts, source } = flakyLog([5, 0, 2, 'end', 1]);
    let checkpoint = 0n;
    const applied: string[] = [];
    const delays: number[] = [];
    const backoff = { initialMs: 100, maxMs: 400, random: () => 1 };
    let done!: () => void;
    const allApplied = new Promise<void>((resolve) => (done = resolve));
    const follower = new LogFollower(source, {
      checkpoint: async () => checkpoint,
      handle: async (event) => {
        // The effect and the checkpoint move together (in PostgreSQL, one transaction).
        applied.push(event.eventId);
        checkpoint = event.position;
        if (applied.length === log.length) done();
      },
      backoff,
      sleep: async (ms) => void delays.push(ms),
    });
    follower.start();
    await allApplied;
    await follower.stop();

    expect(applied).toEqual(log.map((e) => e.eventId));
    // Each restart began at the checkpoint as stored after the last event that went through.
    expect(starts).toEqual([0n, 500n, 500n, 700n, 1000n, 1100n]);
    // Two failures in a row (the second subscription dropped before any event) doubled the wait;
    // an event going through reset it.
    expect(delays).toEqual([100, 200, 100, 100, 100]);
    expect(follower.isHealthy).toBe(true);
  });

  it('keeps retrying an unreachable server, the wait capped, and reports itself unhealthy', async () => {
    const errors: number[] = [];
    const delays: number[] = [];
    let eightTries!: () => void;
    const tried = new Promise<void>((resolve) => (eightTries = resolve));
    const follower = new LogFollower(
      {
        // biome-ignore lint/correctness/useYield: fails before the first event
        async *subscribe() {
          throw new UnavailableError(undefined, 'no server');
        },
      },
      {
        checkpoint: async () => 0n,
        handle: async () => {},
        backoff: { initialMs: 50, maxMs: 1_000, random: () => 1 },
        sleep: async (ms, signal) => {
          delays.push(ms);
          if (delays.length === 8) {
            eightTries();
            await new Promise((resolve) => signal?.addEventListener('abort', resolve)); // until stopped
          }
        },
        onError: (_, failures) => errors.push(failures),
      },
    );
    follower.start();
    await tried;
    expect(follower.isHealthy).toBe(false);
    expect(delays).toEqual([50, 100, 200, 400, 800, 1000, 1000, 1000]);
    expect(errors).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(follower.lastError).toBeInstanceOf(UnavailableError);
    await follower.stop();
    expect(delays).toHaveLength(8);
  });
});

describe('backoffDelayMs', () => {
  it('doubles from the initial wait up to the cap, with jitter in its upper half', () => {
    const at = (attempt: number, random: number) =>
      backoffDelayMs(attempt, { initialMs: 10, maxMs: 100, random: () => random });
    expect([1, 2, 3, 4, 5, 50, 5000].map((a) => at(a, 1))).toEqual([10, 20, 40, 80, 100, 100, 100]);
    expect([1, 2, 5].map((a) => at(a, 0))).toEqual([5, 10, 50]);
  });
});

describe('esdbSubscriptions: $all subscriptions of the client', () => {
  it('subscribe after the decoded checkpoint, filtered, and hand over only ledger events', async () => {
    const position = { commit: 7n, prepare: 3n };
    const ledgerEvent = {
      streamId: 'account-a',
      id: 'e-1',
      revision: 0n,
      type: 'AccountOpened',
      isJson: true,
      created: new Date(),
      data: { accountId: 'a' },
      metadata: {
        correlationId: 'c',
        causationId: 'c',
        'ledger.recordedAt': 'r',
        'ledger.prevHash': 'p',
        'ledger.hash': 'h',
      },
      position,
    };
    const calls: unknown[] = [];
    let unsubscribed = false;
    const client = {
      subscribeToAll(options: unknown) {
        calls.push(options);
        const events = [{ event: { ...ledgerEvent, type: '$metadata' } }, { event: ledgerEvent }];
        return Object.assign(
          (async function* () {
            yield* events;
          })(),
          { unsubscribe: async () => void (unsubscribed = true) },
        );
      },
    };
    const received: RecordedEvent[] = [];
    for await (const event of esdbSubscriptions(client as never).subscribe(encodePosition({ commit: 5n, prepare: 5n })))
      received.push(event);
    expect(calls).toEqual([
      { fromPosition: { commit: 5n, prepare: 5n }, filter: expect.objectContaining({ filterOn: 'eventType' }) },
    ]);
    expect(received.map((e) => [e.eventId, e.position])).toEqual([['e-1', encodePosition(position)]]);
    expect(unsubscribed).toBe(true);

    for await (const _ of esdbSubscriptions(client as never).subscribe(0n)) break;
    expect(calls[1]).toMatchObject({ fromPosition: 'start' });
  });
});
