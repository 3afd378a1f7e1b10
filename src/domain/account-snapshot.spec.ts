import { describe, expect, it } from 'vitest';
import { type Account, evolveAccount, openedAccount } from './account';
import { ACCOUNT_SNAPSHOT_SCHEMA, decodeAccountSnapshot, encodeAccountSnapshot } from './account-snapshot';

const opened = openedAccount({
  type: 'AccountOpened',
  data: {
    accountId: 'a',
    currency: 'USD',
    normalSide: 'credit',
    flags: { debitsMustNotExceedCredits: true, creditsMustNotExceedDebits: false },
    code: 'c1',
    metadata: { k: 'v' },
    openedAt: '2026-01-01T00:00:00.000Z',
  },
});
const account: Account = evolveAccount(
  { ...opened, creditsPosted: 2n ** 127n - 1n },
  { type: 'AccountFrozen', data: { accountId: 'a', reason: 'r' } },
);

describe('account snapshot codec', () => {
  it('round-trips the whole state through JSON, amounts as decimal strings', () => {
    const encoded = encodeAccountSnapshot(account);
    expect(encoded.account.creditsPosted).toBe('170141183460469231731687303715884105727');
    expect(encoded.schema).toBe(ACCOUNT_SNAPSHOT_SCHEMA);
    expect(decodeAccountSnapshot(JSON.parse(JSON.stringify(encoded)))).toEqual(account);
  });

  it('decodes a snapshot of another schema as absent (the events are folded instead)', () => {
    expect(decodeAccountSnapshot({ ...encodeAccountSnapshot(account), schema: 0 })).toBeUndefined();
    expect(decodeAccountSnapshot(null)).toBeUndefined();
  });

  it('refuses an amount that is not a decimal string rather than guess', () => {
    const broken = {
      schema: ACCOUNT_SNAPSHOT_SCHEMA,
      account: { ...encodeAccountSnapshot(account).account, debitsPosted: 1 },
    };
    expect(() => decodeAccountSnapshot(broken)).toThrow(/debitsPosted/);
  });
});

describe('account snapshot codec: damage', () => {
  it.each([
    ['status', { status: 'asleep' }, /status is not open, frozen or closed/],
    ['flags', { flags: { debitsMustNotExceedCredits: true } }, /flags is not the two balance flags/],
    ['metadata', { metadata: { k: 1 } }, /metadata is not an object of strings/],
    ['version', { version: '3' }, /version is not a whole number/],
  ])(
    'refuses a snapshot of the current schema whose %s is wrong, naming the account and the field',
    (_, change, message) => {
      const broken = {
        schema: ACCOUNT_SNAPSHOT_SCHEMA,
        account: { ...encodeAccountSnapshot(account).account, ...change },
      };
      expect(() => decodeAccountSnapshot(broken)).toThrow(message);
      expect(() => decodeAccountSnapshot(broken)).toThrow(/account snapshot of a:/);
    },
  );
});
