// Reader and writer of the dataset directories of src/formats/dataset.ts. The ML code (tfjs train
// and evaluate) reads through readDataset/readSplit; the data steps write through writeDataset.
import { readFileSync, writeFileSync, mkdirSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  DATASET_FORMAT,
  IMAGES_FORMAT,
  type DatasetDescription,
  type DatasetManifest,
  type DatasetSplit,
  type ImageListManifest,
} from '../formats/dataset.js';
import { StepError } from '../core/errors.js';

export interface LoadedSplit {
  name: string;
  /** N×H×W×C, channels last; uint8 pixels or float32 values as the manifest's dtype says. */
  images: Uint8Array | Float32Array;
  labels: Int32Array;
  shape: [number, number, number, number];
  dtype: 'uint8' | 'float32';
  groups?: string[];
}

export interface LoadedDataset {
  manifest: DatasetManifest;
  splits: Record<string, LoadedSplit>;
}

/** The tensors a writer hands over for one split. */
export interface SplitTensors {
  images: Uint8Array | Float32Array;
  labels: Int32Array;
  shape: [number, number, number, number];
  groups?: string[];
}

export const MANIFEST_FILE = 'manifest.json';

export function splitFiles(split: string): { images: string; labels: string } {
  return { images: `${split}.images.bin`, labels: `${split}.labels.bin` };
}

export function classCounts(labels: Int32Array, classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (const l of labels) {
    if (l < 0 || l >= classes) throw new StepError(`label ${l} is outside the ${classes} classes`);
    counts[l]!++;
  }
  return counts;
}

/** Writes a complete `repro-tensors/1` directory (small datasets, held in memory). */
export function writeDataset(
  dir: string,
  meta: Omit<DatasetManifest, 'format' | 'splits'>,
  splits: Record<string, SplitTensors>,
): DatasetManifest {
  mkdirSync(dir, { recursive: true });
  const manifest: DatasetManifest = { format: DATASET_FORMAT, ...meta, splits: {} };
  for (const [name, s] of Object.entries(splits)) {
    const files = splitFiles(name);
    const [n] = s.shape;
    if (s.labels.length !== n) throw new Error(`split ${name}: ${s.labels.length} labels for ${n} images`);
    if (s.images.length !== s.shape.reduce((a, b) => a * b, 1)) throw new Error(`split ${name}: images do not match shape ${s.shape}`);
    writeFileSync(join(dir, files.images), new Uint8Array(s.images.buffer, s.images.byteOffset, s.images.byteLength));
    writeFileSync(join(dir, files.labels), new Uint8Array(s.labels.buffer, s.labels.byteOffset, s.labels.byteLength));
    manifest.splits[name] = describeSplit(name, s, meta.classes.length);
  }
  writeManifest(dir, manifest);
  return manifest;
}

export function describeSplit(name: string, s: SplitTensors, classes: number): DatasetSplit {
  const files = splitFiles(name);
  const split: DatasetSplit = {
    images: files.images,
    labels: files.labels,
    shape: s.shape,
    dtype: s.images instanceof Float32Array ? 'float32' : 'uint8',
    classCounts: classCounts(s.labels, classes),
  };
  if (s.groups) split.groups = s.groups;
  return split;
}

/** The fields of a manifest that say what the data is (origin, description, licence, citation), those present only. */
export function dataDescription(m: DatasetDescription): DatasetDescription {
  const d: DatasetDescription = {};
  if (m.origin !== undefined) d.origin = m.origin;
  if (m.description !== undefined) d.description = m.description;
  if (m.licence !== undefined) d.licence = m.licence;
  if (m.citation !== undefined) d.citation = m.citation;
  return d;
}

export function writeManifest(dir: string, manifest: DatasetManifest | ImageListManifest): void {
  writeFileSync(join(dir, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
}

/** Reads manifest.json of either dataset format; anything else is a clear error. */
export function readAnyManifest(dir: string): DatasetManifest | ImageListManifest {
  const file = join(dir, MANIFEST_FILE);
  if (!existsSync(file)) throw new StepError(`${dir} is not a dataset directory: ${MANIFEST_FILE} is missing`);
  let manifest: { format?: unknown };
  try {
    manifest = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new StepError(`${file}: not valid JSON: ${(err as Error).message}`);
  }
  if (manifest.format !== DATASET_FORMAT && manifest.format !== IMAGES_FORMAT) {
    throw new StepError(`${file}: format is ${JSON.stringify(manifest.format)}, expected '${DATASET_FORMAT}' or '${IMAGES_FORMAT}'`);
  }
  return manifest as DatasetManifest | ImageListManifest;
}

export function readManifest(dir: string): DatasetManifest {
  const m = readAnyManifest(dir);
  if (m.format !== DATASET_FORMAT) {
    throw new StepError(`${dir} holds an image list (${m.format}), not tensors`, "add a 'preprocess' step that turns it into tensors");
  }
  return m;
}

/** One split's tensors, checked against the manifest (sizes, label range). */
export function readSplit(dir: string, name: string, manifest: DatasetManifest = readManifest(dir)): LoadedSplit {
  const s = manifest.splits[name];
  if (!s) throw new StepError(`dataset ${manifest.name} has no split '${name}' (it has: ${Object.keys(manifest.splits).join(', ')})`);
  const count = s.shape.reduce((a, b) => a * b, 1);
  const bytesPer = s.dtype === 'float32' ? 4 : 1;
  const imagesPath = join(dir, s.images);
  const labelsPath = join(dir, s.labels);
  for (const [p, want] of [[imagesPath, count * bytesPer], [labelsPath, s.shape[0] * 4]] as const) {
    const have = existsSync(p) ? statSync(p).size : -1;
    if (have !== want) throw new StepError(`${p}: expected ${want} bytes for split '${name}' ${JSON.stringify(s.shape)}, found ${have < 0 ? 'no file' : `${have} bytes`}`);
  }
  const imageBytes = alignedCopy(readFileSync(imagesPath));
  const labels = new Int32Array(alignedCopy(readFileSync(labelsPath)).buffer);
  const classes = manifest.classes.length;
  for (const l of labels) {
    if (l < 0 || l >= classes) throw new StepError(`${labelsPath}: label ${l} is outside 0..${classes - 1}`);
  }
  const images = s.dtype === 'float32' ? new Float32Array(imageBytes.buffer) : imageBytes;
  const split: LoadedSplit = { name, images, labels, shape: s.shape, dtype: s.dtype };
  if (s.groups) split.groups = s.groups;
  return split;
}

export function readDataset(dir: string): LoadedDataset {
  const manifest = readManifest(dir);
  const splits: Record<string, LoadedSplit> = {};
  for (const name of Object.keys(manifest.splits)) splits[name] = readSplit(dir, name, manifest);
  return { manifest, splits };
}

/** Node's small Buffers share a pool at arbitrary offsets; typed arrays need aligned, owned memory. */
function alignedCopy(buf: Buffer): Uint8Array {
  const out = new Uint8Array(buf.length);
  out.set(buf);
  return out;
}
