// SGD (momentum, Nesterov) and Adam in a few lines each, with PyTorch's exact semantics, so the torch
// engine can use torch.optim unchanged and a checkpoint holds every slot (docs/ml.md).
import * as tf from '@tensorflow/tfjs-core';
import type { OptimizerSpec } from './types.js';
import { simdArena } from './kernels/simd.js';
import { filledTensor, tensorView } from './kernels/index.js';
import { loadNativeKernels } from './kernels/native/index.js';

/** A batch's gradient of every weight, keyed by the tf.Variable's name (model.weights), as plain arrays. */
export type Gradients = Record<string, Float32Array>;

/** A batch's mean loss and its gradients, as computeGradients (src/ml/gradients.ts) returns them. */
export interface BatchGradients {
  loss: number;
  grads: Gradients;
}

export interface Optimizer {
  /** Which code computes the update: a native path, the SIMD kernels, or plain JS. */
  readonly kernels: string;
  /** One update of every weight from its gradient at learning rate lr. */
  step(grads: Gradients, lr: number): void;
  /** Slots (momentum, Adam moments) and the step count, for checkpoints. */
  save(): { steps: number; slots: Float32Array[] };
  load(saved: { steps: number; slots: Float32Array[] }): void;
}

export const ADAM_BETA1 = 0.9;
export const ADAM_BETA2 = 0.999;
export const ADAM_EPSILON = 1e-8;

/** Learning rate of epoch e (0-based) of `epochs`. */
export function learningRate(spec: OptimizerSpec, epoch: number, epochs: number): number {
  const s = spec.schedule ?? { kind: 'constant' };
  switch (s.kind) {
    case 'constant':
      return spec.lr;
    case 'step':
      return spec.lr * Math.pow(s.gamma, Math.floor(epoch / s.every));
    case 'cosine':
      return spec.lr * 0.5 * (1 + Math.cos((Math.PI * epoch) / epochs));
  }
}

/**
 * The update runs outside tfjs, one fused pass per weight: our SIMD kernels (src/ml/kernels/simd) on an
 * arena that holds the slots, or the same rule in plain JS (float64 arithmetic, stored as float32) where
 * wasm SIMD does not run. A dozen tfjs kernels per weight cost more than the arithmetic, on every backend.
 * Where the native kernels load they compute the SIMD kernels' update (the same bits) from the weight
 * where it lies into the new weight tensor's memory, without the four copies through the arena: the
 * update runs on the main thread while the training workers wait.
 * The weights stay the model's tf.Variables (read, updated, assigned back), so the optimiser holds no copy
 * that a resumed checkpoint could leave stale.
 */
export function makeOptimizer(spec: OptimizerSpec, weights: Map<string, tf.Variable>, options: { simd?: boolean; native?: boolean } = {}): Optimizer {
  const vars = [...weights.values()];
  const sizes = vars.map((v) => v.size);
  const slotsPerWeight = spec.kind === 'adam' ? 2 : (spec.momentum ?? 0) > 0 ? 1 : 0;
  const slotFloats = slotsPerWeight * sizes.reduce((a, b) => a + b, 0);
  const largest = Math.max(0, ...sizes);
  // Arena layout: every slot of every weight, then one weight and one gradient being updated.
  const arena = options.simd === false ? null : simdArena(slotFloats + 2 * largest);
  // slots[s][i]: slot s of weight i, zero-initialised (PyTorch's first momentum step v = g equals μ·0 + g).
  let next = 0;
  const slots: Float32Array[][] = Array.from({ length: slotsPerWeight }, () =>
    sizes.map((n) => {
      const slot = arena ? arena.floats.subarray(next, next + n) : new Float32Array(n);
      next += n;
      return slot;
    }),
  );
  const scratch = arena ? { w: arena.floats.subarray(next, next + largest), g: arena.floats.subarray(next + largest, next + 2 * largest) } : null;
  // The native update replaces the SIMD one only (the plain-JS rule rounds otherwise).
  const native = arena && options.native !== false ? loadNativeKernels() : null;
  const wd = spec.weightDecay ?? 0;
  const momentum = spec.momentum ?? 0;
  const nesterov = spec.nesterov === true;
  let steps = 0;

  function update(grads: Gradients, lr: number): void {
    steps++;
    const c1 = 1 - Math.pow(ADAM_BETA1, steps);
    const c2 = Math.sqrt(1 - Math.pow(ADAM_BETA2, steps));
    vars.forEach((v, i) => {
      const g = grads[v.name];
      if (!g) throw new Error(`no gradient for weight ${v.name}`);
      if (g.length !== v.size) throw new Error(`gradient of ${v.name} has ${g.length} values, the weight ${v.size}`);
      if (native) {
        const t = filledTensor(v.shape, (out) => {
          const w = tensorView(v);
          if (spec.kind === 'adam') native.adamStep(w, g, slots[0]![i]!, slots[1]![i]!, out, lr / c1, ADAM_BETA1, 1 - ADAM_BETA1, ADAM_BETA2, 1 - ADAM_BETA2, c2, ADAM_EPSILON, wd);
          else native.sgdStep(w, g, momentum > 0 ? slots[0]![i]! : g, out, lr, momentum, nesterov, wd); // without momentum v is never read or written
        });
        v.assign(t);
        t.dispose();
        return;
      }
      let w: Float32Array;
      if (arena && scratch) {
        const n = v.size;
        scratch.w.set(tensorView(v));
        scratch.g.set(g);
        const at = (a: Float32Array) => a.byteOffset;
        if (spec.kind === 'adam') arena.exports.adamStep(at(scratch.w), at(scratch.g), at(slots[0]![i]!), at(slots[1]![i]!), n, lr / c1, ADAM_BETA1, 1 - ADAM_BETA1, ADAM_BETA2, 1 - ADAM_BETA2, c2, ADAM_EPSILON, wd);
        else arena.exports.sgdStep(at(scratch.w), at(scratch.g), momentum > 0 ? at(slots[0]![i]!) : 0, n, lr, momentum, nesterov ? 1 : 0, wd);
        w = scratch.w.slice(0, n);
      } else {
        // A copy: on the cpu backend dataSync() returns the tensor's own storage.
        w = (v.dataSync() as Float32Array).slice();
        if (spec.kind === 'adam') adamLoop(w, g, slots[0]![i]!, slots[1]![i]!, lr, c1, c2, wd);
        else sgdLoop(w, g, momentum > 0 ? slots[0]![i]! : null, lr, momentum, nesterov, wd);
      }
      const t = tf.tensor(w, v.shape, 'float32');
      v.assign(t);
      t.dispose();
    });
  }

  return {
    kernels: native?.path ?? (arena ? 'simd' : 'js'),
    step: update,
    save() {
      return { steps, slots: slots.flat().map((a) => a.slice()) };
    },
    load(saved) {
      const flat = slots.flat();
      if (saved.slots.length !== flat.length) throw new Error(`checkpoint has ${saved.slots.length} optimiser slots, expected ${flat.length}`);
      saved.slots.forEach((a, k) => {
        if (a.length !== flat[k]!.length) throw new Error(`checkpoint optimiser slot ${k} has ${a.length} values, expected ${flat[k]!.length}`);
        flat[k]!.set(a);
      });
      steps = saved.steps;
    },
  };
}

/** Adam in plain JS, PyTorch's rule (see adamStep in src/ml/kernels/simd/kernels.ts). */
function adamLoop(w: Float32Array, g: Float32Array, m: Float32Array, s: Float32Array, lr: number, c1: number, c2: number, wd: number): void {
  const step = lr / c1;
  for (let e = 0; e < w.length; e++) {
    // Coupled L2 weight decay, as torch.optim.SGD/Adam's weight_decay.
    const ge = g[e]! + wd * w[e]!;
    const me = ADAM_BETA1 * m[e]! + (1 - ADAM_BETA1) * ge;
    const se = ADAM_BETA2 * s[e]! + (1 - ADAM_BETA2) * ge * ge;
    m[e] = me;
    s[e] = se;
    w[e] = w[e]! - step * (me / (Math.sqrt(se) / c2 + ADAM_EPSILON));
  }
}

/** SGD with momentum / Nesterov in plain JS, PyTorch's rule (see sgdStep in src/ml/kernels/simd/kernels.ts). */
function sgdLoop(w: Float32Array, g: Float32Array, buf: Float32Array | null, lr: number, momentum: number, nesterov: boolean, wd: number): void {
  for (let e = 0; e < w.length; e++) {
    const ge = g[e]! + wd * w[e]!;
    let direction = ge;
    if (buf) {
      buf[e] = momentum * buf[e]! + ge;
      direction = nesterov ? ge + momentum * buf[e]! : buf[e]!;
    }
    w[e] = w[e]! - lr * direction;
  }
}
