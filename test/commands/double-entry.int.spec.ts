import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app';

const ACCOUNTS = ['a', 'b', 'c', 'd', 'e', 'f'];
const CURRENCIES = ['USD', 'EUR'];
const BIG = (1n << 127n) - 1n;

/** Guarantee 1 on the real database: per currency, debits equal credits, whatever was asked. */
describe('double entry holds for any sequence of commands (guarantee 1)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
    for (const currency of CURRENCIES) {
      for (const [i, id] of ACCOUNTS.entries()) {
        const flags =
          i % 3 === 0 ? { debitsMustNotExceedCredits: true } : i % 3 === 1 ? { creditsMustNotExceedDebits: true } : {};
        const opened = await t.request('POST', '/v1/accounts', {
          id: `${id}-${currency}`,
          currency,
          normalSide: i % 2 ? 'debit' : 'credit',
          flags,
        });
        expect(opened.status).toBe(201);
      }
    }
  });
  afterAll(() => t.close());

  it('after random transfers, batches, freezes and retries, sums balance in events and read models', async () => {
    const amount = fc.oneof(fc.bigInt({ min: 1n, max: 1000n }), fc.bigInt({ min: BIG - 10n, max: BIG }));
    const transfer = fc.record({
      debit: fc.constantFrom(...ACCOUNTS),
      credit: fc.constantFrom(...ACCOUNTS),
      debitCurrency: fc.constantFrom(...CURRENCIES),
      creditCurrency: fc.constantFrom(...CURRENCIES),
      amount,
    });
    const command = fc.oneof(
      { weight: 6, arbitrary: transfer.map((tr) => ({ kind: 'transfer' as const, ...tr })) },
      {
        weight: 2,
        arbitrary: fc.record({
          kind: fc.constant('batch' as const),
          items: fc.array(transfer, { minLength: 1, maxLength: 6 }),
          atomic: fc.boolean(),
        }),
      },
      {
        weight: 1,
        arbitrary: fc.record({
          kind: fc.constantFrom('freeze' as const, 'unfreeze' as const),
          account: fc.constantFrom(...ACCOUNTS),
          currency: fc.constantFrom(...CURRENCIES),
        }),
      },
      { weight: 1, arbitrary: fc.constant({ kind: 'retry' as const }) },
    );
    let n = 0;
    let last: { body: unknown } | undefined;
    const body = (tr: {
      debit: string;
      credit: string;
      debitCurrency: string;
      creditCurrency: string;
      amount: bigint;
    }) => ({
      id: `t${n++}`,
      debitAccountId: `${tr.debit}-${tr.debitCurrency}`,
      creditAccountId: `${tr.credit}-${tr.creditCurrency}`,
      amount: String(tr.amount),
      currency: tr.debitCurrency,
    });
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 20, maxLength: 60 }), async (commands) => {
        for (const c of commands) {
          if (c.kind === 'transfer') {
            const b = body(c);
            last = { body: b };
            const r = await t.request('POST', '/v1/transfers', b);
            expect([201, 404, 409, 422]).toContain(r.status);
          } else if (c.kind === 'batch') {
            const r = await t.request('POST', '/v1/transfers/batch', {
              transfers: c.items.map(body),
              atomic: c.atomic,
            });
            expect(r.status).toBe(200);
          } else if (c.kind === 'retry') {
            if (last)
              expect([200, 201, 404, 409, 422]).toContain((await t.request('POST', '/v1/transfers', last.body)).status);
          } else {
            const r = await t.request('POST', `/v1/accounts/${c.account}-${c.currency}/${c.kind}`, {
              reason: 'property test',
            });
            expect(r.status).toBe(200);
          }
        }
      }),
      { seed: 20261121, numRuns: 8 },
    );

    const head = (await t.tdb.query<{ position: string }>('select position::text as position from log_head'))[0]!
      .position;
    await t.request('GET', `/v1/accounts/a-USD?minPosition=${head}`);
    const readModel = await t.tdb.query<{ currency: string; debits: string; credits: string; n: string }>(
      `select currency, sum(debits_posted)::text as debits, sum(credits_posted)::text as credits, count(*)::text as n
       from rm_accounts group by currency order by currency`,
    );
    expect(readModel).toHaveLength(2);
    for (const row of readModel) expect(row.debits).toBe(row.credits);
    const fromEvents = await t.tdb.query<{ currency: string; total: string; transfers: string }>(
      `select data->>'currency' as currency, sum((data->>'amount')::numeric)::text as total, count(*)::text as transfers
       from events where type = 'TransferPosted' group by 1 order by 1`,
    );
    for (const row of fromEvents) {
      const rm = readModel.find((r) => r.currency === row.currency)!;
      expect(rm.debits).toBe(row.total);
      expect(rm.credits).toBe(row.total);
    }
    // Most random transfers are refused (currency, constraints, frozen); enough must post to mean something.
    expect(fromEvents.reduce((sum, row) => sum + Number(row.transfers), 0)).toBeGreaterThan(10);
    // And every constrained account stayed on its side of zero.
    const crossed = await t.tdb.query(
      `select id from rm_accounts
       where (flags->>'debitsMustNotExceedCredits')::boolean and debits_posted > credits_posted
          or (flags->>'creditsMustNotExceedDebits')::boolean and credits_posted > debits_posted`,
    );
    expect(crossed).toEqual([]);
  });
});
