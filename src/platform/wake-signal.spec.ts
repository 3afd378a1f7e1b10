import { describe, expect, it } from 'vitest';
import { WakeSignal } from './wake-signal';

describe('WakeSignal', () => {
  it('a wake ends a wait early', async () => {
    const signal = new WakeSignal();
    let ended = false;
    const waiting = signal.wait(60_000).then(() => (ended = true));
    await Promise.resolve();
    expect(ended).toBe(false);
    signal.wake();
    await waiting;
    expect(ended).toBe(true);
  });

  it('a wake that comes while nobody waits ends the next wait at once, and only that one', async () => {
    const signal = new WakeSignal();
    signal.wake();
    signal.wake();
    await signal.wait(60_000);
    let ended = false;
    void signal.wait(20).then(() => (ended = true));
    await Promise.resolve();
    expect(ended).toBe(false);
  });

  it('a wait that is not wakeable runs its course, and keeps the wake for the next wakeable one', async () => {
    const signal = new WakeSignal();
    let ended = false;
    const backoff = signal.wait(30, { wakeable: false }).then(() => (ended = true));
    signal.wake();
    await Promise.resolve();
    expect(ended).toBe(false);
    await backoff;
    await signal.wait(60_000);
  });
});

describe('WakeSignal.interrupt', () => {
  it('ends a wait that wakes cannot end (a stopping loop)', async () => {
    const signal = new WakeSignal();
    const backoff = signal.wait(60_000, { wakeable: false });
    signal.interrupt();
    await backoff;
  });
});
