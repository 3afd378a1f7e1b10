/** Waits before the next try of something that failed: doubling from `initialMs`, capped at `maxMs`. */
export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
  /** 0 ≤ random() < 1; jitter spreads reconnecting processes apart. Injected by tests. */
  readonly random?: () => number;
}

/** Delay before try `attempt + 1` after `attempt` failures (attempt ≥ 1): in [cap/2, cap]. */
export function backoffDelayMs(attempt: number, options: BackoffOptions): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  const capped = Math.min(options.maxMs, options.initialMs * 2 ** exponent);
  const random = options.random ?? Math.random;
  return Math.round(capped / 2 + (capped / 2) * random());
}

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** setTimeout as a promise that an AbortSignal ends early (so stopping never waits out a backoff). */
export const sleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
