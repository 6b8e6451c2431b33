// Every loss of the paper, one place each (definitions: docs/ml.md). Each is a pure function of
// logits [N, C] and integer labels [N] returning the batch mean; makeLoss() wraps the stateful ones
// (warm-up, automatic α, learned D) for the training loop.
import * as tf from '@tensorflow/tfjs-core';
import type { Loss, LossState } from './types.js';
import { AUTO_ALPHA_RATIO, canonicalLossSpec, capabilities, lossParameter, lossSpecProblems, unitPositions, type LossKind, type LossSpec } from './loss-table.js';
import { emdWeights, groundDistance, learnGroundDistance, uniformDistance } from './ground-distance.js';

export { AUTO_ALPHA_RATIO, LOSS_KINDS, lossSpecProblems, unitPositions } from './loss-table.js';
export type { LossState } from './types.js';
/** Floor of Sinkhorn denominators and of T inside T·log T (0 log 0 = 0). */
const TINY = 1e-30;

function oneHotFloat(labels: tf.Tensor1D, classes: number): tf.Tensor2D {
  return tf.cast(tf.oneHot(labels, classes), 'float32') as tf.Tensor2D;
}

// ---------------------------------------------------------------------------------------------
// Pure losses.

/** Softmax cross-entropy: mean of −log p_k. */
export function xeLoss(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const logp = tf.logSoftmax(logits);
    const picked = tf.sum(tf.mul(logp, oneHotFloat(labels, logits.shape[1])), 1);
    return tf.neg(tf.mean(picked));
  });
}

export interface Emd2Options {
  /** Exponent on |CDF difference| (2: the squared EMD). */
  l?: number;
  /** Multiply by 1/C (default true). */
  normalize?: boolean;
  /** Class positions; the CDF term j is weighted by pos_{j+1} − pos_j. */
  positions?: readonly number[];
}

/**
 * The exact EMD^l of ordered classes from probabilities p [N, C] and target distributions [N, C]:
 * s · Σ_{j<C} g_j |CDF_j(p) − CDF_j(t)|^l, batch mean (docs/ml.md). The j = C term is always 0.
 */
export function emd2FromProbs(p: tf.Tensor2D, target: tf.Tensor2D, options: Emd2Options = {}): tf.Scalar {
  const C = p.shape[1];
  const l = options.l ?? 2;
  const positions = options.positions ?? unitPositions(C);
  return tf.tidy(() => {
    // CDF_j for j = 1..C−1 as one matmul with an upper-triangular 0/1 matrix: cheap and supported by every backend.
    const upper = tf.tensor2d(
      Array.from({ length: C }, (_, i) => Array.from({ length: C - 1 }, (_, j) => (i <= j ? 1 : 0))),
      [C, C - 1],
    );
    const gaps = tf.tensor1d(Array.from({ length: C - 1 }, (_, j) => positions[j + 1] - positions[j]));
    const diff = tf.sub(tf.matMul(p, upper), tf.matMul(target, upper));
    const powered = l === 2 ? tf.square(diff) : l === 1 ? tf.abs(diff) : tf.pow(tf.abs(diff), l);
    const perSample = tf.sum(tf.mul(powered, gaps), 1);
    const scale = options.normalize === false ? 1 : 1 / C;
    return tf.mul(tf.mean(perSample), scale);
  });
}

/** emd2 of the softmax of the logits against the one-hot labels. */
export function emd2Loss(logits: tf.Tensor2D, labels: tf.Tensor1D, options: Emd2Options = {}): tf.Scalar {
  return tf.tidy(() => emd2FromProbs(tf.softmax(logits), oneHotFloat(labels, logits.shape[1]), options));
}

/** The XEMD term: mean over the batch of Σ_i p_i² M_{i,k}, with M = D^ω + μ (see emdWeights). */
export function emdTerm(p: tf.Tensor2D, labels: tf.Tensor1D, weights: readonly (readonly number[])[]): tf.Scalar {
  return tf.tidy(() => {
    // Row n of `columns` is column k_n of M: M_{i,k_n} for every i.
    const columns = tf.gather(tf.transpose(tf.tensor2d(weights as number[][])), labels);
    return tf.mean(tf.sum(tf.mul(tf.square(p), columns), 1));
  });
}

/** XE + α · Σ_i p_i² M_{i,k}, batch mean. */
export function xemdLoss(logits: tf.Tensor2D, labels: tf.Tensor1D, alpha: number, weights: readonly (readonly number[])[]): tf.Scalar {
  return tf.tidy(() => tf.add(xeLoss(logits, labels), tf.mul(emdTerm(tf.softmax(logits), labels, weights), alpha)));
}

/** L2 regression of the first output z_0 on the class position: mean (z_0 − pos_k)². */
export function regLoss(logits: tf.Tensor2D, labels: tf.Tensor1D, positions?: readonly number[]): tf.Scalar {
  return tf.tidy(() => {
    const pos = positions ?? unitPositions(logits.shape[1]);
    const z0 = tf.reshape(tf.slice(logits, [0, 0], [-1, 1]), [-1]);
    const target = tf.gather(tf.tensor1d(pos as number[]), labels);
    return tf.mean(tf.squaredDifference(z0, target));
  });
}

export interface SinkhornOptions {
  /** λ: the entropic term weighs 1/λ; larger λ → closer to the exact EMD. */
  lambda?: number;
  iterations?: number;
  /** Ground cost M_ik = |pos_i − pos_k|. */
  positions?: readonly number[];
}

/**
 * Entropic OT between p and q [N, C] by Sinkhorn scaling (Frogner et al. 2015), batch mean of
 * ⟨T, M⟩ + (1/λ) Σ T log T. The scaling runs in float64 plain JS (N×C×C is tiny; a tensor op per
 * iteration would cost more than the network), and the gradient with respect to p is the dual
 * potential α = (1/λ) log u — exact at convergence (envelope theorem), Frogner et al.'s gradient; its
 * additive constant is irrelevant, the softmax Jacobian removes it. q is a constant (the target).
 */
export function sinkhornFromProbs(p: tf.Tensor2D, q: tf.Tensor2D, options: SinkhornOptions = {}): tf.Scalar {
  const [N, C] = p.shape;
  const lambda = options.lambda ?? 1;
  const iterations = options.iterations ?? 100;
  const positions = options.positions ?? unitPositions(C);
  const qv = q.dataSync();
  const entropic = tf.customGrad((...inputs: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const probs = inputs[0] as tf.Tensor;
    const { values, potentials } = sinkhornJs(probs.dataSync(), qv, N, C, positions, lambda, iterations);
    const value = tf.scalar(values.reduce((a, b) => a + b, 0) / N);
    const gradient = Float32Array.from(potentials, (a) => a / N);
    return { value, gradFunc: (dy: tf.Tensor) => tf.mul(dy, tf.tensor2d(gradient, [N, C], 'float32')) };
  });
  return entropic(p) as tf.Scalar;
}

/** Per-sample entropic OT values and dual potentials α = (1/λ) log u, rows of p and q [N×C] row-major. */
export function sinkhornJs(
  p: ArrayLike<number>,
  q: ArrayLike<number>,
  N: number,
  C: number,
  positions: readonly number[],
  lambda: number,
  iterations: number,
): { values: number[]; potentials: Float64Array } {
  const M = positions.map((a) => positions.map((b) => Math.abs(a - b)));
  const K = M.map((row) => row.map((m) => Math.exp(-lambda * m)));
  const values: number[] = [];
  const potentials = new Float64Array(N * C);
  const u = new Float64Array(C);
  const v = new Float64Array(C);
  for (let n = 0; n < N; n++) {
    const pn = (i: number) => p[n * C + i];
    const qn = (j: number) => q[n * C + j];
    v.fill(1);
    for (let it = 0; it < iterations; it++) {
      for (let i = 0; i < C; i++) {
        let kv = 0;
        for (let j = 0; j < C; j++) kv += K[i][j] * v[j];
        u[i] = pn(i) / Math.max(kv, TINY);
      }
      for (let j = 0; j < C; j++) {
        let ku = 0;
        for (let i = 0; i < C; i++) ku += K[i][j] * u[i];
        v[j] = qn(j) / Math.max(ku, TINY);
      }
    }
    let value = 0;
    for (let i = 0; i < C; i++) {
      for (let j = 0; j < C; j++) {
        const t = u[i] * K[i][j] * v[j];
        if (t > 0) value += t * M[i][j] + (t * Math.log(t)) / lambda;
      }
      // A zero probability has a −∞ potential; any finite value gives the same gradient through the softmax.
      potentials[n * C + i] = Math.log(Math.max(u[i], TINY)) / lambda;
    }
    values.push(value);
  }
  return { values, potentials };
}

/** Sinkhorn loss of the softmax against the one-hot labels. */
export function sinkhornLoss(logits: tf.Tensor2D, labels: tf.Tensor1D, options: SinkhornOptions = {}): tf.Scalar {
  return tf.tidy(() => sinkhornFromProbs(tf.softmax(logits), oneHotFloat(labels, logits.shape[1]), options));
}

// ---------------------------------------------------------------------------------------------
// Predictions: how a loss's outputs map to a class.

/** Whether the loss reads its prediction from z_0 (reg) or from the argmax of the logits. */
export function predictsByRegression(kind: LossKind): boolean {
  return capabilities(kind).regression;
}

/**
 * Predicted class per row of `outputs` ([N, C] row-major): argmax (first on ties), or for `reg` the class whose
 * position is nearest to z_0 (lower index on ties). `outputs` may be logits or probabilities (monotone).
 */
export function predictClasses(outputs: ArrayLike<number>, classes: number, kind: LossKind, positions?: readonly number[]): Int32Array {
  const n = outputs.length / classes;
  const out = new Int32Array(n);
  const pos = positions ?? unitPositions(classes);
  for (let s = 0; s < n; s++) {
    let best = 0;
    if (predictsByRegression(kind)) {
      const z = outputs[s * classes];
      for (let k = 1; k < classes; k++) if (Math.abs(z - pos[k]) < Math.abs(z - pos[best])) best = k;
    } else {
      for (let k = 1; k < classes; k++) if (outputs[s * classes + k] > outputs[s * classes + best]) best = k;
    }
    out[s] = best;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Stateful training losses.

/** Outputs of the whole training split, in inference mode: what auto-α and the learned D need. */
export interface EpochPass {
  logits: Float32Array;
  features: Float32Array;
  featureSize: number;
  labels: Int32Array;
}

export interface TrainingLoss {
  spec: LossSpec;
  /** The loss for the current state; recomputed when the state changes. */
  readonly loss: Loss;
  readonly state: LossState;
  restore(state: LossState): void;
  /** Before epoch e (0-based) runs. */
  setEpoch(epoch: number): void;
  /** Whether endEpoch(e) needs a pass over the training split; e = −1 means "before training". */
  needsPass(epoch: number): boolean;
  /** After epoch e (or −1: before training) with the pass over the training split. */
  endEpoch(epoch: number, pass: EpochPass): void;
}

/** The loss function for a given state, carrying its recipe (so data-parallel workers can rebuild it). */
export function lossFromState(spec: LossSpec, classes: number, positions: readonly number[], state: LossState): Loss {
  const base = baseLoss(spec, positions, state);
  const loss: Loss = (logits, labels) => base(logits, labels);
  loss.recipe = { spec, classes, positions, state };
  return loss;
}

function baseLoss(spec: LossSpec, positions: readonly number[], state: LossState): Loss {
  switch (spec.kind) {
    case 'xe':
      return xeLoss;
    case 'emd2': {
      const options = { l: lossParameter(spec, 'l')!, normalize: lossParameter(spec, 'normalize')!, positions };
      return (logits, labels) => emd2Loss(logits, labels, options);
    }
    case 'reg':
      return (logits, labels) => regLoss(logits, labels, positions);
    case 'sinkhorn': {
      const options = { lambda: lossParameter(spec, 'lambda')!, iterations: lossParameter(spec, 'iterations')!, positions };
      return (logits, labels) => sinkhornLoss(logits, labels, options);
    }
    case 'xemd':
    case 'learned': {
      if (!state.active) return xeLoss;
      if (state.alpha === null || state.groundDistance === null) {
        throw new Error(`${spec.kind} loss: α or D is not set when the EMD term switches on`);
      }
      const weights = emdWeights(state.groundDistance, lossParameter(spec, 'omega')!, lossParameter(spec, 'mu')!);
      const alpha = state.alpha;
      return (logits, labels) => xemdLoss(logits, labels, alpha, weights);
    }
  }
}

export function makeLoss(given: LossSpec, classes: number, positions?: readonly number[]): TrainingLoss {
  const spec = canonicalLossSpec(given);
  const problems = lossSpecProblems(spec, classes);
  if (problems.length > 0) throw new Error(`invalid loss: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
  const pos = spec.positions ?? positions ?? unitPositions(classes);
  const { emdTerm: hasTerm, learnsGroundDistance: learns } = capabilities(spec.kind);
  const warmup = hasTerm ? lossParameter(spec, 'warmup_epochs')! : 0;
  const alpha = lossParameter(spec, 'alpha')!;
  const autoAlpha = hasTerm && alpha === 'auto';
  let state: LossState = {
    active: !hasTerm || warmup === 0,
    alpha: hasTerm && alpha !== 'auto' ? alpha : null,
    groundDistance: !hasTerm ? null : (spec.ground_distance ?? (learns ? uniformDistance(classes) : groundDistance(pos))),
  };
  // Built on first use: with α 'auto' and no warm-up it only exists after endEpoch(−1).
  let loss: Loss | null = null;
  const refresh = () => {
    loss = null;
  };
  // The epoch whose end fixes α: the last warm-up epoch, or "before training" without warm-up.
  const calibrationEpoch = warmup - 1;

  return {
    spec,
    get loss() {
      return (loss ??= lossFromState(spec, classes, pos, state));
    },
    get state() {
      return state;
    },
    restore(saved) {
      state = structuredClone(saved);
      refresh();
    },
    setEpoch(epoch) {
      state = { ...state, active: !hasTerm || epoch >= warmup };
      refresh();
    },
    needsPass(epoch) {
      return (learns && epoch >= 0) || (autoAlpha && epoch === calibrationEpoch);
    },
    endEpoch(epoch, pass) {
      if (learns && epoch >= 0) {
        state = { ...state, groundDistance: learnGroundDistance(pass.features, pass.featureSize, pass.labels, classes) };
      }
      if (autoAlpha && epoch === calibrationEpoch) {
        state = { ...state, alpha: calibrateAlpha(pass, classes, emdWeights(state.groundDistance!, lossParameter(spec, 'omega')!, lossParameter(spec, 'mu')!)) };
      }
      refresh();
    },
  };
}

/** α = mean XE / (3.5 · mean EMD term) over the pass (docs/ml.md). */
export function calibrateAlpha(pass: EpochPass, classes: number, weights: number[][]): number {
  const [xe, term] = tf.tidy(() => {
    const logits = tf.tensor2d(pass.logits, [pass.labels.length, classes]);
    const labels = tf.tensor1d(pass.labels, 'int32');
    return [xeLoss(logits, labels).dataSync()[0], emdTerm(tf.softmax(logits), labels, weights).dataSync()[0]];
  });
  if (!(Math.abs(term) > 0)) throw new Error('automatic α: the EMD term is 0 on the training split, α is undefined');
  return xe / (AUTO_ALPHA_RATIO * term);
}
