import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { NatsConnection } from '@nats-io/nats-core';
import { jetstreamManager, StorageType } from '@nats-io/jetstream';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventJsonSchemas, messageHeadersJsonSchema, PUBLISHED_EVENT_TYPES } from '../../src/events/event-schemas';
import { startTestApp, type TestApp } from '../support/app';
import { TEST_KEYS, bearer } from '../support/keys';
import {
  deleteStream,
  eventually,
  natsConnect,
  natsForTests,
  readStream,
  type StoredMessage,
  streamInfo,
  TEST_NATS_URL,
  uniqueStream,
} from '../support/nats';

const nats = natsForTests('relay.int.spec.ts');

/** Every account an envelope's event belongs to (the streams it is in). */
function accountsOf(body: { type: string; data: Record<string, string> }): string[] {
  if (body.type === 'TransferPosted') return [body.data.debitAccountId!, body.data.creditAccountId!];
  return body.data.accountId ? [body.data.accountId] : [];
}

/** A ledger with the relay role, on its own schema and its own stream of the shared NATS. */
async function relayApp(extra: Record<string, string> = {}) {
  const stream = uniqueStream();
  const t = await startTestApp({ LEDGER_ROLES: 'api,projector,relay', NATS_URL: TEST_NATS_URL, ...stream, ...extra });
  return { t, stream: stream.LEDGER_NATS_STREAM, prefix: stream.LEDGER_NATS_SUBJECT_PREFIX };
}

/** Waits until the relay's checkpoint is the log's head, then returns the stream's messages. */
async function published(t: TestApp, nc: NatsConnection, stream: string): Promise<StoredMessage[]> {
  const head = await t.ledger.store.headPosition();
  await eventually(`relay checkpoint at ${head}`, () => t.ledger.relay!.checkpoint === head);
  return readStream(nc, stream);
}

describe.skipIf(!nats)('NATS relay (real NATS)', () => {
  let nc: NatsConnection;
  const cleanup: Array<() => Promise<unknown>> = [];
  beforeAll(async () => {
    nc = await natsConnect();
  });
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step().catch(() => {});
  });
  afterAll(() => nc?.close());

  it('publishes every event once, in log order and in each account’s order, with ce-* and traceparent headers', async () => {
    const { t, stream, prefix } = await relayApp();
    cleanup.push(
      () => t.close(),
      () => deleteStream(nc, stream),
    );
    const accounts = ['a', 'b', 'c', 'd'];
    for (const id of accounts)
      expect((await t.request('POST', '/v1/accounts', { id, currency: 'USD' })).status).toBe(201);
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const posts = [];
    for (let i = 0; i < 200; i++) {
      const [debit, credit] = [accounts[i % 4]!, accounts[(i + 1 + (i % 3)) % 4]!];
      posts.push(
        t.request(
          'POST',
          '/v1/transfers',
          { id: `t${i}`, debitAccountId: debit, creditAccountId: credit, amount: String(1 + i), currency: 'USD' },
          i === 7 ? { traceparent } : {},
        ),
      );
    }
    for (const response of await Promise.all(posts)) expect(response.status).toBe(201);
    expect((await t.request('POST', '/v1/accounts/d/freeze', { reason: 'audit' })).status).toBe(200);
    expect((await t.request('POST', '/v1/accounts/d/unfreeze', { reason: 'cleared' })).status).toBe(200);
    expect((await t.request('POST', '/v1/accounts/c/close', { reason: 'customer left' })).status).toBe(200);

    const head = await t.ledger.store.headPosition();
    const messages = await published(t, nc, stream);
    expect(messages).toHaveLength(Number(head));
    // Log order: the stream holds position 1, 2, … in sequence.
    expect(messages.map((m) => m.body.position)).toEqual(messages.map((_, i) => String(i + 1)));
    const events = await t.ledger.store.readAll({ after: 0n, limit: 10_000 });
    expect(new Set(messages.map((m) => m.headers['Nats-Msg-Id'])).size).toBe(events.length);
    for (const [i, message] of messages.entries()) {
      const event = events[i]!;
      const aggregate = event.type === 'TransferPosted' ? 'transfer' : 'account';
      expect(message.subject).toBe(`${prefix}.${aggregate}.${event.type}`);
      expect(message.headers).toMatchObject({
        'Nats-Msg-Id': event.eventId,
        'ce-specversion': '1.0',
        'ce-id': event.eventId,
        'ce-source': '/ledger',
        'ce-type': `ledger.${aggregate}.${event.type}`,
        'ce-subject': event.streamId,
        'ce-time': event.recordedAt,
        'ce-sequence': event.position.toString(),
        'content-type': 'application/json',
      });
      expect(message.body).toEqual({
        id: event.eventId,
        type: event.type,
        stream: event.streamId,
        revision: event.revision.toString(),
        position: event.position.toString(),
        recordedAt: event.recordedAt,
        correlationId: event.metadata.correlationId,
        causationId: event.metadata.causationId,
        prevHash: event.prevHash,
        hash: event.hash,
        data: event.data,
      });
    }
    // The request's trace continues into the message: the same trace id, under the span the
    // service opened for the request (the event's own traceparent); other requests get their own trace.
    const traceId = (header: string | undefined) => header?.split('-')[1];
    const traced = messages.find((m) => m.body.type === 'TransferPosted' && m.body.data.transferId === 't7')!;
    const tracedEvent = events.find((e) => e.eventId === traced.body.id)!;
    expect(traceId(traced.headers.traceparent)).toBe(traceId(traceparent));
    expect(traced.headers.traceparent).toBe(tracedEvent.metadata.traceparent);
    const other = messages.find((m) => m.body.type === 'TransferPosted' && m.body.data.transferId === 't8')!;
    expect(other.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/);
    expect(traceId(other.headers.traceparent)).not.toBe(traceId(traceparent));

    // Each account's events arrive in the order of its stream in the event store.
    for (const id of accounts) {
      const recorded = (await t.ledger.store.readStream(`account-${id}`)).events.map((e) => e.eventId);
      const delivered = messages.filter((m) => accountsOf(m.body).includes(id)).map((m) => m.body.id);
      expect(delivered, `account ${id}`).toEqual(recorded);
    }
  });

  it('every published message, FraudScored included, validates against its published JSON Schema and headers schema (ajv)', async () => {
    // With the fraud role too: its FraudScored events (and their v8 UUID ids) go out like the others.
    const { t, stream } = await relayApp({ LEDGER_ROLES: 'api,projector,relay,fraud', FRAUD_REVIEW_THRESHOLD: '0' });
    cleanup.push(
      () => t.close(),
      () => deleteStream(nc, stream),
    );
    await t.request('POST', '/v1/accounts', {
      id: 'x',
      currency: 'EUR',
      normalSide: 'debit',
      code: 'cash',
      metadata: { owner: 'treasury' },
    });
    await t.request('POST', '/v1/accounts', { id: 'y', currency: 'EUR', flags: { debitsMustNotExceedCredits: true } });
    await t.request('POST', '/v1/transfers', {
      id: 'v1',
      debitAccountId: 'x',
      creditAccountId: 'y',
      amount: '170141183460469231731687303715884105727',
      currency: 'EUR',
      code: 'wire',
      reference: 'inv-1',
      metadata: { k: 'v' },
    });
    await t.request('POST', '/v1/transfers', {
      id: 'v2',
      debitAccountId: 'y',
      creditAccountId: 'x',
      amount: '5',
      currency: 'EUR',
    });
    // Holds, their posts, a void, an expiry, a reversal and a review's resolution: every type of the catalogue.
    const eventsOf = (type: string) =>
      t.ledger.store.readAll({ after: 0n, limit: 1000 }).then((events) => events.filter((e) => e.type === type));
    const scored = async (transferId: string) =>
      (await eventsOf('FraudScored')).some((e) => (e.data as { transferId: string }).transferId === transferId);
    const hold = (id: string, extra: Record<string, unknown> = {}) =>
      t.request('POST', '/v1/transfers', {
        id,
        debitAccountId: 'x',
        creditAccountId: 'y',
        amount: '10',
        currency: 'EUR',
        pending: true,
        ...extra,
      });
    expect((await hold('h1')).status).toBe(201);
    expect((await hold('h2')).status).toBe(201);
    expect((await hold('h3', { expiresAt: new Date(Date.now() + 1500).toISOString() })).status).toBe(201);
    // With a review threshold of 0 every score is a review; a hold under open review takes no post.
    await eventually('h1 scored', () => scored('h1'));
    const resolved = await t.request('POST', '/v1/fraud/reviews/h1', { id: 'rv1', outcome: 'legitimate', note: 'ok' });
    expect(resolved.status).toBe(200);
    expect((await t.request('POST', '/v1/transfers/h1/post', { id: 'p1', amount: '4', final: false })).status).toBe(
      200,
    );
    expect((await t.request('POST', '/v1/transfers/h1/post', { id: 'p2' })).status).toBe(200);
    expect((await t.request('POST', '/v1/transfers/h2/void', { id: 'vd1', reason: 'cancelled' })).status).toBe(200);
    const reversal = await t.request('POST', '/v1/transfers/v2/reverse', { id: 'r1', amount: '2', reason: 'refund' });
    expect(reversal.status).toBe(201);
    await eventually('h3 expired', async () => (await eventsOf('PendingTransferExpired')).length === 1);
    // A close of the books, an adjustment into the closed period (operator) and its approval (admin).
    const through = new Date(Date.now() - 1).toISOString();
    const closed = await t.request('POST', '/v1/periods/close', { through, reason: 'month end' });
    expect(closed.status, closed.text).toBe(201);
    const adjustment = { id: 'adj1', debitAccountId: 'y', creditAccountId: 'x', amount: '1', currency: 'EUR' };
    const requested = await t.request(
      'POST',
      '/v1/transfers',
      { ...adjustment, effectiveAt: through, adjustment: true },
      bearer(TEST_KEYS.operator),
    );
    expect(requested.status, requested.text).toBe(202);
    expect((await t.request('POST', '/v1/adjustments/adj1/approve')).status).toBe(200);
    for (const change of ['freeze', 'unfreeze', 'close'])
      await t.request('POST', `/v1/accounts/x/${change}`, { reason: change });
    // Every transfer and hold scored (FraudScored appended after them), then everything published.
    for (const id of ['v1', 'v2', 'h1', 'h2', 'h3', 'adj1']) await eventually(`${id} scored`, () => scored(id));
    const messages = await published(t, nc, stream);
    const types = new Set(messages.map((m) => m.body.type));
    expect([...types].sort()).toEqual([...PUBLISHED_EVENT_TYPES].sort());
    expect(messages.find((m) => m.body.type === 'FraudScored')!.subject).toMatch(/\.fraud\.FraudScored$/);

    for (const closed of [false, true]) {
      const ajv = new Ajv({ allErrors: true, strict: false });
      addFormats(ajv);
      const schemas = eventJsonSchemas({ closed });
      const headers = ajv.compile(messageHeadersJsonSchema({ closed }));
      for (const message of messages) {
        const validate = ajv.compile(schemas[message.body.type as keyof typeof schemas]);
        expect(
          validate(message.body),
          `${message.body.type} (closed: ${closed}): ${ajv.errorsText(validate.errors)}`,
        ).toBe(true);
        expect(headers(message.headers), ajv.errorsText(headers.errors)).toBe(true);
      }
    }
    // The schemas are not vacuous: a number amount and a missing field are refused.
    const ajv = new Ajv({ strict: false });
    addFormats(ajv);
    const transfer = messages.find((m) => m.body.type === 'TransferPosted')!.body;
    const validate = ajv.compile(eventJsonSchemas().TransferPosted);
    expect(validate({ ...transfer, data: { ...transfer.data, amount: 5 } })).toBe(false);
    const { position: _missing, ...withoutPosition } = transfer;
    expect(validate(withoutPosition)).toBe(false);
  });

  it('creates the stream with file storage, subjects <prefix>.>, a ≥ 2 min duplicate window, and updates an existing one', async () => {
    const stream = uniqueStream();
    const jsm = await jetstreamManager(nc);
    // An existing stream with other limits and a shorter window: the relay brings it to its settings.
    await jsm.streams.add({
      name: stream.LEDGER_NATS_STREAM,
      subjects: [`${stream.LEDGER_NATS_SUBJECT_PREFIX}.>`],
      storage: StorageType.File,
      duplicate_window: 30_000_000_000,
      max_msgs: 10,
    });
    cleanup.push(() => deleteStream(nc, stream.LEDGER_NATS_STREAM));
    const t = await startTestApp({
      LEDGER_ROLES: 'api,projector,relay',
      NATS_URL: TEST_NATS_URL,
      ...stream,
      LEDGER_NATS_MAX_MSGS: '1000000',
      LEDGER_NATS_DUPLICATE_WINDOW_MS: '180000',
    });
    cleanup.push(() => t.close());
    await t.request('POST', '/v1/accounts', { id: 's1', currency: 'USD' });
    await published(t, nc, stream.LEDGER_NATS_STREAM);
    const { config } = await streamInfo(nc, stream.LEDGER_NATS_STREAM);
    expect(config.subjects).toEqual([`${stream.LEDGER_NATS_SUBJECT_PREFIX}.>`]);
    expect(config.storage).toBe(StorageType.File);
    expect(config.duplicate_window).toBe(180_000_000_000);
    expect(config.max_msgs).toBe(1_000_000);
  });

  it('reports up in /health/ready and the lag metrics at zero once caught up', async () => {
    const { t, stream } = await relayApp();
    cleanup.push(
      () => t.close(),
      () => deleteStream(nc, stream),
    );
    await t.request('POST', '/v1/accounts', { id: 'm1', currency: 'USD' });
    await published(t, nc, stream);
    const ready = await t.request('GET', '/health/ready');
    expect(ready.body.checks.relay).toMatchObject({ status: 'up', state: 'active', position: '1', stream });
    const metrics = (await t.request('GET', '/metrics')).text;
    expect(metrics).toMatch(/^ledger_relay_position 1$/m);
    expect(metrics).toMatch(/^ledger_relay_lag_positions 0$/m);
    expect(metrics).toMatch(/^ledger_relay_lag_seconds 0$/m);
    expect(metrics).toMatch(/^ledger_relay_published_total 1$/m);
  });
});

describe('relay off', () => {
  it('with no NATS_URL the relay is off, says why, and the ledger works', async () => {
    const t = await startTestApp({ LEDGER_ROLES: 'api,projector,relay' });
    try {
      expect((await t.request('POST', '/v1/accounts', { id: 'o1', currency: 'USD' })).status).toBe(201);
      const ready = await t.request('GET', '/health/ready');
      expect(ready.status).toBe(200);
      expect(ready.body.checks.relay).toEqual({ status: 'off', reason: 'NATS_URL is not set' });
      expect(t.ledger.relay).toBeNull();
    } finally {
      await t.close();
    }
  });

  it('GET /asyncapi.json serves the committed AsyncAPI document, with no key', async () => {
    const t = await startTestApp();
    try {
      const response = await t.request('GET', '/asyncapi.json');
      expect(response.status).toBe(200);
      expect(String(response.headers['content-type'])).toContain('application/json');
      expect(response.body).toEqual(
        JSON.parse(readFileSync(path.resolve(__dirname, '../../docs/asyncapi.json'), 'utf8')),
      );
    } finally {
      await t.close();
    }
  });
});
