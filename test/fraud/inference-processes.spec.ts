import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FEATURE_COUNT } from '../../src/fraud/features';
import { defaultModelPath } from '../../src/fraud/fraud-role';
import { InferencePool } from '../../src/fraud/inference-pool';
import { until } from './fraud-helpers';
import { readReferenceModel, stallingModel } from './onnx-reference';

/**
 * The inference processes of ADR 0040, with the real ONNX Runtime: a run that stalls in native code,
 * a process killed from outside, close(), and a service that dies. Every process these tests kill
 * was started by them (through the pool, or the parent process they spawn).
 */
const SHIPPED = defaultModelPath();
const ROW = Float32Array.from({ length: FEATURE_COUNT }, (_, i) => i / 10);

/** Whether no process with this pid exists any more (exited and reaped). */
function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Whether `pid` is still one of ours (an inference process), not a process that reused the number. */
function stillInference(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('inference-process.js');
  } catch {
    return !gone(pid) && process.platform !== 'linux';
  }
}

/** Whether `promise` is still pending after `ms`. */
const pendingAfter = (promise: Promise<unknown>, ms: number) =>
  Promise.race([
    promise.then(
      () => false,
      () => false,
    ),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(true), ms)),
  ]);

let dir: string;
const pools: InferencePool[] = [];
/** Pids started by these tests: any left alive when a test fails are ended in afterEach. */
const started = new Set<number>();

async function startPool(model: 'stalling' | 'shipped', workers = 1): Promise<{ pool: InferencePool; file: string }> {
  const file = path.join(dir, `model-${pools.length}.onnx`);
  if (model === 'stalling') writeFileSync(file, stallingModel(FEATURE_COUNT));
  else copyFileSync(SHIPPED, file);
  const pool = await InferencePool.start({ modelPath: file, providers: ['cpu'], featureCount: FEATURE_COUNT, workers });
  pools.push(pool);
  for (const pid of pool.pids) started.add(pid);
  return { pool, file };
}

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'fraud-processes-'));
});
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.close()));
  for (const pid of started) if (!gone(pid) && stillInference(pid)) process.kill(pid, 'SIGKILL');
  started.clear();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('inference in child processes (ADR 0040)', () => {
  it('runs each session in its own process, not in the service', async () => {
    const { pool } = await startPool('shipped', 2);
    expect(pool.workers).toBe(2);
    expect(pool.pids).toHaveLength(2);
    expect(new Set([...pool.pids, process.pid]).size).toBe(3);
    const scores = await pool.score(ROW, 1);
    expect(scores[0]).toBeCloseTo(readReferenceModel(SHIPPED).score(ROW), 5);
  });

  it('a run stalled in native code is aborted: the caller is told, the process is killed and a fresh one scores', async () => {
    const { pool, file } = await startPool('stalling');
    const [stuck] = pool.pids;
    const controller = new AbortController();
    const pending = pool.score(ROW, 1, controller.signal);
    expect(await pendingAfter(pending, 300)).toBe(true);
    expect(gone(stuck!)).toBe(false);
    copyFileSync(SHIPPED, file); // the process that replaces it loads the file again
    controller.abort();
    await expect(pending).rejects.toThrow('inference was aborted (timed out); its process is killed and replaced');
    await until('the stuck process to be gone', () => gone(stuck!), 10_000);
    const scores = await pool.score(ROW, 1);
    expect(scores[0]).toBeCloseTo(readReferenceModel(SHIPPED).score(ROW), 5);
    expect(pool.pids).toHaveLength(1);
    expect(pool.pids[0]).not.toBe(stuck);
    started.add(pool.pids[0]!);
  });

  it('a process killed from outside (SIGKILL) fails its job with the reason, and a fresh one takes its place', async () => {
    const { pool, file } = await startPool('stalling');
    const [first] = pool.pids;
    const pending = pool.score(ROW, 1);
    expect(await pendingAfter(pending, 200)).toBe(true);
    copyFileSync(SHIPPED, file);
    process.kill(first!, 'SIGKILL');
    await expect(pending).rejects.toThrow('the inference process died: killed by SIGKILL');
    expect((await pool.score(ROW, 1))[0]).toBeCloseTo(readReferenceModel(SHIPPED).score(ROW), 5);
    const [second] = pool.pids;
    expect(second).not.toBe(first);
    started.add(second!);
    // An idle process that dies is replaced as well.
    process.kill(second!, 'SIGKILL');
    await until('a third process', () => pool.pids.length === 1 && pool.pids[0] !== second, 10_000);
    started.add(pool.pids[0]!);
    expect(await pool.score(ROW, 1)).toHaveLength(1);
    expect(pool.loadError).toBeUndefined();
  });

  it('close() rejects what runs and what waits, kills every process, and resolves once they have exited', async () => {
    const { pool } = await startPool('stalling', 2);
    const pids = pool.pids;
    expect(pids).toHaveLength(2);
    // Two running (stalled), one queued behind them.
    const jobs = [pool.score(ROW, 1), pool.score(ROW, 1), pool.score(ROW, 1)];
    const outcomes = jobs.map((job) =>
      job.then(
        () => 'scored',
        (error: Error) => error.message,
      ),
    );
    expect(await pendingAfter(Promise.race(jobs), 200)).toBe(true);
    await pool.close();
    for (const pid of pids) expect(gone(pid), `pid ${pid}`).toBe(true);
    expect(await Promise.all(outcomes)).toEqual(Array(3).fill('the inference pool is closed'));
    await expect(pool.score(ROW, 1)).rejects.toThrow('the inference pool is closed');
  });

  it('a service that dies (SIGKILL) leaves no inference process behind, idle or stalled in a run', async () => {
    const file = path.join(dir, 'stalling-for-the-parent.onnx');
    writeFileSync(file, stallingModel(FEATURE_COUNT));
    // A stand-in for the service: the compiled pool with two processes, one of them stalled in a run.
    const parent = spawn(
      process.execPath,
      [
        '-e',
        `const { InferencePool } = require(process.argv[1]);
         InferencePool.start({ modelPath: process.argv[2], providers: ['cpu'], featureCount: ${FEATURE_COUNT}, workers: 2 })
           .then((pool) => { void pool.score(new Float32Array(${FEATURE_COUNT}), 1).catch(() => {});
                             setTimeout(() => console.log(JSON.stringify(pool.pids)), 200); });`,
        path.resolve(__dirname, '../../dist/src/fraud/inference-pool.js'),
        file,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = new Promise((resolve) => parent.once('exit', resolve));
    try {
      const pids = await new Promise<number[]>((resolve, reject) => {
        parent.stdout.once('data', (chunk) => resolve(JSON.parse(String(chunk)) as number[]));
        parent.once('exit', (code) => reject(new Error(`the parent exited (${code}) before it printed its pids`)));
      });
      for (const pid of pids) started.add(pid);
      expect(pids).toHaveLength(2);
      for (const pid of pids) expect(gone(pid)).toBe(false);
      parent.kill('SIGKILL');
      await exited;
      await until('the orphaned inference processes to end', () => pids.every(gone), 10_000);
    } finally {
      if (parent.exitCode === null && parent.signalCode === null) parent.kill('SIGKILL');
    }
  });
});
