import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configurationMarkdown } from '../../src/cli/configuration-doc';
import { ConfigSchema } from '../../src/config';

describe('docs/configuration.md', () => {
  const committed = readFileSync(path.resolve(__dirname, '../../docs/configuration.md'), 'utf8');

  it('is what the configuration schema generates (run `npm run docs:config` after changing src/config.ts)', () => {
    expect(committed).toBe(configurationMarkdown());
  });

  it('lists every name src/config.ts reads, with the default the schema applies', () => {
    for (const name of Object.keys(ConfigSchema.shape)) expect(committed, name).toContain(`| \`${name}\` |`);
    expect(committed).toContain('| `PORT` | `3000` |');
    expect(committed).toContain('| `LEDGER_RATE_LIMIT` | `5000` |');
  });
});
