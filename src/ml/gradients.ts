// One place computes a batch's loss and gradients. The training loop only calls this, so a
// faster implementation (worker threads, another device) changes this file and nothing else.
// The batch is cut into a fixed number of shards (the training's `shards`, not the machine's threads);
// each shard's gradients are computed on its own, by the data-parallel workers when they run
// (src/ml/parallel/pool.ts) or one after another on this thread, and averaged here in shard order.
// Which thread computed a shard changes none of its bits, so 1, 2 or 16 threads give the same weights.
import * as tf from '@tensorflow/tfjs-core';
import type { Loss, Model } from './types.js';
import type { BatchGradients, Gradients } from './optimizers.js';
import { shardBounds, shardDropoutSeed, workerCount, workerShards, type ShardResult } from './parallel/pool.js';
import { loadNativeKernels, type NativeKernels } from './kernels/native/index.js';

/**
 * The batch's mean loss and d(loss)/d(weight) for every weight of the model, over `shards` shards
 * (default: one per running worker, as the benches measure). With workers, the model must be what
 * buildModel(model.spec) builds (the workers rebuild it from its spec), and the loss must be a mean
 * over the batch of per-example values (every loss of src/ml/losses.ts is), because shard results are
 * combined weighted by shard size. A batch smaller than the shard count, one shard, or a loss without
 * a recipe (the workers could not rebuild it) is computed whole.
 */
export function computeGradients(model: Model, loss: Loss, x: tf.Tensor4D, y: tf.Tensor1D, shards: number = Math.max(1, workerCount())): BatchGradients {
  const n = x.shape[0];
  if (shards < 2 || n < shards || !loss.recipe) return wholeBatch(model, loss, x, y);
  const bounds = shardBounds(n, shards);
  const results = workerShards(model, loss, x, y, bounds) ?? inProcessShards(model, loss, x, y, bounds);
  return average(model, bounds, n, results);
}

function wholeBatch(model: Model, loss: Loss, x: tf.Tensor4D, y: tf.Tensor1D): BatchGradients {
  const vars = [...model.weights.values()];
  const { value, grads } = tf.variableGrads(() => loss(model.forward(x, true).logits, y), vars);
  const lossValue = value.dataSync()[0]!;
  const arrays: Gradients = {};
  for (const [name, g] of Object.entries(grads)) arrays[name] = g.dataSync() as Float32Array;
  tf.dispose([value, ...Object.values(grads)]);
  return { loss: lossValue, grads: arrays };
}

/** The shards one after another on this thread, each as a worker computes it (its slice, its dropout seed). */
function inProcessShards(model: Model, loss: Loss, x: tf.Tensor4D, y: tf.Tensor1D, bounds: Array<[number, number]>): ShardResult[] {
  const withSeed = model as { dropoutSeed?: number };
  const baseSeed = withSeed.dropoutSeed;
  const vars = [...model.weights.values()];
  const total = vars.reduce((sum, v) => sum + v.size, 0);
  try {
    return bounds.map(([from, to], i) => {
      const seed = shardDropoutSeed(baseSeed, i);
      if (seed !== null) withSeed.dropoutSeed = seed;
      const xs = x.slice([from, 0, 0, 0], [to - from, -1, -1, -1]);
      const ys = y.slice([from], [to - from]);
      const { value, grads } = tf.variableGrads(() => loss(model.forward(xs, true).logits, ys), vars);
      const out = new Float32Array(total);
      let at = 0;
      for (const v of vars) {
        out.set(grads[v.name]!.dataSync() as Float32Array, at);
        at += v.size;
      }
      const shardLoss = value.dataSync()[0]!;
      tf.dispose([xs, ys, value, ...Object.values(grads)]);
      return { loss: shardLoss, grads: out };
    });
  } finally {
    if (baseSeed !== undefined) withSeed.dropoutSeed = baseSeed;
  }
}

/** The native kernels where they run (REPRO_KERNELS=simd keeps the reference path in JS); looked up once. */
let nativeKernels: NativeKernels | null | undefined;

/** The shard results averaged weighted by shard size (weightedSum); the loss likewise. */
function average(model: Model, bounds: Array<[number, number]>, n: number, results: ShardResult[]): BatchGradients {
  const shares = Float64Array.from(bounds, ([from, to]) => (to - from) / n);
  const all = new Float32Array(results[0]!.grads.length);
  if (nativeKernels === undefined) nativeKernels = loadNativeKernels();
  // The native sum does the same arithmetic (the same bits), ~8× faster: this runs on the main thread
  // while the workers wait for the next step.
  (nativeKernels?.weightedSum ?? weightedSum)(results.map((r) => r.grads), shares, all);
  const grads: Gradients = {};
  let at = 0;
  for (const v of model.weights.values()) {
    grads[v.name] = all.subarray(at, at + v.size);
    at += v.size;
  }
  const loss = results.reduce((acc, r, i) => acc + shares[i]! * r.loss, 0);
  return { loss, grads };
}

/**
 * out[e] = Σ_i shares[i] · parts[i][e], in shard order, in float64 and rounded once to float32: two
 * parts as s0·g0 + s1·g1, more as a running sum from +0 (which differ only in the sign of a zero).
 * The reference of the native kernels' weightedSum.
 */
export function weightedSum(parts: Float32Array[], shares: Float64Array, out: Float32Array): void {
  if (parts.length === 2) {
    const [g0, g1] = parts as [Float32Array, Float32Array];
    const [s0, s1] = [shares[0]!, shares[1]!];
    for (let e = 0; e < out.length; e++) out[e] = s0 * g0[e]! + s1 * g1[e]!;
    return;
  }
  for (let e = 0; e < out.length; e++) {
    let acc = 0;
    for (let i = 0; i < parts.length; i++) acc += shares[i]! * parts[i]![e]!;
    out[e] = acc;
  }
}
