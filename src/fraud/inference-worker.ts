/**
 * One inference thread: holds an ONNX Runtime session and scores batches of feature rows. Runs off
 * the main thread because `session.run()` occupies the thread that calls it. Kept free of the
 * rest of the service so it starts fast and a stuck run can be ended by terminating the thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';

export interface InferenceWorkerData {
  readonly modelPath: string;
  readonly providers: string[];
  readonly featureCount: number;
}

export type ToWorker = { type: 'run'; id: number; features: Float32Array; rows: number };
export type FromWorker =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  | { type: 'result'; id: number; scores: Float32Array }
  | { type: 'error'; id: number; message: string };

const data = workerData as InferenceWorkerData;
const port = parentPort!;

async function main(): Promise<void> {
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(data.modelPath, {
      executionProviders: data.providers,
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
  } catch (error) {
    port.postMessage({
      type: 'failed',
      message: error instanceof Error ? error.message : String(error),
    } satisfies FromWorker);
    return;
  }
  const inputName = session.inputNames[0]!;
  const outputName = session.outputNames[0]!;
  port.on('message', async (message: ToWorker) => {
    try {
      const input = new ort.Tensor('float32', message.features, [message.rows, data.featureCount]);
      const output = await session.run({ [inputName]: input });
      const scores = Float32Array.from(output[outputName]!.data as Float32Array);
      port.postMessage({ type: 'result', id: message.id, scores } satisfies FromWorker, [scores.buffer]);
    } catch (error) {
      port.postMessage({
        type: 'error',
        id: message.id,
        message: error instanceof Error ? error.message : String(error),
      } satisfies FromWorker);
    }
  });
  port.postMessage({ type: 'ready' } satisfies FromWorker);
}

void main();
