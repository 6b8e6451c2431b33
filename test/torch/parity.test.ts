// Cross-engine parity: the same fixed batch through the tfjs library (in process) and the torch
// engine (engines/torch/parity.py, float64): every loss variant's value and gradient w.r.t. the
// logits, the learned ground distance, the automatic α, the initial weights, a forward pass of each
// network, and the metrics. Skipped, saying so, where no Python with torch is found.
import { beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import * as tf from '@tensorflow/tfjs-core';
import { initTfjs } from '../../src/ml/runtime.js';
import { calibrateAlpha, makeLoss, predictClasses, type LossState } from '../../src/ml/losses.js';
import { learnGroundDistance } from '../../src/ml/ground-distance.js';
import { emdWeights } from '../../src/ml/ground-distance.js';
import { buildModel } from '../../src/ml/models.js';
import { evaluationMetrics } from '../../src/ml/metrics.js';
import { mulberry32 } from '../../src/core/rng.js';
import { TORCH_ENGINE_MAIN } from '../../src/ml/torch.js';
import type { LossSpec, ModelSpec } from '../../src/ml/types.js';
import { torch } from './helpers.js';
import { tempDir } from '../support/index.js';

/** Agreement to 1e-5 relative: |a − b| ≤ 1e-5 · max(|b|, scale); `scale` is the largest |entry| of
 * the matrix a gradient belongs to, since tfjs computes in float32 (ε ≈ 6e-8) and near-zero entries
 * carry the absolute rounding error of their larger neighbours. */
const REL = 1e-5;
function expectClose(actual: number, expected: number, scale: number, what: string): void {
  const tol = REL * Math.max(Math.abs(expected), scale);
  expect(Math.abs(actual - expected), `${what}: tfjs ${actual} vs torch ${expected}`).toBeLessThanOrEqual(tol);
}
function expectMatrixClose(actual: number[][], expected: number[][], what: string): void {
  const scale = Math.max(...expected.flat().map(Math.abs));
  expected.forEach((row, i) => row.forEach((v, j) => expectClose(actual[i]![j]!, v, scale, `${what}[${i}][${j}]`)));
}

const N = 8;
const C = 5;
const rand = mulberry32(2024);
// float32-representable inputs, so both engines start from exactly the same numbers.
const logits = Array.from({ length: N }, () => Array.from({ length: C }, () => Math.fround(rand() * 6 - 3)));
const labels = Array.from({ length: N }, (_, i) => i % C);
const positions = [0, 1, 2, 3, 4];
const learnedD = [
  [0, 0.25, 0.5, 0.75, 1],
  [0.25, 0, 0.375, 0.5, 0.875],
  [0.5, 0.375, 0, 0.25, 0.625],
  [0.75, 0.5, 0.25, 0, 0.375],
  [1, 0.875, 0.625, 0.375, 0],
];

const cases: Array<{ name: string; loss: LossSpec; state?: LossState }> = [
  { name: 'xe', loss: { kind: 'xe' } },
  { name: 'emd2 (l=2, 1/C)', loss: { kind: 'emd2' } },
  { name: 'emd2 (l=1, unnormalised)', loss: { kind: 'emd2', l: 1, normalize: false } },
  { name: 'emd2 (l=3, uneven positions)', loss: { kind: 'emd2', l: 3, positions: [0, 1, 3, 4, 7] } },
  { name: 'xemd (ω=1, μ=0.5, α=1)', loss: { kind: 'xemd' } },
  { name: 'xemd (ω=2, μ=0.25, α=0.3)', loss: { kind: 'xemd', omega: 2, mu: 0.25, alpha: 0.3 } },
  { name: 'xemd in warm-up (XE alone)', loss: { kind: 'xemd', warmup_epochs: 2 } },
  { name: 'learned (uniform D)', loss: { kind: 'learned', alpha: 0.5 } },
  {
    name: 'learned (a learned D, auto α set)',
    loss: { kind: 'learned', alpha: 'auto', omega: 2, mu: 0.25 },
    state: { active: true, alpha: 0.37, groundDistance: learnedD },
  },
  { name: 'reg', loss: { kind: 'reg' } },
  { name: 'reg (uneven positions)', loss: { kind: 'reg', positions: [0, 1, 3, 4, 7] } },
  { name: 'sinkhorn (λ=1, 100 iterations)', loss: { kind: 'sinkhorn' } },
  { name: 'sinkhorn (λ=10, 20 iterations)', loss: { kind: 'sinkhorn', lambda: 10, iterations: 20 } },
  { name: 'sinkhorn (λ=0.1)', loss: { kind: 'sinkhorn', lambda: 0.1 } },
];

// Features for the learned D: non-negative like post-ReLU features, some rows all zero, one tie.
const features = Array.from({ length: 20 }, (_, i) =>
  i === 3 ? [0, 0, 0, 0, 0, 0] : Array.from({ length: 6 }, () => Math.fround(rand() < 0.3 ? 0 : rand() * 4)),
);
const featureLabels = features.map((_, i) => i % C);
const calibrate: LossSpec[] = [{ kind: 'xemd', alpha: 'auto' }, { kind: 'xemd', alpha: 'auto', omega: 2, mu: 0.25 }];

const smallCnn: ModelSpec = { arch: 'small-cnn', inputShape: [8, 8, 3], classes: C, width: 0.25 };
const alxs: ModelSpec = { arch: 'alxs', inputShape: [67, 67, 3], classes: C, width: 0.125 };
const mlp: ModelSpec = { arch: 'mlp', inputShape: [1, 6, 3], classes: C, width: 0.25 };
const image = (h: number, w: number) =>
  Array.from({ length: 2 }, () => Array.from({ length: h }, () => Array.from({ length: w }, () => [0, 1, 2].map(() => Math.fround(rand() * 2 - 1)))));
const models = [
  { spec: smallCnn, seed: 11, input: image(8, 8) },
  { spec: alxs, seed: 5, input: image(67, 67) },
  { spec: mlp, seed: 7, input: image(1, 6) },
];

// Rounded logits tie in places: both engines must pick the first maximum / the lower class.
const predict = [
  { kind: 'xe' as const },
  { kind: 'reg' as const },
  { kind: 'reg' as const, positions: [0, 1, 3, 4, 7] },
];
const tiedLogits = logits.map((row) => row.map((v) => Math.round(v)));

const metricLabels = Array.from({ length: 40 }, () => Math.floor(rand() * C));
const metricPredicted = metricLabels.map((l) => Math.min(C - 1, Math.max(0, l + Math.floor(rand() * 3) - 1)));

interface TorchParity {
  cases: Array<{ name: string; value: number; grad: number[][] }>;
  groundDistance: number[][];
  calibrate: number[];
  models: Array<{ weights: Record<string, number[]>; logits: number[][]; features: number[][] }>;
  predict: number[][];
  metrics: Record<string, unknown>;
}

describe.skipIf(!torch)('parity of the tfjs and torch engines (PyTorch found)', () => {
  let py: TorchParity;

  beforeAll(async () => {
    await initTfjs('cpu');
    const input = join(tempDir('repro-torch-parity-'), 'batch.json');
    writeFileSync(
      input,
      JSON.stringify({
        logits, labels, positions, cases,
        groundDistance: { features, labels: featureLabels, classes: C },
        calibrate, models,
        predict: { logits: tiedLogits, cases: predict },
        metrics: { labels: metricLabels, predicted: metricPredicted, classes: C },
      }),
    );
    const r = await execa(torch!.python, [TORCH_ENGINE_MAIN, 'parity', input], { env: { PYTHONDONTWRITEBYTECODE: '1' } });
    py = JSON.parse(r.stdout) as TorchParity;
  }, 60_000);

  it.each(cases.map((c, i) => [c.name, i] as const))('loss %s: value and gradient w.r.t. the logits', (name, i) => {
    const c = cases[i]!;
    const training = makeLoss(c.loss, C, positions);
    if (c.state) training.restore(c.state);
    else if (c.loss.warmup_epochs) training.setEpoch(0);
    const x = tf.tensor2d(logits);
    const y = tf.tensor1d(labels, 'int32');
    const { value, grad } = tf.valueAndGrad((z: tf.Tensor) => training.loss(z as tf.Tensor2D, y))(x);
    const torchCase = py.cases[i]!;
    expect(torchCase.name).toBe(name);
    expectClose(value.dataSync()[0]!, torchCase.value, 0, `${name} value`);
    expectMatrixClose(grad.arraySync() as number[][], torchCase.grad, `${name} grad`);
    // A gradient of all zeros would make the comparison empty.
    expect(Math.max(...torchCase.grad.flat().map(Math.abs))).toBeGreaterThan(1e-4);
    tf.dispose([x, y, value, grad]);
  });

  it('learns the same ground distance from the same features (ranks, ties, zero rows)', () => {
    const d = learnGroundDistance(Float32Array.from(features.flat()), 6, Int32Array.from(featureLabels), C);
    expect(py.groundDistance).toEqual(d);
  });

  it('calibrates the same automatic α', () => {
    calibrate.forEach((spec, i) => {
      const pass = { logits: Float32Array.from(logits.flat()), features: new Float32Array(0), featureSize: 0, labels: Int32Array.from(labels) };
      const training = makeLoss(spec, C, positions);
      const alpha = calibrateAlpha(pass, C, emdWeights(training.state.groundDistance!, spec.omega ?? 1, spec.mu ?? 0.5));
      expectClose(alpha, py.calibrate[i]!, 0, `α of ${JSON.stringify(spec)}`);
    });
  });

  it('starts from the same initial weights and computes the same forward pass (small-cnn, alxs, mlp)', () => {
    models.forEach((m, i) => {
      const net = buildModel(m.spec, m.seed);
      const torchModel = py.models[i]!;
      expect(Object.keys(torchModel.weights)).toEqual([...net.weights.keys()]);
      for (const [name, v] of net.weights) {
        const ours = Array.from(v.dataSync());
        const theirs = torchModel.weights[name]!;
        expect(theirs.length).toBe(ours.length);
        const differing = ours.filter((x, k) => x !== theirs[k]).length;
        // Box–Muller goes through Math.log/cos vs libm: at most a last-bit difference, in rare values.
        expect(differing, `${m.spec.arch} ${name}: values differing`).toBeLessThanOrEqual(Math.ceil(ours.length * 1e-4));
      }
      const out = tf.tidy(() => {
        const { logits: z, features: f } = net.forward(tf.tensor4d(m.input), false);
        return [z.arraySync(), f.arraySync()] as [number[][], number[][]];
      });
      expectMatrixClose(out[0], torchModel.logits, `${m.spec.arch} logits`);
      expectMatrixClose(out[1], torchModel.features, `${m.spec.arch} features`);
      net.dispose();
    });
  });

  it('predicts the same classes (argmax, nearest position for reg, ties)', () => {
    predict.forEach((p, i) => {
      expect(py.predict[i]).toEqual(Array.from(predictClasses(tiedLogits.flat(), C, p.kind, p.positions ?? positions)));
    });
  });

  it('computes the same metrics on fixed predictions', () => {
    const ours = evaluationMetrics(metricLabels, metricPredicted, ['a', 'b', 'c', 'd', 'e'], 'test');
    for (const key of ['accuracy', 'one_off_accuracy', 'mae', 'qwk'] as const) {
      expect(py.metrics[key] as number).toBeCloseTo(ours[key]!, 12);
    }
    expect(py.metrics.confusion).toEqual(ours.confusion);
    expect(py.metrics.per_class_recall).toEqual(ours.per_class_recall);
    expect(py.metrics.n).toBe(ours.n);
  });
});
