// The contract of the ML library, shared by the tfjs code (src/ml), the torch engine
// (engines/torch) and the train/evaluate steps. Specs are plain JSON so they can cross a
// worker-thread or process boundary and enter a fingerprint.
import type * as tf from '@tensorflow/tfjs-core';
import type { LossSpec } from './loss-table.js';

export type { LossKind, LossSpec } from './loss-table.js';

export interface ModelSpec {
  /** 'small-cnn': conv32-pool-conv64-pool-fc128 for 28×28; 'alxs': Levi & Hassner's age CNN for 227×227; 'mlp': fc128 over the flattened input (tabular data). */
  arch: 'small-cnn' | 'alxs' | 'mlp';
  /** [H, W, C] of the network input (after cropping). */
  inputShape: [number, number, number];
  classes: number;
  /** Width multiplier or explicit sizes; arch-specific, documented in models.ts. */
  width?: number;
  dropout?: number;
}

/** A network as a pure function of its weights: nanoGPT-style, no layers API. */
export interface Model {
  spec: ModelSpec;
  /** Trainable weights by name; the insertion order is fixed (it is the checkpoint order). */
  weights: Map<string, tf.Variable>;
  /** Logits [N, C] and the penultimate features [N, F] (used to learn the ground distance). */
  forward(x: tf.Tensor4D, training: boolean): { logits: tf.Tensor2D; features: tf.Tensor2D };
}

/** A loss of logits and integer labels, averaged over the batch. */
export type Loss = ((logits: tf.Tensor2D, labels: tf.Tensor1D) => tf.Scalar) & {
  /** How another thread rebuilds this very function (lossFromState in losses.ts); every loss made there has it. */
  recipe?: LossRecipe;
};

/**
 * Everything that changes a loss during training, as plain JSON: a worker thread or the torch
 * engine rebuilds the same function from (spec, state) with lossFromState, and checkpoints store it.
 */
export interface LossState {
  /** False during warm-up: the loss is XE alone. */
  active: boolean;
  /** The α in use (null until 'auto' is calibrated). */
  alpha: number | null;
  /** The current D (xemd/learned), before ω and μ. */
  groundDistance: number[][] | null;
}

/** The arguments of lossFromState, as plain JSON. */
export interface LossRecipe {
  spec: LossSpec;
  classes: number;
  positions: readonly number[];
  state: LossState;
}

export interface OptimizerSpec {
  kind: 'sgd' | 'adam';
  lr: number;
  momentum?: number;
  nesterov?: boolean;
  weightDecay?: number;
  schedule?: { kind: 'constant' } | { kind: 'step'; every: number; gamma: number } | { kind: 'cosine' };
}

/** Everything one training needs; the same JSON drives tfjs and the torch engine. */
export interface TrainConfig {
  /** Directory of a `repro-tensors/1` dataset (src/formats/dataset.ts). */
  dataset: string;
  splits: { train: string; val: string };
  model: ModelSpec;
  loss: LossSpec;
  optimizer: OptimizerSpec;
  epochs: number;
  batchSize: number;
  /**
   * Shards each batch is cut into (data-parallel parts, each computed alone, averaged in shard order):
   * part of the training's definition, whatever threads run it. Absent: DEFAULT_SHARDS (tfjs; torch ignores it).
   */
  shards?: number;
  seed: number;
  augment?: { mirror?: boolean; randomCrop?: boolean };
  /** Metric used to pick the best epoch on the validation split (never on test). */
  selectBy?: string;
  /** Where the model directory, history.json and per-epoch artifacts go. */
  outDir: string;
  /** Checkpoints, so a killed training resumes at its last finished epoch. */
  checkpointDir: string;
}

/**
 * A trained model directory, as train writes it and evaluate reads it (either engine):
 *   model.json       this interface
 *   weights.bin      float32 LE, concatenated in `weights` order (tfjs) — or weights.pt (torch)
 */
export interface ModelFile {
  format: 'repro-model/1';
  engine: 'tfjs' | 'torch';
  spec: ModelSpec;
  loss: LossSpec;
  weights: Array<{ name: string; shape: number[] }>;
  /** Dataset normalisation the model was trained with, so evaluate applies the same. */
  normalization?: { mean: number[]; std: number[] };
  bestEpoch: number;
  facts: Record<string, string | number | boolean | null>;
}

/** How a training or evaluation talks back to the step that runs it. */
export interface TrainIO {
  log(line: string): void;
  progress(fraction: number | null, message: string): void;
  signal: AbortSignal;
  /** CPU threads it may use. */
  threads: number;
  /** --backend for tfjs ('auto' | 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu'), --python for torch. */
  options: Record<string, unknown>;
}

/** What a finished training reports; the files themselves are in config.outDir. */
export interface TrainOutcome {
  /** Directory holding model.json and the weights. */
  modelDir: string;
  /** history.json (src/formats/metrics.ts TrainingHistory). */
  historyFile: string;
  /** Per-epoch learned ground-distance matrices (learned loss only). */
  groundDistanceFile?: string;
  /** engine, backend, version, device, threads — what actually ran. */
  facts: Record<string, string | number | boolean | null>;
}

export interface EvalConfig {
  dataset: string;
  split: string;
  modelDir: string;
  /** metrics.json and predictions.json are written here. */
  outDir: string;
  /** Average the predictions of the image and its horizontal mirror. */
  mirror?: boolean;
}
