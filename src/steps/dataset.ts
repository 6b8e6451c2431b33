// `dataset`: turns downloaded files into a dataset directory the rest of the workflow reads.
//   retinamnist → repro-tensors/1 (the embedded default; official MedMNIST split)
//   idx         → repro-tensors/1 (MNIST-style *-ubyte.gz; val = seeded stratified part of train)
//   adience     → repro-images/1  (an image list; `preprocess` decodes it into tensors)
import { existsSync, statSync, mkdirSync } from 'node:fs';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { type StepContext, type StepKind, type StepResult } from './kind.js';
import { sha256File } from '../core/hash.js';
import { IMAGES_FORMAT, type ImageListManifest } from '../formats/dataset.js';
import { StepError } from '../core/errors.js';

export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';
export const FASHION_MNIST_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
const FASHION_MNIST_FILES = {
  images: `${FASHION_MNIST_DIR}/train-images-idx3-ubyte.gz`,
  labels: `${FASHION_MNIST_DIR}/train-labels-idx1-ubyte.gz`,
  test_images: `${FASHION_MNIST_DIR}/t10k-images-idx3-ubyte.gz`,
  test_labels: `${FASHION_MNIST_DIR}/t10k-labels-idx1-ubyte.gz`,
};

export interface DatasetWith {
  name: 'retinamnist' | 'idx' | 'adience';
  npz?: string;
  images?: string;
  labels?: string;
  test_images?: string;
  test_labels?: string;
  classes?: string[];
  ordered?: boolean;
  folds?: string;
  test_fold?: number;
  variant?: 'aligned' | 'faces';
  missing?: 'error' | 'skip';
  val_fraction?: number;
  seed?: number;
}

const withSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { enum: ['retinamnist', 'idx', 'adience'], description: 'Which loader: retinamnist (npz), idx (MNIST-style *-ubyte.gz), adience (fold files + images).' },
    npz: { type: 'string', description: 'retinamnist: the MedMNIST retinamnist.npz (usually a fetch step output).' },
    images: { type: 'string', description: `idx: training images (default ${FASHION_MNIST_FILES.images}). adience: directory holding aligned/ or faces/ (an extract output).` },
    labels: { type: 'string', description: `idx: training labels (default ${FASHION_MNIST_FILES.labels}).` },
    test_images: { type: 'string', description: `idx: test images (default ${FASHION_MNIST_FILES.test_images}).` },
    test_labels: { type: 'string', description: `idx: test labels (default ${FASHION_MNIST_FILES.test_labels}).` },
    classes: { type: 'array', items: { type: 'string' }, minItems: 2, description: 'idx: class names in label order (default: the Fashion-MNIST names for the default files, else "0", "1", ...).' },
    ordered: { type: 'boolean', description: 'idx: whether the classes have an order (default false).' },
    folds: { type: 'string', description: 'adience: directory with the official fold_0_data.txt … fold_4_data.txt.' },
    test_fold: { type: 'integer', minimum: 0, maximum: 4, description: 'adience: the fold tested on; the other four are trained on.' },
    variant: { enum: ['aligned', 'faces'], description: 'adience: aligned/…/landmark_aligned_face.* (default) or faces/…/coarse_tilt_aligned_face.*.' },
    missing: { enum: ['error', 'skip'], description: 'adience: a fold row whose image is absent is an error (default) or is skipped and counted.' },
    val_fraction: { type: 'number', minimum: 0, maximum: 0.9, description: 'idx, adience: share of the training data held out for validation (default 0.1; adience holds out whole subjects).' },
    seed: { type: 'integer', description: 'idx, adience: seed of the validation split (default 0).' },
  },
  allOf: [
    { if: { properties: { name: { const: 'retinamnist' } } }, then: { required: ['npz'] } },
    { if: { properties: { name: { const: 'adience' } } }, then: { required: ['folds', 'images', 'test_fold'] } },
  ],
} as const;

function localPaths(w: DatasetWith): string[] {
  const named = w.name === 'retinamnist' ? [w.npz]
    : w.name === 'idx' ? [w.images, w.labels, w.test_images, w.test_labels]
    : [w.folds, w.images];
  return named.filter((p): p is string => typeof p === 'string');
}

export const datasetStep: StepKind<DatasetWith> = {
  name: 'dataset',
  version: '1',
  description: 'Load RetinaMNIST (npz), an MNIST-style IDX dataset or Adience (fold files + images) into a dataset directory.',
  withSchema,
  outputs: ['dataset'],
  inputPaths(w, workflowDir) {
    return localPaths(w).map((p) => resolve(workflowDir, p)).filter((p) => existsSync(p));
  },
  async run(ctx, w) {
    const out = join(ctx.workDir, 'dataset');
    mkdirSync(out, { recursive: true });
    const summary =
      w.name === 'retinamnist' ? await retinamnist(ctx, w, out)
      : w.name === 'idx' ? await idx(ctx, w, out)
      : await adience(ctx, w, out);
    const result: StepResult = { outputs: { dataset: { type: 'dir', path: out } }, summary };
    return result;
  },
};

function inputFile(ctx: StepContext, p: string, what: string, hint?: string): string {
  const abs = isAbsolute(p) ? p : resolve(ctx.workflowDir, p);
  if (!existsSync(abs)) throw new StepError(`${what} ${p} does not exist`, hint);
  return abs;
}

function countsText(counts: number[]): string {
  return counts.join('/');
}

async function retinamnist(ctx: StepContext, w: DatasetWith, out: string): Promise<string> {
  const { loadRetinaMnist, RETINAMNIST_CLASSES, RETINAMNIST_LICENCE, RETINAMNIST_NOTES } = await import('../data/retinamnist.js');
  const { writeDataset } = await import('../data/tensors.js');
  const npz = inputFile(ctx, w.npz!, 'npz');
  const splits = loadRetinaMnist(npz);
  const m = writeDataset(out, {
    name: 'retinamnist',
    classes: RETINAMNIST_CLASSES,
    ordered: true,
    positions: RETINAMNIST_CLASSES.map((_, i) => i),
    sources: [{ path: basename(npz), sha256: await sha256File(npz), licence: RETINAMNIST_LICENCE }],
    notes: RETINAMNIST_NOTES,
  }, splits);
  ctx.log(`retinamnist: ${Object.entries(m.splits).map(([k, s]) => `${k} ${s.shape[0]} (${countsText(s.classCounts)})`).join(', ')}`);
  return `train ${m.splits.train!.shape[0]} val ${m.splits.val!.shape[0]} test ${m.splits.test!.shape[0]}`;
}

async function idx(ctx: StepContext, w: DatasetWith, out: string): Promise<string> {
  const { readIdx } = await import('../data/idx.js');
  const { writeDataset } = await import('../data/tensors.js');
  const { seededRandom, shuffleInPlace } = await import('../data/random.js');
  const usesDefaults = !w.images && !w.labels && !w.test_images && !w.test_labels;
  const hint = (p: string) => (p.startsWith(FASHION_MNIST_DIR) ? 'install Fashion-MNIST with `apt-get install dataset-fashion-mnist` (Debian/Ubuntu), or point images/labels/test_images/test_labels at your own *-ubyte.gz files' : undefined);
  const paths = {
    images: w.images ?? FASHION_MNIST_FILES.images,
    labels: w.labels ?? FASHION_MNIST_FILES.labels,
    test_images: w.test_images ?? FASHION_MNIST_FILES.test_images,
    test_labels: w.test_labels ?? FASHION_MNIST_FILES.test_labels,
  };
  const abs = Object.fromEntries(Object.entries(paths).map(([k, p]) => [k, inputFile(ctx, p, k, hint(p))])) as typeof paths;
  const load = (imagesPath: string, labelsPath: string) => {
    const images = readIdx(imagesPath);
    const labels = readIdx(labelsPath);
    if (images.shape.length !== 3) throw new StepError(`${imagesPath}: expected images of shape (N, H, W), got (${images.shape.join(', ')})`);
    if (labels.shape.length !== 1 || labels.shape[0] !== images.shape[0]) {
      throw new StepError(`${labelsPath}: expected ${images.shape[0]} labels, got shape (${labels.shape.join(', ')})`);
    }
    return { images, labels: Int32Array.from(labels.data), h: images.shape[1]!, w: images.shape[2]! };
  };
  const train = load(abs.images, abs.labels);
  const test = load(abs.test_images, abs.test_labels);
  const k = [train.labels, test.labels].reduce((m, ls) => ls.reduce((a, b) => Math.max(a, b), m), 0) + 1;
  const classes = w.classes ?? (usesDefaults ? FASHION_MNIST_CLASSES : Array.from({ length: k }, (_, i) => String(i)));
  if (classes.length < k) throw new StepError(`classes names ${classes.length} classes but the labels go up to ${k - 1}`);

  // Stratified: each class gives the same share to val, so a small val still has every class.
  const random = seededRandom(w.seed ?? 0);
  const byClass: number[][] = classes.map(() => []);
  train.labels.forEach((l, i) => byClass[l]!.push(i));
  const valIdx: number[] = [];
  const trainIdx: number[] = [];
  for (const idxs of byClass) {
    shuffleInPlace(idxs, random);
    const nVal = Math.round((w.val_fraction ?? 0.1) * idxs.length);
    valIdx.push(...idxs.slice(0, nVal));
    trainIdx.push(...idxs.slice(nVal));
  }
  trainIdx.sort((a, b) => a - b);
  valIdx.sort((a, b) => a - b);
  const pixels = train.h * train.w;
  const take = (rows: number[]) => {
    const images = new Uint8Array(rows.length * pixels);
    rows.forEach((r, i) => images.set(train.images.data.subarray(r * pixels, (r + 1) * pixels), i * pixels));
    return { images, labels: Int32Array.from(rows, (r) => train.labels[r]!), shape: [rows.length, train.h, train.w, 1] as [number, number, number, number] };
  };
  const m = writeDataset(out, {
    name: usesDefaults ? 'fashion-mnist' : basename(abs.images).replace(/-images.*$/, '') || 'idx',
    classes,
    ordered: w.ordered ?? false,
    positions: classes.map((_, i) => i),
    sources: await Promise.all(Object.values(abs).map(async (p) => ({ path: basename(p), sha256: await sha256File(p) }))),
    notes: [`validation: a seeded (seed ${w.seed ?? 0}) stratified ${w.val_fraction ?? 0.1} of the training set`],
  }, {
    train: take(trainIdx),
    val: take(valIdx),
    test: { images: test.images.data, labels: test.labels, shape: [test.labels.length, test.h, test.w, 1] },
  });
  ctx.log(`idx: ${Object.entries(m.splits).map(([n, s]) => `${n} ${s.shape[0]}`).join(', ')}`);
  return `train ${m.splits.train!.shape[0]} val ${m.splits.val!.shape[0]} test ${m.splits.test!.shape[0]}`;
}

async function adience(ctx: StepContext, w: DatasetWith, out: string): Promise<string> {
  const { readFolds, splitAdience, adienceImagePath, ADIENCE_CLASSES } = await import('../data/adience.js');
  const { writeManifest } = await import('../data/tensors.js');
  const foldsDir = inputFile(ctx, w.folds!, 'folds directory');
  const root = inputFile(ctx, w.images!, 'images directory');
  if (!statSync(root).isDirectory()) throw new StepError(`images ${w.images} is not a directory`, 'pass the directory an extract step produced (it holds aligned/ or faces/)');
  const variant = w.variant ?? 'aligned';
  const { folds, sources } = readFolds(foldsDir);
  const split = splitAdience(folds, w.test_fold!, w.val_fraction ?? 0.1, w.seed ?? 0);
  const dropped = { ...split.dropped };
  const missing: string[] = [];
  const entries = (rows: typeof split.train) =>
    rows.flatMap((r) => {
      const file = adienceImagePath(r, variant);
      if (!existsSync(join(root, file))) {
        missing.push(`${r.where}: ${file}`);
        return [];
      }
      return [{ file, label: r.label!, group: r.userId }];
    });
  const splits = { train: entries(split.train), val: entries(split.val), test: entries(split.test) };
  if (missing.length > 0) {
    if ((w.missing ?? 'error') === 'error') {
      throw new StepError(
        `${missing.length} image(s) named by the fold files are missing under ${root}, e.g. ${missing.slice(0, 3).join('; ')}`,
        `check images points at the extracted ${variant === 'aligned' ? 'aligned.tar.gz' : 'faces.tar.gz'} (variant: ${variant}), or set missing: skip to leave them out and count them`,
      );
    }
    dropped['image missing'] = missing.length;
    for (const m of missing.slice(0, 20)) ctx.log(`missing image: ${m}`);
  }
  const manifest: ImageListManifest = {
    format: IMAGES_FORMAT,
    name: `adience-fold${w.test_fold}`,
    root,
    classes: ADIENCE_CLASSES,
    ordered: true,
    positions: ADIENCE_CLASSES.map((_, i) => i),
    splits,
    dropped,
    sources,
    notes: [
      `Adience age, test fold ${w.test_fold}; train+val from the other four folds; val = seeded (seed ${w.seed ?? 0}) ${w.val_fraction ?? 0.1} of training subjects.`,
      `images: ${variant}; rows dropped: ${Object.entries(dropped).map(([k, v]) => `${v} × ${k}`).join(', ') || 'none'}.`,
    ],
  };
  writeManifest(out, manifest);
  const droppedTotal = Object.values(dropped).reduce((a, b) => a + b, 0);
  ctx.log(`adience fold ${w.test_fold}: train ${splits.train.length}, val ${splits.val.length}, test ${splits.test.length}; dropped ${droppedTotal}`);
  for (const [reason, n] of Object.entries(dropped)) ctx.log(`dropped ${n}: ${reason}`);
  return `train ${splits.train.length} val ${splits.val.length} test ${splits.test.length} dropped ${droppedTotal}`;
}
