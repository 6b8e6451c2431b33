// The networks: shapes of both architectures, seeded initialisation, the optimisers' update rules.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, shutdownBackend } from '../../src/ml/backend/index.js';
import { buildModel, weightShapes } from '../../src/ml/models.js';
import { learningRate, makeOptimizer } from '../../src/ml/optimizers.js';
import { readWeights } from '../../src/ml/model-file.js';

beforeAll(async () => {
  await initBackend('cpu', 1);
});
afterAll(async () => {
  await shutdownBackend();
});

describe('models', () => {
  it('small-cnn: conv32-pool-conv64-pool-fc128-fcC on 28×28, features of 128', () => {
    const spec = { arch: 'small-cnn' as const, inputShape: [28, 28, 3] as [number, number, number], classes: 5 };
    expect(weightShapes(spec)).toEqual([
      { name: 'conv1/kernel', shape: [3, 3, 3, 32] },
      { name: 'conv1/bias', shape: [32] },
      { name: 'conv2/kernel', shape: [3, 3, 32, 64] },
      { name: 'conv2/bias', shape: [64] },
      { name: 'fc1/kernel', shape: [7 * 7 * 64, 128] },
      { name: 'fc1/bias', shape: [128] },
      { name: 'out/kernel', shape: [128, 5] },
      { name: 'out/bias', shape: [5] },
    ]);
    const model = buildModel(spec, 1);
    const { logits, features } = tf.tidy(() => {
      const out = model.forward(tf.zeros([2, 28, 28, 3]) as tf.Tensor4D, false);
      return { logits: out.logits.shape, features: out.features.shape };
    });
    expect(logits).toEqual([2, 5]);
    expect(features).toEqual([2, 128]);
    expect(model.featureSize).toBe(128);
    model.dispose();
  });

  it('alxs: Levi & Hassner layer sizes at 227×227, scaled by width, dropout only in training', () => {
    const spec = { arch: 'alxs' as const, inputShape: [227, 227, 3] as [number, number, number], classes: 8 };
    const full = Object.fromEntries(weightShapes(spec).map((w) => [w.name, w.shape]));
    expect(full['conv1/kernel']).toEqual([7, 7, 3, 96]);
    expect(full['conv2/kernel']).toEqual([5, 5, 96, 256]);
    expect(full['conv3/kernel']).toEqual([3, 3, 256, 384]);
    // 227 → conv 7/4 → 56 → pool 3/2 → 27 → pool → 13 → pool → 6.
    expect(full['fc1/kernel']).toEqual([6 * 6 * 384, 512]);
    expect(full['fc2/kernel']).toEqual([512, 512]);
    expect(full['out/kernel']).toEqual([512, 8]);
    const small = buildModel({ ...spec, width: 1 / 16 }, 2);
    const x = tf.randomUniform([1, 227, 227, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    const [a, b, train] = tf.tidy(() => [
      small.forward(x, false).logits.dataSync().slice(),
      small.forward(x, false).logits.dataSync().slice(),
      small.forward(x, true).features.shape,
    ]);
    expect(a).toHaveLength(8);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(train).toEqual([1, 32]);
    small.dispose();
    x.dispose();
  });

  it('initialises from the seed alone: He-normal hidden layers, Glorot-uniform output, zero biases', () => {
    const spec = { arch: 'small-cnn' as const, inputShape: [8, 8, 1] as [number, number, number], classes: 3, width: 0.5 };
    const [m1, m2, m3] = [buildModel(spec, 7), buildModel(spec, 7), buildModel(spec, 8)];
    const [w1, w2, w3] = [readWeights(m1), readWeights(m2), readWeights(m3)];
    w1.forEach((w, i) => expect(Array.from(w)).toEqual(Array.from(w2[i])));
    expect(Array.from(w1[0])).not.toEqual(Array.from(w3[0]));
    expect(w1[1].every((v) => v === 0)).toBe(true);
    // conv2 kernel: fan_in 3·3·16 → std √(2/144); 3·3·16·32 = 4608 samples estimate it within a few %.
    const conv2 = w1[2];
    const std = Math.sqrt(conv2.reduce((a, v) => a + v * v, 0) / conv2.length);
    expect(std).toBeGreaterThan(Math.sqrt(2 / 144) * 0.95);
    expect(std).toBeLessThan(Math.sqrt(2 / 144) * 1.05);
    const limit = Math.sqrt(6 / (64 + 3));
    expect(w1[6].every((v) => Math.abs(v) <= limit)).toBe(true);
    for (const m of [m1, m2, m3]) m.dispose();
  });
});

describe('optimisers', () => {
  const run = (spec: Parameters<typeof makeOptimizer>[0], grads: number[], lr = 0.1) => {
    const w = tf.variable(tf.tensor1d([1]), true, `w${Math.random()}`);
    const opt = makeOptimizer(spec, new Map([['w', w]]));
    const trace: number[] = [];
    for (const g of grads) {
      opt.step({ [w.name]: Float32Array.of(g) }, lr);
      trace.push(w.dataSync()[0]);
    }
    w.dispose();
    return trace;
  };

  it('SGD with momentum, Nesterov and coupled weight decay follows the PyTorch rules', () => {
    // v1 = 1, w = 1 − 0.1 = 0.9; v2 = 0.9·1 + 1 = 1.9, w = 0.9 − 0.19 = 0.71.
    const plain = run({ kind: 'sgd', lr: 0.1, momentum: 0.9 }, [1, 1]);
    expect(plain[0]).toBeCloseTo(0.9, 6);
    expect(plain[1]).toBeCloseTo(0.71, 6);
    // Nesterov: step = g + μ v: 1 + 0.9 = 1.9 → 0.81; v2 = 1.9, step = 1 + 1.71 = 2.71 → 0.81 − 0.271.
    const nesterov = run({ kind: 'sgd', lr: 0.1, momentum: 0.9, nesterov: true }, [1, 1]);
    expect(nesterov[0]).toBeCloseTo(0.81, 6);
    expect(nesterov[1]).toBeCloseTo(0.539, 6);
    // Weight decay 0.5 adds 0.5·w = 0.5 to the gradient 1: w = 1 − 0.1·1.5.
    expect(run({ kind: 'sgd', lr: 0.1, weightDecay: 0.5 }, [1])[0]).toBeCloseTo(0.85, 6);
  });

  it('Adam: the first step moves each weight by lr (bias-corrected), whatever the gradient scale', () => {
    expect(run({ kind: 'adam', lr: 0.01 }, [1000], 0.01)[0]).toBeCloseTo(0.99, 5);
    expect(run({ kind: 'adam', lr: 0.01 }, [-0.001], 0.01)[0]).toBeCloseTo(1.01, 5);
  });

  it('updates many weights at once as the rule says, step after step (SIMD arena with its scalar tail, and plain JS)', () => {
    const n = 11; // two vectors of four and a tail of three
    const init = Float32Array.from({ length: n }, (_, i) => Math.sin(i + 1));
    const gradsAt = (t: number) => Float32Array.from({ length: n }, (_, i) => Math.cos(i * 0.7 + t) * (i % 3 === 0 ? 100 : 0.01));
    const specs: Array<Parameters<typeof makeOptimizer>[0]> = [
      { kind: 'adam', lr: 0.01, weightDecay: 0.1 },
      { kind: 'sgd', lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01 },
    ];
    for (const [spec, simd] of specs.flatMap((sp) => [[sp, true], [sp, false]] as const)) {
      const w = tf.variable(tf.tensor1d(init), true, `many${Math.random()}`);
      const opt = makeOptimizer(spec, new Map([['w', w]]), { simd });
      // Reference in float64 from the PyTorch formulas.
      const ref = Float64Array.from(init);
      const m = new Float64Array(n);
      const s = new Float64Array(n);
      for (let t = 1; t <= 4; t++) {
        const g = gradsAt(t);
        opt.step({ [w.name]: g }, spec.lr);
        for (let i = 0; i < n; i++) {
          const ge = g[i]! + (spec.weightDecay ?? 0) * ref[i]!;
          if (spec.kind === 'adam') {
            m[i] = 0.9 * m[i]! + 0.1 * ge;
            s[i] = 0.999 * s[i]! + 0.001 * ge * ge;
            ref[i]! -= (spec.lr / (1 - 0.9 ** t)) * (m[i]! / (Math.sqrt(s[i]!) / Math.sqrt(1 - 0.999 ** t) + 1e-8));
          } else {
            m[i] = 0.9 * m[i]! + ge;
            ref[i]! -= spec.lr * (ge + 0.9 * m[i]!);
          }
        }
      }
      const got = w.dataSync();
      for (let i = 0; i < n; i++) expect(Math.abs(got[i]! - ref[i]!)).toBeLessThan(1e-5);
      // The slots survive a save and a load into a fresh optimiser.
      const saved = opt.save();
      const again = makeOptimizer(spec, new Map([['w', w]]), { simd: !simd });
      again.load(saved);
      expect(again.save()).toEqual(saved);
      w.dispose();
    }
  });

  it('learning-rate schedules per epoch', () => {
    expect(learningRate({ kind: 'sgd', lr: 1 }, 5, 10)).toBe(1);
    expect(learningRate({ kind: 'sgd', lr: 1, schedule: { kind: 'step', every: 2, gamma: 0.1 } }, 5, 10)).toBeCloseTo(0.01, 12);
    expect(learningRate({ kind: 'sgd', lr: 1, schedule: { kind: 'cosine' } }, 0, 10)).toBe(1);
    expect(learningRate({ kind: 'sgd', lr: 1, schedule: { kind: 'cosine' } }, 5, 10)).toBeCloseTo(0.5, 12);
  });
});
