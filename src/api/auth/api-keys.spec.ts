import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../config';
import { ApiKeys, apiKeyId, bearerToken, generateApiKey, parseApiKeys } from './api-keys';

describe('LEDGER_API_KEYS', () => {
  it('parses key:role pairs; the role is after the last colon', () => {
    const keys = parseApiKeys(' k1:operator, k:2:auditor ,k3:admin');
    expect(keys.map(({ id, role }) => ({ id, role }))).toEqual([
      { id: apiKeyId('k1'), role: 'operator' },
      { id: apiKeyId('k:2'), role: 'auditor' },
      { id: apiKeyId('k3'), role: 'admin' },
    ]);
  });

  it('is empty when unset or blank', () => {
    expect(parseApiKeys(undefined)).toEqual([]);
    expect(parseApiKeys('  ')).toEqual([]);
  });

  it.each([
    'secret-one',
    'secret-one:',
    'secret-one:root',
    ':admin',
    'secret one:admin',
    'secret-one:admin,secret-one:auditor',
  ])('refuses %j without repeating the key in the message', (value) => {
    let error: unknown;
    try {
      parseApiKeys(value);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/LEDGER_API_KEYS entry \d/);
    expect((error as Error).message).not.toContain('secret');
  });

  it('names a key by a short digest that does not contain it', () => {
    expect(apiKeyId('a-key')).toMatch(/^key-[0-9a-f]{12}$/);
    expect(apiKeyId('a-key')).toBe(apiKeyId('a-key'));
    expect(apiKeyId('a-key')).not.toBe(apiKeyId('a-kez'));
  });

  it('finds the key presented, and nothing for a prefix, an extension or another case', () => {
    const keys = ApiKeys.fromConfig('alpha-key:operator,beta-key:admin');
    expect(keys.find('beta-key')).toMatchObject({ role: 'admin', id: apiKeyId('beta-key') });
    expect(keys.find('alpha-key')).toMatchObject({ role: 'operator' });
    for (const other of ['', 'beta', 'beta-key ', 'beta-keyy', 'BETA-KEY', 'alpha-key:operator'])
      expect(keys.find(other)).toBeUndefined();
  });

  it('generates 256-bit URL-safe keys', () => {
    const key = generateApiKey();
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(generateApiKey()).not.toBe(key);
  });

  it('reads the key from a Bearer authorization header only', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer abc')).toBe('abc');
    for (const header of [undefined, '', 'Bearer', 'Bearer ', 'Basic abc', 'Bearer a b', 'abc', ['Bearer abc']]) {
      expect(bearerToken(header as string | undefined)).toBeUndefined();
    }
  });
});
