// Data-parallel gradients on worker_threads, for the backends that compute on one thread in Node
// (wasm, cpu). The batch is cut into the training's shards (src/ml/gradients.ts: a fixed count, fixed
// cut points); each worker runs forward, loss and backward on a shard with a replica of the model and of
// the loss (rebuilt from the loss's recipe: its spec and current state, so warm-up, α and a learned D
// follow along), and takes the next shard when there are more shards than workers. The main thread,
// which keeps the model and the optimiser, averages the shard gradients. A shard's result does not
// depend on which thread computed it, nor on timing, so any thread count gives the same bits.
import { MessageChannel, Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type * as tf from '@tensorflow/tfjs-core';
import { SyncChannel, TO_WORKER } from './channel.js';
import { tensorView } from '../kernels/index.js';
import type { SharedBuffers, ToMain, ToWorker, WorkerSetup } from './messages.js';
import type { Loss, Model } from '../types.js';
import type { BatchGradients } from '../optimizers.js';

interface PoolWorker {
  thread: Worker;
  channel: SyncChannel;
  /** Its shared weight and gradient buffers; `sent` once the worker has them. */
  buffers: SharedBuffers | null;
  sent: boolean;
  /** The loss recipe (JSON) the worker holds, sent again only when it changes. */
  recipe: string | null;
}

let pool: PoolWorker[] = [];

/** The compiled worker: next to this file in dist/, or dist/ml/parallel/ when running from src/ (vitest). */
function workerFile(): URL {
  return import.meta.url.endsWith('.ts') ? new URL('../../../dist/ml/parallel/worker.js', import.meta.url) : new URL('./worker.js', import.meta.url);
}

function modelModule(): string {
  return import.meta.url.endsWith('.ts') ? new URL('../../../dist/ml/models.js', import.meta.url).href : new URL('../models.js', import.meta.url).href;
}

let poolBackend: WorkerSetup['backend'] | null = null;
/** How many of the started workers computeGradients uses (the rest stay asleep). */
let active = 0;

/**
 * Makes `count` workers on `backend` available to computeGradients, starting only the missing ones
 * (a change of backend restarts them all); 0 switches the data-parallel path off. Resolves to `count`.
 */
export async function useWorkers(backend: WorkerSetup['backend'], count: number, options: { modelModule?: string } = {}): Promise<number> {
  if (poolBackend !== backend) await stopWorkers();
  poolBackend = backend;
  if (pool.length < count) pool = [...pool, ...(await Promise.all(Array.from({ length: count - pool.length }, () => startWorker(backend, options.modelModule ?? modelModule()))))];
  active = count;
  return active;
}

async function startWorker(backend: WorkerSetup['backend'], models: string): Promise<PoolWorker> {
  const { port1, port2 } = new MessageChannel();
  const flags = SyncChannel.sharedFlags();
  const setup: WorkerSetup = { backend, port: port2, flags, modelModule: models };
  const file = fileURLToPath(workerFile());
  if (!existsSync(file)) throw new Error(`the compiled training worker ${file} is missing: run \`npm run build\` first`);
  const thread = new Worker(file, { workerData: setup, transferList: [port2] });
  await new Promise<void>((resolve, reject) => {
    thread.once('message', (m: unknown) => (m === 'ready' ? resolve() : reject(new Error(`a training worker failed to start: ${(m as { failed?: string }).failed ?? String(m)}`))));
    thread.once('error', reject);
    thread.once('exit', (code) => reject(new Error(`a training worker exited with code ${code} while starting`)));
  });
  thread.removeAllListeners();
  thread.on('error', () => {}); // reported through the channel or by the next receive's timeout
  // Idle workers sleep in Atomics.wait; they must not keep the process alive.
  thread.unref();
  return { thread, channel: new SyncChannel(port1, flags, TO_WORKER), buffers: null, sent: false, recipe: null };
}

export async function stopWorkers(): Promise<void> {
  const running = pool;
  pool = [];
  poolBackend = null;
  active = 0;
  sharedWeights = null;
  await Promise.all(
    running.map(async ({ thread, channel }) => {
      channel.send({ kind: 'stop' } satisfies ToWorker);
      await thread.terminate();
    }),
  );
}

export function workerCount(): number {
  return active;
}

let sharedWeights: SharedArrayBuffer | null = null;

/** The shared weight buffer, reallocated only when the model size changes. */
function weightBuffer(bytes: number): SharedArrayBuffer {
  if (sharedWeights?.byteLength !== bytes) sharedWeights = new SharedArrayBuffer(bytes);
  return sharedWeights;
}

/** Shard i of n examples cut into k shards: [⌊i·n/k⌋, ⌊(i+1)·n/k⌋). */
export function shardBounds(n: number, k: number): Array<[number, number]> {
  return Array.from({ length: k }, (_, i) => [Math.floor((i * n) / k), Math.floor(((i + 1) * n) / k)] as [number, number]);
}

/** One shard's result: its loss and its gradients, all weights concatenated in model.weights order. */
export interface ShardResult {
  loss: number;
  grads: Float32Array;
}

/**
 * The shard results of a batch cut into `shards` shards, computed by the workers: each worker takes
 * shards i, i + W, i + 2W… (W workers) in rounds; null when no workers run (the caller then computes
 * the shards in-process). Which thread computes a shard does not change its bits.
 */
export function workerShards(model: Model, loss: Loss, x: tf.Tensor4D, y: tf.Tensor1D, shards: Array<[number, number]>): ShardResult[] | null {
  if (active < 2 || !loss.recipe) return null;
  const workers = pool.slice(0, Math.min(active, shards.length));
  const vars = [...model.weights.values()];
  const total = vars.reduce((sum, v) => sum + v.size, 0);
  const sharedWeights = weightBuffer(total * Float32Array.BYTES_PER_ELEMENT);
  const weights = new Float32Array(sharedWeights);
  let offset = 0;
  for (const v of vars) {
    weights.set(tensorView(v), offset);
    offset += v.size;
  }
  const xData = x.dataSync() as Float32Array;
  const yData = y.dataSync() as Int32Array;
  const perExample = xData.length / x.shape[0];
  const baseSeed = (model as { dropoutSeed?: number }).dropoutSeed;
  const recipe = JSON.stringify(loss.recipe);
  const results: ShardResult[] = [];
  const rounds = Math.ceil(shards.length / workers.length);
  for (let round = 0; round < rounds; round++) {
    const first = round * workers.length;
    const batch = shards.slice(first, first + workers.length);
    batch.forEach(([from, to], j) => {
      const worker = workers[j]!;
      if (worker.buffers?.weights !== sharedWeights) {
        worker.buffers = { weights: sharedWeights, grads: new SharedArrayBuffer(sharedWeights.byteLength) };
        worker.sent = false;
      }
      const shard = xData.slice(from * perExample, to * perExample);
      const labels = Int32Array.from(yData.subarray(from, to));
      const job: ToWorker = {
        kind: 'step',
        spec: model.spec,
        ...(worker.sent ? {} : { buffers: worker.buffers }),
        ...(worker.recipe === recipe ? {} : { loss: recipe }),
        x: shard,
        xShape: [to - from, x.shape[1], x.shape[2], x.shape[3]],
        labels,
        dropoutSeed: shardDropoutSeed(baseSeed, first + j),
      };
      worker.channel.send(job, [shard.buffer as ArrayBuffer, labels.buffer as ArrayBuffer]);
      worker.sent = true;
      worker.recipe = recipe;
    });
    // Every worker answers once (its gradients or its error), so all are ready for the next job.
    const replies = batch.map((_, j) => workers[j]!.channel.receive<ToMain>());
    replies.forEach((r, j) => {
      // A worker whose step failed may have kept neither the loss nor the buffers: send both next time.
      if (r.kind === 'error') Object.assign(workers[j]!, { recipe: null, sent: false });
    });
    const failure = replies.find((r): r is Extract<ToMain, { kind: 'error' }> => r.kind === 'error');
    if (failure) throw new Error(`a training worker failed: ${failure.message}`);
    // The last round's gradients are read where the workers wrote them; earlier rounds' are copied
    // out before the workers overwrite them.
    const last = round === rounds - 1;
    replies.forEach((r, j) => {
      const view = new Float32Array(workers[j]!.buffers!.grads);
      results.push({ loss: (r as Extract<ToMain, { kind: 'grads' }>).loss, grads: last ? view : view.slice() });
    });
  }
  return results;
}

/** Distinct dropout masks per shard, fixed by the step's seed and the shard's index. */
export function shardDropoutSeed(baseSeed: number | undefined, shard: number): number | null {
  return typeof baseSeed === 'number' ? (baseSeed + shard * 0x9e3779b1) >>> 0 : null;
}
