// Backend selection: what runs is what the facts say; explicit requests that cannot run fail clearly.
import { createRequire } from 'node:module';
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { BackendUnavailableError, initBackend, plannedBackend, shutdownBackend } from '../../src/ml/backend/index.js';

const require = createRequire(import.meta.url);
const installed = (pkg: string) => {
  try {
    require.resolve(pkg);
    return true;
  } catch {
    return false;
  }
};
const hasNode = installed('@tensorflow/tfjs-node');
const hasNodeGpu = installed('@tensorflow/tfjs-node-gpu');

afterAll(() => shutdownBackend());

describe('initBackend', () => {
  it.skipIf(hasNode || hasNodeGpu)('auto picks wasm (SIMD) when libtensorflow is not installed, and says so', async () => {
    expect(plannedBackend('auto')).toEqual({ backend: 'wasm', device: 'cpu' });
    const facts = await initBackend('auto', 1);
    expect(facts).toMatchObject({ engine: 'tfjs', backend: 'wasm', backendVersion: '4.22.0', device: 'cpu', threads: 1 });
    expect(typeof facts.simd).toBe('boolean');
    // Our native kernels where their binary loads (src/ml/kernels/native), else our SIMD gradient kernels
    // wherever tfjs's SIMD build runs (both need wasm SIMD).
    expect(facts.kernels).toMatch(facts.simd ? /^(native-(avx512|avx2|scalar)|simd)$/ : /^(native-(avx512|avx2|scalar)|js)$/);
    expect(tf.getBackend()).toBe('wasm');
  });

  it('cpu on request, with our kernels able to train a conv layer', async () => {
    const facts = await initBackend('cpu', 1);
    expect(facts).toMatchObject({ backend: 'cpu', device: 'cpu', threads: 1, simd: null, kernels: 'js' });
    expect(tf.getBackend()).toBe('cpu');
    const g = tf.tidy(() => tf.grad((w: tf.Tensor) => tf.sum(tf.conv2d(tf.ones([1, 4, 4, 1]) as tf.Tensor4D, w as tf.Tensor4D, 1, 'valid')))(tf.ones([3, 3, 1, 1])).dataSync());
    expect(Array.from(g)).toEqual(Array(9).fill(4));
  });

  it('the same arguments twice start nothing new', async () => {
    const a = await initBackend('cpu', 1);
    const b = await initBackend('cpu', 1);
    expect(b).toBe(a);
  });

  it.skipIf(hasNode)("an explicit 'tensorflow' without @tensorflow/tfjs-node fails with what to do", async () => {
    const error = await initBackend('tensorflow', 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect((error as BackendUnavailableError).message).toContain('@tensorflow/tfjs-node');
    expect((error as BackendUnavailableError).hint).toContain('--backend wasm');
  });

  it.skipIf(hasNodeGpu)("an explicit 'tensorflow-gpu' never falls back silently", async () => {
    await expect(initBackend('tensorflow-gpu', 1)).rejects.toThrow(/tfjs-node-gpu/);
  });

  it('an unknown backend name is rejected with the valid ones', async () => {
    await expect(initBackend('webgpu' as never, 1)).rejects.toThrow(/auto, tensorflow-gpu, tensorflow, wasm, cpu/);
  });

  it('plannedBackend maps explicit choices without loading anything', () => {
    expect(plannedBackend('cpu')).toEqual({ backend: 'cpu', device: 'cpu' });
    expect(plannedBackend('wasm')).toEqual({ backend: 'wasm', device: 'cpu' });
    expect(plannedBackend('tensorflow-gpu')).toEqual({ backend: 'tensorflow', device: 'gpu' });
  });
});
