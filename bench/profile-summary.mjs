#!/usr/bin/env node
// Summarises a V8 CPU profile written by `BENCH_CPU_PROF=1 npm run bench`:
//   node bench/profile-summary.mjs bench/out/profile/<file>.cpuprofile [top=25]
// prints the functions with the most self time, and self time by module (service code by file,
// dependencies by package).
import { readFileSync } from 'node:fs';

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/profile-summary.mjs <file.cpuprofile> [top]');
  process.exit(2);
}
const top = Number(topArg ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8'));

const selfUs = new Map(); // node id -> microseconds
const deltas = profile.timeDeltas ?? [];
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i];
  selfUs.set(id, (selfUs.get(id) ?? 0) + (deltas[i] ?? 0));
}
const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0);

function moduleOf(url) {
  if (!url) return '(native / V8)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return `dep: ${rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  const dist = url.indexOf('/dist/src/');
  if (dist >= 0) return `service: ${url.slice(dist + '/dist/src/'.length)}`;
  if (url.startsWith('node:')) return `node: ${url.slice(5)}`;
  return url;
}

const byFunction = new Map();
const byModule = new Map();
for (const node of profile.nodes) {
  const us = selfUs.get(node.id) ?? 0;
  if (us === 0) continue;
  const { functionName, url, lineNumber } = node.callFrame;
  const mod = moduleOf(url);
  const key = `${functionName || '(anonymous)'}  ${mod}${url ? `:${lineNumber + 1}` : ''}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  byModule.set(mod, (byModule.get(mod) ?? 0) + us);
}

const pct = (us) => `${((us / totalUs) * 100).toFixed(1).padStart(5)}%`;
const print = (title, map) => {
  console.log(`\n${title}`);
  for (const [key, us] of [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${pct(us)}  ${(us / 1000).toFixed(0).padStart(7)} ms  ${key}`);
  }
};
console.log(`${file}: ${(totalUs / 1e6).toFixed(1)} s of samples`);
print('self time by module', byModule);
print('self time by function', byFunction);
