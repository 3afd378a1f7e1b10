// What the benchmark sends: the accounts it opens, the transfers it posts (random pairs among many
// accounts, or every transfer on one hot account), and the setup that funds them.
import { inParallel } from './http.mjs';

export const CURRENCY = 'USD';
export const BANK = 'bank';
export const HOT = 'hot';

export const accountId = (i) => `acct-${String(i).padStart(4, '0')}`;

/** Transfer bodies with unique ids (`<prefix><n>`, n in base 36). */
export class TransferSource {
  constructor(prefix, accounts) {
    this.prefix = prefix;
    this.accounts = accounts;
    this.n = 0;
  }

  nextId() {
    return `${this.prefix}${(this.n++).toString(36)}`;
  }

  /** Debit and credit two different accounts drawn at random among all of them. */
  spread() {
    const debit = Math.floor(Math.random() * this.accounts);
    let credit = Math.floor(Math.random() * (this.accounts - 1));
    if (credit >= debit) credit++;
    return {
      id: this.nextId(),
      debitAccountId: accountId(debit),
      creditAccountId: accountId(credit),
      amount: '1',
      currency: CURRENCY,
    };
  }

  /** A card authorisation: a hold of 2 between two random accounts (its capture takes 1, releases 1). */
  hold() {
    return { ...this.spread(), amount: '2', pending: true };
  }

  /** The capture of a hold from `hold()`: part of it, the rest released (`final` defaults to true). */
  capture(hold) {
    return { id: `${hold.id}-capture`, amount: '1' };
  }

  /** Every transfer credits the one hot account, from a random account. */
  hot() {
    const debit = Math.floor(Math.random() * this.accounts);
    return {
      id: this.nextId(),
      debitAccountId: accountId(debit),
      creditAccountId: HOT,
      amount: '1',
      currency: CURRENCY,
    };
  }
}

function expectStatus(response, ok, what) {
  if (!ok.includes(response.status)) {
    throw new Error(`${what}: HTTP ${response.status} ${response.text.slice(0, 500)}`);
  }
}

/**
 * Opens `accounts` credit-normal USD accounts with no flags, the `hot` account and a debit-normal
 * `bank`, then funds every account from the bank with the batch endpoint.
 */
export async function setupLedger(client, { accounts, concurrency = 16 }) {
  const started = performance.now();
  expectStatus(
    await client.post('/v1/accounts', { id: BANK, currency: CURRENCY, normalSide: 'debit' }),
    [200, 201],
    'open bank',
  );
  expectStatus(await client.post('/v1/accounts', { id: HOT, currency: CURRENCY }), [200, 201], 'open hot');
  await inParallel(accounts, concurrency, async (i) => {
    expectStatus(
      await client.post('/v1/accounts', { id: accountId(i), currency: CURRENCY }),
      [200, 201],
      `open ${accountId(i)}`,
    );
  });
  const openedMs = performance.now() - started;

  const fundStarted = performance.now();
  const funding = [];
  for (let i = 0; i < accounts; i++) {
    funding.push({
      id: `fund-${i}`,
      debitAccountId: BANK,
      creditAccountId: accountId(i),
      amount: '100000000',
      currency: CURRENCY,
    });
  }
  funding.push({ id: 'fund-hot', debitAccountId: BANK, creditAccountId: HOT, amount: '100000000', currency: CURRENCY });
  let lastPosition = '0';
  for (let i = 0; i < funding.length; i += 1000) {
    const response = await client.post('/v1/transfers/batch', { transfers: funding.slice(i, i + 1000) });
    expectStatus(response, [200], 'fund accounts (batch)');
    const body = response.json();
    const failed = body.results.filter((r) => r.status === 'failed');
    if (failed.length > 0)
      throw new Error(`funding: ${failed.length} transfers failed, e.g. ${JSON.stringify(failed[0])}`);
    lastPosition = body.position;
  }
  return {
    accounts: accounts + 2,
    openMs: openedMs,
    fundMs: performance.now() - fundStarted,
    transfers: funding.length,
    lastPosition,
  };
}

/**
 * Waits until the read models include everything written so far: posts one marker transfer and
 * reads it back with `minPosition` (each read waits up to the service's 5 s), up to `maxMs`.
 * Returns the milliseconds it took, or null when the projector did not catch up in time.
 */
export async function settle(client, source, maxMs = 60_000) {
  const started = performance.now();
  const marker = source.spread();
  const posted = await client.post('/v1/transfers', marker);
  if (posted.status !== 201 && posted.status !== 200)
    throw new Error(`settle marker: HTTP ${posted.status} ${posted.text.slice(0, 300)}`);
  const { position } = posted.json();
  while (performance.now() - started < maxMs) {
    const read = await client.get(`/v1/transfers/${marker.id}?minPosition=${position}`);
    if (read.status === 200) return performance.now() - started;
    if (read.status !== 503) throw new Error(`settle read: HTTP ${read.status} ${read.text.slice(0, 300)}`);
  }
  return null;
}
