// The networks, as pure functions of their weights (no layers API): 'small-cnn' for 28×28 and
// Levi & Hassner's 'alxs' for 227×227 (definitions: docs/ml.md). Weights come from our own seeded
// PRNG, so they are identical on every backend.
import * as tf from '@tensorflow/tfjs-core';
import type { Model, ModelSpec } from './types.js';
import { deriveSeed, mulberry32, normal } from '../core/rng.js';
import { conv2dBiasRelu } from './kernels/fused.js';

export const ARCHS: ReadonlyArray<ModelSpec['arch']> = ['small-cnn', 'alxs', 'mlp'];

/** A Model plus what the trainer needs: the feature size, and the seed stream of dropout masks. */
export interface Network extends Model {
  featureSize: number;
  /**
   * Seed of the next dropout mask; each training forward pass uses it and adds one. The trainer sets
   * it per step from (seed, epoch, step), so a resumed training draws the same masks.
   */
  dropoutSeed: number;
  dispose(): void;
}

type Init = 'he' | 'glorot' | 'zeros';

interface Layer {
  name: string;
  shape: number[];
  fanIn: number;
  fanOut: number;
  init: Init;
}

function scaled(n: number, width: number): number {
  return Math.max(1, Math.round(n * width));
}

function conv(name: string, k: number, inC: number, outC: number): Layer[] {
  return [
    { name: `${name}/kernel`, shape: [k, k, inC, outC], fanIn: k * k * inC, fanOut: k * k * outC, init: 'he' },
    { name: `${name}/bias`, shape: [outC], fanIn: 0, fanOut: 0, init: 'zeros' },
  ];
}

function dense(name: string, inN: number, outN: number, init: Init = 'he'): Layer[] {
  return [
    { name: `${name}/kernel`, shape: [inN, outN], fanIn: inN, fanOut: outN, init },
    { name: `${name}/bias`, shape: [outN], fanIn: 0, fanOut: 0, init: 'zeros' },
  ];
}

/** He-normal for ReLU layers, Glorot-uniform for the output layer, zero biases; one PRNG stream per weight. */
function initialValues(layer: Layer, rand: () => number): Float32Array {
  const size = layer.shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(size);
  if (layer.init === 'he') {
    const std = Math.sqrt(2 / layer.fanIn);
    for (let i = 0; i < size; i++) out[i] = normal(rand) * std;
  } else if (layer.init === 'glorot') {
    const limit = Math.sqrt(6 / (layer.fanIn + layer.fanOut));
    for (let i = 0; i < size; i++) out[i] = (rand() * 2 - 1) * limit;
  }
  return out;
}

/** Output size of a 'valid' window of size k and stride s over n. */
function validOut(n: number, k: number, s: number): number {
  return Math.floor((n - k) / s) + 1;
}

interface Architecture {
  layers: Layer[];
  featureSize: number;
  forward(w: (name: string) => tf.Tensor, x: tf.Tensor4D, training: boolean, nextSeed: () => number): { logits: tf.Tensor2D; features: tf.Tensor2D };
}

function smallCnn(spec: ModelSpec): Architecture {
  const [H, W, inC] = spec.inputShape;
  const width = spec.width ?? 1;
  const c1 = scaled(32, width);
  const c2 = scaled(64, width);
  const f = scaled(128, width);
  const h = Math.floor(Math.floor(H / 2) / 2);
  const wd = Math.floor(Math.floor(W / 2) / 2);
  if (h < 1 || wd < 1) throw new Error(`small-cnn needs inputs of at least 4×4, got ${H}×${W}`);
  const flat = h * wd * c2;
  const layers = [...conv('conv1', 3, inC, c1), ...conv('conv2', 3, c1, c2), ...dense('fc1', flat, f), ...dense('out', f, spec.classes, 'glorot')];
  return {
    layers,
    featureSize: f,
    forward(w, x) {
      let y: tf.Tensor4D = conv2dBiasRelu(x, w('conv1/kernel') as tf.Tensor4D, w('conv1/bias'), 1, 'same');
      y = tf.maxPool(y, 2, 2, 'valid');
      y = conv2dBiasRelu(y, w('conv2/kernel') as tf.Tensor4D, w('conv2/bias'), 1, 'same');
      y = tf.maxPool(y, 2, 2, 'valid');
      const flatY = tf.reshape(y, [-1, flat]) as tf.Tensor2D;
      const features = tf.relu(tf.add(tf.matMul(flatY, w('fc1/kernel') as tf.Tensor2D), w('fc1/bias'))) as tf.Tensor2D;
      const logits = tf.add(tf.matMul(features, w('out/kernel') as tf.Tensor2D), w('out/bias')) as tf.Tensor2D;
      return { logits, features };
    },
  };
}

/** One hidden layer over the flattened input: for tabular rows (1×F×1) or any input too small for a CNN. */
function mlp(spec: ModelSpec): Architecture {
  const [H, W, inC] = spec.inputShape;
  const flat = H * W * inC;
  const f = scaled(128, spec.width ?? 1);
  const layers = [...dense('fc1', flat, f), ...dense('out', f, spec.classes, 'glorot')];
  return {
    layers,
    featureSize: f,
    forward(w, x) {
      const flatX = tf.reshape(x, [-1, flat]) as tf.Tensor2D;
      const features = tf.relu(tf.add(tf.matMul(flatX, w('fc1/kernel') as tf.Tensor2D), w('fc1/bias'))) as tf.Tensor2D;
      const logits = tf.add(tf.matMul(features, w('out/kernel') as tf.Tensor2D), w('out/bias')) as tf.Tensor2D;
      return { logits, features };
    },
  };
}

/** Levi & Hassner (2015): Caffe's LRN (size 5, α 1e-4, β 0.75, k 1) in tfjs's per-element α. */
function lrn(x: tf.Tensor4D): tf.Tensor4D {
  return tf.localResponseNormalization(x, 2, 1, 1e-4 / 5, 0.75);
}

function alxs(spec: ModelSpec): Architecture {
  const [H, W, inC] = spec.inputShape;
  const width = spec.width ?? 1;
  const rate = spec.dropout ?? 0.5;
  const c1 = scaled(96, width);
  const c2 = scaled(256, width);
  const c3 = scaled(384, width);
  const f = scaled(512, width);
  const side = (n: number) => validOut(validOut(validOut(validOut(n, 7, 4), 3, 2), 3, 2), 3, 2);
  const h = side(H);
  const wd = side(W);
  if (h < 1 || wd < 1) throw new Error(`alxs needs inputs of at least 67×67 (227×227 in the paper), got ${H}×${W}`);
  const flat = h * wd * c3;
  const layers = [
    ...conv('conv1', 7, inC, c1),
    ...conv('conv2', 5, c1, c2),
    ...conv('conv3', 3, c2, c3),
    ...dense('fc1', flat, f),
    ...dense('fc2', f, f),
    ...dense('out', f, spec.classes, 'glorot'),
  ];
  const drop = (x: tf.Tensor2D, training: boolean, nextSeed: () => number): tf.Tensor2D =>
    training && rate > 0 ? (tf.dropout(x, rate, undefined, nextSeed()) as tf.Tensor2D) : x;
  return {
    layers,
    featureSize: f,
    forward(w, x, training, nextSeed) {
      let y: tf.Tensor4D = conv2dBiasRelu(x, w('conv1/kernel') as tf.Tensor4D, w('conv1/bias'), 4, 'valid');
      y = lrn(tf.maxPool(y, 3, 2, 'valid'));
      y = conv2dBiasRelu(y, w('conv2/kernel') as tf.Tensor4D, w('conv2/bias'), 1, 'same');
      y = lrn(tf.maxPool(y, 3, 2, 'valid'));
      y = conv2dBiasRelu(y, w('conv3/kernel') as tf.Tensor4D, w('conv3/bias'), 1, 'same');
      y = tf.maxPool(y, 3, 2, 'valid');
      const flatY = tf.reshape(y, [-1, flat]) as tf.Tensor2D;
      const h1 = drop(tf.relu(tf.add(tf.matMul(flatY, w('fc1/kernel') as tf.Tensor2D), w('fc1/bias'))) as tf.Tensor2D, training, nextSeed);
      const features = tf.relu(tf.add(tf.matMul(h1, w('fc2/kernel') as tf.Tensor2D), w('fc2/bias'))) as tf.Tensor2D;
      const logits = tf.add(tf.matMul(drop(features, training, nextSeed), w('out/kernel') as tf.Tensor2D), w('out/bias')) as tf.Tensor2D;
      return { logits, features };
    },
  };
}

function architecture(spec: ModelSpec): Architecture {
  switch (spec.arch) {
    case 'small-cnn':
      return smallCnn(spec);
    case 'alxs':
      return alxs(spec);
    case 'mlp':
      return mlp(spec);
    default:
      throw new Error(`unknown model architecture '${(spec as ModelSpec).arch}' (expected ${ARCHS.join(' or ')})`);
  }
}

/** The weight names and shapes of a spec, in checkpoint order, without allocating anything. */
export function weightShapes(spec: ModelSpec): Array<{ name: string; shape: number[] }> {
  return architecture(spec).layers.map(({ name, shape }) => ({ name, shape }));
}

/** Builds the network with seeded initial weights (seed ⊕ weight index → mulberry32). */
export function buildModel(spec: ModelSpec, seed: number): Network {
  const arch = architecture(spec);
  const weights = new Map<string, tf.Variable>();
  arch.layers.forEach((layer, index) => {
    const values = initialValues(layer, mulberry32(deriveSeed(seed, index)));
    const initial = tf.tensor(values, layer.shape, 'float32');
    weights.set(layer.name, tf.variable(initial, true, layer.name + '_' + uniqueSuffix()));
    initial.dispose();
  });
  const get = (name: string) => weights.get(name)!;
  const network: Network = {
    spec,
    weights,
    featureSize: arch.featureSize,
    dropoutSeed: deriveSeed(seed, 0x64726f70),
    forward(x, training) {
      return arch.forward(get, x, training, () => network.dropoutSeed++);
    },
    dispose() {
      for (const v of weights.values()) v.dispose();
    },
  };
  return network;
}

// tfjs variable names are global to the engine; several models (tests, evaluation) may coexist.
let counter = 0;
function uniqueSuffix(): string {
  return String(counter++);
}
