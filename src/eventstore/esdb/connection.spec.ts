import { UnavailableError } from '@kurrent/kurrentdb-client';
import { describe, expect, it } from 'vitest';
import { ConnectionWatch, connectEsdb, redactUrl } from './connection';

describe('ConnectionWatch: the event store connection after start', () => {
  function watch(outcomes: boolean[]) {
    let calls = 0;
    return new ConnectionWatch(
      async () => {
        const ok = outcomes[calls++] ?? true;
        if (!ok) throw new UnavailableError(undefined, `no answer (${calls})`);
      },
      { intervalMs: 1_000, backoff: { initialMs: 100, maxMs: 800, random: () => 1 } },
    );
  }

  it('is up while probes answer, down with the error while they fail, up again once one answers', async () => {
    const w = watch([true, false, false, false, false, false, true, true]);
    expect(w.check().status).toBe('up');
    const waits: number[] = [];
    const states: string[] = [];
    for (let i = 0; i < 8; i++) {
      waits.push(await w.tick());
      states.push(w.check().status);
    }
    expect(states).toEqual(['up', 'down', 'down', 'down', 'down', 'down', 'up', 'up']);
    // Retries back off from 100 ms, doubling, capped at 800 ms; while up it probes every second.
    expect(waits).toEqual([1000, 100, 200, 400, 800, 800, 1000, 1000]);
  });

  it('says what failed, and how often, while down', async () => {
    const w = watch([false, false]);
    await w.tick();
    await w.tick();
    expect(w.check()).toMatchObject({ status: 'down', failures: 2, error: 'no answer (2)' });
  });

  it('runs its probes on its own until stopped', async () => {
    const slept: number[] = [];
    let probes = 0;
    let third!: () => void;
    const thirdWait = new Promise<void>((resolve) => (third = resolve));
    const w = new ConnectionWatch(
      async () => {
        probes++;
        throw new UnavailableError(undefined, 'down');
      },
      {
        intervalMs: 5_000,
        backoff: { initialMs: 10, maxMs: 20, random: () => 1 },
        sleep: async (ms, signal) => {
          slept.push(ms);
          if (slept.length === 3) {
            third();
            await new Promise((resolve) => signal?.addEventListener('abort', resolve));
          }
        },
      },
    );
    w.start();
    await thirdWait;
    await w.stop();
    expect(probes).toBe(2);
    expect(slept).toEqual([5_000, 10, 20]);
    expect(w.check().status).toBe('down');
  });
});

describe('connectEsdb', () => {
  it('refuses a malformed ESDB_URL with a message that names it', async () => {
    await expect(connectEsdb('http://not-esdb', { timeoutMs: 1_000 })).rejects.toThrow(
      /ESDB_URL is not a valid connection string/,
    );
  });

  it('keeps credentials out of what it prints', () => {
    expect(redactUrl('esdb://admin:changeit@db:2113?tls=false')).toBe('esdb://***@db:2113?tls=false');
    expect(redactUrl('esdb://db:2113')).toBe('esdb://db:2113');
  });
});
