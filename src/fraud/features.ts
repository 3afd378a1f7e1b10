/**
 * The fraud model's features: what the scorer can know about a transfer when it scores it. One
 * code path serves training (tools/fraud-training) and serving (src/fraud/consumer.ts), so the two
 * cannot skew. Pure: the state of every account is handed in and handed back.
 *
 * Everything is seen from the debited account (the payer, whose balance a takeover drains) plus a
 * little of the credited account (mules are new and receive from many).
 */

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;
export const WEEK_MS = 7 * DAY_MS;
/** Most recent outgoing transfers an account's profile keeps (windows count at most this many). */
export const RECENT_OUT_MAX = 128;
/** Most recent incoming transfers kept (for the 24 h incoming count). */
export const RECENT_IN_MAX = 64;

/** The model's input, in this order (the ONNX model's `features` input is [N, FEATURE_NAMES.length]). */
export const FEATURE_NAMES = [
  'log_amount',
  'out_count_1h',
  'out_log_sum_1h',
  'out_count_24h',
  'out_log_sum_24h',
  'out_count_7d',
  'out_log_sum_7d',
  'amount_zscore',
  'log_history_count',
  'new_counterparty',
  'log_seconds_since_last_out',
  'amount_to_balance',
  'credit_log_age_hours',
  'credit_in_count_24h',
  'hour_of_day',
  'is_night',
  'is_round_amount',
] as const;
export const FEATURE_COUNT = FEATURE_NAMES.length;

/** What the scorer keeps about one account (a row of `fraud_profiles`, as JSON). */
export interface AccountProfile {
  /** When the scorer first saw the account in a transfer (ms since the epoch). */
  firstSeenMs: number;
  /** Outgoing transfers seen, and Welford's running mean and M2 of their log amounts. */
  outCount: number;
  outMeanLog: number;
  outM2Log: number;
  lastOutMs: number | null;
  /** Credits minus debits the scorer has seen, in minor units (approximate: a float). */
  netFlow: number;
  /** Recent outgoing transfers, oldest first: [ms, amount in minor units]; at most RECENT_OUT_MAX, none older than 7 d. */
  recentOut: Array<[number, number]>;
  /** Recent incoming transfer times, oldest first; at most RECENT_IN_MAX, none older than 24 h. */
  recentIn: number[];
}

/** One transfer as the features see it. */
export interface FeatureTransfer {
  readonly debitAccountId: string;
  readonly creditAccountId: string;
  /** Minor units; a float is exact enough for features (never for money). */
  readonly amount: number;
  /** Transaction time, ms since the epoch. */
  readonly atMs: number;
}

export const newProfile = (atMs: number): AccountProfile => ({
  firstSeenMs: atMs,
  outCount: 0,
  outMeanLog: 0,
  outM2Log: 0,
  lastOutMs: null,
  netFlow: 0,
  recentOut: [],
  recentIn: [],
});

export const pairKey = (debitAccountId: string, creditAccountId: string): string =>
  `${debitAccountId}\u0000${creditAccountId}`;

/** The features of one transfer, given the state before it. Float32 values, as the model sees them. */
export function transferFeatures(
  transfer: FeatureTransfer,
  debit: AccountProfile | undefined,
  credit: AccountProfile | undefined,
  pairSeenBefore: boolean,
): Float32Array {
  const { amount, atMs } = transfer;
  const logAmount = Math.log1p(Math.max(0, amount));
  const windows = [HOUR_MS, DAY_MS, WEEK_MS].map((span) => {
    let count = 0;
    let sum = 0;
    for (const [at, value] of debit?.recentOut ?? []) {
      if (at > atMs - span && at <= atMs) {
        count++;
        sum += value;
      }
    }
    return { count, logSum: Math.log1p(sum) };
  });
  const n = debit?.outCount ?? 0;
  const std = n >= 2 ? Math.sqrt(debit!.outM2Log / (n - 1)) : 0;
  const zscore = n >= 2 ? clamp((logAmount - debit!.outMeanLog) / Math.max(std, 0.1), -20, 20) : 0;
  const sinceLast = debit?.lastOutMs != null ? Math.max(0, atMs - debit.lastOutMs) / 1000 : 30 * 86_400;
  const balance = debit?.netFlow ?? 0;
  const toBalance = balance > 0 ? clamp(amount / balance, 0, 10) : 10;
  const creditAgeHours = credit ? Math.max(0, atMs - credit.firstSeenMs) / HOUR_MS : 0;
  let creditIn24h = 0;
  for (const at of credit?.recentIn ?? []) if (at > atMs - DAY_MS && at <= atMs) creditIn24h++;
  const date = new Date(atMs);
  const hour = date.getUTCHours() + date.getUTCMinutes() / 60;

  const values = [
    logAmount,
    windows[0]!.count,
    windows[0]!.logSum,
    windows[1]!.count,
    windows[1]!.logSum,
    windows[2]!.count,
    windows[2]!.logSum,
    zscore,
    Math.log1p(n),
    pairSeenBefore ? 0 : 1,
    Math.log1p(sinceLast),
    toBalance,
    Math.log1p(creditAgeHours),
    creditIn24h,
    hour,
    hour < 6 ? 1 : 0,
    amount >= 1000 && amount % 1000 === 0 ? 1 : 0,
  ];
  return Float32Array.from(values);
}

/** The state after a transfer: both profiles move on (mutated in place and returned). */
export function applyTransfer(
  transfer: FeatureTransfer,
  debit: AccountProfile | undefined,
  credit: AccountProfile | undefined,
): { debit: AccountProfile; credit: AccountProfile } {
  const { amount, atMs } = transfer;
  const d = debit ?? newProfile(atMs);
  const c = credit ?? newProfile(atMs);
  const logAmount = Math.log1p(Math.max(0, amount));
  d.outCount += 1;
  const delta = logAmount - d.outMeanLog;
  d.outMeanLog += delta / d.outCount;
  d.outM2Log += delta * (logAmount - d.outMeanLog);
  d.lastOutMs = Math.max(d.lastOutMs ?? atMs, atMs);
  d.netFlow -= amount;
  d.recentOut.push([atMs, amount]);
  trim(d.recentOut, (entry) => entry[0] <= atMs - WEEK_MS, RECENT_OUT_MAX);
  c.netFlow += amount;
  c.recentIn.push(atMs);
  trim(c.recentIn, (at) => at <= atMs - DAY_MS, RECENT_IN_MAX);
  return { debit: d, credit: c };
}

/**
 * The state the features of a batch need, wherever it lives: in memory for training, loaded from
 * PostgreSQL for the batch's accounts when serving.
 */
export interface FeatureState {
  readonly profiles: Map<string, AccountProfile>;
  /** Debit→credit pairs seen before (pairKey). */
  readonly pairs: Set<string>;
}

/**
 * Computes the features of transfers in log order and folds each into the state, so a transfer
 * sees every one before it. Returns one row per transfer (row-major) and what changed.
 */
export function featuresInOrder(
  transfers: readonly FeatureTransfer[],
  state: FeatureState,
): { rows: Float32Array; changedAccounts: Set<string>; newPairs: Array<[string, string]> } {
  const rows = new Float32Array(transfers.length * FEATURE_COUNT);
  const changedAccounts = new Set<string>();
  const newPairs: Array<[string, string]> = [];
  transfers.forEach((transfer, i) => {
    const key = pairKey(transfer.debitAccountId, transfer.creditAccountId);
    const seen = state.pairs.has(key);
    rows.set(
      transferFeatures(
        transfer,
        state.profiles.get(transfer.debitAccountId),
        state.profiles.get(transfer.creditAccountId),
        seen,
      ),
      i * FEATURE_COUNT,
    );
    const next = applyTransfer(
      transfer,
      state.profiles.get(transfer.debitAccountId),
      state.profiles.get(transfer.creditAccountId),
    );
    state.profiles.set(transfer.debitAccountId, next.debit);
    state.profiles.set(transfer.creditAccountId, next.credit);
    changedAccounts.add(transfer.debitAccountId).add(transfer.creditAccountId);
    if (!seen) {
      state.pairs.add(key);
      newPairs.push([transfer.debitAccountId, transfer.creditAccountId]);
    }
  });
  return { rows, changedAccounts, newPairs };
}

function trim<T>(list: T[], tooOld: (item: T) => boolean, max: number): void {
  let drop = 0;
  while (drop < list.length && tooOld(list[drop]!)) drop++;
  drop = Math.max(drop, list.length - max);
  if (drop > 0) list.splice(0, drop);
}

const clamp = (value: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, value));
