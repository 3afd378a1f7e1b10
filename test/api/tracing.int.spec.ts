import { randomBytes } from 'node:crypto';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { onSpanEnd } from '../../src/platform/tracing';
import { startTestApp, type TestApp } from '../support/app';
import { logHead } from './api-helpers';

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

describe('trace context from the request into the events', () => {
  let t: TestApp;
  const spans: ReadableSpan[] = [];
  let stopListening: () => void;
  beforeAll(async () => {
    stopListening = onSpanEnd((span) => spans.push(span));
    t = await startTestApp();
    expect((await t.request('POST', '/v1/accounts', { id: 'tr-a', currency: 'USD', normalSide: 'debit' })).status).toBe(
      201,
    );
    expect((await t.request('POST', '/v1/accounts', { id: 'tr-b', currency: 'USD' })).status).toBe(201);
  });
  afterAll(async () => {
    stopListening();
    await t.close();
  });

  const metadataOf = async (stream: string) => {
    const rows = await t.tdb.query<{ metadata: string }>(
      'select metadata::text as metadata from events where stream_id = $1',
      [stream],
    );
    return JSON.parse(rows[0]!.metadata) as { traceparent?: string; correlationId: string; causationId: string };
  };

  it("continues the caller's trace: the event's traceparent is the request span's, in the caller's trace", async () => {
    const traceId = hex(16);
    const callerSpanId = hex(8);
    const response = await t.request(
      'POST',
      '/v1/transfers',
      { id: 'tr-1', debitAccountId: 'tr-a', creditAccountId: 'tr-b', amount: '10', currency: 'USD' },
      { traceparent: `00-${traceId}-${callerSpanId}-01` },
    );
    expect(response.status, response.text).toBe(201);
    const [, responseTrace, requestSpanId] = String(response.headers.traceresponse).split('-');
    expect(responseTrace).toBe(traceId);

    const metadata = await metadataOf('transfer-tr-1');
    expect(metadata.traceparent).toBe(`00-${traceId}-${requestSpanId}-01`);

    // The spans: the request under the caller's span; a write batch linked to the request, with
    // decide and append under it; the projection linked to the trace too.
    const request = spans.find((s) => s.spanContext().spanId === requestSpanId)!;
    expect(request.name).toBe('POST /v1/transfers');
    expect(request.parentSpanContext?.spanId).toBe(callerSpanId);
    const batch = spans.find(
      (s) => s.name === 'ledger.write-batch' && s.links.some((l) => l.context.spanId === requestSpanId),
    )!;
    expect(batch).toBeDefined();
    const children = spans.filter((s) => s.parentSpanContext?.spanId === batch.spanContext().spanId).map((s) => s.name);
    expect(children).toEqual(expect.arrayContaining(['ledger.decide', 'ledger.append']));

    const head = await logHead(t);
    expect((await t.request('GET', `/v1/transfers/tr-1?minPosition=${head}`)).status).toBe(200);
    // The projection's span ends just after it lets the read through: wait for it, boundedly.
    await vi.waitFor(() =>
      expect(spans.some((s) => s.name === 'ledger.project' && s.links.some((l) => l.context.traceId === traceId))).toBe(
        true,
      ),
    );
  });

  it('starts a trace for a request that brings none, and the event carries it', async () => {
    const response = await t.request('POST', '/v1/transfers', {
      id: 'tr-2',
      debitAccountId: 'tr-a',
      creditAccountId: 'tr-b',
      amount: '10',
      currency: 'USD',
    });
    expect(response.status).toBe(201);
    const [version, traceId, spanId] = String(response.headers.traceresponse).split('-');
    expect(version).toBe('00');
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    expect((await metadataOf('transfer-tr-2')).traceparent).toMatch(new RegExp(`^00-${traceId}-${spanId}-0[01]$`));
  });

  it('ignores a malformed traceparent (a fresh trace, nothing of it stored)', async () => {
    const response = await t.request(
      'POST',
      '/v1/transfers',
      { id: 'tr-3', debitAccountId: 'tr-a', creditAccountId: 'tr-b', amount: '10', currency: 'USD' },
      { traceparent: '00-not-a-trace-"}' },
    );
    expect(response.status).toBe(201);
    const metadata = await metadataOf('transfer-tr-3');
    expect(metadata.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
    expect(metadata.traceparent!.split('-')[1]).toBe(String(response.headers.traceresponse).split('-')[1]);
  });
});
