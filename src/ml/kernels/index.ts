// Our kernels, registered over the stock ones of the backend that runs (see wasm.ts and cpu.ts for
// what each replaces and why). Once per backend per process: re-registering would wrap our own kernels.
import * as tf from '@tensorflow/tfjs-core';

const done = new Set<string>();

export async function registerFastKernels(backend: string): Promise<void> {
  if (done.size === 0) registerReluGradient();
  if (done.has(backend)) return;
  if (backend === 'wasm') (await import('./wasm.js')).registerWasmKernels();
  else if (backend === 'cpu') (await import('./cpu.js')).registerCpuKernels();
  else return; // tensorflow (libtensorflow) has its own native gradient kernels
  done.add(backend);
}

/**
 * tfjs's ReLU gradient is dy · cast(step(x), 'float32'); for a float32 x the cast is a full copy of the
 * activation (an Identity kernel) that changes nothing. Same values, one pass fewer per ReLU.
 */
function registerReluGradient(): void {
  tf.registerGradient({
    kernelName: tf.Relu,
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => {
      const [x] = saved as [tf.Tensor];
      return { x: () => tf.mul(dy as tf.Tensor, x.dtype === 'float32' ? tf.step(x) : tf.cast(tf.step(x), 'float32')) };
    },
  });
}
