// `evaluate`: a trained model (either engine, as its model.json says) on one split of a dataset →
// metrics.json (accuracy, confusion, per-class recall; one-off, MAE, QWK for ordered classes) and predictions.json.
import { type StepKind } from './kind.js';
import { mlEngine } from '../ml/engine.js';
import { metricsLine } from '../ml/metrics.js';
import type { ExecutionFacts } from '../core/facts.js';
import { predictionHealth } from '../ml/health.js';
import { writeJsonAtomic } from '../core/atomic.js';
import type { EvaluationMetrics, PredictionsFile } from '../formats/metrics.js';
import { readFileSync } from 'node:fs';

export interface EvaluateWith {
  model: string;
  dataset: string;
  split?: string;
  mirror?: boolean;
}

const withSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['model', 'dataset'],
  properties: {
    model: { type: 'string', description: 'A model directory (the model output of a train step).' },
    dataset: { type: 'string', description: 'A repro-tensors/1 dataset directory.' },
    split: { type: 'string', description: "The split to evaluate on (default 'test')." },
    mirror: { type: 'boolean', description: 'Average the predictions of each image and its horizontal mirror (default false).' },
  },
};

export const evaluateStep: StepKind<EvaluateWith> = {
  name: 'evaluate',
  role: 'evaluation',
  // 2: metrics.json says whether the predictions are constant (health).
  // 3: no ordinal metrics (one-off, MAE, QWK) for a dataset whose classes are unordered.
  version: '3',
  description: 'Evaluate a trained model on a split: accuracy, confusion matrix, per-class recall; for ordered classes also one-off accuracy, MAE and quadratic-weighted kappa.',
  withSchema,
  outputs: ['metrics', 'predictions'],
  // Its ordinal metrics are written for the evaluated dataset's order.
  classOrder: (w, upstream) => upstream(w.dataset),

  async plannedFacts(_w, options): Promise<ExecutionFacts> {
    // The model (hence its engine) is another step's output, unknown at plan time; a tfjs model's
    // numbers may differ in the last bits between backends, so the backend that will run enters the fingerprint.
    return mlEngine('tfjs').plannedFacts('evaluate', options);
  },

  async run(ctx, w) {
    const { readModelFile } = await import('../ml/model-file.js');
    const file = readModelFile(w.model);
    const config = { dataset: w.dataset, split: w.split ?? 'test', modelDir: w.model, outDir: ctx.workDir, mirror: w.mirror === true };
    const io = { log: ctx.log, progress: ctx.progress, signal: ctx.signal, threads: ctx.threads, options: ctx.options };
    const result = await mlEngine(file.engine).evaluate(config, io);
    const m = JSON.parse(readFileSync(result.metricsFile, 'utf8')) as EvaluationMetrics;
    // Whichever engine evaluated: constant predictions are flagged in metrics.json, the log and the summary (src/ml/health.ts).
    const predictions = JSON.parse(readFileSync(result.predictionsFile, 'utf8')) as PredictionsFile;
    m.health = predictionHealth(predictions.predicted, predictions.classes);
    writeJsonAtomic(result.metricsFile, m);
    for (const reason of m.health.reasons) ctx.log(`WARNING collapsed training: ${reason}`);
    return {
      outputs: {
        metrics: { type: 'file', path: result.metricsFile },
        predictions: { type: 'file', path: result.predictionsFile },
      },
      facts: { ...result.facts, engine: file.engine },
      summary: `${m.health.collapsed ? 'COLLAPSED (constant predictions) · ' : ''}${config.split}: ${metricsLine(m, 3)} (n=${m.n})`,
    };
  },
};
