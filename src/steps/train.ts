// `train`: one model on a repro-tensors/1 dataset with one loss, in TensorFlow.js in-process or in
// PyTorch out of process (engine), checkpointing into the step's scratch dir so a killed run resumes.
// Definitions of every option: docs/ml.md.
import { join } from 'node:path';
import { type StepKind } from './kind.js';
import { METRIC_NAMES, ORDINAL_METRIC_NAMES, type TrainingHistory } from '../formats/metrics.js';
import { canonicalLossSpec, capabilities, LOSS_OLD_SPELLINGS, lossJsonSchema, lossParameter, lossSpecProblems } from '../ml/loss-table.js';
import { chooseMlEngine } from '../ml/engine.js';
import { DEFAULT_SHARDS } from '../ml/backend/index.js';
import type { LossSpec, ModelSpec, OptimizerSpec, TrainConfig } from '../ml/types.js';
import { StepError } from '../core/errors.js';
import type { ExecutionFacts } from '../core/facts.js';
import { writeJsonAtomic } from '../core/atomic.js';
import { historyHealth } from '../ml/health.js';
import { readFileSync } from 'node:fs';

export interface TrainWith {
  dataset: string;
  engine?: 'tfjs' | 'torch' | 'auto';
  model: { arch: ModelSpec['arch']; width?: number; dropout?: number; input_size?: number };
  loss: LossSpec;
  optimizer?: UserOptimizer;
  epochs: number;
  batch_size?: number;
  shards?: number;
  seed?: number;
  augment?: { mirror?: boolean; random_crop?: boolean };
  select_by?: string;
  splits?: { train?: string; val?: string };
}

/** The optimiser as the workflow spells it (snake_case); OptimizerSpec is the engines' form. */
type UserOptimizer = Omit<OptimizerSpec, 'weightDecay'> & { weight_decay?: number };

export const DEFAULT_OPTIMIZER: OptimizerSpec = { kind: 'adam', lr: 0.001 };

/**
 * Keys of `with` written in camelCase before every user-facing key became snake_case: still
 * accepted (the schema lists them as deprecated), reported by `repro validate`, and read as the new one.
 */
export const TRAIN_OLD_SPELLINGS: ReadonlyMap<string, string> = new Map([...LOSS_OLD_SPELLINGS, ['randomCrop', 'random_crop'], ['weightDecay', 'weight_decay']]);

/** `with` with the old spellings read as the new ones (a key given both ways keeps the new one). */
export function canonicalTrainWith(w: TrainWith): TrainWith {
  const renamed = <T extends object>(o: T | undefined, old: string, now: string): T | undefined => {
    if (!o || typeof o !== 'object' || !(old in o)) return o;
    const { [old]: value, ...rest } = o as Record<string, unknown>;
    return (now in rest ? rest : { ...rest, [now]: value }) as T;
  };
  return {
    ...w,
    ...(w.loss && typeof w.loss === 'object' ? { loss: canonicalLossSpec(w.loss) } : {}),
    ...(w.augment ? { augment: renamed(w.augment, 'randomCrop', 'random_crop') } : {}),
    ...(w.optimizer ? { optimizer: renamed(w.optimizer, 'weightDecay', 'weight_decay') } : {}),
  };
}

/** What the engines take: OptimizerSpec spells weight decay weightDecay (engines/torch reads it so). */
function engineOptimizer(o: UserOptimizer | undefined): OptimizerSpec {
  if (!o) return DEFAULT_OPTIMIZER;
  const { weight_decay, ...rest } = o;
  return weight_decay === undefined ? rest : { ...rest, weightDecay: weight_decay };
}
export const DEFAULT_BATCH_SIZE = 64;

/** The fields of a training history that measure the machine (EpochRecord): see StepKind.measurements. */
export const TRAIN_MEASUREMENTS: readonly string[] = Object.freeze(['examples_per_second', 'ms_per_step', 'seconds']);

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
    weight_decay: { type: 'number', minimum: 0, description: 'Coupled L2 (torch.optim weight_decay).' },
    weightDecay: { type: 'number', minimum: 0, deprecated: true, description: 'Old spelling of weight_decay.' },
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
        input_size: { type: 'integer', minimum: 4, description: 'Square network input; larger images are cropped (randomly when augment.random_crop). Default: the image size.' },
      },
    },
    loss: lossJsonSchema(),
    optimizer: optimizerSchema,
    epochs: { type: 'integer', minimum: 1 },
    batch_size: { type: 'integer', minimum: 1, description: `Default ${DEFAULT_BATCH_SIZE}.` },
    shards: {
      type: 'integer',
      minimum: 1,
      description:
        `tfjs on wasm or cpu: each batch is cut into this many shards, whose gradients are averaged in shard order (default ${DEFAULT_SHARDS}). ` +
        'Part of the training: the same shards give the same bits on 1, 2 or 16 threads (threads only run shards). Torch ignores it.',
    },
    seed: { type: 'integer', minimum: 0, description: 'Seeds weights, shuffling, augmentation and dropout (default 0).' },
    augment: {
      type: 'object',
      additionalProperties: false,
      properties: {
        mirror: { type: 'boolean', description: 'Random horizontal flip (p = 1/2).' },
        random_crop: { type: 'boolean', description: 'Random crop when the image is larger than the input (else centre crop).' },
        randomCrop: { type: 'boolean', deprecated: true, description: 'Old spelling of random_crop.' },
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

function isOrdinal(metric: string | undefined): metric is string {
  return metric !== undefined && ORDINAL_METRIC_NAMES.includes(metric);
}

/** An ordinal select_by over unordered classes, `why` saying how they are known to be: at plan time or at run time. */
function unmeasuredSelectBy(selectBy: string, why: string): { message: string; hint: string } {
  return {
    message: `select_by '${selectBy}' counts class steps, but ${why}, so it is not measured`,
    hint: "select by accuracy (the default), or declare the dataset's classes ordered: true if they are grades",
  };
}

export const trainStep: StepKind<TrainWith> = {
  name: 'train',
  role: 'training',
  // 2: SIMD gradient kernels and optimiser (same rules, other float rounding than version 1).
  // 3: history.json says whether the training collapsed (health: non-finite loss, never above the majority class).
  version: '3',
  description: 'Train one model with one loss (tfjs in-process or PyTorch), picking the best epoch on the validation split.',
  withSchema,
  outputs: ['model', 'history', 'ground_distance'],

  oldSpellings: TRAIN_OLD_SPELLINGS,

  check(given, context) {
    const w = canonicalTrainWith(given);
    const problems: Array<{ path: string; message: string; hint?: string }> = [];
    const order = context.classOrder?.(w.dataset);
    if (order && !order.ordered && isOrdinal(w.select_by)) {
      problems.push({ path: 'select_by', ...unmeasuredSelectBy(w.select_by, `dataset step '${order.step}' does not declare its classes ordered`) });
    }
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

  // history.json's wall-clock timings of each epoch (both engines write them): they measure the machine.
  measurements: () => TRAIN_MEASUREMENTS,

  async plannedFacts(w, options): Promise<ExecutionFacts> {
    // Not written, the default shard count: a workflow without `shards` keeps the fingerprint it had before shards existed.
    return (await chooseMlEngine(w.engine, options)).plannedFacts('train', { ...options, shards: w.shards ?? DEFAULT_SHARDS });
  },

  async run(ctx, given) {
    const w = canonicalTrainWith(given);
    const { readManifest } = await import('../data/tensors.js');
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
    const can = capabilities(w.loss.kind);
    // Where the plan could not tell (an npz that may be RetinaMNIST's, a script's data), the manifest does.
    if (!manifest.ordered && isOrdinal(w.select_by)) {
      const { message, hint } = unmeasuredSelectBy(w.select_by, `dataset ${manifest.name} says its classes have no order`);
      throw new StepError(message, hint);
    }
    if (!manifest.ordered && can.ordered) {
      ctx.log(`note: dataset ${manifest.name} says its classes have no order; loss '${w.loss.kind}' uses their index order`);
    }
    const warmup = lossParameter(w.loss, 'warmup_epochs')!;
    if (can.emdTerm && warmup >= w.epochs) {
      // Not a plan-time error: short smoke runs (--set epochs=2) of a workflow tuned for more epochs stay valid.
      ctx.log(`note: a warm-up of ${warmup} epochs leaves none of the ${w.epochs} epochs with the EMD term: this trains plain XE`);
    }
    const config: TrainConfig = {
      dataset: w.dataset,
      splits: { train: trainSplit, val: valSplit },
      model,
      loss: w.loss,
      optimizer: engineOptimizer(w.optimizer),
      epochs: w.epochs,
      batchSize: w.batch_size ?? DEFAULT_BATCH_SIZE,
      ...(w.shards !== undefined ? { shards: w.shards } : {}),
      seed: w.seed ?? 0,
      ...(w.augment ? { augment: { mirror: w.augment.mirror, randomCrop: w.augment.random_crop } } : {}),
      selectBy: w.select_by ?? 'accuracy',
      outDir: ctx.workDir,
      checkpointDir: join(ctx.scratchDir, 'checkpoint'),
    };
    const io = { log: ctx.log, progress: ctx.progress, signal: ctx.signal, threads: ctx.threads, options: ctx.options };
    const engine = await chooseMlEngine(w.engine, ctx.options);
    ctx.log(`engine ${engine.name}: ${model.arch} ${model.inputShape.join('×')} → ${model.classes} classes, loss ${w.loss.kind}, ${config.epochs} epochs`);
    const outcome = await engine.train(config, io);
    // The output set is fixed per kind: a loss without a learned D gets an empty per-epoch list.
    const groundDistanceFile = outcome.groundDistanceFile ?? join(ctx.workDir, 'ground_distance.json');
    if (!outcome.groundDistanceFile) {
      writeJsonAtomic(groundDistanceFile, { loss: w.loss.kind, per_epoch: [] });
    }
    const history = JSON.parse(readFileSync(outcome.historyFile, 'utf8')) as TrainingHistory;
    // Whichever engine trained: a collapse is flagged in history.json, the log and the summary (src/ml/health.ts).
    history.health = historyHealth(history.epochs, manifest.splits[config.splits.val]?.classCounts);
    writeJsonAtomic(outcome.historyFile, history);
    for (const reason of history.health.reasons) ctx.log(`WARNING collapsed training: ${reason}`);
    const best = history.epochs.find((e) => e.epoch === history.best_epoch);
    const rate = history.epochs.length ? history.epochs.reduce((a, e) => a + e.examples_per_second, 0) / history.epochs.length : 0;
    return {
      outputs: {
        model: { type: 'dir', path: outcome.modelDir },
        history: { type: 'file', path: outcome.historyFile },
        ground_distance: { type: 'file', path: groundDistanceFile },
      },
      facts: { ...outcome.facts, engine: engine.name },
      summary: (history.health.collapsed ? `COLLAPSED (${history.health.reasons.join('; ')}) · ` : '') + (best?.val
        ? `best epoch ${history.best_epoch + 1}/${history.epochs.length}: val acc ${best.val.accuracy?.toFixed(3)} qwk ${best.val.qwk?.toFixed(3)} · ${rate.toFixed(0)} ex/s`
        : `${history.epochs.length} epochs`),
    };
  },
};
