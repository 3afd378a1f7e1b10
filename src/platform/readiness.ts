/** One dependency's or role's state, as /health/ready shows it. */
export interface ReadinessCheck {
  readonly status: 'up' | 'down' | 'off';
  readonly [detail: string]: unknown;
}

/**
 * What /health/ready reports. Each part of the process (database, projector, relay, fraud scorer,
 * event store connection) registers a named check; the service is ready when none is down.
 */
export class Readiness {
  private readonly checks = new Map<string, () => Promise<ReadinessCheck> | ReadinessCheck>();

  register(name: string, check: () => Promise<ReadinessCheck> | ReadinessCheck): void {
    if (this.checks.has(name)) throw new Error(`readiness check ${name} registered twice`);
    this.checks.set(name, check);
  }

  async report(): Promise<{ ready: boolean; checks: Record<string, ReadinessCheck> }> {
    const entries = await Promise.all(
      [...this.checks].map(async ([name, check]): Promise<[string, ReadinessCheck]> => {
        try {
          return [name, await check()];
        } catch (error) {
          return [name, { status: 'down', error: error instanceof Error ? error.message : String(error) }];
        }
      }),
    );
    const checks = Object.fromEntries(entries);
    return { ready: entries.every(([, check]) => check.status !== 'down'), checks };
  }
}
