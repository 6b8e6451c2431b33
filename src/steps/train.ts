// `train`: one model on a repro-tensors/1 dataset with one loss, in TensorFlow.js in-process or in
// PyTorch out of process (engine), checkpointing into the step's scratch dir so a killed run resumes.
// Definitions of every option: docs/ml.md.
import { join } from 'node:path';
import { type StepKind } from './kind.js';
import { METRIC_NAMES } from '../formats/metrics.js';
import { lossSpecProblems } from '../ml/lossSpec.js';
import type { LossSpec, ModelSpec, OptimizerSpec, TrainConfig } from '../ml/types.js';
import { StepError } from '../core/errors.js';
import type { ExecutionFacts } from '../core/facts.js';

export interface TrainWith {
  dataset: string;
  engine?: 'tfjs' | 'torch' | 'auto';
  model: { arch: ModelSpec['arch']; width?: number; dropout?: number; input_size?: number };
  loss: LossSpec;
  optimizer?: OptimizerSpec;
  epochs: number;
  batch_size?: number;
  seed?: number;
  augment?: { mirror?: boolean; randomCrop?: boolean };
  select_by?: string;
  splits?: { train?: string; val?: string };
}

export const DEFAULT_OPTIMIZER: OptimizerSpec = { kind: 'adam', lr: 0.001 };
export const DEFAULT_BATCH_SIZE = 64;

const number = { type: 'number' };
const lossSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['kind'],
  description: 'The loss (docs/ml.md gives each exact definition).',
  properties: {
    kind: { enum: ['xe', 'emd2', 'xemd', 'learned', 'reg', 'sinkhorn'] },
    positions: { type: 'array', items: number, minItems: 2, description: 'Class positions on the line (default: the dataset manifest, unit spacing).' },
    l: { type: 'number', exclusiveMinimum: 0, description: 'emd2: exponent l (2: squared EMD).' },
    normalize: { type: 'boolean', description: 'emd2: multiply by 1/C (default true).' },
    alpha: { oneOf: [{ type: 'number', minimum: 0 }, { const: 'auto' }], description: "xemd/learned: weight α of the EMD term, or 'auto' (EMD term ≈ XE/3.5 at the end of warm-up)." },
    omega: { type: 'number', description: 'xemd/learned: exponent ω on D (default 1).' },
    mu: { type: 'number', description: 'xemd/learned: offset μ (default 0.5; its sign in the paper is unknown).' },
    warmupEpochs: { type: 'integer', minimum: 0, description: 'xemd/learned: epochs of XE alone first (default 0).' },
    groundDistance: { type: 'array', items: { type: 'array', items: number }, description: 'xemd: the C×C ground distance (default |pos_i − pos_k| scaled to [0,1]); learned: its starting value (default uniform).' },
    lambda: { type: 'number', exclusiveMinimum: 0, description: 'sinkhorn: λ (default 1).' },
    iterations: { type: 'integer', minimum: 1, description: 'sinkhorn: Sinkhorn iterations (default 100).' },
  },
};

const optimizerSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['kind', 'lr'],
  description: 'Optimiser with PyTorch semantics (default adam, lr 0.001).',
  properties: {
    kind: { enum: ['sgd', 'adam'] },
    lr: { type: 'number', exclusiveMinimum: 0 },
    momentum: { type: 'number', minimum: 0, maximum: 1, description: 'sgd only.' },
    nesterov: { type: 'boolean', description: 'sgd only.' },
    weightDecay: { type: 'number', minimum: 0, description: 'Coupled L2 (torch.optim weight_decay).' },
    schedule: {
      oneOf: [
        { type: 'object', additionalProperties: false, required: ['kind'], properties: { kind: { const: 'constant' } } },
        {
          type: 'object',
          additionalProperties: false,
          required: ['kind', 'every', 'gamma'],
          properties: { kind: { const: 'step' }, every: { type: 'integer', minimum: 1 }, gamma: { type: 'number', exclusiveMinimum: 0 } },
        },
        { type: 'object', additionalProperties: false, required: ['kind'], properties: { kind: { const: 'cosine' } } },
      ],
    },
  },
};

const withSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['dataset', 'model', 'loss', 'epochs'],
  properties: {
    dataset: { type: 'string', description: 'A repro-tensors/1 dataset directory (a dataset or preprocess step output).' },
    engine: { enum: ['tfjs', 'torch', 'auto'], description: 'tfjs (default, in-process), torch (PyTorch out of process), or auto (torch when found). --engine overrides.' },
    model: {
      type: 'object',
      additionalProperties: false,
      required: ['arch'],
      properties: {
        arch: { enum: ['small-cnn', 'alxs', 'mlp'], description: "'small-cnn' (28×28), 'alxs' (Levi & Hassner, 227×227) or 'mlp' (one hidden layer of 128 over the flattened input: tabular data)." },
        width: { type: 'number', exclusiveMinimum: 0, description: 'Multiplies every layer size (default 1).' },
        dropout: { type: 'number', minimum: 0, maximum: 1, description: 'alxs: dropout rate (default 0.5).' },
        input_size: { type: 'integer', minimum: 4, description: 'Square network input; larger images are cropped (randomly when augment.randomCrop). Default: the image size.' },
      },
    },
    loss: lossSchema,
    optimizer: optimizerSchema,
    epochs: { type: 'integer', minimum: 1 },
    batch_size: { type: 'integer', minimum: 1, description: `Default ${DEFAULT_BATCH_SIZE}.` },
    seed: { type: 'integer', minimum: 0, description: 'Seeds weights, shuffling, augmentation and dropout (default 0).' },
    augment: {
      type: 'object',
      additionalProperties: false,
      properties: {
        mirror: { type: 'boolean', description: 'Random horizontal flip (p = 1/2).' },
        randomCrop: { type: 'boolean', description: 'Random crop when the image is larger than the input (else centre crop).' },
      },
    },
    select_by: { enum: [...METRIC_NAMES], description: 'Validation metric that picks the best epoch (default accuracy); the test split is never used.' },
    splits: {
      type: 'object',
      additionalProperties: false,
      properties: { train: { type: 'string' }, val: { type: 'string' } },
      description: "Split names (default train and val).",
    },
  },
};

function requestedEngine(w: TrainWith, options: Record<string, unknown>): 'tfjs' | 'torch' | 'auto' {
  const cli = options.engine;
  if (cli === 'tfjs' || cli === 'torch' || cli === 'auto') return cli;
  return w.engine ?? 'tfjs';
}

function pythonOption(options: Record<string, unknown>): string | undefined {
  return typeof options.python === 'string' && options.python ? options.python : undefined;
}

export const trainStep: StepKind<TrainWith> = {
  name: 'train',
  // 2: SIMD gradient kernels and optimiser (same rules, other float rounding than version 1).
  // 3: history.json says whether the training collapsed (health: non-finite loss, never above the majority class).
  version: '3',
  description: 'Train one model with one loss (tfjs in-process or PyTorch), picking the best epoch on the validation split.',
  withSchema,
  outputs: ['model', 'history', 'ground_distance'],

  check(w) {
    const problems: Array<{ path: string; message: string }> = [];
    if (w.loss && typeof w.loss === 'object' && typeof w.loss.kind === 'string') {
      // Classes are known only from the dataset at run time; what can be checked without them is checked here.
      for (const p of lossSpecProblems(w.loss, undefined, { schemaChecked: true })) problems.push({ path: `loss/${p.path}`, message: p.message });
    }
    const o = w.optimizer;
    if (o && typeof o === 'object' && o.kind === 'adam' && (o.momentum !== undefined || o.nesterov !== undefined)) {
      problems.push({ path: 'optimizer', message: 'momentum and nesterov apply to sgd only' });
    }
    return problems;
  },

  async plannedFacts(w, options): Promise<ExecutionFacts> {
    const { chooseEngine, torchPlannedFacts } = await import('../ml/torch.js');
    const engine = await chooseEngine(requestedEngine(w, options), pythonOption(options));
    if (engine === 'torch') return torchPlannedFacts(options);
    const { plannedBackend } = await import('../ml/backend/index.js');
    const planned = plannedBackend((options.backend as never) ?? 'auto');
    // tfjs trains data-parallel on `threads` workers: another count gives (slightly) other weights.
    return { engine: 'tfjs', backend: planned.backend, device: planned.device, threads: Number(options.threads) || 1 };
  },

  async run(ctx, w) {
    const { readManifest } = await import('../data/tensors.js');
    const { chooseEngine } = await import('../ml/torch.js');
    const manifest = readManifest(w.dataset);
    const trainSplit = w.splits?.train ?? 'train';
    const valSplit = w.splits?.val ?? 'val';
    const shape = manifest.splits[trainSplit]?.shape;
    if (!shape) throw new StepError(`dataset ${manifest.name} has no split '${trainSplit}' (it has: ${Object.keys(manifest.splits).join(', ')})`);
    const [, H, W, channels] = shape;
    const side = w.model.input_size;
    const model: ModelSpec = {
      arch: w.model.arch,
      inputShape: side ? [side, side, channels] : [H, W, channels],
      classes: manifest.classes.length,
      ...(w.model.width !== undefined ? { width: w.model.width } : {}),
      ...(w.model.dropout !== undefined ? { dropout: w.model.dropout } : {}),
    };
    if (!manifest.ordered && w.loss.kind !== 'xe' && w.loss.kind !== 'learned') {
      ctx.log(`note: dataset ${manifest.name} says its classes have no order; loss '${w.loss.kind}' uses their index order`);
    }
    const warmup = w.loss.warmupEpochs ?? 0;
    if ((w.loss.kind === 'xemd' || w.loss.kind === 'learned') && warmup >= w.epochs) {
      // Not a plan-time error: short smoke runs (--set epochs=2) of a workflow tuned for more epochs stay valid.
      ctx.log(`note: a warm-up of ${warmup} epochs leaves none of the ${w.epochs} epochs with the EMD term: this trains plain XE`);
    }
    const config: TrainConfig = {
      dataset: w.dataset,
      splits: { train: trainSplit, val: valSplit },
      model,
      loss: w.loss,
      optimizer: w.optimizer ?? DEFAULT_OPTIMIZER,
      epochs: w.epochs,
      batchSize: w.batch_size ?? DEFAULT_BATCH_SIZE,
      seed: w.seed ?? 0,
      ...(w.augment ? { augment: w.augment } : {}),
      selectBy: w.select_by ?? 'accuracy',
      outDir: ctx.workDir,
      checkpointDir: join(ctx.scratchDir, 'checkpoint'),
    };
    const io = { log: ctx.log, progress: ctx.progress, signal: ctx.signal, threads: ctx.threads, options: ctx.options };
    const engine = await chooseEngine(requestedEngine(w, ctx.options), pythonOption(ctx.options));
    ctx.log(`engine ${engine}: ${model.arch} ${model.inputShape.join('×')} → ${model.classes} classes, loss ${w.loss.kind}, ${config.epochs} epochs`);
    let outcome;
    if (engine === 'torch') {
      const { trainWithTorch } = await import('../ml/torch.js');
      outcome = await trainWithTorch(config, io);
    } else {
      const { trainModel } = await import('../ml/train.js');
      const { BackendUnavailableError } = await import('../ml/backend/index.js');
      try {
        outcome = await trainModel(config, io);
      } catch (error) {
        if (error instanceof BackendUnavailableError) throw new StepError(error.message, error.hint);
        throw error;
      }
    }
    // The output set is fixed per kind: a loss without a learned D gets an empty per-epoch list.
    const groundDistanceFile = outcome.groundDistanceFile ?? join(ctx.workDir, 'ground_distance.json');
    if (!outcome.groundDistanceFile) {
      const { writeJsonAtomic } = await import('../core/atomic.js');
      writeJsonAtomic(groundDistanceFile, { loss: w.loss.kind, per_epoch: [] });
    }
    const { readFileSync } = await import('node:fs');
    const history = JSON.parse(readFileSync(outcome.historyFile, 'utf8')) as import('../formats/metrics.js').TrainingHistory;
    // Whichever engine trained: a collapse is flagged in history.json, the log and the summary (src/ml/health.ts).
    const { historyHealth } = await import('../ml/health.js');
    history.health = historyHealth(history.epochs, manifest.splits[config.splits.val]?.classCounts);
    const { writeJsonAtomic: writeHistory } = await import('../core/atomic.js');
    writeHistory(outcome.historyFile, history);
    for (const reason of history.health.reasons) ctx.log(`WARNING collapsed training: ${reason}`);
    const best = history.epochs.find((e) => e.epoch === history.best_epoch);
    const rate = history.epochs.length ? history.epochs.reduce((a, e) => a + e.examples_per_second, 0) / history.epochs.length : 0;
    return {
      outputs: {
        model: { type: 'dir', path: outcome.modelDir },
        history: { type: 'file', path: outcome.historyFile },
        ground_distance: { type: 'file', path: groundDistanceFile },
      },
      facts: { ...outcome.facts, engine },
      summary: (history.health.collapsed ? `COLLAPSED (${history.health.reasons.join('; ')}) · ` : '') + (best?.val
        ? `best epoch ${history.best_epoch + 1}/${history.epochs.length}: val acc ${best.val.accuracy?.toFixed(3)} qwk ${best.val.qwk?.toFixed(3)} · ${rate.toFixed(0)} ex/s`
        : `${history.epochs.length} epochs`),
    };
  },
};
