// Bring your own data: the `dataset` kind on npz/npy arrays, CSV tables and image folders, with
// declared classes, licence and citation; built-ins recognised by content hash only; bad files
// named with the array (or line:column) and the index. The last test runs each format through
// dataset → train → evaluate with the real CLI from a folder outside the repository.
import { describe, expect, it, afterEach } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { readDataset } from '../../src/data/tensors.js';
import { datasetStep, type DatasetWith } from '../../src/steps/dataset.js';
import { npy, npz } from './arrays.js';
import { makeContext, stepError, type TestContext } from './helpers.js';
import { REPO_ROOT, repro, tempDir } from '../support/index.js';

const RETINAMNIST = join(REPO_ROOT, 'artifacts/retinamnist/retinamnist.npz');

let ctx: TestContext | undefined;
afterEach(() => {
  ctx?.cleanup();
  ctx = undefined;
});

/** n images of h×w×c whose every pixel is 40 × label (+ row-dependent noise); labels cycle 0..k-1. */
function imagesOf(n: number, h: number, w: number, c: number, k: number): { x: Uint8Array; y: BigInt64Array } {
  const y = BigInt64Array.from({ length: n }, (_, i) => BigInt(i % k));
  const x = new Uint8Array(n * h * w * c).map((_, j) => 40 * Number(y[Math.floor(j / (h * w * c))]!) + (j % 7));
  return { x, y };
}

function userNpz(dir: string, name = 'mine.npz', k = 3): string {
  const tr = imagesOf(30, 12, 12, 1, k);
  const te = imagesOf(9, 12, 12, 1, k);
  writeFileSync(join(dir, name), npz({
    train_images: npy('|u1', [30, 12, 12], tr.x), train_labels: npy('<i8', [30], tr.y),
    test_images: npy('|u1', [9, 12, 12], te.x), test_labels: npy('<i8', [9], te.y),
  }));
  return name;
}

async function run(w: DatasetWith, workflowDir: string) {
  ctx = makeContext({ workflowDir });
  const r = await datasetStep.run(ctx, w);
  return readDataset((r.outputs.dataset as { path: string }).path);
}

describe('built-in datasets are recognised by content hash only', () => {
  it('a 3-class 12×12 npz given as name: retinamnist is refused, not labelled RetinaMNIST', async () => {
    const dir = tempDir();
    userNpz(dir);
    ctx = makeContext({ workflowDir: dir });
    const err = await stepError(() => datasetStep.run(ctx!, { name: 'retinamnist', npz: 'mine.npz' }));
    expect(err.message).toMatch(/name: retinamnist is the built-in retinamnist, but mine\.npz is not its files/);
    expect(err.hint).toMatch(/format: npz/);
  });

  it('the same npz as format: npz is a user dataset with the declared classes, licence and citation', async () => {
    const dir = tempDir();
    userNpz(dir);
    const { manifest, splits } = await run({
      format: 'npz', npz: 'mine.npz', classes: ['low', 'mid', 'high'], ordered: true,
      licence: 'CC-BY-4.0', citation: 'A. Author, "My data", 2026.', description: 'three grey levels',
    }, dir);
    expect(manifest).toMatchObject({
      name: 'mine', origin: 'user', classes: ['low', 'mid', 'high'], ordered: true, licence: 'CC-BY-4.0',
      citation: ['A. Author, "My data", 2026.'], description: 'three grey levels',
    });
    expect(manifest.sources).toEqual([{ path: 'mine.npz', sha256: expect.stringMatching(/^[0-9a-f]{64}$/), licence: 'CC-BY-4.0' }]);
    expect(JSON.stringify(manifest)).not.toMatch(/MedMNIST|retina/i);
    // No val split in the file: a stratified tenth of train (3 of 30, one per class).
    expect(manifest.splits.val!.classCounts).toEqual([1, 1, 1]);
    expect(manifest.splits.train!.classCounts).toEqual([9, 9, 9]);
    expect(splits.test!.shape).toEqual([9, 12, 12, 1]);
  });

  it('the official RetinaMNIST npz under any name and format: npz is recognised, with its licence and citation', async () => {
    const { manifest } = await run({ format: 'npz', npz: RETINAMNIST, name: 'whatever' }, tempDir());
    expect(manifest).toMatchObject({ name: 'retinamnist', origin: 'builtin', ordered: true, licence: 'CC BY 4.0' });
    expect(manifest.citation!.join(' ')).toMatch(/MedMNIST v2.*Scientific Data/);
    expect(manifest.splits.train!.shape).toEqual([1080, 28, 28, 3]);
  });

  it('without a format or a legacy name, validation asks for one', () => {
    expect(datasetStep.check!({ name: 'my-data', npz: 'x.npz' }, { steps: [] })[0]!.message).toMatch(/format: npz \| npy \| csv \| image-folder/);
    expect(datasetStep.check!({ format: 'csv' }, { steps: [] })[0]!.message).toMatch(/format csv needs 'csv'/);
    expect(datasetStep.check!({ name: 'retinamnist', npz: 'x.npz' }, { steps: [] })).toEqual([]);
    // Names from users never meet Object.prototype: 'constructor' is not a loader.
    expect(datasetStep.check!({ name: 'constructor', npz: 'x.npz' }, { steps: [] })[0]!.message).toMatch(/say which format/);
    expect(datasetStep.check!({ format: '__proto__' as never }, { steps: [] })).toEqual([]);
  });
});

describe('bad arrays name the file, the array and the index', () => {
  it('arrays that disagree in length', async () => {
    const dir = tempDir();
    const tr = imagesOf(10, 4, 4, 1, 2);
    writeFileSync(join(dir, 'bad.npz'), npz({ train_images: npy('|u1', [10, 4, 4], tr.x), train_labels: npy('<i8', [9], tr.y.subarray(0, 9)) }));
    ctx = makeContext({ workflowDir: dir });
    const err = await stepError(() => datasetStep.run(ctx!, { format: 'npz', npz: 'bad.npz' }));
    expect(err.message).toBe('bad.npz: train_images has 10 rows but train_labels has 9');
  });

  it('a label outside the declared classes', async () => {
    const dir = tempDir();
    const tr = imagesOf(10, 4, 4, 1, 3);
    writeFileSync(join(dir, 'bad.npz'), npz({ x_train: npy('|u1', [10, 4, 4], tr.x), y_train: npy('<i8', [10], tr.y) }));
    ctx = makeContext({ workflowDir: dir });
    const err = await stepError(() => datasetStep.run(ctx!, { format: 'npz', npz: 'bad.npz', classes: ['a', 'b'] }));
    // Labels cycle 0, 1, 2: the first 2 is at index 2.
    expect(err.message).toBe('bad.npz: y_train[2] is 2, outside the 2 declared classes (0..1)');
  });

  it('npy files: a fractional label and a length mismatch', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'x.npy'), npy('<f4', [4, 3], new Float32Array(12)));
    writeFileSync(join(dir, 'y.npy'), npy('<f8', [4], new Float64Array([0, 1, 0.5, 1])));
    writeFileSync(join(dir, 'y3.npy'), npy('<f8', [3], new Float64Array([0, 1, 1])));
    ctx = makeContext({ workflowDir: dir });
    expect((await stepError(() => datasetStep.run(ctx!, { format: 'npy', images: 'x.npy', labels: 'y.npy' }))).message).toBe('y.npy[2] is 0.5, not a class index');
    expect((await stepError(() => datasetStep.run(ctx!, { format: 'npy', images: 'x.npy', labels: 'y3.npy' }))).message).toBe('x.npy has 4 rows but y3.npy has 3');
  });

  it('npy feature rows (N, F) become 1×F×1 float32 examples', async () => {
    const dir = tempDir();
    const x = Float32Array.from({ length: 40 * 5 }, (_, j) => (j % 5) + Math.floor(j / 5) / 40);
    writeFileSync(join(dir, 'x.npy'), npy('<f4', [40, 5], x));
    writeFileSync(join(dir, 'y.npy'), npy('<i8', [40], BigInt64Array.from({ length: 40 }, (_, i) => BigInt(i % 2))));
    const { manifest, splits } = await run({ format: 'npy', images: 'x.npy', labels: 'y.npy', seed: 3 }, dir);
    expect(manifest.classes).toEqual(['0', '1']);
    expect(manifest.splits.train!.dtype).toBe('float32');
    expect(splits.train!.shape.slice(1)).toEqual([1, 5, 1]);
    // 20 per class: test holds out round(0.2 × 20) = 4 each, then val round(0.1 × 16) = 2 each.
    expect([manifest.splits.train!.shape[0], manifest.splits.val!.shape[0], manifest.splits.test!.shape[0]]).toEqual([28, 4, 8]);
  });
});

describe('CSV tables', () => {
  const header = 'f1,f2,species\n';
  it('labels by class name; errors at file:line:column', async () => {
    const dir = tempDir();
    const rows = Array.from({ length: 20 }, (_, i) => `${i},${(i * 7) % 5},${['setosa', 'versicolor'][i % 2]}`);
    writeFileSync(join(dir, 'train.csv'), header + rows.join('\n') + '\n');
    writeFileSync(join(dir, 'test.csv'), header + '1,2,setosa\r\n3,"4",versicolor\r\n');
    const { manifest, splits } = await run({ format: 'csv', csv: 'train.csv', test_csv: 'test.csv', label_column: 'species', classes: ['setosa', 'versicolor'] }, dir);
    expect(manifest.classes).toEqual(['setosa', 'versicolor']);
    expect(manifest.splits.test!.shape).toEqual([2, 1, 2, 1]);
    expect([...splits.test!.labels]).toEqual([0, 1]);
    expect([...splits.test!.images]).toEqual([1, 2, 3, 4]);

    writeFileSync(join(dir, 'bad.csv'), header + '1,2,setosa\n1,x,setosa\n');
    ctx?.cleanup();
    ctx = makeContext({ workflowDir: dir });
    expect((await stepError(() => datasetStep.run(ctx!, { format: 'csv', csv: 'bad.csv', label_column: 'species' }))).message)
      .toBe(`bad.csv:3:3: "x" in column 'f2' is not a number`);
    writeFileSync(join(dir, 'bad.csv'), header + '1,2,setosa\n1,2,virginica\n');
    expect((await stepError(() => datasetStep.run(ctx!, { format: 'csv', csv: 'bad.csv', label_column: 'species', classes: ['setosa', 'versicolor'] }))).message)
      .toBe('bad.csv:3:5: label "virginica" is not one of the declared classes (setosa, versicolor) nor an index 0..1');
    expect((await stepError(() => datasetStep.run(ctx!, { format: 'csv', csv: 'bad.csv' }))).message).toMatch(/^bad\.csv:1:1: no column 'label'/);
  });
});

describe('image folders', () => {
  async function png(file: string, value: number, size = 8) {
    await sharp(Buffer.alloc(size * size * 3, value), { raw: { width: size, height: size, channels: 3 } }).png().toFile(file);
  }
  async function folder(dir: string, layout: Record<string, number>) {
    for (const [path, n] of Object.entries(layout)) {
      mkdirSync(join(dir, path), { recursive: true });
      const cls = path.split('/').pop()!;
      for (let i = 0; i < n; i++) await png(join(dir, path, `${i}.png`), cls === 'dark' ? 20 + i : 220 - i);
    }
  }

  it('class folders: names from the folders (or classes), test and val held out, a tree hash as source', async () => {
    const dir = tempDir();
    await folder(join(dir, 'imgs'), { dark: 10, light: 10 });
    const { manifest, splits } = await run({ format: 'image-folder', folder: 'imgs', classes: ['light', 'dark'], channels: 1 }, dir);
    expect(manifest.classes).toEqual(['light', 'dark']);
    expect(manifest.origin).toBe('user');
    expect(manifest.sources).toEqual([{ path: 'imgs/', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) }]);
    expect(splits.train!.shape.slice(1)).toEqual([8, 8, 1]);
    expect(manifest.splits.test!.classCounts).toEqual([2, 2]);
    // class 1 ('dark') images are dark
    const i = splits.train!.labels.indexOf(1);
    expect(splits.train!.images[i * 64]).toBeLessThan(40);
  });

  it('split folders; an undeclared folder and a size mismatch are errors naming them', async () => {
    const dir = tempDir();
    await folder(join(dir, 'imgs'), { 'train/dark': 4, 'train/light': 4, 'test/dark': 2, 'test/light': 2 });
    const { manifest } = await run({ format: 'image-folder', folder: 'imgs', image_size: 6 }, dir);
    expect(manifest.splits.test!.shape).toEqual([4, 6, 6, 3]);
    expect(manifest.splits.val!.shape[0]).toBe(0 + 2 * Math.round(0.1 * 4));
    ctx?.cleanup();
    ctx = makeContext({ workflowDir: dir });
    expect((await stepError(() => datasetStep.run(ctx!, { format: 'image-folder', folder: 'imgs', classes: ['dark', 'grey'] }))).message)
      .toBe("imgs: folder 'light' is not one of the declared classes (dark, grey)");
    await png(join(dir, 'imgs/train/light/big.png'), 100, 10);
    const err = await stepError(() => datasetStep.run(ctx!, { format: 'image-folder', folder: 'imgs' }));
    expect(err.message).toBe('imgs/train/light/big.png: 10×10, but imgs/train/dark/0.png is 8×8');
    expect(err.hint).toMatch(/image_size/);
  });
});

describe('user data through dataset → train → evaluate, from a folder outside the repository', () => {
  it('npz, csv and an image folder each train one epoch and evaluate', async () => {
    const dir = tempDir('repro-byod-');
    userNpz(dir, 'grey.npz');
    const rows = Array.from({ length: 48 }, (_, i) => `${(i % 3) + Math.sin(i)},${i % 3 === 0 ? 1 : 0},${['a', 'b', 'c'][i % 3]}`);
    writeFileSync(join(dir, 'table.csv'), 'x,y,label\n' + rows.join('\n') + '\n');
    mkdirSync(join(dir, 'pics/round'), { recursive: true });
    mkdirSync(join(dir, 'pics/square'), { recursive: true });
    for (let i = 0; i < 12; i++) {
      await sharp(Buffer.alloc(8 * 8 * 3, 30 + i), { raw: { width: 8, height: 8, channels: 3 } }).png().toFile(join(dir, 'pics/round', `r${i}.png`));
      await sharp(Buffer.alloc(8 * 8 * 3, 200 - i), { raw: { width: 8, height: 8, channels: 3 } }).png().toFile(join(dir, 'pics/square', `s${i}.png`));
    }
    const steps = (id: string, data: string, arch: string) => `
  ${id}:
    uses: dataset
    with: ${data}
  train-${id}:
    uses: train
    with: {dataset: '\${{ steps.${id}.outputs.dataset }}', model: {arch: ${arch}}, loss: {kind: xe}, epochs: 1, batch_size: 8, seed: 1}
  evaluate-${id}:
    uses: evaluate
    with: {model: '\${{ steps.train-${id}.outputs.model }}', dataset: '\${{ steps.${id}.outputs.dataset }}'}
`;
    writeFileSync(join(dir, 'wf.yaml'), `name: byod
steps:${steps('grey', '{format: npz, npz: grey.npz, classes: [dark, mid, bright], ordered: true, licence: CC0-1.0}', 'small-cnn')}${steps('table', "{format: csv, csv: table.csv, citation: 'Me, 2026'}", 'mlp')}${steps('pics', '{format: image-folder, folder: pics, test_fraction: 0.25}', 'small-cnn')}`);
    const r = repro(['run', 'wf.yaml', '--jobs', '2'], { cwd: dir, timeout: 240_000 });
    expect(r.code, r.out).toBe(0);
    const runDir = join(dir, 'results', 'byod');
    const record = JSON.parse(readFileSync(join(runDir, readdirSync(runDir).sort().pop()!, 'run.json'), 'utf8')) as {
      store: string; steps: Array<{ id: string; status: string; outputs: Record<string, { storePath?: string }> }>;
    };
    for (const id of ['grey', 'table', 'pics']) {
      const ev = record.steps.find((s) => s.id === `evaluate-${id}`)!;
      expect(ev.status, id).toBe('succeeded');
      const ds = record.steps.find((s) => s.id === id)!;
      const manifest = JSON.parse(readFileSync(join(record.store, ds.outputs.dataset!.storePath!, 'manifest.json'), 'utf8'));
      expect(manifest.origin).toBe('user');
      if (id === 'grey') expect(manifest).toMatchObject({ classes: ['dark', 'mid', 'bright'], ordered: true, licence: 'CC0-1.0' });
      if (id === 'table') expect(manifest).toMatchObject({ classes: ['a', 'b', 'c'], citation: ['Me, 2026'] });
      if (id === 'pics') expect(manifest.classes).toEqual(['round', 'square']);
    }
    expect(existsSync(join(dir, '.repro'))).toBe(true);
  }, 300_000);
});
