// Data-parallel gradients (worker_threads, src/ml/parallel): the same numbers as one thread up to float
// rounding, for the loss's current state, bit-identical from run to run, and a failure mid-step leaves
// the workers usable.
// The workers run the compiled dist/ (npm test builds first).
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, shutdownBackend } from '../../src/ml/backend/index.js';
import { computeGradients } from '../../src/ml/gradients.js';
import { workerCount } from '../../src/ml/parallel/pool.js';
import { buildModel } from '../../src/ml/models.js';
import { makeLoss } from '../../src/ml/losses.js';
import type { Loss, ModelSpec } from '../../src/ml/types.js';
import { relativeError, values } from './kernels/reference.js';

const spec: ModelSpec = { arch: 'small-cnn', inputShape: [8, 8, 3], classes: 5 };
const N = 9; // shards of 4 and 5: the combination must weight them by size

// Workers rebuild the loss from its recipe (spec and state), as the trainer's losses carry it.
const xe: Loss = makeLoss({ kind: 'xe' }, spec.classes).loss;

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

    /** Parallel against one-thread gradients of the whole batch, for one loss. */
    function expectSameAsOneThread(loss: Loss): void {
      const model = buildModel(spec, 7);
      const { x, y } = batch(3);
      const parallel = computeGradients(model, loss, x, y);
      const vars = [...model.weights.values()];
      const single = tf.variableGrads(() => loss(model.forward(x, true).logits, y), vars);
      expect(Math.abs(parallel.loss - single.value.dataSync()[0]!)).toBeLessThan(1e-5);
      for (const v of vars) expect(relativeError(parallel.grads[v.name]!, single.grads[v.name]!.dataSync())).toBeLessThan(1e-5);
      tf.dispose([x, y, single.value, ...Object.values(single.grads)]);
      model.dispose();
    }

    it('equals the one-thread gradient of the whole batch (shard-size weighted mean)', () => {
      expectSameAsOneThread(xe);
    });

    it('follows the loss state: XE during warm-up, then XEMD with its α and D (rebuilt in the workers)', () => {
      const xemd = makeLoss({ kind: 'xemd', alpha: 2, warmup_epochs: 1 }, spec.classes);
      xemd.setEpoch(0);
      expect(xemd.state.active).toBe(false);
      expectSameAsOneThread(xemd.loss);
      xemd.setEpoch(1);
      expect(xemd.state.active).toBe(true);
      expectSameAsOneThread(xemd.loss);
    });

    it('gives bit-identical weights for the same seed', () => {
      const first = train(3);
      expect(train(3)).toBe(first);
      expect(train(2)).not.toBe(first); // the hash does see the training
    });

    // How fast the switch back is (the workers are kept, not restarted) is `npm run bench ml`'s threads_back_on.
    it('one thread switches the workers off, two switch them back on', async () => {
      expect((await initBackend(backend, 1)).threads).toBe(1);
      expect(workerCount()).toBe(0);
      expect((await initBackend(backend, 2)).threads).toBe(2);
      expect(workerCount()).toBe(2);
    });

    it('reports a loss that fails in the workers, and the next step still works', () => {
      const model = buildModel(spec, 1);
      const { x, y } = batch(5);
      // A recipe the workers cannot build: XEMD switched on without α and D.
      const broken: Loss = Object.assign(() => tf.scalar(0), {
        recipe: { spec: { kind: 'xemd' as const }, classes: spec.classes, positions: [0, 1, 2, 3, 4], state: { active: true, alpha: null, groundDistance: null } },
      });
      expect(() => computeGradients(model, broken, x, y)).toThrow('α or D is not set');
      const ok = computeGradients(model, xe, x, y);
      expect(Number.isFinite(ok.loss)).toBe(true);
      tf.dispose([x, y]);
      model.dispose();
    });
  });
}

// The shard count, not the thread count, decides where a batch is cut: the shards run on the workers
// (in rounds when there are fewer workers than shards) or one after another on this thread, and the
// bits are the same (today's main cut the batch per worker: 1 and 2 threads gave other gradients).
describe('a fixed shard count gives the same bits on 1, 2 or 3 threads', () => {
  const specs: Array<{ name: string; spec: ModelSpec; n: number }> = [
    { name: 'small-cnn', spec, n: N },
    // Dropout: each shard draws its own masks from the step's seed, on a worker or on this thread.
    { name: 'alxs with dropout', spec: { arch: 'alxs', inputShape: [67, 67, 3], classes: 5, width: 0.1, dropout: 0.5 }, n: 7 },
  ];

  function gradientHash(s: ModelSpec, n: number, shards: number): string {
    const model = buildModel(s, 11);
    model.dropoutSeed = 1234;
    const [H, W, C] = s.inputShape;
    const x = tf.tensor4d(values(n * H * W * C, 5), [n, H, W, C]);
    const y = tf.tensor1d(Array.from({ length: n }, (_, i) => (i * 2) % s.classes), 'int32');
    const { loss, grads } = computeGradients(model, makeLoss({ kind: 'xe' }, s.classes).loss, x, y, shards);
    expect(model.dropoutSeed).toBe(1234); // the step's seed is left as the trainer set it
    const hash = createHash('sha256').update(new Float64Array([loss]));
    for (const v of model.weights.values()) hash.update(grads[v.name]!);
    tf.dispose([x, y]);
    model.dispose();
    return hash.digest('hex');
  }

  for (const backend of ['wasm', 'cpu'] as const) {
    for (const { name, spec: s, n } of specs) {
      it(`${backend}, ${name}: 2 and 3 shards`, async () => {
        const byShards = new Map<number, string>();
        for (const shards of [2, 3]) {
          const hashes: string[] = [];
          for (const threads of [1, 2, 3]) {
            expect((await initBackend(backend, threads)).threads).toBe(threads);
            expect(workerCount()).toBe(threads > 1 ? threads : 0);
            hashes.push(gradientHash(s, n, shards));
          }
          expect(new Set(hashes).size).toBe(1);
          byShards.set(shards, hashes[0]!);
        }
        expect(byShards.get(2)).not.toBe(byShards.get(3)); // the hash does see the cut
      }, 60_000);
    }
  }
});
