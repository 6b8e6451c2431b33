// The training loop: seeded shuffling and augmentation, per-batch gradients through
// computeGradients(), our optimisers, the loss's per-epoch state (warm-up, auto α, learned D),
// validation each epoch with best-epoch selection, and a checkpoint after each epoch so a killed
// training resumes exactly where it stopped (docs/ml.md).
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { writeJsonAtomic } from '../core/atomic.js';
import { sha256Json } from '../core/hash.js';
import { outputFacts } from '../core/facts.js';
import { readManifest, readSplit, type LoadedSplit } from '../data/tensors.js';
import { METRIC_DIRECTION, METRIC_NAMES, type EpochRecord, type MetricName, type TrainingHistory } from '../formats/metrics.js';
import { backendFacts, DEFAULT_SHARDS, initBackend, shardsBatches, type BackendFacts, type BackendPreference } from './backend/index.js';
import { computeGradients } from './gradients.js';
import { batchRanges, checkInputFits, imageBatch, inputNormalization, labelBatch, type Normalization } from './data.js';
import { inferSplit, splitScores } from './evaluate.js';
import { capabilities } from './loss-table.js';
import { lossSpecProblems, makeLoss, predictClasses, type EpochPass, type LossState, type TrainingLoss } from './losses.js';
import { evaluationMetrics, metricsLine } from './metrics.js';
import { buildModel, type Network } from './models.js';
import { assignWeights, readCheckpoint, readWeights, writeCheckpoint, writeModelDir } from './model-file.js';
import { learningRate, makeOptimizer } from './optimizers.js';
import { deriveSeed, mulberry32, permutation } from '../core/rng.js';
import type { LossSpec, TrainConfig, TrainIO, TrainOutcome } from './types.js';
import { StepError } from '../core/errors.js';

export const DEFAULT_SELECT_BY: MetricName = 'accuracy';

/** Stream labels for deriveSeed: one independent stream per purpose. */
const STREAM = { shuffle: 1, augment: 2, dropout: 3 } as const;

/** What a checkpoint carries besides the arrays. */
interface ResumeState {
  history: EpochRecord[];
  groundDistances: number[][][];
  lossState: LossState;
  bestEpoch: number;
  bestValue: number | null;
  optimizerSteps: number;
}

export function selectByProblem(selectBy: string | undefined): string | null {
  if (selectBy === undefined || (METRIC_NAMES as readonly string[]).includes(selectBy)) return null;
  return `select_by '${selectBy}' is not a metric (expected one of ${METRIC_NAMES.join(', ')})`;
}

function isBetter(metric: MetricName, value: number, best: number | null): boolean {
  if (best === null) return true;
  return METRIC_DIRECTION[metric] === 'lower' ? value < best : value > best;
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  return s >= 90 ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${s.toFixed(0)}s`;
}

export async function trainModel(config: TrainConfig, io: TrainIO): Promise<TrainOutcome> {
  const problem = selectByProblem(config.selectBy);
  if (problem) throw new StepError(problem);
  const selectBy = (config.selectBy ?? DEFAULT_SELECT_BY) as MetricName;
  const backend = await initBackend((io.options.backend as BackendPreference | undefined) ?? 'auto', io.threads);
  const shards = config.shards ?? DEFAULT_SHARDS;
  const facts = trainingFacts(backend, shards);

  const manifest = readManifest(config.dataset);
  const train = readSplit(config.dataset, config.splits.train, manifest);
  const val = readSplit(config.dataset, config.splits.val, manifest);
  const C = manifest.classes.length;
  if (config.model.classes !== C) throw new StepError(`the model has ${config.model.classes} outputs but dataset ${manifest.name} has ${C} classes`);
  for (const s of [train, val]) checkInputFits(s, config.model.inputShape);
  const positions = config.loss.positions ?? manifest.positions;
  const normalization = inputNormalization(manifest, train);

  const model = buildModel(config.model, config.seed);
  const loss = makeLossOrFail(config.loss, C, positions);
  const optimizer = makeOptimizer(config.optimizer, model.weights);
  const configHash = sha256Json({ ...config, outDir: null, checkpointDir: null, backend: facts.backend, threads: facts.threads });

  let state: ResumeState = { history: [], groundDistances: [], lossState: loss.state, bestEpoch: -1, bestValue: null, optimizerSteps: 0 };
  let best: Float32Array[] = readWeights(model);
  try {
    const resumed = readCheckpoint(config.checkpointDir, configHash);
    const nWeights = model.weights.size;
    if (resumed) {
      state = resumed.header.state as ResumeState;
      assignWeights(model, resumed.arrays.slice(0, nWeights));
      best = resumed.arrays.slice(nWeights, 2 * nWeights);
      optimizer.load({ steps: state.optimizerSteps, slots: resumed.arrays.slice(2 * nWeights) });
      loss.restore(state.lossState);
      io.log(`resuming after epoch ${resumed.header.epoch + 1}/${config.epochs} from ${config.checkpointDir}`);
    } else if (loss.needsPass(-1)) {
      loss.endEpoch(-1, trainingPass(model, train, normalization));
    }

    const batches = batchRanges(train.labels.length, config.batchSize);
    const started = performance.now();
    const firstEpoch = state.history.length;
    for (let epoch = firstEpoch; epoch < config.epochs; epoch++) {
      // Steps run concurrently in one process: one that restarted tfjs (another backend, or libtensorflow
      // with another thread count) would silently change the result. Fail instead of recording wrong facts.
      if (JSON.stringify(await backendFacts()) !== JSON.stringify(backend)) {
        throw new StepError(`the tfjs backend was restarted by another step during this training (now ${JSON.stringify(await backendFacts())})`, 'give every train step of the workflow the same resources.cpu, or run with --jobs 1');
      }
      const epochStart = performance.now();
      loss.setEpoch(epoch);
      const lr = learningRate(config.optimizer, epoch, config.epochs);
      const order = permutation(train.labels.length, mulberry32(deriveSeed(config.seed, STREAM.shuffle, epoch)));
      const augment = mulberry32(deriveSeed(config.seed, STREAM.augment, epoch));
      let lossSum = 0;
      let stepMs = 0;
      for (const [b, [from, to]] of batches.entries()) {
        io.signal.throwIfAborted();
        const indices = order.subarray(from, to);
        const x = imageBatch(train, indices, {
          inputShape: config.model.inputShape,
          normalization,
          rand: augment,
          mirror: config.augment?.mirror === true,
          randomCrop: config.augment?.randomCrop === true,
        });
        const y = labelBatch(train, indices);
        model.dropoutSeed = deriveSeed(config.seed, STREAM.dropout, epoch, b);
        const t0 = performance.now();
        const { loss: value, grads } = computeGradients(model, loss.loss, x, y, shardsBatches(backend.backend) ? shards : 1);
        optimizer.step(grads, lr);
        stepMs += performance.now() - t0;
        tf.dispose([x, y]);
        if (!Number.isFinite(value)) throw new StepError(`the training loss became ${value} at epoch ${epoch + 1}, batch ${b + 1}`, 'lower the learning rate (optimizer.lr)');
        lossSum += value * (to - from);
        io.progress((epoch + (b + 1) / batches.length) / config.epochs, `epoch ${epoch + 1}/${config.epochs} batch ${b + 1}/${batches.length}`);
        // Let the process breathe between batches: Ctrl-C, progress rendering, other steps.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      const trainSeconds = (performance.now() - epochStart) / 1000;
      if (loss.needsPass(epoch)) loss.endEpoch(epoch, trainingPass(model, train, normalization));
      if (capabilities(config.loss.kind).learnsGroundDistance && loss.state.groundDistance) state.groundDistances.push(loss.state.groundDistance);

      const scores = splitScores(model, val, normalization, config.loss.kind, false);
      const m = evaluationMetrics(val.labels, predictClasses(scores, C, config.loss.kind, positions), manifest.classes, config.splits.val, manifest.ordered !== false);
      const record: EpochRecord = {
        epoch,
        train_loss: lossSum / train.labels.length,
        // JSON drops the ordinal ones where they are undefined (unordered classes).
        val: { accuracy: m.accuracy, one_off_accuracy: m.one_off_accuracy, mae: m.mae, qwk: m.qwk },
        examples_per_second: train.labels.length / trainSeconds,
        ms_per_step: stepMs / batches.length,
        seconds: (performance.now() - epochStart) / 1000,
      };
      state.history.push(record);
      // The train step refuses an ordinal select_by for unordered classes, so the selected metric is there.
      const selected = m[selectBy] as number;
      if (isBetter(selectBy, selected, state.bestValue)) {
        state.bestEpoch = epoch;
        state.bestValue = selected;
        best = readWeights(model);
      }
      const saved = optimizer.save();
      state.lossState = loss.state;
      state.optimizerSteps = saved.steps;
      mkdirSync(config.checkpointDir, { recursive: true });
      writeCheckpoint(config.checkpointDir, { configHash, epoch, state }, [...readWeights(model), ...best, ...saved.slots]);

      const done = epoch + 1 - firstEpoch;
      const eta = (((performance.now() - started) / 1000) / done) * (config.epochs - epoch - 1);
      const line =
        `epoch ${epoch + 1}/${config.epochs} loss ${record.train_loss.toFixed(4)} ` +
        `val ${metricsLine(m, 3)} ` +
        `${record.examples_per_second.toFixed(0)} ex/s ${record.ms_per_step.toFixed(1)} ms/step ETA ${formatSeconds(eta)}`;
      io.log(line);
      io.progress((epoch + 1) / config.epochs, line);
    }

    const modelDir = join(config.outDir, 'model');
    writeModelDir(
      modelDir,
      {
        engine: 'tfjs',
        spec: config.model,
        loss: config.loss,
        ...(normalization ? { normalization } : {}),
        bestEpoch: state.bestEpoch,
        facts: outputFacts(facts),
      },
      best,
    );
    const history: TrainingHistory = {
      loss: config.loss.kind,
      epochs: state.history,
      best_epoch: state.bestEpoch,
      ...(capabilities(config.loss.kind).learnsGroundDistance ? { ground_distance: state.groundDistances } : {}),
      facts: { ...outputFacts(facts), select_by: selectBy, alpha: loss.state.alpha },
    };
    const historyFile = join(config.outDir, 'history.json');
    writeJsonAtomic(historyFile, history);
    const outcome: TrainOutcome = { modelDir, historyFile, facts };
    if (capabilities(config.loss.kind).learnsGroundDistance) {
      outcome.groundDistanceFile = join(config.outDir, 'ground_distance.json');
      writeJsonAtomic(outcome.groundDistanceFile, { loss: config.loss.kind, per_epoch: state.groundDistances });
    }
    return outcome;
  } finally {
    model.dispose();
  }
}

/**
 * The facts of a training. On wasm and cpu its bits depend on the shard count, not on the threads that
 * ran the shards: `threads` is the shard count (the name it had when the two were always equal, so
 * fingerprints and model files from then stay valid), and `workers` (run.json only) the threads that
 * computed (1: this thread, shard after shard).
 */
function trainingFacts(backend: BackendFacts, shards: number): BackendFacts {
  if (!shardsBatches(backend.backend)) return backend;
  return { ...backend, threads: shards, workers: backend.threads > 1 ? Math.min(backend.threads, shards) : 1 };
}

/** makeLoss, with a bad spec (wrong matrix size, positions) as a user error. */
function makeLossOrFail(spec: LossSpec, classes: number, positions: readonly number[]): TrainingLoss {
  const problems = lossSpecProblems(spec, classes);
  if (problems.length) throw new StepError(`invalid loss: ${problems.map((p) => `loss.${p.path}: ${p.message}`).join('; ')}`);
  return makeLoss(spec, classes, positions);
}

/** Logits and features of the whole training split, for the loss's end-of-epoch update. */
function trainingPass(model: Network, train: LoadedSplit, normalization: Normalization | null): EpochPass {
  const out = inferSplit(model, train, normalization, { features: true });
  return { logits: out.logits, features: out.features!, featureSize: model.featureSize, labels: train.labels };
}
