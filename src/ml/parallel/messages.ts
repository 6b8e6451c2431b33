// What the main thread (pool.ts) and a training worker (worker.ts) say to each other. Its own
// module so that neither side imports the other: the worker is started by file, never imported.
import type { MessagePort } from 'node:worker_threads';
import type { ModelSpec } from '../types.js';

export interface WorkerSetup {
  /** The backends that compute on one thread in Node, where workers pay off. */
  backend: 'wasm' | 'cpu';
  port: MessagePort;
  flags: SharedArrayBuffer;
  /** Module exporting buildModel(spec, seed) (default: ../models.js). */
  modelModule: string;
}

/**
 * Weights (written by main, read by every worker) and this worker's gradients (written by it, read by
 * main), all weights concatenated in model.weights order. Sent again only when reallocated.
 */
export interface SharedBuffers {
  weights: SharedArrayBuffer;
  grads: SharedArrayBuffer;
}

export type ToWorker =
  | {
      kind: 'step';
      spec: ModelSpec;
      /** Sent when new, as are `loss` (a LossRecipe as JSON) and the buffers. */
      buffers?: SharedBuffers;
      loss?: string;
      x: Float32Array;
      xShape: [number, number, number, number];
      labels: Int32Array;
      dropoutSeed: number | null;
    }
  | { kind: 'stop' };

export type ToMain = { kind: 'grads'; loss: number } | { kind: 'error'; message: string };
