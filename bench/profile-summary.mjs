#!/usr/bin/env node
// Summarises a V8 CPU profile written by `BENCH_CPU_PROF=1 npm run bench` or bench/profile-writes.mjs:
//   node bench/profile-summary.mjs bench/out/profile/<file>.cpuprofile [top=25] [commands]
// prints the CPU time by stage of a request (HTTP, auth, validation, tracing, logging, command bus,
// deciding, the database client, serialisation, the projector, GC; a native frame counts for the
// nearest caller in a known module), per command when `commands` (how many the process served)
// is given, then the functions with the most self time and self time by module.
import { readFileSync } from 'node:fs';

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/profile-summary.mjs <file.cpuprofile> [top]');
  process.exit(2);
}
const top = Number(topArg ?? 25);
const commands = Number(process.argv[4] ?? 0);
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

// Stages of the write path, by where the code lives. Order matters: the first match wins.
/** @type {Array<[string, (module: string) => boolean]>} */
const STAGES = [
  ['startup (module loading)', (u) => u.startsWith('node:internal/modules')],
  [
    'HTTP: node http, Fastify, routing, body parsing',
    (u) =>
      /node:_http|node:net|node:internal\/(streams|stream_base|http)|dep: (fastify|@fastify|find-my-way|secure-json-parse|light-my-request|avvio|fast-json-stringify|@nestjs\/platform-fastify)/.test(
        u,
      ),
  ],
  ['security headers (helmet)', (u) => u.includes('dep: helmet') || u.includes('dep: @fastify/helmet')],
  ['auth and rate limit', (u) => u.includes('service: api/auth') || u.includes('dep: @nestjs/throttler')],
  [
    'validation (zod)',
    (u) => u.includes('dep: zod') || u.includes('service: api/validation') || u.includes('service: api/schemas'),
  ],
  ['tracing (OpenTelemetry)', (u) => u.includes('dep: @opentelemetry') || u.includes('service: platform/tracing')],
  ['logging', (u) => u.includes('service: platform/logging') || u.includes('dep: pino')],
  ['metrics (prom-client)', (u) => u.includes('dep: prom-client') || u.includes('service: platform/metrics')],
  [
    'Nest and the command bus',
    (u) => /dep: (@nestjs|reflect-metadata|rxjs)/.test(u) || u.includes('service: commands/handlers'),
  ],
  ['serialisation (presenters)', (u) => u.includes('service: api/')],
  ['deciding (writer, domain)', (u) => u.includes('service: commands/') || u.includes('service: domain/')],
  [
    'event store and database client (append, hash text, pg)',
    (u) =>
      /service: eventstore|dep: (pg|pg-protocol|pg-pool|kysely|@electric-sql)|node:internal\/crypto|node:buffer/.test(
        u,
      ),
  ],
  [
    'projector, time index, Merkle tree, checkpoints',
    (u) => /service: (projections|audit|platform\/(checkpoints|log-follower|log-reader|leader-lock))/.test(u),
  ],
  ['other service code', (u) => u.startsWith('service: ')],
];
const parentOf = new Map();
for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
const nodeById = new Map(profile.nodes.map((node) => [node.id, node]));
function stageOf(node) {
  const name = node.callFrame.functionName;
  if (name === '(idle)') return undefined;
  if (name === '(garbage collector)') return 'garbage collection';
  for (let id = node.id; id !== undefined; id = parentOf.get(id)) {
    const url = nodeById.get(id).callFrame.url;
    if (!url) continue;
    const mod = moduleOf(url);
    const stage = STAGES.find(([, match]) => match(mod));
    if (stage) return stage[0];
  }
  return 'other (native, microtasks, timers)';
}
const byStage = new Map();
for (const node of profile.nodes) {
  const us = selfUs.get(node.id) ?? 0;
  if (us === 0) continue;
  const stage = stageOf(node);
  if (stage) byStage.set(stage, (byStage.get(stage) ?? 0) + us);
}

const pct = (us) => `${((us / totalUs) * 100).toFixed(1).padStart(5)}%`;
const print = (title, map) => {
  console.log(`\n${title}`);
  for (const [key, us] of [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${pct(us)}  ${(us / 1000).toFixed(0).padStart(7)} ms  ${key}`);
  }
};
console.log(`${file}: ${(totalUs / 1e6).toFixed(1)} s of samples`);
const busyUs = [...byStage].filter(([stage]) => !stage.startsWith('startup')).reduce((sum, [, us]) => sum + us, 0);
console.log(
  `\nCPU by stage (busy ${(busyUs / 1e6).toFixed(1)} s, startup excluded${commands ? `; per command over ${commands} commands` : ''})`,
);
for (const [stage, us] of [...byStage.entries()].sort((a, b) => b[1] - a[1])) {
  const perCommand =
    commands && !stage.startsWith('startup') ? `  ${(us / commands).toFixed(1).padStart(6)} µs/command` : '';
  console.log(`${pct(us)}  ${(us / 1000).toFixed(0).padStart(7)} ms${perCommand}  ${stage}`);
}
print('self time by module', byModule);
print('self time by function', byFunction);
