import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKeyId } from '../../src/api/auth/api-keys';
import { type TestDatabase, createTestDatabase, postgresAvailable } from '../support/database';
import { TEST_KEYS, bearer } from '../support/keys';
import { TEST_NATS_URL, deleteStream, natsConnect, natsForTests, readStream, uniqueStream } from '../support/nats';
import { type ServiceProcess, http, startServiceProcess } from '../support/service-process';
import { until } from './fraud-helpers';

const analyst = bearer(TEST_KEYS.analyst);

/**
 * The compensation saga (ADR 0024) in the compiled service on PostgreSQL and NATS: a review resolved
 * `fraud` reverses and freezes exactly once even when the process is SIGKILLed between the steps and
 * restarted; `legitimate` releases a held authorisation for posting; a hold under open review cannot
 * be posted.
 */
describe('fraud compensation across a crash', () => {
  let tdb: TestDatabase;
  let service: ServiceProcess | undefined;
  let runs = false;
  const stream = uniqueStream();

  beforeAll(async () => {
    runs = (await postgresAvailable()) && natsForTests('compensation.int.spec.ts');
    if (runs) tdb = await createTestDatabase();
  });
  afterAll(async () => {
    await service?.kill();
    if (runs) {
      const nc = await natsConnect();
      await deleteStream(nc, stream.LEDGER_NATS_STREAM).catch(() => {});
      await nc.close();
    }
    await tdb?.drop();
  });

  const start = (env: Record<string, string> = {}) =>
    startServiceProcess({
      ...(tdb.env as Record<string, string>),
      ...stream,
      NATS_URL: TEST_NATS_URL,
      LEDGER_ROLES: 'api,projector,relay,fraud',
      LEDGER_DB_POOL_MAX: '4',
      // Every transfer goes to review: the saga is under test, not the model.
      FRAUD_REVIEW_THRESHOLD: '0',
      FRAUD_POLL_MS: '10',
      FRAUD_BATCH_WAIT_MS: '0',
      ...env,
    });
  const events = async (type: string) =>
    (
      await tdb.query<{ stream_id: string; data: any; metadata: any }>(
        `select stream_id, data, metadata from events where type = $1 order by position`,
        [type],
      )
    ).map((row) => ({
      streamId: row.stream_id,
      data: typeof row.data === 'string' ? JSON.parse(row.data) : row.data,
      metadata: typeof row.metadata === 'string' ? JSON.parse(row.metadata) : row.metadata,
    }));
  const review = async (transferId: string) => {
    for (const status of ['open', 'resolved']) {
      const page = await http('GET', `${service!.url}/v1/fraud/reviews?status=${status}&limit=100`, undefined, analyst);
      const found = page.body.items.find((r: { transferId: string }) => r.transferId === transferId);
      if (found) return found;
    }
    return undefined;
  };

  it('reverses and freezes exactly once across a SIGKILL between the steps; legitimate lets a hold post; an open review holds it', async (ctx) => {
    if (!runs) {
      console.warn('[tests] the compensation test needs PostgreSQL and NATS: skipped');
      ctx.skip();
    }
    service = await start({ FRAUD_COMPENSATION_STEP_PAUSE_MS: '3000' });
    const url = service.url;
    for (const body of [
      { id: 'bank', currency: 'USD', normalSide: 'debit' },
      { id: 'mal', currency: 'USD' },
    ]) {
      expect((await http('POST', `${url}/v1/accounts`, body)).status).toBe(201);
    }
    const transfer = (id: string, amount: string, pending: boolean) =>
      http('POST', `${url}/v1/transfers`, {
        id,
        debitAccountId: 'bank',
        creditAccountId: 'mal',
        amount,
        currency: 'USD',
        ...(pending ? { pending: true } : {}),
      });
    expect((await transfer('f-1', '5000', false)).status).toBe(201);
    expect((await transfer('h-1', '3000', true)).status).toBe(201);
    expect((await transfer('h-2', '2000', true)).status).toBe(201);
    await until('three reviews', async () => (await review('f-1')) && (await review('h-1')) && (await review('h-2')));

    // A hold under open review cannot be posted; resolved legitimate, it can.
    const postHold = () => http('POST', `${url}/v1/transfers/h-1/post`, { id: 'h-1-post' });
    const held = await postHold();
    expect(held.status, JSON.stringify(held.body)).toBe(422);
    expect(held.body.type).toMatch(/under-review$/);
    const legit = await http(
      'POST',
      `${url}/v1/fraud/reviews/h-1`,
      { id: 'res-h-1', outcome: 'legitimate', note: 'ok' },
      analyst,
    );
    expect(legit.status, JSON.stringify(legit.body)).toBe(200);
    expect(legit.body.compensation).toEqual({ state: 'none' });
    const posted = await postHold();
    expect([200, 201], JSON.stringify(posted.body)).toContain(posted.status);

    // fraud on the posted transfer: killed after the reversal, before the freeze.
    const resolved = await http(
      'POST',
      `${url}/v1/fraud/reviews/f-1`,
      { id: 'res-f-1', outcome: 'fraud', note: 'stolen card' },
      analyst,
    );
    expect(resolved.status, JSON.stringify(resolved.body)).toBe(200);
    expect(resolved.body).toMatchObject({
      outcome: 'fraud',
      actor: apiKeyId(TEST_KEYS.analyst),
      compensation: { state: 'pending' },
    });
    await until('the reversal', async () => (await events('TransferReversed')).length > 0, 20_000);
    await service.kill();
    expect(await events('AccountFrozen')).toHaveLength(0);

    service = await start();
    await until('the compensation done', async () => (await review('f-1'))?.compensation.state === 'done', 30_000);
    const reversals = await events('TransferReversed');
    expect(reversals).toHaveLength(1);
    expect(reversals[0]!.data).toMatchObject({ reverses: 'f-1', amount: '5000', transferId: 'fraud-reversal-f-1' });
    const frozen = await events('AccountFrozen');
    expect(frozen).toHaveLength(1);
    expect(frozen[0]!.data.accountId).toBe('bank');
    const [resolution] = await tdb.query<{ event_id: string }>(
      `select event_id::text as event_id from events where type = 'FraudReviewResolved' and data->>'transferId' = 'f-1'`,
    );
    expect(frozen[0]!.metadata.causationId).toBe(resolution!.event_id);
    const original = await http('GET', `${service.url}/v1/transfers/f-1`, undefined, analyst);
    expect(original.body.reversedAmount).toBe('5000');

    // fraud on a hold: voided, nothing reversed, nothing frozen again.
    const voiding = await http(
      'POST',
      `${service.url}/v1/fraud/reviews/h-2`,
      { id: 'res-h-2', outcome: 'fraud', note: 'mule' },
      analyst,
    );
    expect(voiding.status, JSON.stringify(voiding.body)).toBe(200);
    await until('the hold voided', async () => (await review('h-2'))?.compensation.state === 'done', 30_000);
    const hold = await http('GET', `${service.url}/v1/transfers/h-2`, undefined, analyst);
    expect(hold.body.status).toBe('voided');
    expect(await events('TransferReversed')).toHaveLength(1);
    expect(await events('AccountFrozen')).toHaveLength(1);
    expect(await events('PendingTransferVoided')).toHaveLength(1);

    // And the resolutions reached NATS like every event.
    const nc = await natsConnect();
    try {
      const subjects = await until('the resolutions on NATS', async () => {
        const messages = await readStream(nc, stream.LEDGER_NATS_STREAM);
        const found = messages.filter((m) => m.subject.endsWith('.fraud.FraudReviewResolved'));
        return found.length === 3 ? found : undefined;
      });
      expect(subjects.map((m) => m.body.data.transferId).sort()).toEqual(['f-1', 'h-1', 'h-2']);
    } finally {
      await nc.close();
    }
  });
});
