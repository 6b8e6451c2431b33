// The training loop on tiny real data: every loss variant trains, two runs with one seed give
// bit-identical weights, a killed training resumes to the same result, evaluation writes its files.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, shutdownBackend } from '../../src/ml/backend/index.js';
import { trainModel } from '../../src/ml/train.js';
import { evaluateModel } from '../../src/ml/evaluate.js';
import type { LossSpec, TrainConfig, TrainIO } from '../../src/ml/types.js';
import type { PredictionsFile, TrainingHistory, EvaluationMetrics } from '../../src/formats/metrics.js';
import { retinaMnistNpz, retinaMnistSubset, syntheticDataset } from './helpers.js';
import { tempDir } from '../support/index.js';

// The wasm backend is what a fresh clone trains on; one thread keeps the tests off each other's core.
const BACKEND = 'wasm';

function io(signal: AbortSignal = new AbortController().signal, lines: string[] = []): TrainIO {
  return { log: (l) => lines.push(l), progress: () => {}, signal, threads: 1, options: { backend: BACKEND } };
}

let dataset: string;
beforeAll(async () => {
  await initBackend(BACKEND, 1);
  dataset = syntheticDataset(tempDir('repro-ml-'), { train: 64, val: 32, size: 8 });
});
afterAll(async () => {
  await shutdownBackend();
});

function config(overrides: Partial<TrainConfig> = {}, loss: LossSpec = { kind: 'xe' }): TrainConfig {
  const out = tempDir('repro-ml-');
  return {
    dataset,
    splits: { train: 'train', val: 'val' },
    model: { arch: 'small-cnn', inputShape: [8, 8, 3], classes: 5, width: 0.25 },
    loss,
    optimizer: { kind: 'adam', lr: 0.01 },
    epochs: 2,
    batchSize: 16,
    seed: 3,
    augment: { mirror: true },
    outDir: join(out, 'out'),
    checkpointDir: join(out, 'ckpt'),
    ...overrides,
  };
}

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;
/** History without wall-clock fields. */
const scienceOf = (h: TrainingHistory) => h.epochs.map(({ epoch, train_loss, val }) => ({ epoch, train_loss, val }));

describe('trainModel', () => {
  it('trains with every loss variant and writes model, history and (learned) ground distances', async () => {
    const losses: LossSpec[] = [
      { kind: 'xe' },
      { kind: 'emd2' },
      { kind: 'xemd', alpha: 'auto', warmup_epochs: 1, omega: 2, mu: 0.25 },
      { kind: 'learned', alpha: 1, warmup_epochs: 1 },
      { kind: 'reg' },
      { kind: 'sinkhorn', lambda: 1, iterations: 10 },
    ];
    for (const loss of losses) {
      const c = config({}, loss);
      const outcome = await trainModel(c, io());
      const history = readJson<TrainingHistory>(outcome.historyFile);
      expect(history.loss).toBe(loss.kind);
      expect(history.epochs).toHaveLength(2);
      for (const e of history.epochs) {
        expect(Number.isFinite(e.train_loss), `${loss.kind} loss`).toBe(true);
        expect(e.ms_per_step).toBeGreaterThan(0);
        expect(e.examples_per_second).toBeGreaterThan(0);
        // 32 validation images: accuracy is a count over 32, and never above one-off accuracy.
        const acc = e.val!.accuracy!;
        expect(acc * 32, `${loss.kind} accuracy ${acc}`).toBeCloseTo(Math.round(acc * 32), 9);
        expect(acc).toBeGreaterThanOrEqual(0);
        expect(acc).toBeLessThanOrEqual(e.val!.one_off_accuracy!);
        expect(e.val!.one_off_accuracy).toBeLessThanOrEqual(1);
      }
      expect([0, 1]).toContain(history.best_epoch);
      expect(existsSync(join(outcome.modelDir, 'model.json'))).toBe(true);
      expect(existsSync(join(outcome.modelDir, 'weights.bin'))).toBe(true);
      if (loss.kind === 'xemd') expect(history.facts.alpha).toBeGreaterThan(0);
      if (loss.kind === 'learned') {
        expect(history.ground_distance).toHaveLength(2);
        const D = history.ground_distance![1];
        expect(D.map((row, i) => row[i])).toEqual([0, 0, 0, 0, 0]);
        D.forEach((row, i) => row.forEach((v, k) => expect(v).toBe(D[k][i])));
        expect(readJson<{ per_epoch: number[][][] }>(outcome.groundDistanceFile!).per_epoch).toEqual(history.ground_distance);
      } else {
        expect(outcome.groundDistanceFile).toBeUndefined();
      }
    }
  });

  it('is deterministic: two runs with one seed give bit-identical weights and identical metrics, and leaks no tensor', async () => {
    const before = tf.memory().numTensors;
    const a = await trainModel(config(), io());
    expect(tf.memory().numTensors).toBe(before);
    const b = await trainModel(config(), io());
    expect(sha(join(a.modelDir, 'weights.bin'))).toBe(sha(join(b.modelDir, 'weights.bin')));
    expect(scienceOf(readJson(b.historyFile))).toEqual(scienceOf(readJson(a.historyFile)));
    const c = await trainModel(config({ seed: 4 }), io());
    expect(sha(join(c.modelDir, 'weights.bin'))).not.toBe(sha(join(a.modelDir, 'weights.bin')));
  });

  it('resumes a killed training at its last finished epoch, with the same result as an uninterrupted one', async () => {
    const base = config({ epochs: 3, optimizer: { kind: 'sgd', lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-4, schedule: { kind: 'cosine' } } });
    const straight = await trainModel({ ...base, outDir: join(tempDir('repro-ml-'), 'o'), checkpointDir: join(tempDir('repro-ml-'), 'c') }, io());

    const controller = new AbortController();
    const lines: string[] = [];
    const killed = io(controller.signal, lines);
    killed.log = (l) => {
      lines.push(l);
      if (l.startsWith('epoch 2/3')) controller.abort();
    };
    await expect(trainModel(base, killed)).rejects.toThrow();
    expect(existsSync(join(base.checkpointDir, 'checkpoint.bin'))).toBe(true);
    expect(existsSync(join(base.outDir, 'model'))).toBe(false);

    const resumedLines: string[] = [];
    const resumed = await trainModel(base, io(undefined, resumedLines));
    expect(resumedLines[0]).toMatch(/resuming after epoch 2\/3/);
    expect(resumedLines.filter((l) => l.startsWith('epoch '))).toHaveLength(1);
    expect(sha(join(resumed.modelDir, 'weights.bin'))).toBe(sha(join(straight.modelDir, 'weights.bin')));
    expect(scienceOf(readJson(resumed.historyFile))).toEqual(scienceOf(readJson(straight.historyFile)));
  });

  it('rejects a select_by that is not a metric and a model that does not fit the data', async () => {
    await expect(trainModel(config({ selectBy: 'loss' }), io())).rejects.toThrow(/select_by 'loss' is not a metric/);
    await expect(trainModel(config({ model: { arch: 'small-cnn', inputShape: [16, 16, 3], classes: 5 } }), io())).rejects.toThrow(/8×8×3 images but the model takes 16×16×3/);
    await expect(trainModel(config({ model: { arch: 'small-cnn', inputShape: [8, 8, 3], classes: 3 } }), io())).rejects.toThrow(/3 outputs but dataset synthetic has 5 classes/);
  });
});

describe('evaluateModel', () => {
  it('writes metrics.json and predictions.json, with and without mirror averaging', async () => {
    const trained = await trainModel(config(), io());
    for (const mirror of [false, true]) {
      const outDir = tempDir('repro-ml-');
      const result = await evaluateModel({ dataset, split: 'val', modelDir: trained.modelDir, outDir, mirror }, io());
      const metrics = readJson<EvaluationMetrics>(result.metricsFile);
      const predictions = readJson<PredictionsFile>(result.predictionsFile);
      expect(metrics.n).toBe(32);
      expect(metrics.split).toBe('val');
      expect(metrics.confusion.flat().reduce((a, b) => a + b, 0)).toBe(32);
      expect(predictions.predicted).toHaveLength(32);
      expect(predictions.probabilities).toHaveLength(32);
      for (const row of predictions.probabilities!) expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
      const acc = predictions.predicted.filter((p, i) => p === predictions.labels[i]).length / 32;
      expect(metrics.accuracy).toBeCloseTo(acc, 12);
      if (!mirror) {
        // Validation in training used the same inference: the best epoch's val accuracy is what evaluate finds.
        const history = readJson<TrainingHistory>(trained.historyFile);
        expect(metrics.accuracy).toBe(history.epochs[history.best_epoch].val!.accuracy);
      }
    }
  });
});

describe('small CNN on real RetinaMNIST images', () => {
  it.skipIf(!retinaMnistNpz())('learns above the majority-class predictor within 3 epochs on 300 images', async () => {
    const data = await retinaMnistSubset(tempDir('repro-ml-'), { train: 300, val: 120 });
    const out = tempDir('repro-ml-');
    const outcome = await trainModel(
      {
        dataset: data,
        splits: { train: 'train', val: 'val' },
        model: { arch: 'small-cnn', inputShape: [28, 28, 3], classes: 5 },
        loss: { kind: 'xe' },
        optimizer: { kind: 'adam', lr: 0.002 },
        epochs: 3,
        batchSize: 32,
        seed: 1,
        selectBy: 'qwk',
        outDir: join(out, 'o'),
        checkpointDir: join(out, 'c'),
      },
      io(),
    );
    const history = readJson<TrainingHistory>(outcome.historyFile);
    const best = history.epochs[history.best_epoch].val!;
    // The first 120 validation images: 54 of grade 0. Always answering grade 0 scores accuracy 0.45,
    // one-off 0.55, MAE 1.27 and QWK 0: the network must beat it on the ordinal metrics.
    expect(best.qwk!).toBeGreaterThan(0.2);
    expect(best.mae!).toBeLessThan(1.15);
    expect(best.one_off_accuracy!).toBeGreaterThan(0.6);
  });
});
