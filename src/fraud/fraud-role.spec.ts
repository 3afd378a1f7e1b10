import { describe, expect, it } from 'vitest';
import { Readiness } from '../platform/readiness';
import { type FraudRole, registerFraudReadiness } from './fraud-role';

const role = (breaker: 'closed' | 'open' | 'half-open', running = true) =>
  ({
    scorer: { state: breaker },
    consumer: { isRunning: running, lastError: undefined, checkpoint: 42n, lastLagMs: 7 },
    providers: { active: 'cpu', providers: ['cpu'], skipped: [] },
    pool: { modelVersion: 'fraud-v1@abc' },
  }) as unknown as FraudRole;

async function check(fraud: FraudRole | null, fraudOnly: boolean) {
  const readiness = new Readiness();
  registerFraudReadiness(readiness, fraud, fraudOnly);
  return readiness.report();
}

describe('the fraud readiness check', () => {
  it('is off without the role', async () => {
    expect((await check(null, false)).checks.fraud).toEqual({ status: 'off' });
  });

  it('shows provider, model, breaker and position', async () => {
    const report = await check(role('closed'), false);
    expect(report.ready).toBe(true);
    expect(report.checks.fraud).toEqual({
      status: 'up',
      provider: 'cpu',
      modelVersion: 'fraud-v1@abc',
      breaker: 'closed',
      position: '42',
      lagMs: 7,
    });
  });

  it('next to the API, an open breaker leaves the process ready (the ledger keeps posting)', async () => {
    const report = await check(role('open'), false);
    expect(report.ready).toBe(true);
    expect(report.checks.fraud!.breaker).toBe('open');
  });

  it('in a process that only scores, an open or half-open breaker makes it unready', async () => {
    expect((await check(role('open'), true)).ready).toBe(false);
    expect((await check(role('half-open'), true)).ready).toBe(false);
    expect((await check(role('closed'), true)).ready).toBe(true);
  });

  it('a stopped scorer is down', async () => {
    expect((await check(role('closed', false), false)).checks.fraud!.status).toBe('down');
  });
});
