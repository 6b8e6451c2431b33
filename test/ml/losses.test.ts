// The losses against hand-computed values, finite differences and independent formulas (docs/ml.md).
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/ml/backend/index.js';
import {
  calibrateAlpha,
  emd2FromProbs,
  emd2Loss,
  emdTerm,
  lossSpecProblems,
  makeLoss,
  predictClasses,
  regLoss,
  sinkhornFromProbs,
  sinkhornLoss,
  xeLoss,
  xemdLoss,
} from '../../src/ml/losses.js';
import { emdWeights, groundDistance } from '../../src/ml/ground-distance.js';
import type { Loss } from '../../src/ml/types.js';

beforeAll(async () => {
  await initBackend('cpu');
});

const value = (t: tf.Scalar): number => {
  const v = t.dataSync()[0];
  t.dispose();
  return v;
};
const labelsOf = (ks: number[]) => tf.tensor1d(ks, 'int32');
const softmaxJs = (z: number[]) => {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};

/** Central differences of a loss with respect to each logit, in float32 tensors (hence eps = 1e-2). */
function finiteDifferences(loss: Loss, logits: number[][], labels: number[], eps = 1e-2): number[][] {
  return logits.map((row, n) =>
    row.map((_, c) => {
      const at = (delta: number) => {
        const z = logits.map((r, i) => r.map((v, j) => (i === n && j === c ? v + delta : v)));
        return tf.tidy(() => loss(tf.tensor2d(z), labelsOf(labels)).dataSync()[0]);
      };
      return (at(eps) - at(-eps)) / (2 * eps);
    }),
  );
}

function autodiff(loss: Loss, logits: number[][], labels: number[]): number[][] {
  return tf.tidy(() => {
    const g = tf.grad((z: tf.Tensor) => loss(z as tf.Tensor2D, labelsOf(labels)))(tf.tensor2d(logits));
    return g.arraySync() as number[][];
  });
}

function expectClose(a: number[][], b: number[][], tol: number) {
  a.forEach((row, i) => row.forEach((v, j) => expect(Math.abs(v - b[i][j]), `[${i}][${j}] ${v} vs ${b[i][j]}`).toBeLessThan(tol)));
}

/**
 * 1-D Wasserstein-1 from the quantile functions: ∫₀¹ |F⁻¹(u) − G⁻¹(u)| du, merging the breakpoints of the two
 * cumulative sums. A different route from the CDF-difference formula the loss uses.
 */
function wasserstein1(positions: number[], p: number[], q: number[]): number {
  const quantile = (w: number[], u: number) => {
    let acc = 0;
    for (let i = 0; i < w.length; i++) {
      acc += w[i];
      if (u < acc - 1e-15) return positions[i];
    }
    return positions[positions.length - 1];
  };
  const cuts = new Set<number>([0, 1]);
  let a = 0;
  let b = 0;
  p.forEach((v, i) => {
    a += v;
    b += q[i];
    cuts.add(Math.min(1, a));
    cuts.add(Math.min(1, b));
  });
  const sorted = [...cuts].sort((x, y) => x - y);
  let total = 0;
  for (let i = 0; i + 1 < sorted.length; i++) {
    const mid = (sorted[i] + sorted[i + 1]) / 2;
    total += (sorted[i + 1] - sorted[i]) * Math.abs(quantile(p, mid) - quantile(q, mid));
  }
  return total;
}

const LOGITS = [
  [0.3, -1.2, 2.0, 0.5, -0.4],
  [1.5, 0.2, -0.7, 0.1, 0.9],
  [-0.5, 0.4, 0.0, 1.1, 2.2],
];
const LABELS = [2, 0, 3];

describe('xe', () => {
  it('is −log p_k, batch mean', () => {
    expect(value(xeLoss(tf.tensor2d([[0, 0]]), labelsOf([1])))).toBeCloseTo(Math.log(2), 6);
    const expected = LOGITS.map((z, n) => -Math.log(softmaxJs(z)[LABELS[n]])).reduce((a, b) => a + b) / 3;
    expect(value(xeLoss(tf.tensor2d(LOGITS), labelsOf(LABELS)))).toBeCloseTo(expected, 5);
  });
});

describe('emd2', () => {
  it('matches a hand-computed value, with and without 1/C', () => {
    // p = (0.5, 0.5, 0), t = class 0: CDFs (0.5, 1) vs (1, 1) → squared diffs 0.25 → 0.25/3 normalised.
    const p = tf.tensor2d([[0.5, 0.5, 0]]);
    const t = tf.tensor2d([[1, 0, 0]]);
    expect(value(emd2FromProbs(p, t))).toBeCloseTo(0.25 / 3, 7);
    expect(value(emd2FromProbs(p, t, { normalize: false }))).toBeCloseTo(0.25, 7);
    // Mass two classes away costs 4× a neighbour (squared CDF distance): p = (0,0,1) vs class 0 → diffs (−1, −1).
    expect(value(emd2FromProbs(tf.tensor2d([[0, 0, 1]]), t, { normalize: false }))).toBeCloseTo(2, 6);
  });

  it('is zero for a perfect prediction', () => {
    const t = tf.tensor2d([[0, 0, 1, 0], [1, 0, 0, 0]]);
    expect(value(emd2FromProbs(t, t))).toBe(0);
    expect(value(emd2Loss(tf.tensor2d([[-30, -30, 30, -30]]), labelsOf([2])))).toBeLessThan(1e-12);
  });

  it('has the gradient (2/C) Σ_{j≥i} (CDF_j(p) − CDF_j(t)) with respect to p', () => {
    const pJs = [0.1, 0.2, 0.3, 0.15, 0.25];
    const k = 1;
    const C = pJs.length;
    const cdfP = pJs.map((_, j) => pJs.slice(0, j + 1).reduce((a, b) => a + b, 0));
    const cdfT = pJs.map((_, j) => (j >= k ? 1 : 0));
    const formula = pJs.map((_, i) => (2 / C) * cdfP.slice(i).reduce((acc, v, jj) => acc + v - cdfT[i + jj], 0));
    const grad = tf.tidy(() => {
      const t = tf.cast(tf.oneHot(tf.tensor1d([k], 'int32'), C), 'float32') as tf.Tensor2D;
      return Array.from(tf.grad((p: tf.Tensor) => emd2FromProbs(p as tf.Tensor2D, t))(tf.tensor2d([pJs])).dataSync());
    });
    grad.forEach((g, i) => expect(g).toBeCloseTo(formula[i], 6));
  });

  it('with l = 1 and no 1/C equals the 1-D Wasserstein-1 distance, for unit and uneven spacing', () => {
    const p = [0.1, 0.4, 0.05, 0.3, 0.15];
    const q = [0.3, 0.0, 0.5, 0.1, 0.1];
    for (const positions of [[0, 1, 2, 3, 4], [0, 0.5, 2, 2.25, 6]]) {
      const got = value(emd2FromProbs(tf.tensor2d([p]), tf.tensor2d([q]), { l: 1, normalize: false, positions }));
      expect(got).toBeCloseTo(wasserstein1(positions, p, q), 5);
      // Against a one-hot label too: W1 to a point mass at pos_k is the expected distance.
      const k = 3;
      const onehot = p.map((_, i) => (i === k ? 1 : 0));
      const expected = p.reduce((acc, v, i) => acc + v * Math.abs(positions[i] - positions[k]), 0);
      expect(value(emd2FromProbs(tf.tensor2d([p]), tf.tensor2d([onehot]), { l: 1, normalize: false, positions }))).toBeCloseTo(expected, 5);
      expect(wasserstein1(positions, p, onehot)).toBeCloseTo(expected, 10);
    }
  });

  it('differentiates through the softmax like finite differences (l = 2 and l = 1.5)', () => {
    for (const l of [2, 1.5]) {
      const loss: Loss = (z, y) => emd2Loss(z, y, { l });
      expectClose(autodiff(loss, LOGITS, LABELS), finiteDifferences(loss, LOGITS, LABELS), 2e-3);
    }
  });
});

describe('xemd', () => {
  it('is XE + α Σ p_i² (D_ik^ω + μ)', () => {
    const D = groundDistance([0, 1, 2]); // [[0, .5, 1], [.5, 0, .5], [1, .5, 0]]
    expect(D[0]).toEqual([0, 0.5, 1]);
    const M = emdWeights(D, 2, 0.25);
    const z = [[0.2, 0.1, -0.3]];
    const p = softmaxJs(z[0]);
    const k = 2;
    const term = p.reduce((acc, pi, i) => acc + pi * pi * (D[i][k] ** 2 + 0.25), 0);
    const xe = -Math.log(p[k]);
    expect(value(emdTerm(tf.tensor2d([p]), labelsOf([k]), M))).toBeCloseTo(term, 6);
    expect(value(xemdLoss(tf.tensor2d(z), labelsOf([k]), 0.7, M))).toBeCloseTo(xe + 0.7 * term, 6);
    const loss: Loss = (zz, y) => xemdLoss(zz, y, 0.7, emdWeights(groundDistance([0, 1, 2, 3, 4]), 1, -0.5));
    expectClose(autodiff(loss, LOGITS, LABELS), finiteDifferences(loss, LOGITS, LABELS), 2e-3);
  });

  it('is XE alone during warm-up, then switches the term on', () => {
    const training = makeLoss({ kind: 'xemd', warmup_epochs: 2, alpha: 2, omega: 1, mu: 0.5 }, 5);
    const z = tf.tensor2d(LOGITS);
    const y = labelsOf(LABELS);
    const xe = value(xeLoss(z, y));
    training.setEpoch(0);
    expect(value(training.loss(z, y))).toBeCloseTo(xe, 6);
    training.setEpoch(1);
    expect(value(training.loss(z, y))).toBeCloseTo(xe, 6);
    training.setEpoch(2);
    const M = emdWeights(groundDistance([0, 1, 2, 3, 4]), 1, 0.5);
    expect(value(training.loss(z, y))).toBeCloseTo(value(xemdLoss(z, y, 2, M)), 6);
  });

  it("'auto' sets α at the end of warm-up so the term is XE / 3.5", () => {
    const training = makeLoss({ kind: 'xemd', warmup_epochs: 1, alpha: 'auto' }, 5);
    expect(training.needsPass(-1)).toBe(false);
    expect(training.needsPass(0)).toBe(true);
    expect(training.needsPass(1)).toBe(false);
    const pass = { logits: new Float32Array(LOGITS.flat()), features: new Float32Array(3), featureSize: 1, labels: new Int32Array(LABELS) };
    training.endEpoch(0, pass);
    const alpha = training.state.alpha!;
    const z = tf.tensor2d(LOGITS);
    const y = labelsOf(LABELS);
    const M = emdWeights(groundDistance([0, 1, 2, 3, 4]), 1, 0.5);
    const term = value(emdTerm(tf.softmax(z) as tf.Tensor2D, y, M));
    expect(alpha * term * 3.5).toBeCloseTo(value(xeLoss(z, y)), 5);
    expect(calibrateAlpha(pass, 5, M)).toBeCloseTo(alpha, 6);
    // Without warm-up the calibration happens before training (epoch −1).
    expect(makeLoss({ kind: 'xemd', alpha: 'auto' }, 5).needsPass(-1)).toBe(true);
  });
});

describe('learned', () => {
  it('starts from the uniform D and learns D from the features at each epoch end', () => {
    const training = makeLoss({ kind: 'learned', alpha: 1 }, 3);
    expect(training.state.groundDistance).toEqual([[0, 1, 1], [1, 0, 1], [1, 1, 0]]);
    expect(training.needsPass(-1)).toBe(false);
    expect(training.needsPass(0)).toBe(true);
    // Class centroids on a line: 0 at (1,0), 1 at (.5,.5), 2 at (0,1) → ranks give |i−k|/2.
    const features = new Float32Array([2, 0, 1, 1, 3, 3, 0, 5]);
    training.endEpoch(0, { logits: new Float32Array(12), features, featureSize: 2, labels: new Int32Array([0, 1, 1, 2]) });
    expect(training.state.groundDistance).toEqual([[0, 0.5, 1], [0.5, 0, 0.75], [1, 0.75, 0]]);
  });
});

describe('reg', () => {
  it('is the squared error of z_0 on the class position, and predicts the nearest class', () => {
    const z = tf.tensor2d([[1.4, 9, 9], [0.2, -9, 9]]);
    expect(value(regLoss(z, labelsOf([2, 0])))).toBeCloseTo(((1.4 - 2) ** 2 + 0.2 ** 2) / 2, 6);
    expect(value(regLoss(z, labelsOf([2, 0]), [0, 10, 20]))).toBeCloseTo(((1.4 - 20) ** 2 + 0.2 ** 2) / 2, 4);
    expect(Array.from(predictClasses([1.4, 9, 9, 0.2, -9, 9, 7, 0, 0], 3, 'reg'))).toEqual([1, 0, 2]);
    expect(Array.from(predictClasses([1.4, 9, 9, 0.2, -9, 9], 3, 'xe'))).toEqual([1, 2]);
    const loss: Loss = (zz, y) => regLoss(zz, y);
    expectClose(autodiff(loss, LOGITS, LABELS), finiteDifferences(loss, LOGITS, LABELS), 2e-3);
  });
});

describe('sinkhorn', () => {
  it('approaches the exact EMD monotonically from below as λ grows', () => {
    const p = [0.1, 0.4, 0.05, 0.3, 0.15];
    const q = [0.3, 0.02, 0.5, 0.08, 0.1];
    const exact = wasserstein1([0, 1, 2, 3, 4], p, q);
    // The entropic objective is ⟨T,M⟩ − H(T)/λ with H(T) ≤ H(p) + H(q): the gap is at most that over λ.
    const entropy = (w: number[]) => -w.reduce((acc, v) => acc + (v > 0 ? v * Math.log(v) : 0), 0);
    const bound = entropy(p) + entropy(q);
    let previous = -Infinity;
    for (const lambda of [0.5, 1, 2, 4, 8, 16, 20]) {
      const got = value(sinkhornFromProbs(tf.tensor2d([p]), tf.tensor2d([q]), { lambda, iterations: 400 }));
      expect(got).toBeLessThanOrEqual(exact + 1e-5);
      expect(exact - got).toBeLessThanOrEqual(bound / lambda + 1e-5);
      expect(got).toBeGreaterThan(previous);
      previous = got;
    }
    expect(exact - previous).toBeLessThan(0.12);
  });

  it('with a one-hot target is Σ p_i M_ik + (1/λ) Σ p_i log p_i', () => {
    const p = softmaxJs(LOGITS[0]);
    const k = LABELS[0];
    const lambda = 2;
    const expected = p.reduce((acc, v, i) => acc + v * Math.abs(i - k) + (v * Math.log(v)) / lambda, 0);
    expect(value(sinkhornLoss(tf.tensor2d([LOGITS[0]]), labelsOf([k]), { lambda, iterations: 10 }))).toBeCloseTo(expected, 5);
    const loss: Loss = (zz, y) => sinkhornLoss(zz, y, { lambda: 1, iterations: 20 });
    expectClose(autodiff(loss, LOGITS, LABELS), finiteDifferences(loss, LOGITS, LABELS), 2e-3);
  });

  it('has the gradient of the converged entropic OT (dual potential) for soft targets too', () => {
    const q = [[0.3, 0.02, 0.5, 0.08, 0.1], [0.1, 0.1, 0.1, 0.1, 0.6], [0.2, 0.2, 0.2, 0.2, 0.2]];
    const loss: Loss = (zz) => sinkhornFromProbs(tf.softmax(zz) as tf.Tensor2D, tf.tensor2d(q), { lambda: 2, iterations: 500 });
    expectClose(autodiff(loss, LOGITS, LABELS), finiteDifferences(loss, LOGITS, LABELS), 2e-3);
  });

  it('rejects a λ that underflows the kernel', () => {
    expect(lossSpecProblems({ kind: 'sinkhorn', lambda: 30 }, 5).map((p) => p.path)).toEqual(['lambda']);
    expect(lossSpecProblems({ kind: 'sinkhorn', lambda: 10 }, 5)).toEqual([]);
    expect(() => makeLoss({ kind: 'sinkhorn', lambda: 30 }, 5)).toThrow(/underflows/);
  });
});

describe('loss specs', () => {
  it('reports bad fields', () => {
    expect(lossSpecProblems({ kind: 'emd2', positions: [0, 2, 1] }, 3).map((p) => p.path)).toEqual(['positions']);
    expect(lossSpecProblems({ kind: 'xemd', ground_distance: [[0, 1], [1, 0]] }, 3).map((p) => p.path)).toEqual(['ground_distance']);
    expect(lossSpecProblems({ kind: 'bogus' as never }).map((p) => p.path)).toEqual(['kind']);
  });
});
