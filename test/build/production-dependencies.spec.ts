import { readFileSync, readdirSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** The files `tsc -p tsconfig.build.json` compiles: src/ without its specs. */
function productionSources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return productionSources(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [full] : [];
  });
}

/** `@scope/name/sub` → `@scope/name`, `name/sub` → `name`. */
const packageOf = (specifier: string) =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');

describe('the production build', () => {
  it('imports only runtime dependencies (no dev-only package such as onnx-proto reaches dist/src)', () => {
    const offending: string[] = [];
    for (const file of productionSources(path.join(root, 'src'))) {
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(/(?:from\s+|import\s*\(\s*|require\(\s*)'([^'.][^']*)'/g)) {
        const name = packageOf(match[1]!);
        if (name.startsWith('node:') || builtinModules.includes(name)) continue;
        if (!(name in pkg.dependencies)) offending.push(`${path.relative(root, file)} imports ${name}`);
      }
    }
    expect(offending).toEqual([]);
    // Guards the guard: the scan sees the model's runtime import.
    expect(readFileSync(path.join(root, 'src/fraud/inference-process.ts'), 'utf8')).toMatch(/from 'onnxruntime-node'/);
  });
});
