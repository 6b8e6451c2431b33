import { describe, expect, it, afterEach } from 'vitest';
import { writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readIdx } from '../../src/data/idx.js';
import { readDataset } from '../../src/data/tensors.js';
import { datasetStep, FASHION_MNIST_DIR } from '../../src/steps/dataset.js';
import { makeContext, stepError, type TestContext } from './helpers.js';
import { tempDir } from '../support/index.js';

let ctx: TestContext | undefined;
afterEach(() => {
  ctx?.cleanup();
  ctx = undefined;
});

function idx(shape: number[], data: Uint8Array): Buffer {
  const head = Buffer.alloc(4 + 4 * shape.length);
  head[2] = 0x08;
  head[3] = shape.length;
  shape.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, data]);
}

/** A tiny MNIST-style set: image i is filled with the value i, label i % 3. */
function writeIdxSet(dir: string, n: number, prefix: string) {
  const images = new Uint8Array(n * 4 * 4).map((_, j) => Math.floor(j / 16));
  writeFileSync(join(dir, `${prefix}-images-idx3-ubyte.gz`), gzipSync(idx([n, 4, 4], images)));
  writeFileSync(join(dir, `${prefix}-labels-idx1-ubyte.gz`), gzipSync(idx([n], Uint8Array.from({ length: n }, (_, i) => i % 3))));
}

describe('IDX datasets', () => {
  it('reads gzipped IDX and splits a seeded, stratified validation part off train', async () => {
    const dir = tempDir('repro-data-');
    writeIdxSet(dir, 30, 'train');
    writeIdxSet(dir, 6, 't10k');
    ctx = makeContext({ workflowDir: dir });
    const w = {
      name: 'idx' as const,
      images: 'train-images-idx3-ubyte.gz', labels: 'train-labels-idx1-ubyte.gz',
      test_images: 't10k-images-idx3-ubyte.gz', test_labels: 't10k-labels-idx1-ubyte.gz',
      classes: ['a', 'b', 'c'], val_fraction: 0.2, seed: 5,
    };
    const r = await datasetStep.run(ctx, w);
    const { manifest, splits } = readDataset((r.outputs.dataset as { path: string }).path);
    expect(manifest.ordered).toBe(false);
    expect(manifest.classes).toEqual(['a', 'b', 'c']);
    expect(manifest.splits.val!.classCounts).toEqual([2, 2, 2]);
    expect(manifest.splits.train!.classCounts).toEqual([8, 8, 8]);
    expect(splits.test!.shape).toEqual([6, 4, 4, 1]);
    // Every val image is a train image of the right label (value i ⇒ label i % 3), none in both.
    const firstPixel = (s: typeof splits.train) => Array.from({ length: s!.labels.length }, (_, i) => s!.images[i * 16]!);
    const valIds = firstPixel(splits.val);
    valIds.forEach((id, i) => expect(id % 3).toBe(splits.val!.labels[i]));
    expect(firstPixel(splits.train).filter((id) => valIds.includes(id))).toEqual([]);
    // Seeded: the same seed picks the same images.
    ctx.cleanup();
    ctx = makeContext({ workflowDir: dir });
    const again = readDataset(((await datasetStep.run(ctx, w)).outputs.dataset as { path: string }).path);
    expect(firstPixel(again.splits.val)).toEqual(valIds);
  });

  it('a corrupt IDX header is a clear error', async () => {
    const dir = tempDir('repro-data-');
    writeFileSync(join(dir, 'bad.gz'), gzipSync(Buffer.from([0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0])));
    expect((await stepError(() => readIdx(join(dir, 'bad.gz')))).message).toMatch(/IDX type 0xd is not supported/);
    writeFileSync(join(dir, 'short'), idx([10, 4, 4], new Uint8Array(5)));
    expect((await stepError(() => readIdx(join(dir, 'short')))).message).toMatch(/needs 160 bytes of data, the file has 5/);
  });

  it('a missing Fashion-MNIST file says how to get it', async () => {
    ctx = makeContext();
    const err = await stepError(() => datasetStep.run(ctx!, { name: 'idx', images: `${FASHION_MNIST_DIR}/absent-images-idx3-ubyte.gz` }));
    expect(err.message).toMatch(/absent-images-idx3-ubyte\.gz does not exist/);
    expect(err.hint).toMatch(/apt-get install dataset-fashion-mnist/);
  });

  it.skipIf(!existsSync(FASHION_MNIST_DIR))('loads Debian\'s Fashion-MNIST by default: 54000/6000/10000, 10 named classes', async () => {
    ctx = makeContext();
    const r = await datasetStep.run(ctx, { name: 'idx' });
    const { manifest } = readDataset((r.outputs.dataset as { path: string }).path);
    expect(manifest.name).toBe('fashion-mnist');
    expect(manifest.classes[9]).toBe('Ankle boot');
    expect([manifest.splits.train!.shape[0], manifest.splits.val!.shape[0], manifest.splits.test!.shape[0]]).toEqual([54000, 6000, 10000]);
    expect(manifest.splits.test!.classCounts).toEqual(new Array(10).fill(1000));
    expect(manifest.splits.val!.classCounts).toEqual(new Array(10).fill(600));
  });
});
