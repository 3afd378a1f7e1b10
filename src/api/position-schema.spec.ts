import { describe, expect, it } from 'vitest';
import { encodePosition } from '../eventstore/esdb/positions';
import { Position } from './schemas';

describe('Position (minPosition and every position in a response)', () => {
  it('takes the largest EventStoreDB position, and PostgreSQL ones', () => {
    const largest = encodePosition({ commit: (1n << 64n) - 1n, prepare: (1n << 64n) - 1n }).toString();
    expect(largest).toHaveLength(39);
    for (const ok of ['0', '42', '9223372036854775807', largest]) expect(Position.safeParse(ok).success).toBe(true);
  });

  it('refuses what no store hands out', () => {
    for (const bad of ['', '-1', '01', '1.0', 'x', '1'.repeat(40)]) expect(Position.safeParse(bad).success).toBe(false);
  });
});
