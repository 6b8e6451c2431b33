// The user's own data for the `dataset` kind: arrays (npz, npy), a table (csv) and an image folder
// (one folder per class). Each loader returns the splits the files hold as tensors, with every
// label checked against the classes, and the files by hash. A bad file is a StepError that names
// the file, the array (or line:column) and the index. docs/data.md is the user's reference.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { StepError } from '../core/errors.js';
import { sha256, sha256File, sha256Json } from '../core/hash.js';
import { parseNpy, type NpyArray } from './npy.js';
import { readNpz } from './npz.js';
import { parseCsv, type CsvCell } from './csv.js';
import type { SplitTensors } from './tensors.js';
import { shuffleInPlace } from './random.js';
import { transformImage, imageLibrary } from './images.js';

export type SplitName = 'train' | 'val' | 'test';
export const SPLITS: readonly SplitName[] = ['train', 'val', 'test'];

export interface UserData {
  splits: Partial<Record<SplitName, SplitTensors>>;
  /** The declared classes, else what the labels imply ('0', '1', … or the names a CSV uses). */
  classes: string[];
  /** Files as the manifest records them: name relative to the workflow when inside it, and sha256. */
  sources: Array<{ path: string; sha256: string }>;
  /** What recognises a built-in dataset (src/data/builtin.ts): one hash per source file. */
  contentHashes: string[];
  notes: string[];
}

/** An array as loaded, with the names an error message needs. */
interface NamedArray {
  array: NpyArray;
  /** 'data.npz: train_labels' or 'y_train.npy'. */
  label: string;
}

// ---- arrays: npz, npy ---------------------------------------------------------------------------

/** The member names an npz may use for a split: MedMNIST's and Keras's spellings. */
function memberNames(split: SplitName): Array<{ images: string; labels: string }> {
  return [
    { images: `${split}_images`, labels: `${split}_labels` },
    { images: `x_${split}`, labels: `y_${split}` },
  ];
}

export async function loadNpzData(file: string, shownAs: string, declared: string[] | undefined): Promise<UserData> {
  const members = await readNpz(file);
  const pairs: Partial<Record<SplitName, { images: NamedArray; labels: NamedArray }>> = {};
  for (const split of SPLITS) {
    for (const names of memberNames(split)) {
      const images = members.get(names.images);
      const labels = members.get(names.labels);
      if (!images && !labels) continue;
      if (!images || !labels) {
        throw new StepError(`${shownAs}: has ${images ? names.images : names.labels} but not ${images ? names.labels : names.images}`, 'each split needs its images (or features) and its labels');
      }
      pairs[split] = { images: { array: images, label: `${shownAs}: ${names.images}` }, labels: { array: labels, label: `${shownAs}: ${names.labels}` } };
      break;
    }
  }
  if (!pairs.train) {
    throw new StepError(`${shownAs}: no training arrays (found: ${[...members.keys()].join(', ') || 'no .npy members'})`,
      'name the arrays train_images/train_labels (and test_…, val_…) or x_train/y_train (and x_test/y_test), e.g. numpy.savez("data.npz", train_images=X, train_labels=y, test_images=Xt, test_labels=yt)');
  }
  // Streamed: the arrays are in memory already, the file need not be too.
  const hash = await sha256File(file);
  return fromArrays(pairs, declared, [{ path: shownAs, sha256: hash }]);
}

export function loadNpyData(
  files: Partial<Record<`${SplitName}_${'images' | 'labels'}`, { abs: string; shownAs: string }>>,
  declared: string[] | undefined,
): UserData {
  const pairs: Partial<Record<SplitName, { images: NamedArray; labels: NamedArray }>> = {};
  const sources: UserData['sources'] = [];
  const read = (f: { abs: string; shownAs: string }): NamedArray => {
    const bytes = readFileSync(f.abs);
    sources.push({ path: f.shownAs, sha256: sha256(bytes) });
    return { array: parseNpy(bytes, f.shownAs), label: f.shownAs };
  };
  for (const split of SPLITS) {
    const images = files[`${split}_images`];
    const labels = files[`${split}_labels`];
    if (!images && !labels) continue;
    const key = split === 'train' ? '' : `${split}_`;
    if (!images || !labels) throw new StepError(`npy: ${key}images and ${key}labels go together; only ${images ? `${key}images` : `${key}labels`} is set`);
    pairs[split] = { images: read(images), labels: read(labels) };
  }
  if (!pairs.train) throw new StepError('npy: images and labels (the training arrays) are required');
  return fromArrays(pairs, declared, sources);
}

function fromArrays(
  pairs: Partial<Record<SplitName, { images: NamedArray; labels: NamedArray }>>,
  declared: string[] | undefined,
  sources: UserData['sources'],
): UserData {
  const labelsOf: Partial<Record<SplitName, Int32Array>> = {};
  for (const [split, p] of Object.entries(pairs) as Array<[SplitName, { images: NamedArray; labels: NamedArray }]>) {
    labelsOf[split] = integerLabels(p.labels, declared);
    const rows = p.images.array.shape[0] ?? 0;
    if (labelsOf[split]!.length !== rows) {
      throw new StepError(`${p.images.label} has ${rows} rows but ${p.labels.label.replace(/^.*: /, '')} has ${labelsOf[split]!.length}`,
        'images (or features) and labels must have one row per example, in the same order');
    }
  }
  const classes = declared ?? impliedClasses(Object.values(labelsOf));
  const splits: UserData['splits'] = {};
  for (const [split, p] of Object.entries(pairs) as Array<[SplitName, { images: NamedArray; labels: NamedArray }]>) {
    splits[split] = { ...exampleTensors(p.images), labels: labelsOf[split]! };
  }
  return { splits, classes, sources, contentHashes: sources.map((s) => s.sha256), notes: [] };
}

/**
 * The most classes labels may imply when the workflow declares none: a label is an index into
 * arrays of this length (one-hot targets, the confusion matrix), so an unchecked 2,000,000,000 would
 * allocate gigabytes. ImageNet has 1000; more classes than that must be declared (`classes:`).
 */
export const MAX_INFERRED_CLASSES = 1000;

const INFERRED_HINT = `without classes:, labels are 0, 1, … up to ${MAX_INFERRED_CLASSES - 1}; declare classes: (one name per label) for more, or fix the label`;

/** Why a label value is not an index of `count` classes, or null when it is one. */
function labelProblem(v: number | bigint, count: number, declared: boolean): string | null {
  if (typeof v === 'number' && !Number.isInteger(v)) return 'not a class index';
  if (v < 0) return 'negative, not a class index';
  if (v >= count) return declared ? `outside the ${count} declared classes (0..${count - 1})` : `beyond the ${MAX_INFERRED_CLASSES} classes labels may imply without classes:`;
  return null;
}

/** Label i, when not an index of `count` classes, is a StepError naming where it is (`where(i)`). */
function checkLabel(v: number | bigint, i: number, count: number, declared: boolean, where: (i: number) => string): void {
  const why = labelProblem(v, count, declared);
  if (why) {
    throw new StepError(`${where(i)} is ${String(v)}, ${why}`,
      declared ? `classes lists ${count} names; add the missing class or fix the label` : INFERRED_HINT);
  }
}

/**
 * Labels as class indices: any integer dtype, or floats that hold whole numbers (numpy often stores
 * 0.0, 1.0). Each value is checked before it is stored: an int64 of 2^32+1 would wrap to class 1 in
 * an Int32Array, and a huge one would size the class list.
 */
function integerLabels(named: NamedArray, declared: string[] | undefined): Int32Array {
  const { array } = named;
  const n = array.shape[0] ?? 0;
  const per = array.shape.slice(1).reduce((a, b) => a * b, 1);
  if (array.shape.length === 0 || per !== 1) throw new StepError(`${named.label}: expected one label per row, got shape (${array.shape.join(', ')})`);
  const count = declared?.length ?? MAX_INFERRED_CLASSES;
  const where = (i: number) => `${named.label}[${i}]`;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = array.data[i]!;
    checkLabel(v, i, count, declared !== undefined, where);
    out[i] = Number(v);
  }
  return out;
}

/** Images (N, H, W), (N, H, W, C) or feature rows (N, F) as N×H×W×C tensors; F features become 1×F×1. */
function exampleTensors(named: NamedArray): Pick<SplitTensors, 'images' | 'shape'> {
  const { array } = named;
  const s = array.shape;
  const shape: [number, number, number, number] | null =
    s.length === 2 ? [s[0]!, 1, s[1]!, 1] : s.length === 3 ? [s[0]!, s[1]!, s[2]!, 1] : s.length === 4 ? [s[0]!, s[1]!, s[2]!, s[3]!] : null;
  if (!shape) {
    throw new StepError(`${named.label}: shape (${s.join(', ')}) is not one of (N, features), (N, H, W) or (N, H, W, C)`);
  }
  if (array.dtype === 'uint8') return { images: array.data as Uint8Array, shape };
  const values = Float32Array.from(array.data as ArrayLike<number>, Number);
  const perRow = shape[1] * shape[2] * shape[3];
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]!)) {
      throw new StepError(`${named.label}[${Math.floor(i / perRow)}] holds ${values[i]} (value ${i % perRow} of the row)`, 'every value must be a finite number');
    }
  }
  // Whole numbers 0..255 in a wider integer type are pixels; anything else is real-valued features.
  if (array.dtype !== 'float32' && array.dtype !== 'float64' && values.every((v) => v >= 0 && v <= 255)) return { images: Uint8Array.from(values), shape };
  return { images: values, shape };
}

/** The classes labels imply when none are declared: '0'..'max label' (at least two, at most MAX_INFERRED_CLASSES). */
export function impliedClasses(labelSets: Int32Array[]): string[] {
  const max = labelSets.reduce((m, ls) => ls.reduce((a, b) => Math.max(a, b), m), 0);
  if (max >= MAX_INFERRED_CLASSES) throw new StepError(`labels go up to ${max}: more than ${MAX_INFERRED_CLASSES} classes`, INFERRED_HINT);
  return Array.from({ length: Math.max(max + 1, 2) }, (_, i) => String(i));
}

/** Every label must index a class; the error names where the first bad one is. */
export function checkLabelRange(labels: Int32Array, classes: string[], where: (i: number) => string, declared: boolean): void {
  for (let i = 0; i < labels.length; i++) checkLabel(labels[i]!, i, classes.length, declared, where);
}

// ---- csv ----------------------------------------------------------------------------------------

export interface CsvOptions {
  /** split → file, as given ({abs, shownAs}); train is required. */
  files: Partial<Record<SplitName, { abs: string; shownAs: string }>>;
  labelColumn: string;
  declared: string[] | undefined;
  /** [H, W, C] to lay each row's features out as an image; default [1, F, 1]. */
  shape?: [number, number, number];
  dtype: 'float32' | 'uint8';
}

export function loadCsvData(o: CsvOptions): UserData {
  const sources: UserData['sources'] = [];
  const tables: Partial<Record<SplitName, { file: string; header: string[]; rows: CsvCell[][] }>> = {};
  for (const split of SPLITS) {
    const f = o.files[split];
    if (!f) continue;
    const bytes = readFileSync(f.abs);
    sources.push({ path: f.shownAs, sha256: sha256(bytes) });
    tables[split] = { file: f.shownAs, ...parseCsv(bytes.toString('utf8'), f.shownAs) };
  }
  const train = tables.train!;
  const labelAt = train.header.indexOf(o.labelColumn);
  if (labelAt < 0) {
    throw new StepError(`${train.file}:1:1: no column '${o.labelColumn}' (the header names: ${train.header.join(', ')})`, 'set label_column to the column that holds the class');
  }
  const features = train.header.filter((_, i) => i !== labelAt);
  for (const t of Object.values(tables)) {
    if (t.header.join('\u0000') !== train.header.join('\u0000')) {
      throw new StepError(`${t.file}:1:1: the header differs from ${train.file}'s`, 'every CSV file of a dataset has the same columns in the same order');
    }
  }
  if (features.length === 0) throw new StepError(`${train.file}:1:1: no feature columns besides '${o.labelColumn}'`);
  const shape = o.shape ?? [1, features.length, 1];
  if (shape[0] * shape[1] * shape[2] !== features.length) {
    throw new StepError(`shape [${shape.join(', ')}] holds ${shape[0] * shape[1] * shape[2]} values but ${train.file} has ${features.length} feature columns`);
  }
  const classes = o.declared ?? impliedCsvClasses(Object.values(tables).flatMap((t) => t.rows.map((r) => ({ file: t.file, cell: r[labelAt]! }))));
  const byName = new Map(classes.map((c, i) => [c, i]));
  const splits: UserData['splits'] = {};
  for (const [split, t] of Object.entries(tables) as Array<[SplitName, { file: string; rows: CsvCell[][] }]>) {
    const n = t.rows.length;
    const values = o.dtype === 'uint8' ? new Uint8Array(n * features.length) : new Float32Array(n * features.length);
    const labels = new Int32Array(n);
    t.rows.forEach((row, r) => {
      let k = 0;
      row.forEach((cell, c) => {
        if (c === labelAt) {
          labels[r] = csvLabel(cell, t.file, classes, byName, o.declared !== undefined);
          return;
        }
        const v = Number(cell.text.trim());
        if (cell.text.trim() === '' || !Number.isFinite(v)) {
          throw new StepError(`${t.file}:${cell.line}:${cell.column}: ${JSON.stringify(cell.text)} in column '${train.header[c]}' is not a number`, 'every column other than the label holds a number');
        }
        if (o.dtype === 'uint8' && !(Number.isInteger(v) && v >= 0 && v <= 255)) {
          throw new StepError(`${t.file}:${cell.line}:${cell.column}: ${v} in column '${train.header[c]}' is not a whole number 0..255`, 'dtype: uint8 is for pixel values; use dtype: float32 for other numbers');
        }
        values[r * features.length + k++] = v;
      });
    });
    splits[split] = { images: values, labels, shape: [n, shape[0], shape[1], shape[2]] };
  }
  return {
    splits,
    classes,
    sources,
    contentHashes: sources.map((s) => s.sha256),
    notes: [`csv: label column '${o.labelColumn}', ${features.length} feature columns as ${shape.join('×')} ${o.dtype}`],
  };
}

function csvLabel(cell: CsvCell, file: string, classes: string[], byName: Map<string, number>, declared: boolean): number {
  const text = cell.text.trim();
  const named = byName.get(text);
  if (named !== undefined) return named;
  if (/^\d+$/.test(text) && Number(text) < classes.length) return Number(text);
  throw new StepError(
    `${file}:${cell.line}:${cell.column}: label ${JSON.stringify(text)} is not one of the ${declared ? 'declared ' : ''}classes (${classes.join(', ')}) nor an index 0..${classes.length - 1}`,
    declared ? 'add it to classes, or fix the row' : undefined,
  );
}

/**
 * All whole numbers: '0'..'max'. Otherwise the distinct names, sorted, so the order does not depend
 * on row order. Either way at most MAX_INFERRED_CLASSES, checked before the list is made; the error
 * names the first label past the bound.
 */
function impliedCsvClasses(labels: Array<{ file: string; cell: CsvCell }>): string[] {
  const beyond = (l: { file: string; cell: CsvCell }, why: string): never => {
    throw new StepError(`${l.file}:${l.cell.line}:${l.cell.column}: label ${JSON.stringify(l.cell.text.trim())} ${why}`, INFERRED_HINT);
  };
  const texts = labels.map((l) => l.cell.text.trim());
  if (texts.every((l) => /^\d+$/.test(l))) {
    const tooBig = labels.find((_, i) => Number(texts[i]) >= MAX_INFERRED_CLASSES);
    if (tooBig) beyond(tooBig, `is beyond the ${MAX_INFERRED_CLASSES} classes labels may imply without classes:`);
    return impliedClasses([Int32Array.from(texts, Number)]);
  }
  const names = new Set<string>();
  for (const [i, l] of labels.entries()) {
    names.add(texts[i]!);
    if (names.size > MAX_INFERRED_CLASSES) beyond(l, `is the ${MAX_INFERRED_CLASSES + 1}th distinct class: more than labels may imply without classes:`);
  }
  return [...names].sort();
}

// ---- image folder -------------------------------------------------------------------------------

export interface FolderOptions {
  root: string;
  shownAs: string;
  declared: string[] | undefined;
  /** Resize the shorter side to this and centre-crop a square; absent: every image must have the first one's size. */
  imageSize?: number;
  channels: 1 | 3;
}

/** `root/<class>/*` (one pool, split by the caller) or `root/{train,val,test}/<class>/*`. */
export async function loadImageFolder(o: FolderOptions): Promise<UserData> {
  const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();
  const visible = (dir: string) => readdirSync(dir).filter((n) => !n.startsWith('.')).sort();
  const splitLayout = isDir(join(o.root, 'train'));
  const splitDirs: Array<[SplitName, string]> = splitLayout
    ? SPLITS.filter((s) => isDir(join(o.root, s))).map((s) => [s, join(o.root, s)])
    : [['train', o.root]];
  if (splitLayout && !isDir(join(o.root, 'test'))) {
    // A train/ without test/ would silently test on a hold-out of train; say so instead of guessing.
    throw new StepError(`${o.shownAs}: has train/ but no test/`, 'with split folders, put the test images in test/<class>/ (val/ is optional); or put the class folders directly in the folder and let test_fraction hold out a test split');
  }
  const found = new Set<string>();
  for (const [, dir] of splitDirs) for (const c of visible(dir)) if (isDir(join(dir, c))) found.add(c);
  if (found.size === 0) throw new StepError(`${o.shownAs}: no class folders`, 'put each class\'s images in a folder named after the class: FOLDER/<class>/*.png (or FOLDER/train/<class>/…, FOLDER/test/<class>/…)');
  if (!o.declared && found.size > MAX_INFERRED_CLASSES) {
    throw new StepError(`${o.shownAs}: ${found.size} class folders, more than the ${MAX_INFERRED_CLASSES} classes a folder may imply without classes:`, INFERRED_HINT);
  }
  const classes = o.declared ?? [...found].sort();
  for (const c of found) {
    if (!classes.includes(c)) {
      throw new StepError(`${o.shownAs}: folder '${c}' is not one of the declared classes (${classes.join(', ')})`, 'name each folder exactly as its class in classes, or add the class');
    }
  }
  const fileHashes: Array<[string, string]> = [];
  const splits: UserData['splits'] = {};
  let size: { width: number; height: number; file: string } | null = null;
  const noRandom = () => {
    throw new Error('image folder: centre crops draw no random numbers');
  };
  for (const [split, dir] of splitDirs) {
    const pixels: Buffer[] = [];
    const labels: number[] = [];
    for (const [k, c] of classes.entries()) {
      const classDir = join(dir, c);
      if (!isDir(classDir)) continue;
      for (const name of visible(classDir)) {
        const file = join(classDir, name);
        if (!statSync(file).isFile()) continue;
        const shown = `${o.shownAs}/${relative(o.root, file).split('\\').join('/')}`;
        const img = await transformImage({ file }, {
          resize: o.imageSize,
          crop: o.imageSize ? { size: o.imageSize, mode: 'center' } : undefined,
        }, o.channels, noRandom);
        size ??= { width: img.width, height: img.height, file: shown };
        if (img.width !== size.width || img.height !== size.height) {
          throw new StepError(`${shown}: ${img.width}×${img.height}, but ${size.file} is ${size.width}×${size.height}`, 'set image_size: N to resize every image (shorter side N, centre-cropped to N×N)');
        }
        pixels.push(img.data);
        labels.push(k);
        fileHashes.push([relative(o.root, file).split('\\').join('/'), sha256(readFileSync(file))]);
      }
    }
    if (labels.length === 0) throw new StepError(`${o.shownAs}: ${split === 'train' && !splitLayout ? '' : `${split}/: `}no images`);
    splits[split] = {
      images: new Uint8Array(Buffer.concat(pixels)),
      labels: Int32Array.from(labels),
      shape: [labels.length, size!.height, size!.width, o.channels],
    };
  }
  // One hash for the whole tree: each file's relative path and content hash, in sorted order.
  fileHashes.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const treeHash = sha256Json(fileHashes);
  return {
    splits,
    classes,
    sources: [{ path: `${o.shownAs}/`, sha256: treeHash }],
    contentHashes: [treeHash],
    notes: [
      `image folder: ${fileHashes.length} images in ${splitLayout ? 'split folders' : 'class folders'}; ${o.channels} channel(s)` +
        `${o.imageSize ? `, shorter side resized to ${o.imageSize} and centre-cropped (${await imageLibrary()})` : ''}; source sha256 = sha256 of the sorted [path, sha256] list of its files`,
    ],
  };
}

// ---- splits -------------------------------------------------------------------------------------

/**
 * Holds `fraction` of each class out of `labels` (stratified, so a small split still has every
 * class). `random` is consumed class by class, in class order; both index lists come back sorted.
 */
export function holdOut(labels: Int32Array, classes: number, fraction: number, random: () => number): { kept: number[]; held: number[] } {
  const byClass: number[][] = Array.from({ length: classes }, () => []);
  labels.forEach((l, i) => byClass[l]!.push(i));
  const held: number[] = [];
  const kept: number[] = [];
  for (const idxs of byClass) {
    shuffleInPlace(idxs, random);
    const n = Math.round(fraction * idxs.length);
    held.push(...idxs.slice(0, n));
    kept.push(...idxs.slice(n));
  }
  kept.sort((a, b) => a - b);
  held.sort((a, b) => a - b);
  return { kept, held };
}

/** The rows `rows` of a split, in that order. */
export function takeRows(s: SplitTensors, rows: number[]): SplitTensors {
  const [, h, w, c] = s.shape;
  const per = h * w * c;
  const images = s.images instanceof Float32Array ? new Float32Array(rows.length * per) : new Uint8Array(rows.length * per);
  rows.forEach((r, i) => images.set(s.images.subarray(r * per, (r + 1) * per), i * per));
  return { images, labels: Int32Array.from(rows, (r) => s.labels[r]!), shape: [rows.length, h, w, c] };
}

/** A display name for a file: its name without the extension ('my-data' for my-data.npz). */
export function stem(path: string): string {
  return basename(path).replace(/\.[^.]*$/, '') || basename(path);
}
