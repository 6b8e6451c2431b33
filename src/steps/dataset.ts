// `dataset`: turns data files into a dataset directory the rest of the workflow reads. Each format is
// one entry of FORMATS below (what it requires, the files it reads, how it loads):
//   npz, npy, csv, image-folder → repro-tensors/1 (the user's data; src/data/user.ts)
//   idx      → repro-tensors/1 (MNIST-style *-ubyte.gz; default: Debian's Fashion-MNIST)
//   adience  → repro-images/1  (an image list; `preprocess` decodes it into tensors)
// Whatever the format, the source files' content hashes decide whether the data is a built-in
// dataset (src/data/builtin.ts): only then does the manifest carry its name, classes, licence and
// citation. Otherwise those come from the workflow (`classes`, `ordered`, `licence`, `citation`).
import { existsSync, statSync, mkdirSync } from 'node:fs';
import { basename, isAbsolute, join, resolve, sep } from 'node:path';
import { type StepContext, type StepKind, type StepResult } from './kind.js';
import { StepError } from '../core/errors.js';
import { IMAGES_FORMAT, type DatasetDescription, type ImageListManifest } from '../formats/dataset.js';
import type { SplitTensors } from '../data/tensors.js';
import { BUILTIN_DATASETS, recogniseBuiltin, builtinNamed, type BuiltinDataset } from '../data/builtin.js';
import type { SplitName, UserData } from '../data/user.js';
import { sha256File } from '../core/hash.js';

export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';
export { FASHION_MNIST_CLASSES } from '../data/builtin.js';
const FASHION_MNIST_FILES = {
  images: `${FASHION_MNIST_DIR}/train-images-idx3-ubyte.gz`,
  labels: `${FASHION_MNIST_DIR}/train-labels-idx1-ubyte.gz`,
  test_images: `${FASHION_MNIST_DIR}/t10k-images-idx3-ubyte.gz`,
  test_labels: `${FASHION_MNIST_DIR}/t10k-labels-idx1-ubyte.gz`,
};

export interface DatasetWith {
  format?: DatasetFormat;
  name?: string;
  description?: string;
  classes?: string[];
  ordered?: boolean;
  licence?: string;
  citation?: string | string[];
  npz?: string;
  images?: string;
  labels?: string;
  val_images?: string;
  val_labels?: string;
  test_images?: string;
  test_labels?: string;
  csv?: string;
  val_csv?: string;
  test_csv?: string;
  label_column?: string;
  shape?: [number, number, number];
  dtype?: 'uint8' | 'float32';
  folder?: string;
  image_size?: number;
  channels?: 1 | 3;
  folds?: string;
  test_fold?: number;
  variant?: 'aligned' | 'faces';
  missing?: 'error' | 'skip';
  val_fraction?: number;
  test_fraction?: number;
  seed?: number;
}

/** Keys of `with` that name a local file or folder. */
type PathKey = 'npz' | 'images' | 'labels' | 'val_images' | 'val_labels' | 'test_images' | 'test_labels' | 'csv' | 'val_csv' | 'test_csv' | 'folder' | 'folds';
/** A file named in `with`, resolved against the workflow, as it is named in messages and the manifest. */
type FileOf = (p: string, what: string, hint?: string) => { abs: string; shownAs: string };

interface FormatEntry {
  /** A few words after the name in the schema's description of `format`. */
  note?: string;
  /** Keys of `with` this format cannot do without. */
  required: readonly (keyof DatasetWith)[];
  /** Keys of `with` naming local files it reads: their content hashes enter the fingerprint. */
  paths: readonly PathKey[];
  /** Files it reads when `with` names none (inputs too: a new Debian package must re-run the step). */
  defaultFiles?: Partial<Record<PathKey, string>>;
  /** Whether the classes are ordered when the format itself knows (Adience's age groups), whatever `with` says. */
  ordered?: boolean;
}

/** repro-tensors/1: the format loads the splits; the step holds out missing ones and writes the tensors. */
interface TensorsFormat extends FormatEntry {
  writes: 'tensors';
  load(ctx: StepContext, w: DatasetWith, file: FileOf): Promise<{ data: UserData; defaultName: string }>;
}

/** repro-images/1: the format writes its own image list into `out`; returns the step's summary. */
interface ImagesFormat extends FormatEntry {
  writes: 'images';
  write(ctx: StepContext, w: DatasetWith, out: string): Promise<string>;
}

/** The one table of dataset formats, in the order the schema lists them. */
const FORMATS = {
  npz: {
    required: ['npz'],
    paths: ['npz'],
    writes: 'tensors',
    async load(_ctx, w, file) {
      const user = await import('../data/user.js');
      const f = file(w.npz!, 'npz');
      return { data: await user.loadNpzData(f.abs, f.shownAs, w.classes), defaultName: user.stem(f.abs) };
    },
  },
  npy: {
    required: ['images', 'labels'],
    paths: ['images', 'labels', 'val_images', 'val_labels', 'test_images', 'test_labels'],
    writes: 'tensors',
    async load(_ctx, w, file) {
      const user = await import('../data/user.js');
      const files: Parameters<typeof user.loadNpyData>[0] = {};
      for (const [key, p] of [['train_images', w.images], ['train_labels', w.labels], ['val_images', w.val_images], ['val_labels', w.val_labels], ['test_images', w.test_images], ['test_labels', w.test_labels]] as const) {
        if (p !== undefined) files[key] = file(p, key.replace(/^train_/, ''));
      }
      return { data: user.loadNpyData(files, w.classes), defaultName: user.stem(files.train_images!.abs) };
    },
  },
  csv: {
    required: ['csv'],
    paths: ['csv', 'val_csv', 'test_csv'],
    writes: 'tensors',
    async load(_ctx, w, file) {
      const user = await import('../data/user.js');
      const files: Partial<Record<SplitName, { abs: string; shownAs: string }>> = { train: file(w.csv!, 'csv') };
      if (w.val_csv !== undefined) files.val = file(w.val_csv, 'val_csv');
      if (w.test_csv !== undefined) files.test = file(w.test_csv, 'test_csv');
      const data = user.loadCsvData({ files, labelColumn: w.label_column ?? 'label', declared: w.classes, shape: w.shape, dtype: w.dtype ?? 'float32' });
      return { data, defaultName: user.stem(files.train!.abs) };
    },
  },
  'image-folder': {
    note: 'one folder per class',
    required: ['folder'],
    paths: ['folder'],
    writes: 'tensors',
    async load(_ctx, w, file) {
      const user = await import('../data/user.js');
      const f = file(w.folder!, 'folder');
      if (!statSync(f.abs).isDirectory()) throw new StepError(`folder ${w.folder} is not a directory`, 'image-folder reads FOLDER/<class>/* (or FOLDER/train/<class>/*, FOLDER/test/<class>/*)');
      const data = await user.loadImageFolder({ root: f.abs, shownAs: f.shownAs, declared: w.classes, imageSize: w.image_size, channels: w.channels ?? 3 });
      return { data, defaultName: basename(f.abs) };
    },
  },
  idx: {
    note: 'MNIST-style *-ubyte.gz',
    required: [],
    paths: ['images', 'labels', 'test_images', 'test_labels'],
    defaultFiles: FASHION_MNIST_FILES,
    writes: 'tensors',
    async load(ctx, w) {
      const data = await idx(ctx, w);
      return { data, defaultName: data.sources[0]!.path.replace(/-images.*$/, '') || 'idx' };
    },
  },
  adience: {
    note: 'fold files + images',
    ordered: true,
    required: ['folds', 'images', 'test_fold'],
    paths: ['folds', 'images'],
    writes: 'images',
    write: (ctx, w, out) => adience(ctx, w, out),
  },
} as const satisfies Record<string, TensorsFormat | ImagesFormat>;

export type DatasetFormat = keyof typeof FORMATS;
export const DATASET_FORMATS = Object.keys(FORMATS) as DatasetFormat[];
// A Map, so a format name from a workflow never meets Object's prototype ('constructor').
export const FORMAT_TABLE: ReadonlyMap<string, TensorsFormat | ImagesFormat> = new Map(Object.entries(FORMATS));
const formatEntry = (format: string): TensorsFormat | ImagesFormat | undefined => FORMAT_TABLE.get(format);
/** Before `format` existed, `name` chose the loader; these three still do when `format` is absent. */
const LEGACY_NAMES = new Map<string, DatasetFormat>([['retinamnist', 'npz'], ['idx', 'idx'], ['adience', 'adience']]);

const withSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    format: { enum: [...DATASET_FORMATS], description: `The files' format: ${[...FORMAT_TABLE].map(([f, e]) => (e.note ? `${f} (${e.note})` : f)).join(', ')}.` },
    name: { type: 'string', minLength: 1, description: 'The dataset\'s name in the manifest and report (default: the file\'s name). Without format, retinamnist, idx and adience choose that loader.' },
    description: { type: 'string', description: 'One line on what the data is (for the report).' },
    classes: { type: 'array', items: { type: 'string' }, minItems: 2, uniqueItems: true, description: 'Class names in label order: label 0 is the first. Default: the built-in\'s, else the folder names (image-folder), the label values (csv) or "0", "1", ….' },
    ordered: { type: 'boolean', description: 'Whether the classes have an order (grades, age groups): EMD-type losses need it. Default false (a built-in: its own).' },
    licence: { type: 'string', description: 'The data\'s licence (e.g. CC-BY-4.0), recorded in the manifest, report and RO-Crate.' },
    citation: { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }], description: 'How to cite the data: one reference, or a list.' },
    npz: { type: 'string', description: 'npz: the file; arrays train_images/train_labels, optional val_… and test_… (or x_train/y_train, x_test/y_test).' },
    images: { type: 'string', description: `npy, idx: training images or features (idx default ${FASHION_MNIST_FILES.images}). adience: directory holding aligned/ or faces/ (an extract output).` },
    labels: { type: 'string', description: `npy, idx: training labels (idx default ${FASHION_MNIST_FILES.labels}).` },
    val_images: { type: 'string', description: 'npy: validation images (default: a hold-out of train).' },
    val_labels: { type: 'string', description: 'npy: validation labels.' },
    test_images: { type: 'string', description: `npy, idx: test images (idx default ${FASHION_MNIST_FILES.test_images}; npy default: a hold-out of train).` },
    test_labels: { type: 'string', description: `npy, idx: test labels (idx default ${FASHION_MNIST_FILES.test_labels}).` },
    csv: { type: 'string', description: 'csv: the training table (a header row, then one row per example).' },
    val_csv: { type: 'string', description: 'csv: the validation table (default: a hold-out of train).' },
    test_csv: { type: 'string', description: 'csv: the test table (default: a hold-out of train).' },
    label_column: { type: 'string', description: 'csv: the name of the column holding the class (default label).' },
    shape: { type: 'array', items: { type: 'integer', minimum: 1 }, minItems: 3, maxItems: 3, description: 'csv: [H, W, C] to lay the feature columns out as an image (default [1, features, 1]).' },
    dtype: { enum: ['uint8', 'float32'], description: 'csv: float32 (default) keeps the numbers; uint8 is for pixel values 0..255 (the trainer divides by 255).' },
    folder: { type: 'string', description: 'image-folder: FOLDER/<class>/* or FOLDER/train/<class>/*, FOLDER/test/<class>/* (val/ optional).' },
    image_size: { type: 'integer', minimum: 1, description: 'image-folder: resize the shorter side to this and centre-crop a square (default: keep the size; all images must then have the same).' },
    channels: { enum: [1, 3], description: 'image-folder: 3 (RGB, default) or 1 (grey).' },
    folds: { type: 'string', description: 'adience: directory with the official fold_0_data.txt … fold_4_data.txt.' },
    test_fold: { type: 'integer', minimum: 0, maximum: 4, description: 'adience: the fold tested on; the other four are trained on.' },
    variant: { enum: ['aligned', 'faces'], description: 'adience: aligned/…/landmark_aligned_face.* (default) or faces/…/coarse_tilt_aligned_face.*.' },
    missing: { enum: ['error', 'skip'], description: 'adience: a fold row whose image is absent is an error (default) or is skipped and counted.' },
    val_fraction: { type: 'number', minimum: 0, maximum: 0.9, description: 'Share of the training data held out for validation when the data has no val split (default 0.1; adience holds out whole subjects).' },
    test_fraction: { type: 'number', minimum: 0, maximum: 0.9, description: 'npz, npy, csv, image-folder: share of the training data held out for test when the data has no test split (default 0.2).' },
    seed: { type: 'integer', description: 'Seed of the held-out splits (default 0).' },
  },
} as const;

/** The loader `with` asks for, or undefined when it names none. */
export function datasetFormat(w: Pick<DatasetWith, 'format' | 'name'>): DatasetFormat | undefined {
  return w.format ?? (w.name !== undefined ? LEGACY_NAMES.get(w.name) : undefined);
}

/** Every key any format reads a path from, in table order: each names an input whatever the format. */
const PATH_KEYS = [...new Set(DATASET_FORMATS.flatMap((f): readonly PathKey[] => FORMATS[f].paths))];

function localPaths(w: DatasetWith): string[] {
  const named = PATH_KEYS.map((k) => w[k]).filter((p): p is string => typeof p === 'string');
  const format = datasetFormat(w);
  const defaults = (format && formatEntry(format)?.defaultFiles) ?? {};
  named.push(...(Object.keys(defaults) as PathKey[]).filter((k) => w[k] === undefined).map((k) => defaults[k]!));
  return named;
}

export const datasetStep: StepKind<DatasetWith> = {
  name: 'dataset',
  role: 'data',
  // 2: the manifest records origin/licence/citation/description, and a built-in is recognised by
  // content hash (version 1 labelled any npz given as `name: retinamnist` RetinaMNIST).
  version: '2',
  description: 'Load data files (npz, npy, csv, an image folder per class, MNIST-style IDX, Adience) into a dataset directory, with classes, licence and citation.',
  withSchema,
  outputs: ['dataset'],
  check(w) {
    // An unknown format is the schema's to report (its enum); the table is looked up only for a known one.
    if (w.format !== undefined && !(DATASET_FORMATS as readonly string[]).includes(w.format)) return [];
    const format = datasetFormat(w);
    if (!format) {
      return [{ path: w.name !== undefined ? 'name' : '', message: `say which format the data is in: format: ${DATASET_FORMATS.join(' | ')}` }];
    }
    const as = w.format === undefined ? `name: ${w.name}` : `format ${format}`;
    return (formatEntry(format)?.required ?? []).filter((k) => w[k] === undefined).map((k) => ({ path: '', message: `${as} needs '${k}'` }));
  },
  classOrder(w) {
    const format = datasetFormat(w);
    const entry = format && formatEntry(format);
    if (!entry) return undefined;
    if (entry.ordered !== undefined) return entry.ordered;
    if (typeof w.ordered === 'boolean') return w.ordered;
    // Undeclared: the built-in's own order if the files turn out to be one (by content hash, when the step runs).
    const builtins = BUILTIN_DATASETS.filter((d) => d.format === format);
    return builtins.every((d) => !d.ordered) ? false : undefined;
  },
  inputPaths(w, workflowDir) {
    return localPaths(w).map((p) => resolve(workflowDir, p)).filter((p) => existsSync(p));
  },
  async run(ctx, w) {
    const out = join(ctx.workDir, 'dataset');
    mkdirSync(out, { recursive: true });
    const format = datasetFormat(w);
    if (!format) throw new StepError(`dataset: no format (${DATASET_FORMATS.join(', ')})`);
    const entry = formatEntry(format);
    if (!entry) throw new StepError(`dataset: unknown format ${format} (${DATASET_FORMATS.join(', ')})`);
    const summary = entry.writes === 'images' ? await entry.write(ctx, w, out) : await tensors(ctx, w, out, format, entry);
    const result: StepResult = { outputs: { dataset: { type: 'dir', path: out } }, summary };
    return result;
  },
};

function inputFile(ctx: StepContext, p: string, what: string, hint?: string): string {
  const abs = isAbsolute(p) ? p : resolve(ctx.workflowDir, p);
  if (!existsSync(abs)) throw new StepError(`${what} ${p} does not exist`, hint);
  return abs;
}

/**
 * How a file is named in messages and the manifest: as the workflow wrote it when relative (the
 * user's own file), else its file name, so neither a store path nor a home directory is recorded.
 */
function shownAs(given: string): string {
  return isAbsolute(given) ? basename(given) : given.split(sep).join('/');
}

function countsText(counts: number[]): string {
  return counts.join('/');
}

function citationList(c: string | string[] | undefined): string[] | undefined {
  return c === undefined ? undefined : Array.isArray(c) ? c : [c];
}

async function tensors(ctx: StepContext, w: DatasetWith, out: string, format: DatasetFormat, entry: TensorsFormat): Promise<string> {
  const file: FileOf = (p, what, hint) => {
    const abs = inputFile(ctx, p, what, hint);
    return { abs, shownAs: shownAs(p) };
  };
  const { writeDataset } = await import('../data/tensors.js');
  const user = await import('../data/user.js');
  const { data, defaultName } = await entry.load(ctx, w, file);

  const builtin = recogniseBuiltin(data.contentHashes);
  const claimed = w.name !== undefined ? builtinNamed(w.name) : undefined;
  if (claimed && builtin !== claimed) {
    throw new StepError(
      `name: ${w.name} is the built-in ${claimed.name}, but ${data.sources.map((s) => s.path).join(', ')} ${data.sources.length === 1 ? 'is' : 'are'} not its files (content sha256 ${data.contentHashes.map((h) => h.slice(0, 12)).join(', ')}…)`,
      `use the official files (docs/data.md lists their hashes), or give your own data another name with format: ${format} and declare its classes, ordered, licence and citation`,
    );
  }
  if (builtin) ctx.log(`recognised ${builtin.name} by content hash`);
  const classes = w.classes ?? builtin?.classes ?? data.classes;
  // A legacy loader name (`name: idx` without format) names the loader, not the data.
  const given = w.format === undefined && w.name !== undefined && LEGACY_NAMES.has(w.name) ? undefined : w.name;
  const name = builtin?.name ?? given ?? defaultName;

  // Splits the files do not provide are held out of train: test first, then val, one seeded stream.
  const splits = { ...data.splits } as Partial<Record<SplitName, SplitTensors>>;
  const notes = [...(builtin?.notes ?? []), ...data.notes];
  const { seededRandom } = await import('../data/random.js');
  const random = seededRandom(w.seed ?? 0);
  for (const [split, fraction] of [['test', w.test_fraction ?? 0.2], ['val', w.val_fraction ?? 0.1]] as const) {
    if (splits[split]) continue;
    const { kept, held } = user.holdOut(splits.train!.labels, classes.length, fraction, random);
    splits[split] = user.takeRows(splits.train!, held);
    splits.train = user.takeRows(splits.train!, kept);
    notes.push(`${split}: a seeded (seed ${w.seed ?? 0}) stratified ${fraction} of the training data`);
  }
  const description: DatasetDescription = describe(builtin, w);
  const m = writeDataset(out, {
    name,
    ...description,
    classes,
    ordered: w.ordered ?? builtin?.ordered ?? false,
    positions: classes.map((_, i) => i),
    sources: data.sources.map((s) => (description.licence ? { ...s, licence: description.licence } : s)),
    notes,
  }, { train: splits.train!, val: splits.val!, test: splits.test! });
  ctx.log(`${name} (${format}, ${description.origin}): ${Object.entries(m.splits).map(([k, s]) => `${k} ${s.shape[0]} (${countsText(s.classCounts)})`).join(', ')}`);
  return `train ${m.splits.train!.shape[0]} val ${m.splits.val!.shape[0]} test ${m.splits.test!.shape[0]}`;
}

/** origin, description, licence, citation: the workflow's declaration first, then what a built-in is known to be. */
function describe(builtin: BuiltinDataset | null, w: DatasetWith): DatasetDescription {
  const d: DatasetDescription = { origin: builtin ? 'builtin' : 'user' };
  const description = w.description ?? builtin?.description;
  const licence = w.licence ?? builtin?.licence;
  const citation = citationList(w.citation) ?? builtin?.citation;
  if (description !== undefined) d.description = description;
  if (licence !== undefined) d.licence = licence;
  if (citation !== undefined) d.citation = citation;
  return d;
}

async function idx(ctx: StepContext, w: DatasetWith): Promise<UserData> {
  const { readIdx } = await import('../data/idx.js');
  const { checkLabelRange, impliedClasses } = await import('../data/user.js');
  const hint = (p: string) => (p.startsWith(FASHION_MNIST_DIR) ? 'install Fashion-MNIST with `apt-get install dataset-fashion-mnist` (Debian/Ubuntu), or point images/labels/test_images/test_labels at your own *-ubyte.gz files' : undefined);
  const paths = {
    images: w.images ?? FASHION_MNIST_FILES.images,
    labels: w.labels ?? FASHION_MNIST_FILES.labels,
    test_images: w.test_images ?? FASHION_MNIST_FILES.test_images,
    test_labels: w.test_labels ?? FASHION_MNIST_FILES.test_labels,
  };
  const abs = Object.fromEntries(Object.entries(paths).map(([k, p]) => [k, inputFile(ctx, p, k, hint(p))])) as typeof paths;
  const contentHashes: string[] = [];
  const load = (imagesPath: string, labelsPath: string): SplitTensors => {
    const images = readIdx(imagesPath);
    const labels = readIdx(labelsPath);
    contentHashes.push(images.contentSha256, labels.contentSha256);
    if (images.shape.length !== 3) throw new StepError(`${imagesPath}: expected images of shape (N, H, W), got (${images.shape.join(', ')})`);
    if (labels.shape.length !== 1 || labels.shape[0] !== images.shape[0]) {
      throw new StepError(`${imagesPath} has ${images.shape[0]} images but ${labelsPath} has shape (${labels.shape.join(', ')})`, 'images and labels must have one row per example, in the same order');
    }
    return { images: images.data, labels: Int32Array.from(labels.data), shape: [images.shape[0]!, images.shape[1]!, images.shape[2]!, 1] };
  };
  const train = load(abs.images, abs.labels);
  const test = load(abs.test_images, abs.test_labels);
  const classes = w.classes ?? impliedClasses([train.labels, test.labels]);
  checkLabelRange(train.labels, classes, (i) => `${abs.labels}[${i}]`, w.classes !== undefined);
  checkLabelRange(test.labels, classes, (i) => `${abs.test_labels}[${i}]`, w.classes !== undefined);
  return {
    splits: { train, test },
    classes,
    sources: await Promise.all(Object.entries(abs).map(async ([k, p]) => ({ path: shownAs(paths[k as keyof typeof paths]), sha256: await sha256File(p) }))),
    contentHashes,
    notes: [],
  };
}

const ADIENCE_CITATION = [
  'E. Eidinger, R. Enbar, T. Hassner, "Age and Gender Estimation of Unfiltered Faces", IEEE TIFS 9(12), 2014.',
  'G. Levi, T. Hassner, "Age and Gender Classification using Convolutional Neural Networks", CVPR Workshops 2015.',
];

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
    ...describe(null, { ...w, citation: w.citation ?? ADIENCE_CITATION }),
    root,
    classes: ADIENCE_CLASSES,
    ordered: FORMATS.adience.ordered,
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
