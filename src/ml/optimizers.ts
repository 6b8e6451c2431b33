// SGD (momentum, Nesterov) and Adam in a few lines each, with PyTorch's exact semantics, so the torch
// engine can use torch.optim unchanged and a checkpoint holds every slot (docs/ml.md).
import * as tf from '@tensorflow/tfjs-core';
import type { OptimizerSpec } from './types.js';

export interface Optimizer {
  /** One update of every weight from its gradient (keyed by the tf.Variable's name) at learning rate lr. */
  step(grads: Record<string, tf.Tensor>, lr: number): void;
  /** Slots (momentum, Adam moments) and the step count, for checkpoints. */
  save(): { steps: number; slots: Float32Array[] };
  load(saved: { steps: number; slots: Float32Array[] }): void;
  dispose(): void;
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

export function makeOptimizer(spec: OptimizerSpec, weights: Map<string, tf.Variable>): Optimizer {
  const vars = [...weights.values()];
  const slotsPerWeight = spec.kind === 'adam' ? 2 : (spec.momentum ?? 0) > 0 ? 1 : 0;
  // slots[s][i]: slot s of weight i, zero-initialised (PyTorch's first momentum step v = g equals μ·0 + g).
  const slots: tf.Variable[][] = Array.from({ length: slotsPerWeight }, () =>
    vars.map((v) => {
      const zeros = tf.zerosLike(v);
      const slot = tf.variable(zeros, false);
      zeros.dispose();
      return slot;
    }),
  );
  const wd = spec.weightDecay ?? 0;
  const momentum = spec.momentum ?? 0;
  let steps = 0;

  function update(grads: Record<string, tf.Tensor>, lr: number): void {
    steps++;
    tf.tidy(() => {
      vars.forEach((w, i) => {
        const raw = grads[w.name];
        if (!raw) throw new Error(`no gradient for weight ${w.name}`);
        // Coupled L2 weight decay, as torch.optim.SGD/Adam's weight_decay.
        const g = wd ? tf.add(raw, tf.mul(w, wd)) : raw;
        if (spec.kind === 'sgd') {
          let direction = g;
          if (momentum > 0) {
            const v = slots[0][i];
            v.assign(tf.add(tf.mul(v, momentum), g));
            direction = spec.nesterov ? tf.add(g, tf.mul(v, momentum)) : v;
          }
          w.assign(tf.sub(w, tf.mul(direction, lr)));
        } else {
          const [m, s] = [slots[0][i], slots[1][i]];
          m.assign(tf.add(tf.mul(m, ADAM_BETA1), tf.mul(g, 1 - ADAM_BETA1)));
          s.assign(tf.add(tf.mul(s, ADAM_BETA2), tf.mul(tf.square(g), 1 - ADAM_BETA2)));
          const c1 = 1 - Math.pow(ADAM_BETA1, steps);
          const c2 = 1 - Math.pow(ADAM_BETA2, steps);
          const denom = tf.add(tf.div(tf.sqrt(s), Math.sqrt(c2)), ADAM_EPSILON);
          w.assign(tf.sub(w, tf.mul(tf.div(m, denom), lr / c1)));
        }
      });
    });
  }

  return {
    step: update,
    save() {
      return { steps, slots: slots.flat().map((v) => v.dataSync().slice() as Float32Array) };
    },
    load(saved) {
      const flat = slots.flat();
      if (saved.slots.length !== flat.length) throw new Error(`checkpoint has ${saved.slots.length} optimiser slots, expected ${flat.length}`);
      flat.forEach((v, i) => v.assign(tf.tensor(saved.slots[i], v.shape, 'float32')));
      steps = saved.steps;
    },
    dispose() {
      for (const v of slots.flat()) v.dispose();
    },
  };
}
