/**
 * One inference process (ADR 0040): holds an ONNX Runtime session and scores batches of feature
 * rows sent by the service over its IPC channel. A process, not a worker thread, because ending a
 * thread whose native addon has work in flight can abort the whole service; a stuck or dying
 * process is SIGKILLed and the service goes on. Kept free of the rest of the service so it starts
 * fast. It lives exactly as long as its parent wants it: SIGINT and SIGTERM (a terminal's Ctrl-C,
 * a supervisor signalling the whole group) are left to the parent's orderly shutdown, and the
 * process ends itself when the parent is gone.
 */
import { Worker } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';

/** What the service hands its inference process, as argv[2] (JSON). */
export interface InferenceProcessData {
  readonly modelPath: string;
  readonly providers: string[];
  readonly featureCount: number;
}

export type ToInferenceProcess = { type: 'run'; id: number; features: Float32Array; rows: number };
export type FromInferenceProcess =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  | { type: 'result'; id: number; scores: Float32Array }
  | { type: 'error'; id: number; message: string };

/** How often the watchdog thread looks whether the parent is still there. */
const PARENT_CHECK_MS = 250;

/**
 * Ends this process with its parent. The IPC channel's `disconnect` says so at once, but only to an
 * event loop that is free: `session.run()` runs on the main thread, and a stalled model would keep an
 * orphan spinning. So a watchdog thread (no native addon in it, never terminated) also watches the
 * parent's pid and SIGKILLs the process when it changes (the orphan was handed to init).
 */
function exitWithParent(): void {
  process.on('disconnect', () => process.exit(0));
  const watchdog = new Worker(
    `const parent = ${process.ppid};
     setInterval(() => { if (process.ppid !== parent) process.kill(process.pid, 'SIGKILL'); }, ${PARENT_CHECK_MS});`,
    { eval: true },
  );
  watchdog.unref();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => {});
}

const send = (message: FromInferenceProcess) => process.send!(message);
const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

async function main(): Promise<void> {
  exitWithParent();
  const data = JSON.parse(process.argv[2]!) as InferenceProcessData;
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(data.modelPath, {
      executionProviders: data.providers,
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
  } catch (error) {
    send({ type: 'failed', message: messageOf(error) });
    return;
  }
  const inputName = session.inputNames[0]!;
  const outputName = session.outputNames[0]!;
  process.on('message', async (message: ToInferenceProcess) => {
    try {
      const input = new ort.Tensor('float32', message.features, [message.rows, data.featureCount]);
      const output = await session.run({ [inputName]: input });
      const scores = Float32Array.from(output[outputName]!.data as Float32Array);
      send({ type: 'result', id: message.id, scores });
    } catch (error) {
      send({ type: 'error', id: message.id, message: messageOf(error) });
    }
  });
  send({ type: 'ready' });
}

void main();
