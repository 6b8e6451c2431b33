// The one place the tfjs code starts TensorFlow.js. Until src/ml/backend/index.ts (the backends
// half of issue 5) lands, this sets the pure-JS cpu backend; the swap to initBackend() is here only.
import * as tf from '@tensorflow/tfjs-core';

export interface TfjsRuntime {
  /** What actually runs: recorded in the step's facts. */
  facts: { engine: 'tfjs'; backend: string; backendVersion: string; device: string; threads: number };
}

let ready: Promise<TfjsRuntime> | null = null;

/** Starts tfjs once per process with the preferred backend ('auto' | 'wasm' | 'cpu' …). */
export function initTfjs(preference: string = 'auto', threads: number = 1): Promise<TfjsRuntime> {
  ready ??= (async () => {
    // tfjs-core's Node bundle registers no gradient functions; the union package registers them all.
    await import('@tensorflow/tfjs');
    await import('@tensorflow/tfjs-backend-cpu');
    void preference;
    await tf.setBackend('cpu');
    await tf.ready();
    return { facts: { engine: 'tfjs', backend: tf.getBackend(), backendVersion: tf.version_core, device: 'cpu', threads: 1 } };
  })();
  void threads;
  return ready;
}

/** The backend initTfjs would choose, without starting it (for the fingerprint). */
export function plannedTfjsBackend(preference: string = 'auto'): { backend: string; device: string } {
  void preference;
  return { backend: 'cpu', device: 'cpu' };
}
