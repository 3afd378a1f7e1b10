/**
 * The folders are the architecture (docs/architecture.md, "Import rules"): checked over the import
 * graph of src/, so a shortcut across floors fails here rather than in a review.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(__dirname, '../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return /\.ts$/.test(name) && !/\.spec\.ts$/.test(name) ? [full] : [];
  });
}

/** Every module a file names: static imports and re-exports (type-only too), require() and import(). */
function specifiers(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  const patterns = [
    /^\s*(?:import|export)\b[^'"]*?\bfrom\s*['"]([^'"]+)['"]/gm,
    /^\s*import\s*['"]([^'"]+)['"]/gm,
    /\brequire\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
    /^\s*declare module\s*['"]([^'"]+)['"]/gm,
  ];
  for (const pattern of patterns) for (const match of text.matchAll(pattern)) found.push(match[1]!);
  return found;
}

/** A file's unit: its folder under src/ (`projections`), or the file itself at the top (`config.ts`). */
function unitOf(file: string): string {
  const [first] = path.relative(SRC, file).split(path.sep);
  return first!;
}

interface Edge {
  readonly from: string;
  readonly to: string;
  readonly file: string;
  readonly specifier: string;
}

function edges(): Edge[] {
  return sourceFiles(SRC).flatMap((file) =>
    specifiers(file)
      .filter((s) => s.startsWith('.'))
      .map((specifier) => {
        const target = path.resolve(path.dirname(file), specifier);
        return { from: unitOf(file), to: unitOf(target), file: path.relative(SRC, file), specifier };
      }),
  );
}

/** Strongly connected components of more than one unit (Tarjan). */
function cycles(graph: Map<string, Set<string>>): string[][] {
  let index = 0;
  const stack: string[] = [];
  const onStack = new Set<string>();
  const indexOf = new Map<string, number>();
  const low = new Map<string, number>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    indexOf.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!indexOf.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, indexOf.get(w)!));
    }
    if (low.get(v) === indexOf.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!indexOf.has(v)) visit(v);
  return found;
}

describe('the import graph of src/', () => {
  const all = edges();

  it('has no cycle between folders', () => {
    const graph = new Map<string, Set<string>>();
    for (const e of all) {
      if (e.from === e.to) continue;
      if (!graph.has(e.from)) graph.set(e.from, new Set());
      graph.get(e.from)!.add(e.to);
    }
    const found = cycles(graph);
    const explain = found.map((component) =>
      all
        .filter((e) => e.from !== e.to && component.includes(e.from) && component.includes(e.to))
        .map((e) => `${e.file} -> ${e.specifier}`)
        .join('\n'),
    );
    expect(explain).toEqual([]);
  });

  it('platform/ (the ground floor) imports packages only, never a folder above it', () => {
    const upward = all.filter((e) => e.from === 'platform' && e.to !== 'platform');
    expect(upward.map((e) => `${e.file} -> ${e.specifier}`)).toEqual([]);
  });

  it('domain/ imports nothing outside itself', () => {
    const outside = sourceFiles(path.join(SRC, 'domain')).flatMap((file) =>
      specifiers(file)
        .filter((s) => !s.startsWith('./'))
        .map((s) => `${path.relative(SRC, file)} -> ${s}`),
    );
    expect(outside).toEqual([]);
  });

  it('sees the imports it checks (a parser that finds none would pass everything)', () => {
    expect(all.some((e) => e.file === 'app.ts' && e.to === 'projections')).toBe(true);
    expect(all.some((e) => e.from === 'projections' && e.to === 'platform')).toBe(true);
  });
});
