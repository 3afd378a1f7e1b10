import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ExecutionProvider } from './execution-providers';
import type { FromWorker, InferenceWorkerData } from './inference-worker';

export interface InferencePoolOptions {
  readonly modelPath: string;
  readonly providers: readonly ExecutionProvider[];
  readonly featureCount: number;
  /** Inference threads (each with its own session). */
  readonly workers: number;
}

/** The model file could not be loaded: a clear message naming the file, at start. */
export class ModelLoadError extends Error {
  constructor(modelPath: string, reason: string) {
    super(`the fraud model ${modelPath} could not be loaded: ${reason}`);
    this.name = 'ModelLoadError';
  }
}

/** The compiled worker: next to this file when running from dist/, or in dist/ when tests run the TypeScript. */
function workerScript(): string {
  const sibling = path.join(__dirname, 'inference-worker.js');
  if (existsSync(sibling)) return sibling;
  const built = path.resolve(__dirname, '../../dist/src/fraud/inference-worker.js');
  if (existsSync(built)) return built;
  throw new Error(`${built} is missing: run npm run build`);
}

/** `fraud-v1@<first 12 hex of the file's SHA-256>`: the name says which model, the hash which bytes. */
export function modelVersionOf(modelPath: string, bytes: Buffer): string {
  return `${path.basename(modelPath).replace(/\.onnx$/i, '')}@${createHash('sha256').update(bytes).digest('hex').slice(0, 12)}`;
}

interface Slot {
  worker: Worker;
  busy: boolean;
}

interface Pending {
  readonly features: Float32Array;
  readonly rows: number;
  readonly signal: AbortSignal | undefined;
  resolve(scores: Float32Array): void;
  reject(error: Error): void;
}

/**
 * Worker threads, each holding an ONNX Runtime session of the same model file. `score` hands a
 * batch to an idle thread (or queues it). An aborted run (a timeout) terminates its thread, since
 * a stuck `session.run()` cannot be interrupted otherwise, and a fresh thread takes its place.
 */
export class InferencePool {
  private slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private loading: Promise<void> | undefined;
  private closed = false;
  modelVersion = '';
  /** Why the model is not loaded (after a failed reload), or undefined. */
  loadError: string | undefined;

  private constructor(private readonly options: InferencePoolOptions) {}

  /** Loads the model in every thread; throws ModelLoadError if the file is missing or not a usable model. */
  static async start(options: InferencePoolOptions): Promise<InferencePool> {
    const pool = new InferencePool(options);
    await pool.load();
    return pool;
  }

  get workers(): number {
    return this.slots.length;
  }

  /** Loads (again) the model file in fresh threads, replacing the old ones. */
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
    const old = this.slots;
    if (failed) {
      for (const s of started) if (s.status === 'fulfilled') void s.value.terminate();
      this.loadError = (failed.reason as Error).message;
      throw new ModelLoadError(modelPath, this.loadError);
    }
    this.slots = started.map((s) => ({ worker: (s as PromiseFulfilledResult<Worker>).value, busy: false }));
    for (const slot of old) void slot.worker.terminate();
    this.modelVersion = modelVersionOf(modelPath, bytes);
    this.loadError = undefined;
    this.dispatch();
  }

  private spawn(): Promise<Worker> {
    const workerData: InferenceWorkerData = {
      modelPath: this.options.modelPath,
      providers: [...this.options.providers],
      featureCount: this.options.featureCount,
    };
    const worker = new Worker(workerScript(), { workerData });
    return new Promise((resolve, reject) => {
      const onMessage = (message: FromWorker) => {
        worker.off('error', onError);
        worker.off('message', onMessage);
        if (message.type === 'ready') resolve(worker);
        else {
          void worker.terminate();
          reject(
            new Error(
              message.type === 'failed' ? message.message : 'the inference thread answered before it was ready',
            ),
          );
        }
      };
      const onError = (error: Error) => {
        worker.off('message', onMessage);
        reject(error);
      };
      worker.on('message', onMessage);
      worker.once('error', onError);
    });
  }

  /** Scores `rows` feature rows (row-major); resolves one score in [0, 1] per row. */
  score(features: Float32Array, rows: number, signal?: AbortSignal): Promise<Float32Array> {
    if (this.closed) return Promise.reject(new Error('the inference pool is closed'));
    if (this.loadError !== undefined)
      return Promise.reject(new Error(`the fraud model is not loaded: ${this.loadError}`));
    return new Promise((resolve, reject) => {
      this.queue.push({ features, rows, signal, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    for (;;) {
      const slot = this.slots.find((s) => !s.busy);
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
    slot.busy = true;
    const id = this.nextId++;
    const { worker } = slot;
    const finish = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      job.signal?.removeEventListener('abort', onAbort);
      slot.busy = false;
    };
    const onMessage = (message: FromWorker) => {
      if ((message.type !== 'result' && message.type !== 'error') || message.id !== id) return;
      finish();
      if (message.type === 'error') job.reject(new Error(`inference failed: ${message.message}`));
      else if (message.scores.length !== job.rows || message.scores.some((s) => !(s >= 0 && s <= 1))) {
        job.reject(
          new Error(
            `the model answered ${message.scores.length} values for ${job.rows} rows, or values outside [0, 1]`,
          ),
        );
      } else job.resolve(message.scores);
      this.dispatch();
    };
    const onError = (error: Error) => {
      finish();
      job.reject(new Error(`the inference thread died: ${error.message}`));
      this.replace(slot);
    };
    const onAbort = () => {
      finish();
      job.reject(new Error('inference was aborted (timed out); its thread is replaced'));
      this.replace(slot);
    };
    worker.on('message', onMessage);
    worker.once('error', onError);
    job.signal?.addEventListener('abort', onAbort, { once: true });
    const features = job.features.slice();
    worker.postMessage({ type: 'run', id, features, rows: job.rows }, [features.buffer]);
  }

  /** A thread that hung or died: end it and start another in its place. */
  private replace(slot: Slot): void {
    slot.busy = true;
    void slot.worker.terminate();
    if (this.closed) return;
    this.spawn().then(
      (worker) => {
        if (this.closed || !this.slots.includes(slot)) return void worker.terminate();
        slot.worker = worker;
        slot.busy = false;
        this.dispatch();
      },
      (error: Error) => {
        this.loadError = error.message;
      },
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new Error('the inference pool is closed'));
    await Promise.all(this.slots.map((slot) => slot.worker.terminate()));
  }
}
