// Determinism on the pure-JS cpu backend (train.test.ts proves it on wasm): two trainings with one
// seed give bit-identical weights. Tiny images, so the cpu kernels stay fast.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { initBackend, shutdownBackend } from '../../src/ml/backend/index.js';
import { trainModel } from '../../src/ml/train.js';
import type { TrainConfig, TrainIO } from '../../src/ml/types.js';
import { syntheticDataset } from './helpers.js';
import { tempDir } from '../support/index.js';

let dataset: string;
beforeAll(async () => {
  await initBackend('cpu', 1);
  dataset = syntheticDataset(tempDir('repro-ml-'), { train: 48, val: 16, size: 8 });
});
afterAll(async () => {
  await shutdownBackend();
});

const io: TrainIO = { log: () => {}, progress: () => {}, signal: new AbortController().signal, threads: 1, options: { backend: 'cpu' } };

function config(): TrainConfig {
  const out = tempDir('repro-ml-');
  return {
    dataset,
    splits: { train: 'train', val: 'val' },
    model: { arch: 'small-cnn', inputShape: [8, 8, 3], classes: 5, width: 0.25 },
    loss: { kind: 'learned', alpha: 'auto', warmup_epochs: 1 },
    optimizer: { kind: 'sgd', lr: 0.05, momentum: 0.9 },
    epochs: 2,
    batchSize: 16,
    seed: 11,
    augment: { mirror: true },
    outDir: join(out, 'o'),
    checkpointDir: join(out, 'c'),
  };
}

it('two cpu-backend trainings with one seed give bit-identical weights, history and learned D', async () => {
  const [a, b] = [await trainModel(config(), io), await trainModel(config(), io)];
  expect(a.facts.backend).toBe('cpu');
  const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
  expect(sha(join(a.modelDir, 'weights.bin'))).toBe(sha(join(b.modelDir, 'weights.bin')));
  const science = (p: string) => {
    const h = JSON.parse(readFileSync(p, 'utf8'));
    return { losses: h.epochs.map((e: { train_loss: number; val: unknown }) => [e.train_loss, e.val]), d: h.ground_distance, alpha: h.facts.alpha };
  };
  expect(science(b.historyFile)).toEqual(science(a.historyFile));
});
