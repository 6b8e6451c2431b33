// One place computes a batch's loss and gradients. The training loop only calls this, so a
// faster implementation (worker threads, another device) changes this file and nothing else.
// With data-parallel workers running (initBackend(…, threads > 1) on wasm or cpu) the batch is split
// across them (src/ml/parallel/pool.ts); otherwise it is computed here, on the current backend.
import * as tf from '@tensorflow/tfjs-core';
import type { Loss, Model } from './types.js';
import type { BatchGradients, Gradients } from './optimizers.js';
import { parallelGradients } from './parallel/pool.js';

/**
 * The batch's mean loss and d(loss)/d(weight) for every weight of the model. With workers, the model
 * must be what buildModel(model.spec) builds (the workers rebuild it from its spec), and the loss must
 * be a mean over the batch of per-example values (every loss of src/ml/losses.ts is), because shard
 * results are combined weighted by shard size.
 */
export function computeGradients(model: Model, loss: Loss, x: tf.Tensor4D, y: tf.Tensor1D): BatchGradients {
  const parallel = parallelGradients(model, loss, x, y);
  if (parallel) return parallel;
  const vars = [...model.weights.values()];
  const { value, grads } = tf.variableGrads(() => loss(model.forward(x, true).logits, y), vars);
  const lossValue = value.dataSync()[0]!;
  const arrays: Gradients = {};
  for (const [name, g] of Object.entries(grads)) arrays[name] = g.dataSync() as Float32Array;
  tf.dispose([value, ...Object.values(grads)]);
  return { loss: lossValue, grads: arrays };
}
