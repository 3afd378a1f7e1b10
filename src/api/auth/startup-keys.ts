import { type Config, ConfigError } from '../../config';
import { generateApiKey, parseApiKeys } from './api-keys';

/**
 * The keys a starting service uses (docs/contract.md, "Auth"). With none configured, an API process makes
 * one admin key for this run, which the caller prints once; with NODE_ENV=production it refuses to
 * start instead, so a deployment never runs on a key that only its first log line knows.
 */
export function keysForStartup(config: Config): { config: Config; generatedKey?: string } {
  if (!config.LEDGER_ROLES.includes('api') || parseApiKeys(config.LEDGER_API_KEYS).length > 0) return { config };
  if (config.NODE_ENV === 'production') {
    throw new ConfigError(
      'NODE_ENV=production and LEDGER_API_KEYS is not set: the ledger will not start without API keys. ' +
        'Set LEDGER_API_KEYS="<key>:admin,<key>:operator,..." (roles: operator, auditor, admin).',
    );
  }
  const key = generateApiKey();
  return { config: { ...config, LEDGER_API_KEYS: `${key}:admin` }, generatedKey: key };
}

/** The lines `npm start` prints, once, with a generated key. */
export const generatedKeyNotice = (key: string): string =>
  [
    'LEDGER_API_KEYS is not set: generated one admin API key for this run. It is printed only now and stored nowhere:',
    '',
    `    ${key}`,
    '',
    `Send it as "Authorization: Bearer <key>". Set LEDGER_API_KEYS to choose your own keys (required with NODE_ENV=production).`,
    '',
  ].join('\n');
