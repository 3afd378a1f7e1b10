import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Database } from './database';

/** `migrations/` at the repository root, seen from src/platform (tests) or dist/src/platform. */
function migrationsDir(): string {
  for (const up of ['../..', '../../..']) {
    const candidate = path.resolve(__dirname, up, 'migrations');
    try {
      readdirSync(candidate);
      return candidate;
    } catch {
      // not this one
    }
  }
  throw new Error('migrations/ folder not found next to src/ or dist/');
}

/** Applies, in order, the numbered forward-only SQL files in `migrations/` this database lacks. */
export async function migrate(database: Database): Promise<string[]> {
  const dir = migrationsDir();
  const files = readdirSync(dir)
    .filter((name) => /^\d{4}_[a-z0-9_]+\.sql$/.test(name))
    .sort();
  const applied: string[] = [];
  for (const file of files) {
    const version = file.replace(/\.sql$/, '');
    if (await database.applyMigration(version, readFileSync(path.join(dir, file), 'utf8'))) applied.push(version);
  }
  return applied;
}
