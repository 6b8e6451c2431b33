// One place computes a batch's loss and gradients. The training loop only calls this, so a
// faster implementation (worker threads, another device) changes this file and nothing else.
import * as tf from '@tensorflow/tfjs-core';
import type { Loss, Model } from './types.js';

export interface BatchGradients {
  loss: number;
  grads: Record<string, tf.Tensor>;
}

export function computeGradients(model: Model, loss: Loss, x: tf.Tensor4D, y: tf.Tensor1D): BatchGradients {
  const vars = [...model.weights.values()];
  const { value, grads } = tf.variableGrads(() => loss(model.forward(x, true).logits, y), vars);
  const lossValue = value.dataSync()[0];
  value.dispose();
  return { loss: lossValue, grads };
}
