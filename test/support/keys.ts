/**
 * The API keys every test service is started with (LEDGER_API_KEYS), one per role. Helpers send
 * the admin key unless a test says otherwise.
 */
export const TEST_KEYS = {
  admin: 'test-admin-key-2f6c1e0a9d4b7c35',
  operator: 'test-operator-key-8a1d5e3c0b9f7d21',
  auditor: 'test-auditor-key-4e7b2a9c6d1f0e83',
  analyst: 'test-analyst-key-7c3e9b1d5a0f2e64',
} as const;

export type TestRole = keyof typeof TEST_KEYS;

export const TEST_API_KEYS = Object.entries(TEST_KEYS)
  .map(([role, key]) => `${key}:${role}`)
  .join(',');

export const bearer = (key: string): { authorization: string } => ({ authorization: `Bearer ${key}` });

/**
 * Headers with the admin key added, unless the caller names `authorization` itself (any case);
 * `authorization: undefined` sends no such header at all.
 */
export function withDefaultKey(headers: Record<string, string | undefined> = {}): Record<string, string> {
  const named = Object.keys(headers).some((name) => name.toLowerCase() === 'authorization');
  const all = named ? headers : { ...bearer(TEST_KEYS.admin), ...headers };
  return Object.fromEntries(Object.entries(all).filter((entry): entry is [string, string] => entry[1] !== undefined));
}
