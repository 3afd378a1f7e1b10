import { describe, expect, it } from 'vitest';
import { knownRowsAfter } from './time-index';

const row = (recordedAt: string, debits: bigint, credits: bigint) => ({
  recordedAt,
  debitsThrough: debits,
  creditsThrough: credits,
  debitsPendingThrough: 0n,
  creditsPendingThrough: 0n,
});
const delta = (recordedAt: string, debits: bigint, credits: bigint) => ({ recordedAt, debits, credits });

describe('knownRowsAfter: totals of the postings recorded at or before each recordedAt', () => {
  it('starts from zero for an account with no rows', () => {
    expect(
      knownRowsAfter(
        undefined,
        [],
        [delta('2026-01-01T00:00:00.002Z', 5n, 0n), delta('2026-01-01T00:00:00.001Z', 0n, 7n)],
      ),
    ).toEqual([row('2026-01-01T00:00:00.001Z', 0n, 7n), row('2026-01-01T00:00:00.002Z', 5n, 7n)]);
  });

  it('adds to the row before and merges postings of the same recordedAt', () => {
    expect(
      knownRowsAfter(
        row('2026-01-01T00:00:00.000Z', 10n, 20n),
        [],
        [delta('2026-01-01T00:00:01.000Z', 1n, 0n), delta('2026-01-01T00:00:01.000Z', 0n, 2n)],
      ),
    ).toEqual([row('2026-01-01T00:00:01.000Z', 11n, 22n)]);
  });

  it('a posting recorded before rows already stored (another clock) moves those rows too', () => {
    const before = row('2026-01-01T00:00:00.000Z', 10n, 0n);
    const after = [row('2026-01-01T00:00:02.000Z', 15n, 0n), row('2026-01-01T00:00:03.000Z', 15n, 4n)];
    expect(
      knownRowsAfter(before, after, [
        delta('2026-01-01T00:00:01.000Z', 100n, 0n),
        delta('2026-01-01T00:00:03.000Z', 0n, 1n),
      ]),
    ).toEqual([
      row('2026-01-01T00:00:01.000Z', 110n, 0n),
      row('2026-01-01T00:00:02.000Z', 115n, 0n),
      row('2026-01-01T00:00:03.000Z', 115n, 5n),
    ]);
  });
});
