import { describe, expect, it } from 'vitest';
import { FixedWindowStorage } from './rate-limit';

describe('per-key fixed windows', () => {
  it('allows `limit` hits in a window, blocks the next with the seconds left, and starts again after it', async () => {
    let now = 10_000;
    const storage = new FixedWindowStorage(() => now);
    for (let hit = 1; hit <= 3; hit++) {
      expect(await storage.increment('k', 1000, 3)).toMatchObject({ totalHits: hit, isBlocked: false });
    }
    now += 400;
    expect(await storage.increment('k', 1000, 3)).toEqual({
      totalHits: 4,
      timeToExpire: 1,
      isBlocked: true,
      timeToBlockExpire: 1,
    });
    now += 600;
    expect(await storage.increment('k', 1000, 3)).toMatchObject({ totalHits: 1, isBlocked: false });
  });

  it('keeps each key apart', async () => {
    const storage = new FixedWindowStorage(() => 0);
    await storage.increment('a', 1000, 1);
    expect((await storage.increment('a', 1000, 1)).isBlocked).toBe(true);
    expect((await storage.increment('b', 1000, 1)).isBlocked).toBe(false);
  });
});
