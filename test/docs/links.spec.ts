import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../..');

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return markdownFiles(full);
    return entry.name.endsWith('.md') ? [full] : [];
  });
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
const anchorOf = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');

function anchors(file: string): Set<string> {
  const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
  return new Set([...text.matchAll(/^#+\s+(.*)$/gm)].map((m) => anchorOf(m[1]!)));
}

/** Relative links of a markdown file (code blocks left out): `[text](target)` and `![alt](target)`. */
function relativeLinks(file: string): string[] {
  const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1]!)
    .filter((target) => !/^(https?:|mailto:)/.test(target));
}

describe('README.md and docs/', () => {
  const files = [path.join(root, 'README.md'), ...markdownFiles(path.join(root, 'docs'))];

  it('README.md stays short: at most 150 lines, the details live in docs/', () => {
    expect(readFileSync(path.join(root, 'README.md'), 'utf8').split('\n').length).toBeLessThanOrEqual(150);
  });

  it('every relative link resolves to a file, and every #anchor to a heading of it', () => {
    const broken: string[] = [];
    for (const file of files) {
      for (const target of relativeLinks(file)) {
        const [where = '', anchor] = target.split('#');
        const resolved = where === '' ? file : path.resolve(path.dirname(file), decodeURI(where));
        const name = `${path.relative(root, file)} -> ${target}`;
        if (!existsSync(resolved)) broken.push(`${name} (no such file)`);
        else if (anchor && resolved.endsWith('.md') && !anchors(resolved).has(anchor))
          broken.push(`${name} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('docs/architecture.md indexes every ADR in docs/adr/', () => {
    const index = readFileSync(path.join(root, 'docs/architecture.md'), 'utf8');
    const adrs = readdirSync(path.join(root, 'docs/adr')).filter((name) => /^\d{4}-.*\.md$/.test(name));
    expect(adrs.length).toBeGreaterThan(0);
    expect(adrs.filter((name) => !index.includes(`(adr/${name})`))).toEqual([]);
  });

  it('the README links into every part of docs/ that exists', () => {
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    for (const doc of [
      'contract',
      'api-guide',
      'auditing',
      'events',
      'operations',
      'configuration',
      'testing',
      'architecture',
    ]) {
      expect(readme, doc).toContain(`(docs/${doc}.md`);
    }
  });
});
