// One data-parallel training worker (a worker_thread, run from dist/). It holds a replica of the model,
// rebuilt from its ModelSpec with buildModel, and per step:
//   job {weights, x, dropoutSeed} → forward on its shard → {logits} to main
//   ← {dlogits}: d(batch loss)/d(logits), computed by the main thread, which owns the loss and its
//     per-epoch state (current D, α, warm-up) → backward → {grads, shard} to main.
// The loss never leaves the main thread, so any Loss works and its state needs no copying.
import { workerData, parentPort, type MessagePort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { SyncChannel, TO_MAIN } from './channel.js';
import type { Model, ModelSpec } from '../types.js';
import type { BackendPreference } from '../backend/index.js';

export interface WorkerSetup {
  backend: Extract<BackendPreference, 'wasm' | 'cpu'>;
  port: MessagePort;
  flags: SharedArrayBuffer;
  /** Module exporting buildModel(spec, seed) (default: ../models.js). */
  modelModule: string;
}

export type ToWorker =
  | { kind: 'step'; spec: ModelSpec; weights: Float32Array[]; x: Float32Array; xShape: [number, number, number, number]; dropoutSeed: number | null }
  | { kind: 'dlogits'; dlogits: Float32Array }
  /** The main thread failed mid-step: give up this step (answered with an error). */
  | { kind: 'abort' }
  | { kind: 'stop' };

export type ToMain =
  | { kind: 'logits'; logits: Float32Array; shape: [number, number] }
  | { kind: 'grads'; grads: Float32Array[] }
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
      channel.send({ kind: 'grads', grads: step(replica!, job, channel) } satisfies ToMain);
    } catch (error) {
      channel.send({ kind: 'error', message: (error as Error).stack ?? String(error) } satisfies ToMain);
    }
  }
  replica?.dispose?.();
  setup.port.close();
}

function step(replica: Replica, job: Extract<ToWorker, { kind: 'step' }>, channel: SyncChannel): Float32Array[] {
  const vars = [...replica.weights.values()];
  if (vars.length !== job.weights.length) throw new Error(`the replica has ${vars.length} weights, the model ${job.weights.length}`);
  tf.tidy(() => vars.forEach((v, i) => v.assign(tf.tensor(job.weights[i], v.shape, 'float32'))));
  if (job.dropoutSeed !== null) replica.dropoutSeed = job.dropoutSeed;
  // (tf.tidy must return tensors, never typed arrays: it walks whatever it returns, element by element.)
  const grads = tf.tidy(() => {
    const x = tf.tensor4d(job.x, job.xShape, 'float32');
    // The tape stays open while main turns our logits into dlogits; Σ logits·dlogits then has exactly
    // the batch loss's gradient with respect to every weight.
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
  const values = grads.map((g) => g.dataSync() as Float32Array);
  tf.dispose(grads);
  return values;
}

main().catch((error) => {
  parentPort?.postMessage({ failed: (error as Error).stack ?? String(error) });
});
