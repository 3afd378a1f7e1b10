import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../..');
const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8'));
const pkg = readJson(path.join(root, 'package.json')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [full] : [];
  });
}

describe('package.json', () => {
  it('pins every dependency exactly (no ranges: the lock file and the manifest say the same)', () => {
    const ranged = Object.entries({ ...pkg.dependencies, ...pkg.devDependencies })
      .filter(([, version]) => !/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(version))
      .map(([name, version]) => `${name}@${version}`);
    expect(ranged).toEqual([]);
  });

  it('declares as runtime dependencies only what src/ imports, or what one of them needs as a peer', () => {
    const text = sources(path.join(root, 'src'))
      .map((file) => readFileSync(file, 'utf8'))
      .join('\n');
    const peers = new Set(
      Object.keys(pkg.dependencies).flatMap((name) =>
        Object.keys(readJson(path.join(root, 'node_modules', name, 'package.json')).peerDependencies ?? {}),
      ),
    );
    const unused = Object.keys(pkg.dependencies).filter((name) => {
      const escaped = name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      const imported = new RegExp(`['"]${escaped}(/[^'"]*)?['"]`).test(text);
      return !imported && !peers.has(name);
    });
    expect(unused).toEqual([]);
  });
});
