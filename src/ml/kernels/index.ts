// Our kernels, registered over the stock ones of the backend that runs (see wasm.ts and cpu.ts for
// what each replaces and why). Once per backend per process: re-registering would wrap our own kernels.
import * as tf from '@tensorflow/tfjs-core';
import { RELU_GRAD } from './names.js';
import type { NativePath } from './native/index.js';
import { loadNativeKernels } from './native/index.js';
import { registerConvBiasReluGradient } from './fused.js';

/**
 * Which kernels do the heavy work: our native ones (wasm backend, by code path), our SIMD ones, our
 * plain-JS loops, or the backend's own (tensorflow: 'native'). Recorded in the facts, never fingerprinted:
 * every path but the backend's own gives the same bits.
 */
export type KernelSet = NativePath | 'simd' | 'js' | 'native';

const done = new Map<string, KernelSet>();

export async function registerFastKernels(backend: string): Promise<KernelSet> {
  if (done.size === 0) {
    registerReluGradient();
    registerConvBiasReluGradient();
  }
  const known = done.get(backend);
  if (known) return known;
  let set: KernelSet;
  if (backend === 'wasm') {
    const native = loadNativeKernels();
    const simd = (await import('./wasm.js')).registerWasmKernels(native);
    set = native ? native.path : simd ? 'simd' : 'js';
  }
  else if (backend === 'cpu') {
    (await import('./cpu.js')).registerCpuKernels();
    set = 'js';
  } else return 'native'; // tensorflow (libtensorflow) has its own native gradient kernels
  done.set(backend, set);
  return set;
}

/**
 * tfjs's ReLU gradient is dy · cast(step(x), 'float32'): three passes over the activation (step, a cast
 * that copies a float32 x unchanged, the product). Ours is one pass where our kernel is registered.
 */
function registerReluGradient(): void {
  tf.registerGradient({
    kernelName: tf.Relu,
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => {
      const [x] = saved as [tf.Tensor];
      const g = dy as tf.Tensor;
      if (x.dtype === 'float32' && g.dtype === 'float32' && tf.getKernel(RELU_GRAD, tf.getBackend())) {
        return { x: () => tf.engine().runKernel(RELU_GRAD, { dy: g, x }) as tf.Tensor };
      }
      return { x: () => tf.mul(g, x.dtype === 'float32' ? tf.step(x) : tf.cast(tf.step(x), 'float32')) };
    },
  });
}

/**
 * The values of a float32 tensor without a copy where the backend allows: on wasm a view of its memory,
 * valid only until the next tensor is allocated (read it at once); elsewhere dataSync(), which on the
 * cpu backend is the tensor's own storage (never write to it).
 */
export function tensorView(t: tf.Tensor): Float32Array {
  const backend = tf.backend() as { typedArrayFromHeap?: (t: tf.TensorInfo) => Float32Array };
  return backend.typedArrayFromHeap ? backend.typedArrayFromHeap(t) : (t.dataSync() as Float32Array);
}

/**
 * A new float32 tensor of `shape` whose values `fill` writes: on wasm straight into the backend's memory
 * (the view is valid during the call only), elsewhere into a new array. Saves the copies of tf.tensor().
 */
export function filledTensor(shape: number[], fill: (out: Float32Array) => void): tf.Tensor {
  const backend = tf.backend() as { makeOutput?: (shape: number[], dtype: 'float32') => tf.TensorInfo; typedArrayFromHeap?: (t: tf.TensorInfo) => Float32Array };
  if (backend.makeOutput && backend.typedArrayFromHeap) {
    const info = backend.makeOutput(shape, 'float32');
    fill(backend.typedArrayFromHeap(info));
    return tf.engine().makeTensorFromTensorInfo(info);
  }
  const values = new Float32Array(tf.util.sizeFromShape(shape));
  fill(values);
  return tf.tensor(values, shape, 'float32');
}
