import { describe, expect, it, beforeAll, afterEach } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, cpSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { preprocessStep } from '../../src/steps/preprocess.js';
import { datasetStep } from '../../src/steps/dataset.js';
import { readDataset, writeDataset } from '../../src/data/tensors.js';
import { makeAdienceFixture, type AdienceFixture } from '../fixtures/adience.js';
import { makeContext, stepError, type TestContext } from './helpers.js';
import { tempDir } from '../support/index.js';

const NPZ = new URL('../../artifacts/retinamnist/retinamnist.npz', import.meta.url).pathname;

let fx: AdienceFixture;
const contexts: TestContext[] = [];
beforeAll(async () => {
  fx = await makeAdienceFixture(tempDir('adience-fx-'));
});
afterEach(() => contexts.splice(0).forEach((c) => c.cleanup()));

function ctx(): TestContext {
  const c = makeContext();
  contexts.push(c);
  return c;
}

async function adienceList(images = fx.images): Promise<string> {
  const r = await datasetStep.run(ctx(), { name: 'adience', folds: fx.folds, images, test_fold: 1, val_fraction: 0.25, seed: 0 });
  return (r.outputs.dataset as { path: string }).path;
}

const dirOf = (r: { outputs: Record<string, unknown> }) => (r.outputs.dataset as { path: string }).path;
const digest = (dir: string) =>
  createHash('sha256').update(readdirSync(dir).sort().filter((f) => f.endsWith('.bin')).map((f) => readFileSync(join(dir, f)).toString('hex')).join()).digest('hex');

describe('preprocess: image list → tensors', () => {
  it('decodes, resizes the shorter side, centre-crops; labels and groups follow the list', async () => {
    const list = await adienceList();
    const r = await preprocessStep.run(ctx(), { dataset: list, resize: 24, crop: { size: 20 } });
    const { manifest, splits } = readDataset(dirOf(r));
    expect(manifest.format).toBe('repro-tensors/1');
    expect(manifest.classes).toHaveLength(8);
    const listed = JSON.parse(readFileSync(join(list, 'manifest.json'), 'utf8'));
    for (const s of ['train', 'val', 'test']) {
      expect(splits[s]!.shape).toEqual([listed.splits[s].length, 20, 20, 3]);
      expect([...splits[s]!.labels]).toEqual(listed.splits[s].map((e: { label: number }) => e.label));
    }
    expect(manifest.splits.test!.groups!.every((g) => g.endsWith('@N01'))).toBe(true);
    // The fixture's colour encodes the label (red = 32 × label): decoding really happened.
    const t = splits.train!;
    for (let i = 0; i < t.labels.length; i++) {
      const red = t.images[i * 20 * 20 * 3 + (10 * 20 + 10) * 3]!;
      expect(Math.abs(red - t.labels[i]! * 32)).toBeLessThan(8);
    }
    expect(manifest.notes!.at(-1)).toMatch(/resize shorter side to 24 \(sharp [\d.]+ \(libvips [\d.]+\), lanczos3\)/);
    expect(r.facts?.imageLibrary).toMatch(/^sharp /);
  });

  it('random crops and mirrors are seeded: same seed same bytes, another seed other bytes; val/test unaffected', async () => {
    const list = await adienceList();
    const w = { dataset: list, resize: 32, crop: { size: 24, mode: 'random' as const }, mirror: true };
    const a = dirOf(await preprocessStep.run(ctx(), { ...w, seed: 1 }));
    const b = dirOf(await preprocessStep.run(ctx(), { ...w, seed: 1 }));
    const c = dirOf(await preprocessStep.run(ctx(), { ...w, seed: 2 }));
    const centre = dirOf(await preprocessStep.run(ctx(), { dataset: list, resize: 32, crop: { size: 24 } }));
    expect(digest(a)).toBe(digest(b));
    expect(readFileSync(join(a, 'train.images.bin')).equals(readFileSync(join(c, 'train.images.bin')))).toBe(false);
    expect(readFileSync(join(a, 'test.images.bin')).equals(readFileSync(join(centre, 'test.images.bin')))).toBe(true);
  });

  it('images of different sizes without a crop are a clear error', async () => {
    const err = await stepError(async () => preprocessStep.run(ctx(), { dataset: await adienceList(), resize: 30 }));
    expect(err.message).toMatch(/came out \d+×\d+, the first image \d+×\d+/);
    expect(err.hint).toMatch(/set crop/);
  });

  it('a non-image file is a StepError naming it', async () => {
    const dir = tempDir('repro-data-');
    cpSync(fx.images, dir, { recursive: true });
    const victim = fx.rows.find((r) => r.fold === 1 && r.age.startsWith('('))!;
    const file = join(dir, 'aligned', victim.userId, `landmark_aligned_face.${victim.faceId}.${victim.image}`);
    writeFileSync(file, '<html>login required</html>');
    const c = ctx();
    const err = await stepError(async () => preprocessStep.run(c, { dataset: await adienceList(dir), resize: 24, crop: { size: 20 } }));
    expect(err.message).toContain(file);
    expect(err.message).toMatch(/not a readable image/);
  });

  it('float32 output with normalize: auto has per-channel mean 0 and std 1 on train', async () => {
    const r = await preprocessStep.run(ctx(), { dataset: await adienceList(), resize: 24, crop: { size: 20 }, normalize: 'auto', dtype: 'float32' });
    const { manifest, splits } = readDataset(dirOf(r));
    expect(manifest.splits.train!.dtype).toBe('float32');
    const x = splits.train!.images as Float32Array;
    for (let c = 0; c < 3; c++) {
      let s = 0;
      let s2 = 0;
      let n = 0;
      for (let i = c; i < x.length; i += 3) {
        s += x[i]!;
        s2 += x[i]! ** 2;
        n++;
      }
      expect(Math.abs(s / n)).toBeLessThan(1e-4);
      expect(Math.abs(Math.sqrt(s2 / n - (s / n) ** 2) - 1)).toBeLessThan(1e-3);
    }
    expect(manifest.normalization!.mean).toHaveLength(3);
  });
});

describe('preprocess: tensors → tensors (RetinaMNIST)', () => {
  it('uint8 with normalize: auto keeps the pixels and records the train statistics for the trainer', async () => {
    const base = dirOf(await datasetStep.run(ctx(), { name: 'retinamnist', npz: NPZ }));
    const r = await preprocessStep.run(ctx(), { dataset: base, normalize: 'auto' });
    const { manifest, splits } = readDataset(dirOf(r));
    const orig = readDataset(base);
    expect(Buffer.from(splits.train!.images as Uint8Array).equals(Buffer.from(orig.splits.train!.images as Uint8Array))).toBe(true);
    // Independent computation of the red-channel mean over train.
    const px = orig.splits.train!.images;
    let red = 0;
    for (let i = 0; i < px.length; i += 3) red += px[i]!;
    expect(manifest.normalization!.mean[0]).toBeCloseTo(red / (px.length / 3) / 255, 10);
    expect(manifest.splits.train!.classCounts).toEqual([486, 128, 206, 194, 66]);
  });

  it('resizes grey (1-channel) tensors, keeping one channel', async () => {
    const dir = join(tempDir('repro-data-'), 'grey');
    const n = 6;
    const images = new Uint8Array(n * 8 * 8);
    images.forEach((_, i) => (images[i] = (i * 37) % 256));
    writeDataset(dir, { name: 'grey', classes: ['a', 'b'], ordered: false, positions: [0, 1], sources: [] }, {
      train: { images, labels: Int32Array.from([0, 1, 0, 1, 0, 1]), shape: [n, 8, 8, 1] },
    });
    const r = await preprocessStep.run(ctx(), { dataset: dir, resize: 4 });
    const { splits } = readDataset(dirOf(r));
    expect(splits.train!.shape).toEqual([6, 4, 4, 1]);
    expect([...splits.train!.labels]).toEqual([0, 1, 0, 1, 0, 1]);
  });

  it('an image-list directory passed where tensors are needed, or a missing dataset, is a clear error', async () => {
    expect((await stepError(() => preprocessStep.run(ctx(), { dataset: tempDir('repro-data-') }))).message).toMatch(/manifest\.json is missing/);
    expect(existsSync(NPZ)).toBe(true);
  });

  it('check() flags a crop larger than the resize', () => {
    expect(preprocessStep.check!({ dataset: 'x', resize: 20, crop: { size: 24 } }, { steps: [] })).toEqual([
      { path: 'crop/size', message: 'crop 24 is larger than the resized shorter side 20' },
    ]);
  });
});
