import { describe, expect, it } from 'vitest';
import {
  DAY_MS,
  FEATURE_COUNT,
  FEATURE_NAMES,
  type FeatureState,
  type FeatureTransfer,
  HOUR_MS,
  RECENT_OUT_MAX,
  featuresInOrder,
} from './features';

const T0 = Date.parse('2025-03-10T12:00:00.000Z');
const t = (debit: string, credit: string, amount: number, atMs: number): FeatureTransfer => ({
  debitAccountId: debit,
  creditAccountId: credit,
  amount,
  atMs,
});
const feature = (rows: Float32Array, i: number, name: (typeof FEATURE_NAMES)[number]) =>
  rows[i * FEATURE_COUNT + FEATURE_NAMES.indexOf(name)]!;
const fresh = (): FeatureState => ({ profiles: new Map(), pairs: new Set() });

describe('transfer features', () => {
  it('count and sum the payer’s transfers in the last hour, day and week, before this one', () => {
    const history = [
      t('a', 'm', 1000, T0 - 8 * DAY_MS),
      t('a', 'm', 2000, T0 - 3 * DAY_MS),
      t('a', 'm', 3000, T0 - 5 * HOUR_MS),
      t('a', 'm', 4000, T0 - 30 * 60_000),
      t('a', 'x', 5000, T0),
    ];
    const { rows } = featuresInOrder(history, fresh());
    const last = history.length - 1;
    expect(feature(rows, last, 'out_count_1h')).toBe(1);
    expect(feature(rows, last, 'out_log_sum_1h')).toBeCloseTo(Math.log1p(4000), 5);
    expect(feature(rows, last, 'out_count_24h')).toBe(2);
    expect(feature(rows, last, 'out_count_7d')).toBe(3);
    expect(feature(rows, last, 'out_log_sum_7d')).toBeCloseTo(Math.log1p(9000), 4);
    expect(feature(rows, last, 'log_history_count')).toBeCloseTo(Math.log1p(4), 5);
    expect(feature(rows, last, 'log_seconds_since_last_out')).toBeCloseTo(Math.log1p(1800), 4);
  });

  it('see a first payment to a payee as new, and the second as known', () => {
    const { rows } = featuresInOrder(
      [t('a', 'b', 100, T0), t('a', 'b', 100, T0 + 1000), t('a', 'c', 100, T0 + 2000)],
      fresh(),
    );
    expect([0, 1, 2].map((i) => feature(rows, i, 'new_counterparty'))).toEqual([1, 0, 1]);
  });

  it('score an amount against the payer’s own history (z-score of log amounts)', () => {
    const steady = Array.from({ length: 20 }, (_, i) => t('a', 'm', 2000 + (i % 3) * 100, T0 + i * DAY_MS));
    const { rows } = featuresInOrder(
      [...steady, t('a', 'm', 2100, T0 + 21 * DAY_MS), t('a', 'm', 500_000, T0 + 22 * DAY_MS)],
      fresh(),
    );
    expect(Math.abs(feature(rows, 20, 'amount_zscore'))).toBeLessThan(2);
    expect(feature(rows, 21, 'amount_zscore')).toBeGreaterThan(10);
  });

  it('know the time of day (UTC), night-time and round amounts', () => {
    const night = Date.parse('2025-03-10T03:30:00.000Z');
    const { rows } = featuresInOrder([t('a', 'b', 50_000, night), t('a', 'b', 2345, T0)], fresh());
    expect(feature(rows, 0, 'hour_of_day')).toBeCloseTo(3.5, 5);
    expect(feature(rows, 0, 'is_night')).toBe(1);
    expect(feature(rows, 0, 'is_round_amount')).toBe(1);
    expect(feature(rows, 1, 'is_night')).toBe(0);
    expect(feature(rows, 1, 'is_round_amount')).toBe(0);
  });

  it('see the payee’s age and its incoming transfers in the last day (mules are new and busy)', () => {
    const { rows } = featuresInOrder(
      [t('v1', 'mule', 1000, T0), t('v2', 'mule', 1000, T0 + HOUR_MS), t('v3', 'mule', 1000, T0 + 2 * HOUR_MS)],
      fresh(),
    );
    expect(feature(rows, 0, 'credit_log_age_hours')).toBe(0);
    expect(feature(rows, 2, 'credit_log_age_hours')).toBeCloseTo(Math.log1p(2), 5);
    expect(feature(rows, 2, 'credit_in_count_24h')).toBe(2);
  });

  it('measure the amount against what the payer has received (a drain takes most of it)', () => {
    const { rows } = featuresInOrder([t('employer', 'a', 100_000, T0), t('a', 'mule', 90_000, T0 + HOUR_MS)], fresh());
    expect(feature(rows, 1, 'amount_to_balance')).toBeCloseTo(0.9, 5);
  });

  it('keep a bounded profile: at most RECENT_OUT_MAX recent transfers, none older than a week', () => {
    const state = fresh();
    const many = Array.from({ length: RECENT_OUT_MAX + 50 }, (_, i) => t('hot', `m${i % 7}`, 100, T0 + i * 1000));
    featuresInOrder(many, state);
    expect(state.profiles.get('hot')!.recentOut).toHaveLength(RECENT_OUT_MAX);
    featuresInOrder([t('hot', 'm1', 100, T0 + 8 * DAY_MS)], state);
    expect(state.profiles.get('hot')!.recentOut).toHaveLength(1);
  });

  it('give the same features whether a history is computed in one batch or in several (training = serving)', () => {
    const history = Array.from({ length: 300 }, (_, i) =>
      t(`c${i % 13}`, `m${(i * 7) % 17}`, 100 + ((i * 7919) % 50_000), T0 + i * 60_000),
    );
    const whole = featuresInOrder(history, fresh()).rows;
    const state = fresh();
    const parts: Float32Array[] = [];
    for (let i = 0; i < history.length; i += 37) {
      // Each batch round-trips the profiles through JSON, as the scorer's table does.
      const loaded: FeatureState = {
        profiles: new Map(JSON.parse(JSON.stringify([...state.profiles]))),
        pairs: new Set(state.pairs),
      };
      parts.push(featuresInOrder(history.slice(i, i + 37), loaded).rows);
      for (const [id, p] of loaded.profiles) state.profiles.set(id, p);
      for (const pair of loaded.pairs) state.pairs.add(pair);
    }
    expect(Float32Array.from(parts.flatMap((p) => [...p]))).toEqual(whole);
  });
});
