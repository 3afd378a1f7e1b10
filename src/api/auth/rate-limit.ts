import type { ExecutionContext, Provider } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerGuard, ThrottlerModule, type ThrottlerStorage } from '@nestjs/throttler';
import type { ThrottlerStorageRecord } from '@nestjs/throttler/dist/throttler-storage-record.interface';
import type { FastifyRequest } from 'fastify';

const WINDOW_MS = 1000;

/**
 * Counts each key's requests in fixed one-second windows: O(1) per request and one small record
 * per configured key. (The throttler's default storage keeps a timestamp per hit and filters them
 * all on every request: at 5,000 requests a second that is 5,000 entries walked per request.)
 */
export class FixedWindowStorage implements ThrottlerStorage {
  private readonly windows = new Map<string, { endsAt: number; hits: number }>();

  constructor(private readonly now: () => number = () => Date.now()) {}

  async increment(key: string, ttl: number, limit: number): Promise<ThrottlerStorageRecord> {
    const now = this.now();
    let window = this.windows.get(key);
    if (!window || now >= window.endsAt) {
      window = { endsAt: now + ttl, hits: 0 };
      this.windows.set(key, window);
    }
    window.hits += 1;
    const secondsLeft = Math.max(1, Math.ceil((window.endsAt - now) / 1000));
    const isBlocked = window.hits > limit;
    return {
      totalHits: window.hits,
      timeToExpire: secondsLeft,
      isBlocked,
      timeToBlockExpire: isBlocked ? secondsLeft : 0,
    };
  }
}

const apiKeyOf = (context: ExecutionContext): string | undefined =>
  context.switchToHttp().getRequest<FastifyRequest>().apiKeyId;

/**
 * `LEDGER_RATE_LIMIT` requests per second per API key, across all routes, with @nestjs/throttler
 * (ADR 0011). Routes that need no key are not limited. Beyond the limit the guard sets
 * `Retry-After` and throws its 429, which the problem filter writes as `rate-limited`.
 */
export function rateLimitModule(requestsPerSecond: number) {
  return ThrottlerModule.forRoot({
    throttlers: [{ ttl: WINDOW_MS, limit: requestsPerSecond }],
    storage: new FixedWindowStorage(),
    skipIf: (context) => apiKeyOf(context) === undefined,
    getTracker: (request) => (request as FastifyRequest).apiKeyId ?? '',
    // One budget per key whatever the route (the default key is per route and handler).
    generateKey: (_context, tracker) => tracker,
    errorMessage: (_context, detail) =>
      `this key made more than ${detail.limit} requests in a second (LEDGER_RATE_LIMIT); retry after ${detail.timeToBlockExpire} s`,
  });
}

export const RATE_LIMIT_GUARD: Provider = { provide: APP_GUARD, useClass: ThrottlerGuard };
