import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestResponse } from '../support/app';
import { expectProblem, expectValidation, openAccount, postTransfer, snapshot, uid } from './api-helpers';

describe('bad input gets a clear error and changes nothing', () => {
  let t: TestApp;
  const debit = uid('vd');
  const credit = uid('vc');
  beforeAll(async () => {
    t = await startTestApp();
    await openAccount(t, { id: debit });
    await openAccount(t, { id: credit });
    await postTransfer(t, { id: uid('seed'), debitAccountId: debit, creditAccountId: credit, amount: '10' });
  });
  afterAll(() => t.close());

  /** Sends a request that must be a 400 validation naming `path`, and checks nothing changed. */
  async function refused(send: () => Promise<TestResponse>, path?: string): Promise<TestResponse> {
    const before = await snapshot(t, [debit, credit]);
    const response = await send();
    if (path === undefined) expectValidation(response);
    else expectValidation(response, path);
    expect(await snapshot(t, [debit, credit])).toEqual(before);
    return response;
  }

  const transfer = (overrides: Record<string, unknown>) => ({
    id: uid('tr'),
    debitAccountId: debit,
    creditAccountId: credit,
    amount: '1',
    currency: 'USD',
    ...overrides,
  });

  describe('amounts', () => {
    it.each([
      ['a JSON number', 100],
      ['zero', '0'],
      ['a leading zero', '01'],
      ['a sign', '-5'],
      ['a plus sign', '+5'],
      ['a fraction', '1.5'],
      ['an exponent', '1e3'],
      ['a leading space', ' 1'],
      ['a trailing space', '1 '],
      ['an empty string', ''],
      ['2^127', '170141183460469231731687303715884105728'],
      ['40 digits', '1'.padEnd(40, '0')],
      ['null', null],
    ])('refuses an amount that is %s', async (_, amount) => {
      const response = await refused(() => t.request('POST', '/v1/transfers', transfer({ amount })), 'body.amount');
      expect(response.body.errors.find((e: { path: string }) => e.path === 'body.amount')).toBeDefined();
    });

    it('refuses a missing amount', async () => {
      const body = transfer({});
      delete (body as Record<string, unknown>).amount;
      await refused(() => t.request('POST', '/v1/transfers', body), 'body.amount');
    });
  });

  describe('currencies', () => {
    it.each([
      ['lower case', 'usd'],
      ['too short', 'US'],
      ['13 characters', 'ABCDEFGHIJKLM'],
      ['starting with a digit', '1USD'],
      ['with a dash', 'US-D'],
    ])('refuses a currency that is %s, on accounts and transfers', async (_, currency) => {
      await refused(() => t.request('POST', '/v1/accounts', { id: uid('a'), currency }), 'body.currency');
      await refused(() => t.request('POST', '/v1/transfers', transfer({ currency })), 'body.currency');
    });

    it('accepts 12 characters and asset codes', async () => {
      const response = await t.request('POST', '/v1/accounts', { id: uid('a'), currency: 'ABCDEFGHIJ_1' });
      expect(response.status, response.text).toBe(201);
    });
  });

  describe('ids', () => {
    it.each([
      ['with a space', 'a b'],
      ['129 characters', 'a'.repeat(129)],
      ['empty', ''],
      ['with a slash', 'a/b'],
      ['non-ASCII', 'café'],
    ])('refuses an id %s, for accounts and for every id of a transfer', async (_, id) => {
      await refused(() => t.request('POST', '/v1/accounts', { id, currency: 'USD' }), 'body.id');
      await refused(() => t.request('POST', '/v1/transfers', transfer({ id })), 'body.id');
      await refused(() => t.request('POST', '/v1/transfers', transfer({ debitAccountId: id })), 'body.debitAccountId');
      await refused(
        () => t.request('POST', '/v1/transfers', transfer({ creditAccountId: id })),
        'body.creditAccountId',
      );
    });

    it('accepts an id of 128 characters of every allowed kind', async () => {
      const id = `Az09._:-${'x'.repeat(120)}`;
      expect(id).toHaveLength(128);
      const response = await t.request('POST', '/v1/accounts', { id, currency: 'USD' });
      expect(response.status, response.text).toBe(201);
    });

    it('refuses a malformed id in a path', async () => {
      const before = await snapshot(t, []);
      expectValidation(await t.request('GET', '/v1/accounts/a%20b'), 'path.id');
      expectValidation(await t.request('GET', '/v1/accounts/a%20b/entries'), 'path.id');
      expectValidation(await t.request('GET', '/v1/transfers/caf%C3%A9'), 'path.id');
      expectValidation(await t.request('POST', '/v1/accounts/a%20b/freeze', { reason: 'r' }), 'path.id');
      expect(await snapshot(t, [])).toEqual(before);
    });

    // Fastify's router stops path parameters at 100 characters unless told otherwise.
    it('reads, freezes and lists an account whose id is 128 characters', async () => {
      const id = `p${'x'.repeat(127)}`;
      const opened = await openAccount(t, { id });
      expect((await t.request('GET', `/v1/accounts/${id}?minPosition=${opened.position}`)).status).toBe(200);
      expect((await t.request('GET', `/v1/accounts/${id}/entries`)).status).toBe(200);
      expect((await t.request('POST', `/v1/accounts/${id}/freeze`, { reason: 'r' })).status).toBe(200);
    });

    // "." and ".." match the contract's pattern, but URL normalisation turns /v1/accounts/.. into
    // /v1/ (also when written %2E%2E): such an account could be opened and never read, so both are
    // refused as ids.
    it.each(['.', '..'])('refuses %j as an account or transfer id', async (id) => {
      const before = await snapshot(t, []);
      expectValidation(await t.request('POST', '/v1/accounts', { id, currency: 'USD' }), 'body.id');
      expectValidation(await t.request('POST', '/v1/transfers', transfer({ id })), 'body.id');
      expect(await snapshot(t, [])).toEqual(before);
    });

    it('refuses a 129-character id in a path with 400 validation', async () => {
      expectValidation(await t.request('GET', `/v1/accounts/${'a'.repeat(129)}`), 'path.id');
      expectValidation(await t.request('GET', `/v1/transfers/${'a'.repeat(129)}`), 'path.id');
    });
  });

  describe('body shape', () => {
    it('refuses unknown fields (strict), naming them', async () => {
      const account = await refused(
        () => t.request('POST', '/v1/accounts', { id: uid('a'), currency: 'USD', colour: 'red' }),
        'body',
      );
      expect(JSON.stringify(account.body.errors)).toContain('colour');
      await refused(
        () => t.request('POST', '/v1/accounts', { id: uid('a'), currency: 'USD', flags: { overdraft: true } }),
        'body.flags',
      );
      const tr = await refused(() => t.request('POST', '/v1/transfers', transfer({ status: 'posted' })), 'body');
      expect(JSON.stringify(tr.body.errors)).toContain('status');
      await refused(
        () => t.request('POST', '/v1/transfers', transfer({ recordedAt: '2026-01-01T00:00:00.000Z' })),
        'body',
      );
      await refused(() => t.request('POST', `/v1/accounts/${debit}/freeze`, { reason: 'r', force: true }), 'body');
      await refused(
        () => t.request('POST', '/v1/transfers/batch', { transfers: [transfer({})], atomic: false, extra: 1 }),
        'body',
      );
    });

    it('refuses a missing body on every command route', async () => {
      for (const url of [
        '/v1/accounts',
        '/v1/transfers',
        '/v1/transfers/batch',
        `/v1/accounts/${debit}/freeze`,
        `/v1/accounts/${debit}/close`,
      ]) {
        await refused(() => t.request('POST', url));
      }
    });

    it('refuses a body that is JSON but not an object', async () => {
      for (const body of ['[]', '"text"', '42', 'null']) {
        await refused(() => t.request('POST', '/v1/transfers', body, { 'content-type': 'application/json' }));
      }
    });

    it('refuses a body that is not JSON with 400 validation', async () => {
      await refused(() => t.request('POST', '/v1/transfers', '{bad', { 'content-type': 'application/json' }));
      await refused(() =>
        t.request('POST', '/v1/accounts', '{"id": "x", "currency": "USD"', { 'content-type': 'application/json' }),
      );
      await refused(() => t.request('POST', '/v1/accounts', '', { 'content-type': 'application/json' }));
    });

    it('refuses a body that is not application/json with 415 unsupported-media-type', async () => {
      for (const contentType of [
        'text/plain',
        'application/x-www-form-urlencoded',
        'application/xml',
        'multipart/form-data; boundary=x',
        'application/octet-stream',
      ]) {
        const before = await snapshot(t, [debit, credit]);
        const response = await t.request('POST', '/v1/transfers', JSON.stringify(transfer({})), {
          'content-type': contentType,
        });
        expectProblem(response, 415, 'unsupported-media-type');
        expect(await snapshot(t, [debit, credit])).toEqual(before);
      }
    });

    it('refuses an account with both balance flags set', async () => {
      const id = uid('a');
      await refused(
        () =>
          t.request('POST', '/v1/accounts', {
            id,
            currency: 'USD',
            flags: { debitsMustNotExceedCredits: true, creditsMustNotExceedDebits: true },
          }),
        'body.flags',
      );
      expectProblem(await t.request('GET', `/v1/accounts/${id}`), 404, 'account-not-found');
    });

    it('refuses a flag or normalSide of the wrong type or value', async () => {
      await refused(
        () =>
          t.request('POST', '/v1/accounts', {
            id: uid('a'),
            currency: 'USD',
            flags: { debitsMustNotExceedCredits: 'yes' },
          }),
        'body.flags',
      );
      await refused(
        () => t.request('POST', '/v1/accounts', { id: uid('a'), currency: 'USD', normalSide: 'left' }),
        'body.normalSide',
      );
    });

    it('refuses metadata with 33 keys or a value that is not a string; accepts 32 keys', async () => {
      const keys = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']));
      await refused(
        () => t.request('POST', '/v1/accounts', { id: uid('a'), currency: 'USD', metadata: keys(33) }),
        'body.metadata',
      );
      await refused(() => t.request('POST', '/v1/transfers', transfer({ metadata: keys(33) })), 'body.metadata');
      for (const value of [1, true, null, { nested: 'x' }, ['x']]) {
        await refused(
          () => t.request('POST', '/v1/accounts', { id: uid('a'), currency: 'USD', metadata: { k: value } }),
          'body.metadata',
        );
        await refused(() => t.request('POST', '/v1/transfers', transfer({ metadata: { k: value } })), 'body.metadata');
      }
      await refused(
        () => t.request('POST', '/v1/accounts', { id: uid('a'), currency: 'USD', metadata: 'text' }),
        'body.metadata',
      );
      const ok = await t.request('POST', '/v1/accounts', { id: uid('a'), currency: 'USD', metadata: keys(32) });
      expect(ok.status, ok.text).toBe(201);
    });

    it('refuses a status change without a reason', async () => {
      await refused(() => t.request('POST', `/v1/accounts/${debit}/freeze`, {}), 'body.reason');
      await refused(() => t.request('POST', `/v1/accounts/${debit}/freeze`, { reason: '' }), 'body.reason');
      await refused(() => t.request('POST', `/v1/accounts/${debit}/close`, { reason: 1 }), 'body.reason');
    });
  });

  describe('timestamps', () => {
    it.each([
      ['a date alone', '2026-01-01'],
      ['a date that does not exist', '2026-02-30T00:00:00.000Z'],
      ['hour 24', '2026-01-01T24:00:00.000Z'],
      ['no milliseconds', '2026-01-01T00:00:00Z'],
      ['an offset instead of Z', '2026-01-01T00:00:00.000+01:00'],
      ['a number', 1767225600000],
    ])('refuses effectiveAt that is %s', async (_, effectiveAt) => {
      await refused(() => t.request('POST', '/v1/transfers', transfer({ effectiveAt })), 'body.effectiveAt');
    });

    it('refuses asOf and knownAt that are not timestamps', async () => {
      for (const query of ['asOf=2026-01-01', 'knownAt=2026-02-30T00:00:00.000Z', 'asOf=yesterday']) {
        await refused(() => t.request('GET', `/v1/accounts/${debit}/balance?${query}`), 'query');
      }
    });
  });

  describe('query parameters', () => {
    it.each(['limit=0', 'limit=1001', 'limit=abc', 'limit=1.5', 'limit=-1', 'limit='])(
      'refuses entries?%s',
      async (query) => {
        await refused(() => t.request('GET', `/v1/accounts/${debit}/entries?${query}`), 'query.limit');
      },
    );

    it('accepts limit 1 and 1000', async () => {
      for (const limit of [1, 1000]) {
        const response = await t.request('GET', `/v1/accounts/${debit}/entries?limit=${limit}`);
        expect(response.status, response.text).toBe(200);
      }
    });

    it.each([
      `/v1/accounts/%s?minPosition=x`,
      `/v1/accounts/%s?minPosition=-1`,
      `/v1/accounts/%s?minPosition=1.0`,
      `/v1/accounts/%s/balance?minPosition=x`,
      `/v1/accounts/%s/entries?minPosition=x`,
      `/v1/transfers/any?minPosition=x`,
    ])('refuses a minPosition that is not a position: %s', async (url) => {
      await refused(() => t.request('GET', url.replace('%s', debit)), 'query.minPosition');
    });

    it.each([
      `/v1/accounts/%s?colour=red`,
      `/v1/accounts/%s/balance?at=2026-01-01T00:00:00.000Z`,
      `/v1/accounts/%s/entries?page=2`,
      `/v1/transfers/any?limit=1`,
    ])('refuses an unknown query parameter: %s', async (url) => {
      await refused(() => t.request('GET', url.replace('%s', debit)), 'query');
    });

    it.each([
      '!!!',
      'abc',
      Buffer.from('e-1').toString('base64url'),
      Buffer.from('x5').toString('base64url'),
      'a'.repeat(33),
    ])('refuses a cursor this service did not give out: %s', async (cursor) => {
      await refused(
        () => t.request('GET', `/v1/accounts/${debit}/entries?cursor=${encodeURIComponent(cursor)}`),
        'query.cursor',
      );
    });
  });

  it('answers an unknown route with a 404 problem', async () => {
    const response = await t.request('GET', '/v1/nothing-here');
    expect(response.status).toBe(404);
    expect(String(response.headers['content-type'])).toContain('application/problem+json');
  });
});

describe('request body size limit', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ LEDGER_BODY_LIMIT_BYTES: '2048' });
  });
  afterAll(() => t.close());

  it('refuses a body over LEDGER_BODY_LIMIT_BYTES with 413 payload-too-large, changing nothing', async () => {
    const before = await snapshot(t, []);
    const body = {
      id: uid('big'),
      currency: 'USD',
      metadata: { big: 'x'.repeat(500), more: 'y'.repeat(500), yet: 'z'.repeat(500), last: 'w'.repeat(500) },
    };
    expect(JSON.stringify(body).length).toBeGreaterThan(2048);
    const response = await t.request('POST', '/v1/accounts', body);
    expectProblem(response, 413, 'payload-too-large');
    expect(await snapshot(t, [])).toEqual(before);
    expectProblem(await t.request('GET', `/v1/accounts/${body.id}`), 404, 'account-not-found');
  });

  it('accepts a body just under the limit', async () => {
    const body = { id: uid('small'), currency: 'USD', metadata: { note: 'x'.repeat(400) } };
    expect(JSON.stringify(body).length).toBeLessThan(2048);
    const response = await t.request('POST', '/v1/accounts', body);
    expect(response.status, response.text).toBe(201);
  });
});
