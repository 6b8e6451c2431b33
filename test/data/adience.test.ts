import { describe, expect, it, beforeAll, afterEach } from 'vitest';
import { existsSync, readFileSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseFoldFile, readFolds, splitAdience, ADIENCE_CLASSES } from '../../src/data/adience.js';
import { readAnyManifest } from '../../src/data/tensors.js';
import { datasetStep } from '../../src/steps/dataset.js';
import type { ImageListManifest } from '../../src/formats/dataset.js';
import { makeAdienceFixture, FIXTURE_HEADER, type AdienceFixture } from '../fixtures/adience.js';
import { makeContext, stepError, type TestContext } from './helpers.js';
import { REPO_ROOT, tempDir } from '../support/index.js';

let fx: AdienceFixture;
let ctx: TestContext | undefined;
beforeAll(async () => {
  fx = await makeAdienceFixture(tempDir('adience-fx-'));
});
afterEach(() => {
  ctx?.cleanup();
  ctx = undefined;
});

function groupsOf(entries: Array<{ group?: string }>): Set<string> {
  return new Set(entries.map((e) => e.group!));
}

describe('Adience fold files', () => {
  it('parses the official columns; ages outside the 8 groups get no label', () => {
    const rows = parseFoldFile(`${FIXTURE_HEADER}\nu1@N00\timg.jpg\t7\t(25, 32)\tf\t1\t2\t3\t4\t0\t0\t9\nu1@N00\timg2.jpg\t8\tNone\t\t1\t2\t3\t4\t0\t0\t9\n`, 'fold_0_data.txt', 0);
    expect(rows).toMatchObject([
      { userId: 'u1@N00', originalImage: 'img.jpg', faceId: '7', age: '(25, 32)', label: 4, where: 'fold_0_data.txt:2' },
      { age: 'None', label: null },
    ]);
  });

  it('an unknown column is an error at file:line:column', async () => {
    const header = FIXTURE_HEADER.replace('\tgender\t', '\tsex\t');
    const err = await stepError(() => parseFoldFile(`${header}\n`, 'fold_3_data.txt', 3));
    expect(err.message).toBe('fold_3_data.txt:1:36: unknown column "sex" in the fold file header');
    expect(err.hint).toMatch(/user_id, original_image, face_id, age, gender/);
    expect(header.indexOf('sex') + 1).toBe(36);
  });

  it('a row with the wrong number of fields points at its line', async () => {
    const err = await stepError(() => parseFoldFile(`${FIXTURE_HEADER}\nu\ti.jpg\t1\t(0, 2)\n`, 'f.txt', 0));
    expect(err.message).toMatch(/^f\.txt:2:1: 4 tab-separated fields, the header has 12/);
  });

  it('the five folds of the fixture are subject-exclusive, and every test fold yields disjoint splits', () => {
    const { folds, sources } = readFolds(fx.folds);
    expect(sources.map((s) => s.path)).toEqual([0, 1, 2, 3, 4].map((k) => `fold_${k}_data.txt`));
    const subjects = folds.map((rows) => new Set(rows.map((r) => r.userId)));
    for (let a = 0; a < 5; a++) for (let b = a + 1; b < 5; b++) expect([...subjects[a]!].filter((s) => subjects[b]!.has(s))).toEqual([]);
    for (let k = 0; k < 5; k++) {
      const s = splitAdience(folds, k, 0.25, 1);
      const [train, val, test] = [s.train, s.val, s.test].map((rows) => new Set(rows.map((r) => r.userId)));
      expect(test).toEqual(new Set([...subjects[k]!]));
      expect([...train!].filter((u) => val!.has(u) || test!.has(u))).toEqual([]);
      expect([...val!].filter((u) => test!.has(u))).toEqual([]);
      expect(val!.size).toBeGreaterThan(0);
      expect(s.train.length + s.val.length + s.test.length).toBe(fx.rows.filter((r) => r.age !== 'None' && r.age !== '35' && r.age !== '(38, 42)').length);
    }
  });

  it('the validation split is seeded: same seed, same subjects', () => {
    const { folds } = readFolds(fx.folds);
    const ids = (seed: number) => [...new Set(splitAdience(folds, 0, 0.25, seed).val.map((r) => r.userId))].sort();
    expect(ids(7)).toEqual(ids(7));
    const all = new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((s) => ids(s).join()));
    expect(all.size).toBeGreaterThan(1);
  });

  it('a subject in two folds is refused', async () => {
    const dir = tempDir('repro-data-');
    cpSync(fx.folds, dir, { recursive: true });
    const f1 = readFileSync(join(dir, 'fold_1_data.txt'), 'utf8');
    const row = readFileSync(join(dir, 'fold_0_data.txt'), 'utf8').split('\n')[1];
    writeFileSync(join(dir, 'fold_1_data.txt'), `${f1}${row}\n`);
    const err = await stepError(() => readFolds(dir));
    expect(err.message).toMatch(/fold_1_data\.txt:\d+: subject \S+ is in fold 1 but also in fold 0/);
  });
});

describe('dataset step: adience', () => {
  it('writes a repro-images/1 list: 8 ordered classes, subject-exclusive splits, dropped rows counted', async () => {
    ctx = makeContext();
    const result = await datasetStep.run(ctx, { name: 'adience', folds: fx.folds, images: fx.images, test_fold: 2, val_fraction: 0.25, seed: 3 });
    const m = readAnyManifest((result.outputs.dataset as { path: string }).path) as ImageListManifest;
    expect(m.format).toBe('repro-images/1');
    expect(m.classes).toEqual(ADIENCE_CLASSES);
    expect(m.ordered).toBe(true);
    expect(m.root).toBe(fx.images);
    const [train, val, test] = [m.splits.train!, m.splits.val!, m.splits.test!].map(groupsOf);
    expect([...test!].every((g) => g.endsWith('@N02'))).toBe(true);
    expect([...train!].some((g) => val!.has(g) || test!.has(g))).toBe(false);
    for (const e of m.splits.train!) expect(existsSync(join(m.root, e.file))).toBe(true);
    expect(m.splits.test![0]!.file).toMatch(/^aligned\/\d+@N02\/landmark_aligned_face\.\d+\.\d+_[0-9a-f]+_o\.jpg$/);
    // One stray label per fold, dropped with its reason.
    expect(m.dropped).toEqual({ 'age not one of the 8 groups: None': 2, 'age not one of the 8 groups: 35': 2, 'age not one of the 8 groups: (38, 42)': 1 });
    expect(m.sources).toHaveLength(5);
    expect(ctx.logs.join('\n')).toMatch(/dropped 2: age not one of the 8 groups: None/);
  });

  it('a missing image is an error by default, and counted with missing: skip', async () => {
    const dir = tempDir('repro-data-');
    cpSync(fx.images, join(dir, 'images'), { recursive: true });
    const victim = fx.rows.find((r) => r.fold === 0 && r.age.startsWith('('))!;
    rmSync(join(dir, 'images', 'aligned', victim.userId, `landmark_aligned_face.${victim.faceId}.${victim.image}`));
    ctx = makeContext();
    const w = { name: 'adience' as const, folds: fx.folds, images: join(dir, 'images'), test_fold: 0 };
    const err = await stepError(() => datasetStep.run(ctx!, w));
    expect(err.message).toMatch(/^1 image\(s\) named by the fold files are missing .*fold_0_data\.txt:\d+: aligned\//);
    expect(err.hint).toMatch(/missing: skip/);
    expect(existsSync(join(ctx.workDir, 'dataset', 'manifest.json'))).toBe(false);
    ctx.cleanup();
    ctx = makeContext();
    const ok = await datasetStep.run(ctx, { ...w, missing: 'skip' });
    const m = readAnyManifest((ok.outputs.dataset as { path: string }).path) as ImageListManifest;
    expect(m.dropped!['image missing']).toBe(1);
    expect(ok.summary).toMatch(/dropped 6$/);
  });

  it('the faces variant finds coarse_tilt_aligned_face images', async () => {
    const faces = await makeAdienceFixture(tempDir('repro-data-'), { subjectsPerFold: 2, facesPerSubject: 2, variant: 'faces' });
    ctx = makeContext();
    const result = await datasetStep.run(ctx, { name: 'adience', folds: faces.folds, images: faces.images, test_fold: 4, variant: 'faces' });
    const m = readAnyManifest((result.outputs.dataset as { path: string }).path) as ImageListManifest;
    expect(m.splits.test![0]!.file).toMatch(/^faces\/.*\/coarse_tilt_aligned_face\./);
  });
});

// The real fold files are research material without a licence, never committed; CI keeps them in a
// `shared/` folder beside the clone (a git worktree sits one level deeper, so every folder above the
// checkout is tried). REPRO_ADIENCE_FOLDS names the folder of fold_{0..4}_data.txt directly. With
// them, check the parser reproduces Levi & Hassner's published test lists.
const FOLDS = 'shared/data/adience-folds/levi-hassner-2015/original_txt_files';
function realFolds(): string | null {
  if (process.env.REPRO_ADIENCE_FOLDS) return process.env.REPRO_ADIENCE_FOLDS;
  for (let dir = resolve(REPO_ROOT, '..'); ; dir = dirname(dir)) {
    if (existsSync(join(dir, FOLDS, 'fold_0_data.txt'))) return join(dir, FOLDS);
    if (dirname(dir) === dir) return null;
  }
}
const REAL = realFolds();
if (!REAL) console.log(`test/data/adience.test.ts: the real 2015 fold files are skipped: no ${FOLDS} above the checkout, and REPRO_ADIENCE_FOLDS is not set`);
describe.skipIf(!REAL)('Adience: the real 2015 fold files', () => {
  it("test folds match Levi & Hassner's lists (fold 0: 4316 faces, classes 960/495/213/155/1580/555/219/139)", () => {
    const { folds } = readFolds(REAL!);
    const tests = [0, 1, 2, 3, 4].map((k) => splitAdience(folds, k, 0.1, 0));
    expect(tests.map((s) => s.test.length)).toEqual([4316, 3101, 3339, 2975, 3693]);
    const counts = new Array(8).fill(0);
    for (const r of tests[0]!.test) counts[r.label!]++;
    expect(counts).toEqual([960, 495, 213, 155, 1580, 555, 219, 139]);
    expect(tests[0]!.dropped['age not one of the 8 groups: (25, 23)']).toBe(72);
  });
});

describe('Adience pipeline: aligned.tar.gz → extract → dataset → preprocess', () => {
  it('yields 227-style crops (here 24) per split with subject-exclusive groups', async () => {
    const tar = await import('tar');
    const { extractStep } = await import('../../src/steps/extract.js');
    const { preprocessStep } = await import('../../src/steps/preprocess.js');
    const { readDataset } = await import('../../src/data/tensors.js');
    const archive = join(tempDir('repro-data-'), 'aligned.tar.gz');
    await tar.c({ gzip: true, file: archive, cwd: fx.images }, ['aligned']);
    const c1 = makeContext();
    const c2 = makeContext();
    const c3 = makeContext();
    try {
      const ex = await extractStep.run(c1, { archive });
      const ds = await datasetStep.run(c2, { name: 'adience', folds: fx.folds, images: (ex.outputs.dir as { path: string }).path, test_fold: 0, seed: 1, val_fraction: 0.25 });
      const pp = await preprocessStep.run(c3, { dataset: (ds.outputs.dataset as { path: string }).path, resize: 28, crop: { size: 24, mode: 'random' }, mirror: true, seed: 1 });
      const { manifest } = readDataset((pp.outputs.dataset as { path: string }).path);
      expect(manifest.splits.train!.shape.slice(1)).toEqual([24, 24, 3]);
      const [train, val, test] = ['train', 'val', 'test'].map((s) => new Set(manifest.splits[s]!.groups));
      expect([...test!].every((g) => g.endsWith('@N00'))).toBe(true);
      expect([...train!].some((g) => val!.has(g) || test!.has(g))).toBe(false);
      expect(manifest.splits.train!.shape[0] + manifest.splits.val!.shape[0] + manifest.splits.test!.shape[0]).toBe(40);
    } finally {
      [c1, c2, c3].forEach((c) => c.cleanup());
    }
  });
});
