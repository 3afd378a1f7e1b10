import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app';
import { logHead } from './api-helpers';

describe('GET /metrics', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('serves Prometheus text with request, write-batch and projector figures, with no key', async () => {
    await t.request('POST', '/v1/accounts', { id: 'm1', currency: 'USD' });
    const response = await t.request('GET', '/metrics', undefined, { authorization: undefined });
    expect(response.status).toBe(200);
    expect(String(response.headers['content-type'])).toContain('text/plain');
    expect(response.text).toMatch(
      /ledger_http_request_duration_seconds_count\{method="POST",route="\/v1\/accounts",status="201"\} 1/,
    );
    expect(response.text).toMatch(/ledger_write_batch_commands_count 1/);
    expect(response.text).toMatch(/ledger_events_appended_total 1/);
    expect(response.text).toContain('ledger_projector_position');
    expect(response.text).toContain('ledger_process_resident_memory_bytes');
  });

  it('counts commands by outcome, times appends, and shows the event store and the projection lag', async () => {
    await t.request('POST', '/v1/accounts', { id: 'm2', currency: 'USD' });
    await t.request('POST', '/v1/accounts', { id: 'm2', currency: 'USD' });
    await t.request('POST', '/v1/accounts', { id: 'm3', currency: 'EUR' });
    await t.request('POST', '/v1/transfers', {
      id: 'mt1',
      debitAccountId: 'm1',
      creditAccountId: 'm2',
      amount: '5',
      currency: 'USD',
    });
    await t.request('POST', '/v1/transfers', {
      id: 'mt2',
      debitAccountId: 'm1',
      creditAccountId: 'm3',
      amount: '5',
      currency: 'USD',
    });
    await t.request('POST', '/v1/accounts/m3/freeze', { reason: 'test' });
    const head = await logHead(t);
    expect((await t.request('GET', `/v1/accounts/m1?minPosition=${head}`)).status).toBe(200);

    const text = (await t.request('GET', '/metrics', undefined, { authorization: undefined })).text;
    const value = (series: string): number => {
      const line = text.split('\n').find((l) => l.startsWith(`${series} `));
      expect(line, `${series} in\n${text}`).toBeDefined();
      return Number(line!.split(' ').at(-1));
    };
    expect(value('ledger_commands_total{command="OpenAccount",outcome="created"}')).toBe(3);
    expect(value('ledger_commands_total{command="OpenAccount",outcome="duplicate"}')).toBe(1);
    expect(value('ledger_commands_total{command="PostTransfer",outcome="created"}')).toBe(1);
    expect(value('ledger_commands_total{command="PostTransfer",outcome="currency-mismatch"}')).toBe(1);
    expect(value('ledger_commands_total{command="FreezeAccount",outcome="applied"}')).toBe(1);
    expect(value('ledger_append_duration_seconds_count')).toBeGreaterThanOrEqual(5);
    expect(value('ledger_eventstore_up{adapter="postgres"}')).toBe(1);
    expect(value('ledger_eventstore_head_position')).toBe(Number(head));
    expect(value('ledger_projector_lag_positions')).toBe(0);
    expect(value('ledger_projector_lag_seconds')).toBe(0);
    expect(value('ledger_projector_position')).toBe(Number(head));
  });

  it('shows the lag in positions and seconds while the projector is stopped, and the store down when it does not answer', async () => {
    await t.ledger.projector!.stop();
    try {
      await t.request('POST', '/v1/transfers', {
        id: 'mt3',
        debitAccountId: 'm1',
        creditAccountId: 'm2',
        amount: '1',
        currency: 'USD',
      });
      await t.request('POST', '/v1/transfers', {
        id: 'mt4',
        debitAccountId: 'm1',
        creditAccountId: 'm2',
        amount: '1',
        currency: 'USD',
      });
      const text = (await t.request('GET', '/metrics', undefined, { authorization: undefined })).text;
      expect(text).toMatch(/^ledger_projector_lag_positions 2$/m);
      expect(text).toMatch(/^ledger_projector_lag_seconds (\d|\.)+$/m);

      const store = t.ledger.store as { headPosition: () => Promise<bigint> };
      const original = store.headPosition;
      store.headPosition = () => Promise.reject(new Error('connection refused'));
      try {
        const down = (await t.request('GET', '/metrics', undefined, { authorization: undefined })).text;
        expect(down).toMatch(/^ledger_eventstore_up\{adapter="postgres"\} 0$/m);
      } finally {
        store.headPosition = original;
      }
    } finally {
      t.ledger.projector!.start();
    }
  });
});
