// Data-parallel gradients (worker_threads, src/ml/parallel): the same numbers as one thread up to float
// rounding, bit-identical from run to run, and a failure mid-step leaves the workers usable.
// The workers run the compiled dist/ (npm test builds first).
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, shutdownBackend } from '../../src/ml/backend/index.js';
import { computeGradients } from '../../src/ml/gradients.js';
import { workerCount } from '../../src/ml/parallel/pool.js';
import { buildModel } from '../../src/ml/models.js';
import type { Loss, ModelSpec } from '../../src/ml/types.js';
import { relativeError, values } from './kernels/reference.js';

const spec: ModelSpec = { arch: 'small-cnn', inputShape: [8, 8, 3], classes: 5 };
const N = 9; // shards of 4 and 5: the combination must weight them by size

/** Cross-entropy, mean over the batch, written here so the test depends only on tfjs. */
const xe: Loss = (logits, labels) => tf.tidy(() => tf.neg(tf.mean(tf.sum(tf.mul(tf.oneHot(labels, spec.classes), tf.logSoftmax(logits)), 1))));

function batch(seed: number): { x: tf.Tensor4D; y: tf.Tensor1D } {
  return {
    x: tf.tensor4d(values(N * 8 * 8 * 3, seed), [N, 8, 8, 3]),
    y: tf.tensor1d(Array.from({ length: N }, (_, i) => (i * 3 + seed) % spec.classes), 'int32'),
  };
}

/** A few plain SGD steps from a seeded model; the SHA-256 of the final weights. */
function train(steps: number): string {
  const model = buildModel(spec, 42);
  for (let s = 0; s < steps; s++) {
    const { x, y } = batch(s + 1);
    const { grads } = computeGradients(model, xe, x, y);
    for (const v of model.weights.values()) {
      tf.tidy(() => v.assign(tf.sub(v, tf.mul(tf.tensor(grads[v.name]!, v.shape), 0.05))));
    }
    tf.dispose([x, y]);
  }
  const hash = createHash('sha256');
  for (const v of model.weights.values()) hash.update(v.dataSync() as Float32Array);
  model.dispose();
  return hash.digest('hex');
}

afterAll(() => shutdownBackend());

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`data-parallel computeGradients on ${backend}, 2 workers`, () => {
    beforeAll(async () => {
      const facts = await initBackend(backend, 2);
      expect(facts).toMatchObject({ backend, threads: 2 });
      expect(workerCount()).toBe(2);
    });

    it('equals the one-thread gradient of the whole batch (shard-size weighted mean)', () => {
      const model = buildModel(spec, 7);
      const { x, y } = batch(3);
      const parallel = computeGradients(model, xe, x, y);
      const vars = [...model.weights.values()];
      const single = tf.variableGrads(() => xe(model.forward(x, true).logits, y), vars);
      expect(Math.abs(parallel.loss - single.value.dataSync()[0]!)).toBeLessThan(1e-5);
      for (const v of vars) expect(relativeError(parallel.grads[v.name]!, single.grads[v.name]!.dataSync())).toBeLessThan(1e-5);
      tf.dispose([x, y, single.value, ...Object.values(single.grads)]);
      model.dispose();
    });

    it('gives bit-identical weights for the same seed', () => {
      const first = train(3);
      expect(train(3)).toBe(first);
      expect(train(2)).not.toBe(first); // the hash does see the training
    });

    it('one thread switches the workers off, two switch them back on without restarting them', async () => {
      expect((await initBackend(backend, 1)).threads).toBe(1);
      expect(workerCount()).toBe(0);
      const t0 = performance.now();
      expect((await initBackend(backend, 2)).threads).toBe(2);
      expect(workerCount()).toBe(2);
      expect(performance.now() - t0).toBeLessThan(200); // starting a worker (tfjs init) takes far longer
    });

    it('reports a loss that fails, and the next step still works', () => {
      const model = buildModel(spec, 1);
      const { x, y } = batch(5);
      const broken: Loss = () => {
        throw new Error('loss exploded');
      };
      expect(() => computeGradients(model, broken, x, y)).toThrow('loss exploded');
      const ok = computeGradients(model, xe, x, y);
      expect(Number.isFinite(ok.loss)).toBe(true);
      tf.dispose([x, y]);
      model.dispose();
    });
  });
}
