// One data-parallel training worker (a worker_thread, run from dist/). It holds a replica of the model,
// rebuilt from its ModelSpec with buildModel, and of the loss, rebuilt from its recipe (spec and
// per-epoch state: warm-up, α, D) with lossFromState whenever main sends a new one. Per step:
//   job {x, labels, dropoutSeed}, weights in shared memory → forward, loss and backward on its shard
//   → gradients into shared memory → {grads, loss} (or {error}: exactly one answer per job).
import { workerData, parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { SyncChannel, TO_MAIN } from './channel.js';
import { tensorView } from '../kernels/index.js';
import { lossFromState } from '../losses.js';
import type { Loss, LossRecipe, Model, ModelSpec } from '../types.js';
import type { SharedBuffers, ToMain, ToWorker, WorkerSetup } from './messages.js';
import { initBackend } from '../backend/index.js';

type Replica = Model & { dropoutSeed?: number; dispose?: () => void };

async function main(): Promise<void> {
  const setup = workerData as WorkerSetup;
  await initBackend(setup.backend, 1);
  const { buildModel } = (await import(setup.modelModule)) as { buildModel: (spec: ModelSpec, seed: number) => Replica };
  const channel = new SyncChannel(setup.port, setup.flags, TO_MAIN);
  parentPort!.postMessage('ready');

  let replica: Replica | null = null;
  let specKey = '';
  let buffers: SharedBuffers | null = null;
  let loss: Loss | null = null;
  for (;;) {
    const job = channel.receive<ToWorker>(Number.MAX_SAFE_INTEGER);
    if (job.kind === 'stop') break;
    try {
      const key = JSON.stringify(job.spec);
      if (key !== specKey) {
        replica?.dispose?.();
        replica = buildModel(job.spec, 0);
        specKey = key;
      }
      buffers = job.buffers ?? buffers;
      if (!buffers) throw new Error('no shared weight buffers');
      if (job.loss !== undefined) {
        loss = null; // a recipe that fails to build leaves no stale loss behind
        const r = JSON.parse(job.loss) as LossRecipe;
        loss = lossFromState(r.spec, r.classes, r.positions, r.state);
      }
      if (!loss) throw new Error('no loss');
      channel.send({ kind: 'grads', loss: step(replica!, loss, job, buffers) } satisfies ToMain);
    } catch (error) {
      channel.send({ kind: 'error', message: (error as Error).stack ?? String(error) } satisfies ToMain);
    }
  }
  replica?.dispose?.();
  setup.port.close();
}

/** Forward, loss and backward on the job's shard; the gradients go to shared memory. Returns the shard's loss. */
function step(replica: Replica, loss: Loss, job: Extract<ToWorker, { kind: 'step' }>, buffers: SharedBuffers): number {
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
  const [value, ...grads] = tf.tidy(() => {
    const x = tf.tensor4d(job.x, job.xShape, 'float32');
    const labels = tf.tensor1d(job.labels, 'int32');
    const { value, grads } = tf.variableGrads(() => loss(replica.forward(x, true).logits, labels), vars);
    return [value, ...vars.map((v) => grads[v.name]!)];
  });
  const lossValue = value!.dataSync()[0]!;
  const out = new Float32Array(buffers.grads);
  offset = 0;
  for (const g of grads) {
    out.set(tensorView(g), offset);
    offset += g.size;
  }
  tf.dispose([value!, ...grads]);
  return lossValue;
}

main().catch((error) => {
  parentPort?.postMessage({ failed: (error as Error).stack ?? String(error) });
});
