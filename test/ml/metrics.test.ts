// Metrics of ordered classes on hand-worked cases (docs/ml.md).
import { describe, expect, it } from 'vitest';
import {
  accuracy,
  confusionMatrix,
  evaluationMetrics,
  meanAbsoluteError,
  oneOffAccuracy,
  perClassRecall,
  quadraticWeightedKappa,
} from '../../src/ml/metrics.js';
import { groundDistance, learnGroundDistance, uniformDistance } from '../../src/ml/ground-distance.js';

describe('metrics', () => {
  const truth = [0, 1, 2, 2, 4];
  const pred = [0, 2, 2, 0, 3];

  it('accuracy, one-off accuracy and MAE in class steps', () => {
    expect(accuracy(truth, pred)).toBeCloseTo(2 / 5, 12);
    expect(oneOffAccuracy(truth, pred)).toBeCloseTo(4 / 5, 12);
    expect(meanAbsoluteError(truth, pred)).toBeCloseTo((0 + 1 + 0 + 2 + 1) / 5, 12);
    expect(() => accuracy([0], [0, 1])).toThrow(/1 labels but 2 predictions/);
  });

  it('confusion matrix [true][pred] and per-class recall (0 for an absent class)', () => {
    const m = confusionMatrix(truth, pred, 5);
    expect(m).toEqual([
      [1, 0, 0, 0, 0],
      [0, 0, 1, 0, 0],
      [1, 0, 1, 0, 0],
      [0, 0, 0, 0, 0],
      [0, 0, 0, 1, 0],
    ]);
    expect(perClassRecall(m)).toEqual([1, 0, 0.5, 0, 0]);
  });

  it('quadratic-weighted kappa on a worked case, and its bounds', () => {
    // O = [[1,0,0],[0,0,1],[0,1,1]], marginals (1,1,2): Σ w·O = 0.5, Σ w·E = 1.375 → κ = 1 − 0.5/1.375.
    expect(quadraticWeightedKappa([0, 1, 2, 2], [0, 2, 2, 1], 3)).toBeCloseTo(1 - 0.5 / 1.375, 12);
    expect(quadraticWeightedKappa([0, 1, 2, 3], [0, 1, 2, 3], 4)).toBe(1);
    // Fully reversed predictions of a balanced set are perfectly anti-correlated: κ = −1.
    expect(quadraticWeightedKappa([0, 1, 2], [2, 1, 0], 3)).toBeCloseTo(-1, 12);
    // A constant prediction carries no information: Σ w·E = Σ w·O, κ = 0.
    expect(quadraticWeightedKappa([0, 1, 2], [1, 1, 1], 3)).toBeCloseTo(0, 12);
    expect(quadraticWeightedKappa([1, 1], [1, 1], 3)).toBe(0);
  });

  it('evaluationMetrics gathers them as metrics.json holds them', () => {
    const m = evaluationMetrics(truth, pred, ['a', 'b', 'c', 'd', 'e'], 'test');
    expect(m).toMatchObject({ accuracy: 0.4, one_off_accuracy: 0.8, n: 5, split: 'test', classes: ['a', 'b', 'c', 'd', 'e'] });
    expect(m.confusion[2]).toEqual([1, 0, 1, 0, 0]);
  });

  it('leaves the ordinal metrics out for unordered classes: a class step there is the label order', () => {
    const m = evaluationMetrics(truth, pred, ['a', 'b', 'c', 'd', 'e'], 'test', false);
    expect(m.accuracy).toBe(0.4);
    for (const k of ['one_off_accuracy', 'mae', 'qwk']) expect(k in m).toBe(false);
  });
});

describe('ground distance', () => {
  it('from positions, scaled to [0, 1], with ω', () => {
    expect(groundDistance([0, 1, 3])).toEqual([[0, 1 / 3, 1], [1 / 3, 0, 2 / 3], [1, 2 / 3, 0]]);
    expect(groundDistance([0, 1, 2], { omega: 2 })[0]).toEqual([0, 0.25, 1]);
    expect(groundDistance([0, 1, 2], { scale: false })[0]).toEqual([0, 1, 2]);
    expect(uniformDistance(2)).toEqual([[0, 1], [1, 0]]);
  });

  it('learned: normalised features → centroids → ranks / (C−1) → symmetrised', () => {
    // Features divided by their sum: class 0 → (1, 0, 0), class 1 → (0, 1, 0) and (0, 0, 1) → centroid (0, .5, .5),
    // class 2 → (0, 0, 1). Distances: d01 = √1.5, d02 = √2, d12 = √0.5.
    // Row ranks: 0 → [0, 1, 2]; 1 → [2, 0, 1]; 2 → [2, 1, 0]; symmetrised / 2:
    const features = new Float32Array([5, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 7]);
    const d = learnGroundDistance(features, 3, [0, 1, 1, 2], 3);
    expect(d).toEqual([[0, 0.75, 1], [0.75, 0, 0.5], [1, 0.5, 0]]);
    // An empty class gets the zero centroid; an all-zero feature vector stays zero (no NaN).
    const d2 = learnGroundDistance(new Float32Array([0, 0, 1, 1]), 2, [0, 1], 3);
    expect(d2.flat().every(Number.isFinite)).toBe(true);
    expect(d2.map((row, i) => row[i])).toEqual([0, 0, 0]);
  });
});
