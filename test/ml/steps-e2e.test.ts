// train and evaluate through the real CLI and engine: `repro run` on a workflow that loads a tiny
// ordered IDX dataset, trains a small CNN per loss on the wasm backend, and evaluates each model with
// mirror averaging. A second run is fully cached; a bad loss is rejected at plan time with a position.
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { RunRecord } from '../../src/formats/run-record.js';
import type { EvaluationMetrics, TrainingHistory } from '../../src/formats/metrics.js';
import { mulberry32 } from '../../src/core/rng.js';
import { tempDir } from '../support/index.js';
import { repro } from '../support/index.js';

/** IDX files (MNIST layout) of n 8×8 grey images whose class is the brightness of a centre square. */
function writeIdx(dir: string, prefix: string, n: number, seed: number): { images: string; labels: string } {
  const rand = mulberry32(seed);
  const pixels = Buffer.alloc(n * 64);
  const labels = Buffer.alloc(n);
  for (let i = 0; i < n; i++) {
    const k = Math.floor(rand() * 5);
    labels[i] = k;
    for (let p = 0; p < 64; p++) {
      const y = Math.floor(p / 8);
      const x = p % 8;
      const centre = y >= 2 && y < 6 && x >= 2 && x < 6;
      pixels[i * 64 + p] = Math.round((centre ? 30 + k * 50 : 60) + (rand() - 0.5) * 30);
    }
  }
  const header = (magic: number, dims: number[]) => {
    const h = Buffer.alloc(4 + 4 * dims.length);
    h.writeUInt32BE(magic, 0);
    dims.forEach((d, i) => h.writeUInt32BE(d, 4 + 4 * i));
    return h;
  };
  const images = join(dir, `${prefix}-images-idx3-ubyte.gz`);
  const labelsFile = join(dir, `${prefix}-labels-idx1-ubyte.gz`);
  writeFileSync(images, gzipSync(Buffer.concat([header(0x803, [n, 8, 8]), pixels])));
  writeFileSync(labelsFile, gzipSync(Buffer.concat([header(0x801, [n]), labels])));
  return { images, labels: labelsFile };
}

function workflow(dir: string, loss: string): void {
  const train = writeIdx(dir, 'train', 80, 1);
  const test = writeIdx(dir, 't10k', 40, 2);
  writeFileSync(
    join(dir, 'wf.yaml'),
    `name: ml-e2e
steps:
  dataset:
    uses: dataset
    with:
      name: idx
      images: ${train.images}
      labels: ${train.labels}
      test_images: ${test.images}
      test_labels: ${test.labels}
      classes: [g0, g1, g2, g3, g4]
      ordered: true
      val_fraction: 0.25
  train:
    uses: train
    matrix:
      loss: [xe, emd2]
    with:
      dataset: \${{ steps.dataset.outputs.dataset }}
      model: {arch: small-cnn, width: 0.25}
      loss: ${loss}
      optimizer: {kind: adam, lr: 0.01}
      epochs: 2
      batch_size: 16
      seed: 1
      augment: {mirror: true}
  evaluate:
    uses: evaluate
    matrix:
      loss: [xe, emd2]
    with:
      model: \${{ steps.train.outputs.model }}
      dataset: \${{ steps.dataset.outputs.dataset }}
      split: test
      mirror: true
`,
  );
}

function runRecords(dir: string): RunRecord[] {
  const files = readdirSync(join(dir, 'results'), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name === 'run.json')
    .map((e) => join(e.parentPath, e.name))
    .sort();
  return files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as RunRecord);
}

describe('train and evaluate steps under repro run', () => {
  it('trains one model per loss, evaluates them, records the backend, and is cached the second time', () => {
    const dir = tempDir('repro-ml-e2e-');
    workflow(dir, `{kind: '\${{ matrix.loss }}'}`);
    const first = repro(['run', 'wf.yaml', '--backend', 'wasm'], { cwd: dir, timeout: 240_000 });
    expect(first.code, first.out).toBe(0);
    const [record] = runRecords(dir);
    const trains = record.steps.filter((s) => s.uses === 'train');
    const evals = record.steps.filter((s) => s.uses === 'evaluate');
    expect(trains).toHaveLength(2);
    expect(evals).toHaveLength(2);
    for (const s of trains) {
      expect(s.facts).toMatchObject({ engine: 'tfjs', backend: 'wasm', device: 'cpu' });
      expect(Object.keys(s.outputs).sort()).toEqual(['ground_distance', 'history', 'model']);
      const history = JSON.parse(readFileSync(join(record.store, s.outputs.history.storePath!), 'utf8')) as TrainingHistory;
      expect(history.loss).toBe(s.matrix.loss);
      expect(history.epochs).toHaveLength(2);
    }
    for (const s of evals) {
      const metrics = JSON.parse(readFileSync(join(record.store, s.outputs.metrics.storePath!), 'utf8')) as EvaluationMetrics;
      expect(metrics).toMatchObject({ split: 'test', n: 40, classes: ['g0', 'g1', 'g2', 'g3', 'g4'], mirror: true });
      // Recomputed here from the confusion matrix: 40 test images, accuracy = its diagonal / n.
      const cells = metrics.confusion.flat();
      expect(cells.reduce((a, b) => a + b, 0)).toBe(40);
      expect(metrics.accuracy).toBeCloseTo(metrics.confusion.reduce((a, row, i) => a + row[i]!, 0) / 40, 12);
      const off = metrics.confusion.reduce((a, row, i) => a + row.reduce((b, c, k) => b + c * Math.abs(i - k), 0), 0);
      expect(metrics.mae).toBeCloseTo(off / 40, 12);
      expect(s.summary).toMatch(/^test: acc /);
    }

    const second = repro(['run', 'wf.yaml', '--backend', 'wasm'], { cwd: dir, timeout: 240_000 });
    expect(second.code, second.out).toBe(0);
    const again = runRecords(dir)[1];
    expect(again.steps.filter((s) => s.uses === 'train' || s.uses === 'evaluate').every((s) => s.status === 'cached')).toBe(true);
  });

  it('rejects a bad loss at plan time with the position of the field (exit 2)', () => {
    const dir = tempDir('repro-ml-e2e-');
    workflow(dir, `{kind: emd2, positions: [0, 1, 3, 2, 4]}`);
    const r = repro(['validate', 'wf.yaml'], { cwd: dir, timeout: 240_000 });
    expect(r.code, r.out).toBe(2);
    expect(r.out).toMatch(/wf\.yaml:21:\d+: error: .*class positions must be strictly increasing/);
    expect(r.out).not.toMatch(/\n\s+at /);
  });
});
