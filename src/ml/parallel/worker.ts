// One data-parallel training worker (a worker_thread, run from dist/). It holds a replica of the model,
// rebuilt from its ModelSpec with buildModel, and per step:
//   job {x, dropoutSeed}, weights in shared memory → forward on its shard → {logits} to main
//   ← {dlogits}: d(shard loss)/d(logits), computed by the main thread, which owns the loss and its
//     per-epoch state (current D, α, warm-up) → backward → gradients into shared memory → {grads}.
// The loss never leaves the main thread, so any Loss works and its state needs no copying.
import { workerData, parentPort, type MessagePort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { SyncChannel, TO_MAIN } from './channel.js';
import { tensorView } from '../kernels/index.js';
import type { Model, ModelSpec } from '../types.js';
import type { BackendPreference } from '../backend/index.js';

export interface WorkerSetup {
  backend: Extract<BackendPreference, 'wasm' | 'cpu'>;
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
  | { kind: 'step'; spec: ModelSpec; buffers?: SharedBuffers; x: Float32Array; xShape: [number, number, number, number]; dropoutSeed: number | null }
  | { kind: 'dlogits'; dlogits: Float32Array }
  /** The main thread failed mid-step: give up this step (answered with an error). */
  | { kind: 'abort' }
  | { kind: 'stop' };

export type ToMain =
  | { kind: 'logits'; logits: Float32Array; shape: [number, number] }
  | { kind: 'grads' }
  | { kind: 'error'; message: string };

type Replica = Model & { dropoutSeed?: number; dispose?: () => void };

async function main(): Promise<void> {
  const setup = workerData as WorkerSetup;
  const { initBackend } = await import('../backend/index.js');
  await initBackend(setup.backend, 1);
  const { buildModel } = (await import(setup.modelModule)) as { buildModel: (spec: ModelSpec, seed: number) => Replica };
  const channel = new SyncChannel(setup.port, setup.flags, TO_MAIN);
  parentPort!.postMessage('ready');

  let replica: Replica | null = null;
  let specKey = '';
  let buffers: SharedBuffers | null = null;
  for (;;) {
    const job = channel.receive<ToWorker>(Number.MAX_SAFE_INTEGER);
    if (job.kind === 'stop') break;
    if (job.kind !== 'step') continue;
    try {
      const key = JSON.stringify(job.spec);
      if (key !== specKey) {
        replica?.dispose?.();
        replica = buildModel(job.spec, 0);
        specKey = key;
      }
      buffers = job.buffers ?? buffers;
      if (!buffers) throw new Error('no shared weight buffers');
      step(replica!, job, buffers, channel);
      channel.send({ kind: 'grads' } satisfies ToMain);
    } catch (error) {
      channel.send({ kind: 'error', message: (error as Error).stack ?? String(error) } satisfies ToMain);
    }
  }
  replica?.dispose?.();
  setup.port.close();
}

function step(replica: Replica, job: Extract<ToWorker, { kind: 'step' }>, buffers: SharedBuffers, channel: SyncChannel): void {
  const vars = [...replica.weights.values()];
  const total = vars.reduce((n, v) => n + v.size, 0);
  if (total * Float32Array.BYTES_PER_ELEMENT !== buffers.weights.byteLength) throw new Error(`the replica has ${total} weights, the model ${buffers.weights.byteLength / 4}`);
  const weights = new Float32Array(buffers.weights);
  // The wasm backend copies a new tensor's values into its own memory; the cpu backend would keep the
  // shared array itself as the tensor's storage, so it gets a copy.
  const copies = tf.getBackend() !== 'wasm';
  let offset = 0;
  for (const v of vars) {
    const values = weights.subarray(offset, offset + v.size);
    const t = tf.tensor(copies ? values.slice() : values, v.shape, 'float32');
    v.assign(t);
    t.dispose();
    offset += v.size;
  }
  if (job.dropoutSeed !== null) replica.dropoutSeed = job.dropoutSeed;
  // (tf.tidy must return tensors, never typed arrays: it walks whatever it returns, element by element.)
  const grads = tf.tidy(() => {
    const x = tf.tensor4d(job.x, job.xShape, 'float32');
    // The tape stays open while main turns our logits into dlogits; Σ logits·dlogits then has exactly
    // the shard loss's gradient with respect to every weight.
    const { value, grads } = tf.variableGrads(() => {
      const { logits } = replica.forward(x, true);
      channel.send({ kind: 'logits', logits: logits.dataSync() as Float32Array, shape: logits.shape } satisfies ToMain);
      const reply = channel.receive<ToWorker>();
      if (reply.kind !== 'dlogits') throw new Error(`expected dlogits, got ${reply.kind}`);
      return tf.sum(tf.mul(logits, tf.tensor2d(reply.dlogits, logits.shape)));
    }, vars);
    value.dispose();
    return vars.map((v) => grads[v.name]!);
  });
  const out = new Float32Array(buffers.grads);
  offset = 0;
  for (const g of grads) {
    out.set(tensorView(g), offset);
    offset += g.size;
  }
  tf.dispose(grads);
}

main().catch((error) => {
  parentPort?.postMessage({ failed: (error as Error).stack ?? String(error) });
});
