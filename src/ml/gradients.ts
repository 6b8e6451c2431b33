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

/** Σ_i share_i · g_i per element, in shard order, in float64 and rounded once; the loss likewise. */
function average(model: Model, bounds: Array<[number, number]>, n: number, results: ShardResult[]): BatchGradients {
  const grads: Gradients = {};
  let at = 0;
  for (const v of model.weights.values()) {
    const sum = new Float32Array(v.size);
    const parts = bounds.map(([from, to], i) => ({ share: (to - from) / n, g: results[i]!.grads.subarray(at, at + v.size) }));
    if (parts.length === 2) {
      // (The common case, without the inner loop; 0 + a is a, so it is the loop's arithmetic.)
      const [{ share: s0, g: g0 }, { share: s1, g: g1 }] = parts as [(typeof parts)[0], (typeof parts)[0]];
      for (let e = 0; e < sum.length; e++) sum[e] = s0 * g0[e]! + s1 * g1[e]!;
    } else {
      for (let e = 0; e < sum.length; e++) {
        let acc = 0;
        for (const { share, g } of parts) acc += share * g[e]!;
        sum[e] = acc;
      }
    }
    grads[v.name] = sum;
    at += v.size;
  }
  const loss = bounds.reduce((acc, [from, to], i) => acc + ((to - from) / n) * results[i]!.loss, 0);
  return { loss, grads };
}
