// Compiles the service (tsc -p tsconfig.build.json) when dist/src/main.js is missing or older than
// any file under src/ or any tsconfig*.json, and the web console (vite build) when
// dist/console/index.html is missing or older than any file under console/; otherwise does nothing. Used by `npm start` and the
// npm scripts that run compiled code, so a fresh clone needs no separate build step.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const output = path.join(root, 'dist', 'src', 'main.js');

/** The newest modification time of any file under `dir` (0 when there is none). */
function newestUnder(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestUnder(full));
    else if (entry.isFile()) newest = Math.max(newest, statSync(full).mtimeMs);
  }
  return newest;
}

function reason() {
  if (!existsSync(output)) return 'dist/src/main.js is missing';
  const built = statSync(output).mtimeMs;
  const tsconfigs = readdirSync(root).filter((name) => /^tsconfig.*\.json$/.test(name));
  const newestInput = Math.max(
    newestUnder(path.join(root, 'src')),
    ...tsconfigs.map((name) => statSync(path.join(root, name)).mtimeMs),
  );
  return newestInput > built ? 'src/ or tsconfig changed since the last build' : undefined;
}

/** Runs an npm package's bin with this Node, as `npx` would find it, without npx's start-up cost. */
function runBin(resolveId, args, fallback) {
  let command = process.execPath;
  let argv;
  try {
    argv = [createRequire(import.meta.url).resolve(resolveId), ...args];
  } catch {
    command = process.platform === 'win32' ? 'npx.cmd' : 'npx';
    argv = [...fallback, ...args];
  }
  return spawnSync(command, argv, { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
}

const consoleIndex = path.join(root, 'dist', 'console', 'index.html');
function consoleReason() {
  if (!existsSync(path.join(root, 'console'))) return undefined; // an image with the console prebuilt
  if (!existsSync(consoleIndex)) return 'dist/console is missing';
  return newestUnder(path.join(root, 'console')) > statSync(consoleIndex).mtimeMs
    ? 'console/ changed since the last build'
    : undefined;
}

const why = reason();
if (why) {
  console.log(`[build] ${why}: building with tsc -p tsconfig.build.json`);
  // The project's own TypeScript, as `npx tsc` would find it, without npx's start-up cost.
  let command = process.execPath;
  let args;
  try {
    args = [createRequire(import.meta.url).resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'];
  } catch {
    command = process.platform === 'win32' ? 'npx.cmd' : 'npx';
    args = ['tsc', '-p', 'tsconfig.build.json'];
  }
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  if (result.status !== 0) {
    // tsc emits even when it reports errors; remove the entry point so the next run builds again.
    rmSync(output, { force: true });
    process.exit(result.status ?? 1);
  }
}

const consoleWhy = consoleReason();
if (consoleWhy) {
  console.log(`[build] ${consoleWhy}: building the console with vite build`);
  const result = runBin('vite/bin/vite.js', ['build', '-c', 'console/vite.config.mts', '--logLevel', 'warn'], ['vite']);
  if (result.status !== 0) {
    rmSync(consoleIndex, { force: true });
    process.exit(result.status ?? 1);
  }
}
