import { type ChildProcess, fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { ExecutionProvider } from './execution-providers';
import type { FromInferenceProcess, InferenceProcessData, ToInferenceProcess } from './inference-process';

export interface InferencePoolOptions {
  readonly modelPath: string;
  readonly providers: readonly ExecutionProvider[];
  readonly featureCount: number;
  /** Inference processes (each with its own session). */
  readonly workers: number;
}

/** The model file could not be loaded: a clear message naming the file, at start. */
export class ModelLoadError extends Error {
  constructor(modelPath: string, reason: string) {
    super(`the fraud model ${modelPath} could not be loaded: ${reason}`);
    this.name = 'ModelLoadError';
  }
}

/**
 * The compiled inference process: next to this file when running from dist/, or in dist/ when tests
 * run the TypeScript (refused when older than its source, so a test never runs yesterday's child).
 */
function processScript(): string {
  const sibling = path.join(__dirname, 'inference-process.js');
  if (existsSync(sibling)) return sibling;
  const built = path.resolve(__dirname, '../../dist/src/fraud/inference-process.js');
  if (!existsSync(built)) throw new Error(`${built} is missing: run npm run build`);
  const source = path.join(__dirname, 'inference-process.ts');
  if (existsSync(source) && statSync(source).mtimeMs > statSync(built).mtimeMs)
    throw new Error(`${built} is older than ${source}: run npm run build`);
  return built;
}

/** `fraud-v1@<first 12 hex of the file's SHA-256>`: the name says which model, the hash which bytes. */
export function modelVersionOf(modelPath: string, bytes: Buffer): string {
  return `${path.basename(modelPath).replace(/\.onnx$/i, '')}@${createHash('sha256').update(bytes).digest('hex').slice(0, 12)}`;
}

interface Pending {
  readonly features: Float32Array;
  readonly rows: number;
  readonly signal: AbortSignal | undefined;
  resolve(scores: Float32Array): void;
  reject(error: Error): void;
}

interface Running {
  readonly id: number;
  readonly job: Pending;
  readonly onAbort: () => void;
}

interface Slot {
  /** Undefined while a replacement starts. */
  child: ChildProcess | undefined;
  running: Running | undefined;
}

const describeExit = (code: number | null, signal: NodeJS.Signals | null) =>
  signal ? `killed by ${signal}` : `exited with code ${code}`;

/**
 * Child processes (ADR 0040), each holding an ONNX Runtime session of the same model file. `score`
 * hands a batch to an idle process (or queues it). An aborted run (a timeout) SIGKILLs its process,
 * since a stuck `session.run()` cannot be interrupted otherwise, and a fresh process takes its
 * place; so does a process that dies. Nothing that happens to a process can end the service.
 */
export class InferencePool {
  private slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  /** Every child started and not yet exited, the replaced ones included: close() waits for them all. */
  private readonly alive = new Map<ChildProcess, Promise<void>>();
  private nextId = 1;
  private loading: Promise<void> | undefined;
  private closed = false;
  /** Found once, at start: a missing or stale build stops the start as what it is, not as the model's fault. */
  private readonly script = processScript();
  modelVersion = '';
  /** Why the model is not loaded (after a failed reload), or undefined. */
  loadError: string | undefined;

  private constructor(private readonly options: InferencePoolOptions) {}

  /** Loads the model in every process; throws ModelLoadError if the file is missing or not a usable model. */
  static async start(options: InferencePoolOptions): Promise<InferencePool> {
    const pool = new InferencePool(options);
    await pool.load();
    return pool;
  }

  get workers(): number {
    return this.slots.length;
  }

  /** The inference processes' pids (a slot being replaced has none): for operators and tests. */
  get pids(): number[] {
    return this.slots.flatMap((slot) => (slot.child?.pid !== undefined ? [slot.child.pid] : []));
  }

  /** Loads (again) the model file in fresh processes, replacing the old ones. */
  async reload(): Promise<void> {
    this.loading ??= this.load().finally(() => (this.loading = undefined));
    return this.loading;
  }

  private async load(): Promise<void> {
    const { modelPath } = this.options;
    let bytes: Buffer;
    try {
      bytes = readFileSync(modelPath);
    } catch (error) {
      this.loadError = (error as Error).message;
      throw new ModelLoadError(modelPath, this.loadError);
    }
    const started = await Promise.allSettled(Array.from({ length: this.options.workers }, () => this.spawn()));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      for (const s of started) if (s.status === 'fulfilled') void this.kill(s.value);
      this.loadError = (failed.reason as Error).message;
      throw new ModelLoadError(modelPath, this.loadError);
    }
    const old = this.slots;
    this.slots = started.map((s) =>
      this.attach({ child: undefined, running: undefined }, (s as PromiseFulfilledResult<ChildProcess>).value),
    );
    // An old process still running a batch finishes it (see onMessage), then is killed.
    for (const slot of old) {
      if (slot.running || !slot.child) continue;
      void this.kill(slot.child);
      slot.child = undefined;
    }
    this.modelVersion = modelVersionOf(modelPath, bytes);
    this.loadError = undefined;
    this.dispatch();
  }

  /** Starts a process and resolves once its session is loaded; rejects with its reason otherwise. */
  private spawn(): Promise<ChildProcess> {
    if (this.closed) return Promise.reject(new Error('the inference pool is closed'));
    const data: InferenceProcessData = {
      modelPath: this.options.modelPath,
      providers: [...this.options.providers],
      featureCount: this.options.featureCount,
    };
    let child: ChildProcess;
    try {
      // execArgv: [] so the service's own flags (an inspector port, a test runner's loader) stay its own.
      child = fork(this.script, [JSON.stringify(data)], {
        serialization: 'advanced',
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        execArgv: [],
      });
    } catch (error) {
      return Promise.reject(error);
    }
    this.alive.set(
      child,
      new Promise<void>((resolve) => child.once('exit', () => resolve())).then(() => void this.alive.delete(child)),
    );
    return new Promise((resolve, reject) => {
      const done = () => {
        child.off('message', onMessage);
        child.off('exit', onExit);
        child.off('error', onError);
      };
      const fail = (reason: string) => {
        done();
        void this.kill(child);
        reject(new Error(reason));
      };
      const onMessage = (message: FromInferenceProcess) => {
        if (message.type === 'ready') {
          done();
          resolve(child);
        } else fail(message.type === 'failed' ? message.message : 'the inference process answered before it was ready');
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
        fail(`the inference process ${describeExit(code, signal)} before it was ready`);
      const onError = (error: Error) => fail(`the inference process could not be started: ${error.message}`);
      child.on('message', onMessage);
      child.once('exit', onExit);
      child.once('error', onError);
    });
  }

  /** Makes `child` the slot's process: its answers and its death are the slot's from now on. */
  private attach(slot: Slot, child: ChildProcess): Slot {
    slot.child = child;
    child.on('message', (message: FromInferenceProcess) => this.onMessage(slot, child, message));
    child.once('exit', (code, signal) => this.onExit(slot, child, code, signal));
    // A send to a process that just died: its exit is handled above.
    child.on('error', () => {});
    return slot;
  }

  /** Scores `rows` feature rows (row-major); resolves one score in [0, 1] per row. */
  score(features: Float32Array, rows: number, signal?: AbortSignal): Promise<Float32Array> {
    if (this.closed) return Promise.reject(new Error('the inference pool is closed'));
    if (this.loadError !== undefined)
      return Promise.reject(new Error(`the fraud model is not loaded: ${this.loadError}`));
    return new Promise((resolve, reject) => {
      const job: Pending = { features, rows, signal, resolve, reject };
      // A job aborted while it waits leaves the queue at once (once running, run's listener acts).
      signal?.addEventListener(
        'abort',
        () => {
          const at = this.queue.indexOf(job);
          if (at >= 0) this.queue.splice(at, 1)[0]!.reject(new Error('aborted before it ran'));
        },
        { once: true },
      );
      this.queue.push(job);
      this.dispatch();
    });
  }

  private dispatch(): void {
    for (;;) {
      const slot = this.slots.find((s) => s.child && !s.running);
      const job = slot ? this.queue.shift() : undefined;
      if (!slot || !job) return;
      if (job.signal?.aborted) {
        job.reject(new Error('aborted before it ran'));
        continue;
      }
      this.run(slot, job);
    }
  }

  private run(slot: Slot, job: Pending): void {
    const child = slot.child!;
    const id = this.nextId++;
    const onAbort = () => {
      if (slot.running?.id !== id) return;
      this.finish(slot);
      job.reject(new Error('inference was aborted (timed out); its process is killed and replaced'));
      this.replace(slot, child);
    };
    slot.running = { id, job, onAbort };
    job.signal?.addEventListener('abort', onAbort, { once: true });
    // The structured clone copies a view's whole buffer: send only the rows' own bytes.
    const features = job.features.byteLength === job.features.buffer.byteLength ? job.features : job.features.slice();
    child.send({ type: 'run', id, features, rows: job.rows } satisfies ToInferenceProcess);
  }

  /** The slot's job is over (answered, aborted, or its process died); returns it. */
  private finish(slot: Slot): Pending | undefined {
    const running = slot.running;
    slot.running = undefined;
    running?.job.signal?.removeEventListener('abort', running.onAbort);
    return running?.job;
  }

  private onMessage(slot: Slot, child: ChildProcess, message: FromInferenceProcess): void {
    if (slot.child !== child || (message.type !== 'result' && message.type !== 'error')) return;
    if (slot.running?.id !== message.id) return;
    const job = this.finish(slot)!;
    if (message.type === 'error') job.reject(new Error(`inference failed: ${message.message}`));
    else if (message.scores.length !== job.rows || message.scores.some((s) => !(s >= 0 && s <= 1))) {
      job.reject(
        new Error(`the model answered ${message.scores.length} values for ${job.rows} rows, or values outside [0, 1]`),
      );
    } else job.resolve(message.scores);
    if (!this.slots.includes(slot)) void this.kill(child); // replaced by a reload meanwhile
    this.dispatch();
  }

  /** A process that exits without being told to (a crash, an OOM kill, a signal from outside), or at close. */
  private onExit(slot: Slot, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (slot.child !== child) return;
    const reason = this.closed
      ? 'the inference pool is closed'
      : `the inference process died: ${describeExit(code, signal)}`;
    this.finish(slot)?.reject(new Error(reason));
    if (!this.closed) this.replace(slot, child);
  }

  /** A process that hung or died: kill it and start another in its place. */
  private replace(slot: Slot, child: ChildProcess): void {
    slot.child = undefined;
    void this.kill(child);
    if (this.closed || !this.slots.includes(slot)) return;
    this.spawn().then(
      (fresh) => {
        if (this.closed || !this.slots.includes(slot)) return void this.kill(fresh);
        this.attach(slot, fresh);
        this.dispatch();
      },
      (error: Error) => {
        if (!this.closed) this.loadError = error.message;
      },
    );
  }

  /** SIGKILLs `child`; resolves once it has exited. */
  private kill(child: ChildProcess): Promise<void> {
    const exited = this.alive.get(child) ?? Promise.resolve();
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    return exited;
  }

  /** Rejects what waits, kills every process (what runs is rejected at its exit), and resolves once they have all exited. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new Error('the inference pool is closed'));
    await Promise.all([...this.alive.keys()].map((child) => this.kill(child)));
  }
}
