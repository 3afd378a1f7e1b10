import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app';

describe('GET /metrics', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('serves Prometheus text with request, write-batch and projector figures, with no key', async () => {
    await t.request('POST', '/v1/accounts', { id: 'm1', currency: 'USD' });
    const response = await t.request('GET', '/metrics');
    expect(response.status).toBe(200);
    expect(String(response.headers['content-type'])).toContain('text/plain');
    expect(response.text).toMatch(/ledger_http_request_duration_seconds_count\{method="POST",route="\/v1\/accounts",status="201"\} 1/);
    expect(response.text).toMatch(/ledger_write_batch_commands_count 1/);
    expect(response.text).toMatch(/ledger_events_appended_total 1/);
    expect(response.text).toContain('ledger_projector_position');
    expect(response.text).toContain('ledger_process_resident_memory_bytes');
  });
});
