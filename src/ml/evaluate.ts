// Inference over a whole split (validation during training, the evaluate step, the learned-D pass)
// and evaluateModel(): metrics.json + predictions.json for one split.
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { writeJsonAtomic } from '../core/atomic.js';
import { readManifest, readSplit, type LoadedSplit } from '../data/tensors.js';
import type { EvaluationMetrics, PredictionsFile } from '../formats/metrics.js';
import { backendFacts, initBackend, type BackendFacts, type BackendPreference } from './backend/index.js';
import { batchRanges, checkInputFits, imageBatch, inputNormalization, type Normalization } from './data.js';
import { predictClasses, predictsByRegression } from './losses.js';
import { evaluationMetrics, metricsLine } from './metrics.js';
import { loadModel } from './model-file.js';
import type { Network } from './models.js';
import type { EvalConfig, LossKind, TrainIO } from './types.js';
import { StepError } from '../core/errors.js';

export const INFERENCE_BATCH = 256;

export interface SplitOutputs {
  /** [N, C] row-major. */
  logits: Float32Array;
  /** [N, featureSize] row-major, when asked for. */
  features?: Float32Array;
}

/** The model's outputs on every image of the split, in inference mode, centre-cropped, no augmentation. */
export function inferSplit(model: Network, split: LoadedSplit, normalization: Normalization | null, options: { features?: boolean; flipAll?: boolean } = {}): SplitOutputs {
  const n = split.labels.length;
  const C = model.spec.classes;
  const logits = new Float32Array(n * C);
  const features = options.features ? new Float32Array(n * model.featureSize) : undefined;
  for (const [from, to] of batchRanges(n, INFERENCE_BATCH)) {
    const indices = Int32Array.from({ length: to - from }, (_, i) => from + i);
    tf.tidy(() => {
      const x = imageBatch(split, indices, { inputShape: model.spec.inputShape, normalization, flipAll: options.flipAll });
      const out = model.forward(x, false);
      logits.set(out.logits.dataSync(), from * C);
      if (features) features.set(out.features.dataSync(), from * model.featureSize);
    });
  }
  return { logits, features };
}

/**
 * What a prediction averages over views: softmax probabilities, or for a regression loss the raw z_0
 * (its logits are not a distribution).
 */
export function predictionScores(logits: Float32Array, classes: number, kind: LossKind): Float32Array {
  if (predictsByRegression(kind)) return logits;
  return tf.tidy(() => tf.softmax(tf.tensor2d(logits, [logits.length / classes, classes])).dataSync() as Float32Array);
}

/** Scores for the split, averaged with the mirrored images when `mirror`. */
export function splitScores(model: Network, split: LoadedSplit, normalization: Normalization | null, kind: LossKind, mirror: boolean): Float32Array {
  const C = model.spec.classes;
  const scores = predictionScores(inferSplit(model, split, normalization).logits, C, kind);
  if (!mirror) return scores;
  const flipped = predictionScores(inferSplit(model, split, normalization, { flipAll: true }).logits, C, kind);
  return scores.map((v, i) => (v + flipped[i]) / 2);
}

export async function evaluateModel(config: EvalConfig, io: TrainIO): Promise<{ metricsFile: string; predictionsFile: string; metrics: EvaluationMetrics; facts: Record<string, string | number | boolean | null> }> {
  const facts = await inferenceBackend((io.options.backend as BackendPreference | undefined) ?? 'auto');
  const manifest = readManifest(config.dataset);
  const split = readSplit(config.dataset, config.split, manifest);
  const { file, model } = loadModel(config.modelDir);
  try {
    if (file.spec.classes !== manifest.classes.length) {
      throw new StepError(`the model predicts ${file.spec.classes} classes but dataset ${manifest.name} has ${manifest.classes.length}`);
    }
    checkInputFits(split, file.spec.inputShape);
    io.progress(null, `evaluating on ${config.split} (${split.labels.length} images${config.mirror ? ', with mirror' : ''})`);
    const normalization = file.normalization ?? inputNormalization(manifest, split);
    const positions = file.loss.positions ?? manifest.positions;
    const scores = splitScores(model, split, normalization, file.loss.kind, config.mirror === true);
    const predicted = predictClasses(scores, file.spec.classes, file.loss.kind, positions);
    const metrics = evaluationMetrics(split.labels, predicted, manifest.classes, config.split, manifest.ordered !== false);
    metrics.mirror = config.mirror === true;
    const regression = predictsByRegression(file.loss.kind);
    const predictions: PredictionsFile = {
      split: config.split,
      classes: manifest.classes,
      labels: Array.from(split.labels),
      predicted: Array.from(predicted),
      [regression ? 'outputs' : 'probabilities']: rows(scores, regression ? 1 : file.spec.classes, file.spec.classes),
    };
    const metricsFile = join(config.outDir, 'metrics.json');
    const predictionsFile = join(config.outDir, 'predictions.json');
    writeJsonAtomic(metricsFile, metrics);
    writeJsonAtomic(predictionsFile, predictions);
    io.log(`${config.split}: ${metricsLine(metrics, 4, 'accuracy')} (n=${metrics.n})`);
    return { metricsFile, predictionsFile, metrics, facts };
  } finally {
    model.dispose();
  }
}

/**
 * Inference needs no worker threads, so a backend already running (started by a train step of the same
 * run, perhaps with workers) is kept when it is the one asked for: restarting it with another thread count
 * would pull the workers from under a concurrent training.
 */
async function inferenceBackend(preference: BackendPreference): Promise<BackendFacts> {
  const running = await backendFacts();
  if (running && (preference === 'auto' || running.backend === preference || (preference.startsWith('tensorflow') && running.backend === 'tensorflow'))) return running;
  return initBackend(preference, 1);
}

/** The first `keep` of every `stride` values per row, rounded to 6 digits (JSON stays small and readable). */
function rows(values: Float32Array, keep: number, stride: number): number[][] {
  const out: number[][] = [];
  for (let at = 0; at < values.length; at += stride) out.push(Array.from(values.subarray(at, at + keep), (v) => Number(v.toPrecision(6))));
  return out;
}
