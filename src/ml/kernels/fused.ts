// relu(conv2d(x, filter) + bias), the convolutional layer of every CNN in src/ml/models.ts, as one kernel
// where the backend has it: the wasm backend with our native kernels adds the bias and rectifies each
// tile of outputs while it is still in cache, instead of two more passes over the activations (tfjs's
// Add and Relu) — the same additions and the same ReLU, so the same bits. Its gradient is the three ops'
// gradients, from the same kernels in the same order (ReLU's rule, then the convolution's input and
// filter gradients and the bias sum), so training gives the same bits fused or not.
// One exception needs the unfused ops: the ReLU gradient looks at the pre-activation, which the fused
// kernel does not keep, and a NaN pre-activation with its sign bit set becomes +0 in the output (as
// tfjs's Relu makes it) while its gradient would be NaN. So the kernel reports any NaN pre-activation,
// and the op then computes the layer unfused; that happens only in a training that has diverged.
import * as tf from '@tensorflow/tfjs-core';
import { CONV_BIAS_RELU, RELU_GRAD } from './names.js';

export interface ConvBiasReluAttrs {
  strides: number;
  pad: 'same' | 'valid';
}

let declined = false;

/**
 * A backend's fused kernel calls this when it did not compute the layer (no native kernels, a shape they
 * do not take, a NaN pre-activation): the op disposes its output and computes the unfused ops.
 */
export function declineConvBiasRelu(): void {
  declined = true;
}

/** relu(conv2d(x, filter, strides, pad) + bias), fused where the backend can. */
export function conv2dBiasRelu(x: tf.Tensor4D, filter: tf.Tensor4D, bias: tf.Tensor, strides: number, pad: 'same' | 'valid'): tf.Tensor4D {
  if (tf.getKernel(CONV_BIAS_RELU, tf.getBackend())) {
    declined = false;
    const attrs: ConvBiasReluAttrs = { strides, pad };
    const y = tf.engine().runKernel(CONV_BIAS_RELU, { x, filter, bias }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
    if (!declined) return y;
    y.dispose();
  }
  return tf.relu(tf.add(tf.conv2d(x, filter, strides, pad), bias));
}

/** The gradient: the unfused ops' gradients, by the same kernels (see the top of this file). */
export function registerConvBiasReluGradient(): void {
  tf.registerGradient({
    kernelName: CONV_BIAS_RELU,
    inputsToSave: ['x', 'filter'],
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [x, filter, y] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
      const { strides, pad } = attrs as unknown as ConvBiasReluAttrs;
      // ReLU's rule on the output: y > 0 exactly where the pre-activation was, and no NaN reached here.
      const dz = tf.engine().runKernel(RELU_GRAD, { dy: dy as tf.Tensor, x: y }) as tf.Tensor4D;
      const conv = { strides, pad, dataFormat: 'NHWC', dimRoundingMode: undefined } as const;
      return {
        x: () => tf.engine().runKernel(tf.Conv2DBackpropInput, { dy: dz, filter }, { ...conv, inputShape: x.shape } as unknown as tf.NamedAttrMap) as tf.Tensor4D,
        filter: () => tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy: dz }, { ...conv, filterShape: filter.shape } as unknown as tf.NamedAttrMap) as tf.Tensor4D,
        bias: () => tf.sum(dz, [0, 1, 2]),
      };
    },
  });
}
