// `preprocess`: image list (repro-images/1) or tensors (repro-tensors/1) in, tensors out.
// Decode, resize the shorter side, crop, mirror, normalise. Streams: each image is decoded,
// transformed and written at its offset in <split>.images.bin, a few at a time, so memory stays
// bounded whatever the dataset size. Random crops and mirrors apply to the train split only and
// are seeded per image, so the output does not depend on how many threads ran.
import { join } from 'node:path';
import { mkdirSync, openSync, closeSync, writeSync, readSync, renameSync, writeFileSync, fstatSync } from 'node:fs';
import { type StepKind } from './kind.js';
import { sha256Json } from '../core/hash.js';
import { DATASET_FORMAT, type DatasetManifest, type ImageListManifest } from '../formats/dataset.js';
import { StepError } from '../core/errors.js';

export interface PreprocessWith {
  dataset: string;
  resize?: number;
  crop?: { size: number; mode?: 'center' | 'random' };
  mirror?: boolean;
  normalize?: 'auto' | { mean: number[]; std: number[] };
  dtype?: 'uint8' | 'float32';
  seed?: number;
}

const withSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['dataset'],
  properties: {
    dataset: { type: 'string', description: 'A dataset directory (a dataset step output): an image list (repro-images/1) or tensors (repro-tensors/1).' },
    resize: { type: 'integer', minimum: 1, description: 'Resize every image so its shorter side has this many pixels (aspect ratio kept; libvips lanczos3).' },
    crop: {
      type: 'object',
      additionalProperties: false,
      required: ['size'],
      description: 'Square crop. Val/test are always centre-cropped; mode random applies to the train split only.',
      properties: {
        size: { type: 'integer', minimum: 1, description: 'Crop side in pixels.' },
        mode: { enum: ['center', 'random'], description: 'center (default) or random (train only, seeded per image).' },
      },
    },
    mirror: { type: 'boolean', description: 'Flip each train image horizontally with probability 1/2 (seeded per image). Val/test are never flipped.' },
    normalize: {
      description: "Per-channel normalisation, in units of x/255: 'auto' (mean and std of the train split) or explicit {mean, std}.",
      oneOf: [
        { const: 'auto' },
        {
          type: 'object',
          additionalProperties: false,
          required: ['mean', 'std'],
          properties: {
            mean: { type: 'array', items: { type: 'number' }, minItems: 1 },
            std: { type: 'array', items: { type: 'number', exclusiveMinimum: 0 }, minItems: 1 },
          },
        },
      ],
    },
    dtype: { enum: ['uint8', 'float32'], description: 'uint8 (default): pixels kept, normalisation recorded for the trainer. float32: ((x/255) - mean)/std applied.' },
    seed: { type: 'integer', description: 'Seed of the random crops and mirrors (default 0).' },
  },
} as const;

export const preprocessStep: StepKind<PreprocessWith> = {
  name: 'preprocess',
  role: 'data',
  version: '1',
  description: 'Decode, resize, crop, mirror and normalise images into a repro-tensors/1 dataset (streaming, bounded memory).',
  withSchema,
  outputs: ['dataset'],
  // The manifest it writes keeps its input's order.
  classOrder: (w, upstream) => upstream(w.dataset),
  check(w) {
    const problems: Array<{ path: string; message: string }> = [];
    if (w.crop && w.resize && w.crop.size > w.resize) problems.push({ path: 'crop/size', message: `crop ${w.crop.size} is larger than the resized shorter side ${w.resize}` });
    if (w.normalize && typeof w.normalize === 'object' && w.normalize.mean.length !== w.normalize.std.length) {
      problems.push({ path: 'normalize', message: 'mean and std must have one entry per channel' });
    }
    return problems;
  },
  async run(ctx, w) {
    const { readAnyManifest, readSplit, splitFiles, classCounts, writeManifest, dataDescription } = await import('../data/tensors.js');
    const { transformImage, imageLibrary } = await import('../data/images.js');
    const { seededRandom } = await import('../data/random.js');
    const input = readAnyManifest(w.dataset);
    const out = join(ctx.workDir, 'dataset');
    mkdirSync(out, { recursive: true });
    const fromImages = input.format !== DATASET_FORMAT;
    const splitNames = Object.keys(input.splits);
    const tensorSplits = fromImages ? null : Object.fromEntries(splitNames.map((s) => [s, readSplit(w.dataset, s, input as DatasetManifest)]));
    if (tensorSplits && Object.values(tensorSplits).some((s) => s.dtype !== 'uint8')) {
      throw new StepError(`${w.dataset}: preprocess needs uint8 pixels, this dataset is already float32`);
    }
    const channels = fromImages ? 3 : (input as DatasetManifest).splits[splitNames[0]!]!.shape[3];
    const seed = w.seed ?? 0;
    const total = splitNames.reduce((a, s) => a + splitSize(input, s), 0);
    const started = Date.now();
    let done = 0;
    const manifest: DatasetManifest = {
      format: DATASET_FORMAT,
      name: input.name,
      // What the data is (origin, licence, citation…) stays with it through preprocessing.
      ...dataDescription(input),
      classes: input.classes,
      ordered: input.ordered,
      positions: input.positions,
      splits: {},
      sources: input.sources,
      notes: [...(input.notes ?? [])],
    };
    // Per-channel running sums over the train split, for normalize: auto.
    const train = { sum: new Float64Array(channels), sumSq: new Float64Array(channels), pixels: 0 };
    let shape: [number, number] | null = null;

    for (const split of splitNames) {
      const n = splitSize(input, split);
      const files = splitFiles(split);
      const isTrain = split === 'train';
      const ops = {
        resize: w.resize,
        crop: w.crop ? { size: w.crop.size, mode: isTrain ? w.crop.mode ?? 'center' : 'center' as const } : undefined,
        mirror: isTrain && !!w.mirror,
      };
      const labels = new Int32Array(n);
      const groups: string[] = [];
      const fd = openSync(join(out, files.images), 'w');
      try {
        let next = 0;
        let failed = false;
        const worker = async () => {
          for (let i = next++; i < n && !failed; i = next++) {
            ctx.signal.throwIfAborted();
            // One generator per image, keyed by (seed, split, index): order-independent.
            const random = ops.mirror || ops.crop?.mode === 'random' ? seededRandom(Number.parseInt(sha256Json([seed, split, i]).slice(0, 8), 16)) : unseeded;
            let source;
            if (fromImages) {
              const entry = (input as ImageListManifest).splits[split]![i]!;
              labels[i] = entry.label;
              if (entry.group !== undefined) groups[i] = entry.group;
              source = { file: join((input as ImageListManifest).root, entry.file) };
            } else {
              const t = tensorSplits![split]!;
              const [, h, wd, c] = t.shape;
              labels[i] = t.labels[i]!;
              if (t.groups) groups[i] = t.groups[i]!;
              source = { raw: (t.images as Uint8Array).subarray(i * h * wd * c, (i + 1) * h * wd * c), width: wd, height: h, channels: c };
            }
            const img = await transformImage(source, ops, channels, random);
            shape ??= [img.height, img.width];
            if (img.height !== shape[0] || img.width !== shape[1]) {
              throw new StepError(`${'file' in source ? source.file : `${split} image ${i}`}: came out ${img.width}×${img.height}, the first image ${shape[1]}×${shape[0]}`,
                'images differ in size: set crop: {size: N} (with resize: N or more) so every image ends up the same size');
            }
            writeSync(fd, img.data, 0, img.data.length, i * img.data.length);
            if (isTrain) {
              for (let p = 0; p < img.data.length; p += channels) {
                for (let c = 0; c < channels; c++) {
                  // Integer sums are exact, so the result does not depend on the order images finish in.
                  const v = img.data[p + c]!;
                  train.sum[c]! += v;
                  train.sumSq[c]! += v * v;
                }
              }
              train.pixels += img.width * img.height;
            }
            done++;
            if (done % 64 === 0 || done === total) {
              const rate = done / Math.max((Date.now() - started) / 1000, 1e-3);
              ctx.progress(done / total, `${split} ${i + 1}/${n}, ${rate.toFixed(0)} images/s`);
            }
          }
        };
        // Every worker must have stopped before the file is closed: a straggler writing to a
        // closed (and perhaps reused) descriptor would corrupt some other file.
        const results = await Promise.allSettled(Array.from({ length: Math.max(1, Math.min(ctx.threads, 8)) * 2 }, () =>
          worker().catch((err: unknown) => {
            failed = true;
            throw err;
          })));
        const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (rejected) throw rejected.reason;
      } finally {
        closeSync(fd);
      }
      writeFileSync(join(out, files.labels), new Uint8Array(labels.buffer));
      const [h, wd] = shape ?? [w.crop?.size ?? 0, w.crop?.size ?? 0];
      manifest.splits[split] = {
        images: files.images,
        labels: files.labels,
        shape: [n, h, wd, channels],
        dtype: 'uint8',
        classCounts: classCounts(labels, input.classes.length),
      };
      if (groups.length === n && n > 0) manifest.splits[split]!.groups = [...new Set(groups)].sort();
    }

    const normalization = resolveNormalization(w, channels, input, train);
    if (normalization) manifest.normalization = normalization;
    if ((w.dtype ?? 'uint8') === 'float32') {
      const norm = normalization ?? { mean: new Array<number>(channels).fill(0), std: new Array<number>(channels).fill(1) };
      for (const split of splitNames) toFloat32(join(out, splitFiles(split).images), norm, channels);
      for (const s of Object.values(manifest.splits)) s.dtype = 'float32';
      manifest.normalization = norm;
    }
    const lib = fromImages || w.resize ? await imageLibrary() : null;
    manifest.notes!.push(
      `preprocess: ${[
        w.resize && `resize shorter side to ${w.resize}${lib ? ` (${lib}, lanczos3)` : ''}`,
        w.crop && `crop ${w.crop.size} (${w.crop.mode ?? 'center'} on train, center elsewhere)`,
        w.mirror && 'random horizontal mirror on train',
        manifest.normalization && `normalisation mean ${fmt(manifest.normalization.mean)} std ${fmt(manifest.normalization.std)}${w.dtype === 'float32' ? ' (applied)' : ' (for the trainer to apply)'}`,
        `seed ${seed}`,
      ].filter(Boolean).join('; ')}`,
    );
    writeManifest(out, manifest);
    const rate = total / Math.max((Date.now() - started) / 1000, 1e-3);
    ctx.log(`preprocessed ${total} images at ${rate.toFixed(0)} images/s into ${Object.entries(manifest.splits).map(([k, s]) => `${k} ${JSON.stringify(s.shape)}`).join(', ')}`);
    const first = manifest.splits[splitNames[0]!]!;
    return {
      outputs: { dataset: { type: 'dir', path: out } },
      summary: `${total} images → ${first.shape.slice(1).join('×')} ${manifest.splits[splitNames[0]!]!.dtype}`,
      facts: lib ? { imageLibrary: lib } : undefined,
    };
  },
};

/** Used where no randomness is configured: any call would be a bug that breaks reproducibility. */
function unseeded(): number {
  throw new Error('preprocess: randomness used without a seeded generator');
}

function splitSize(m: DatasetManifest | ImageListManifest, split: string): number {
  return m.format === DATASET_FORMAT ? m.splits[split]!.shape[0] : (m as ImageListManifest).splits[split]!.length;
}

function fmt(v: number[]): string {
  return `[${v.map((x) => x.toFixed(4)).join(', ')}]`;
}

function resolveNormalization(
  w: PreprocessWith,
  channels: number,
  input: DatasetManifest | ImageListManifest,
  train: { sum: Float64Array; sumSq: Float64Array; pixels: number },
): { mean: number[]; std: number[] } | undefined {
  if (w.normalize === 'auto') {
    if (train.pixels === 0) throw new StepError("normalize: auto needs a non-empty 'train' split");
    const mean = Array.from(train.sum, (s) => s / train.pixels / 255);
    // Population std over every pixel of the train split; a constant channel gets 1, not 0.
    const std = Array.from(train.sumSq, (s, c) => Math.sqrt(Math.max(s / train.pixels / 255 ** 2 - mean[c]! ** 2, 0)) || 1);
    return { mean, std };
  }
  if (w.normalize) {
    if (w.normalize.mean.length !== channels || w.normalize.std.length !== channels) {
      throw new StepError(`normalize has ${w.normalize.mean.length} means and ${w.normalize.std.length} stds for ${channels}-channel images`);
    }
    return { mean: w.normalize.mean, std: w.normalize.std };
  }
  return input.format === DATASET_FORMAT ? input.normalization : undefined;
}

/** Rewrites a uint8 image file as float32 ((x/255 − mean)/std), a chunk at a time. */
function toFloat32(path: string, norm: { mean: number[]; std: number[] }, channels: number): void {
  const tmp = `${path}.f32`;
  const src = openSync(path, 'r');
  const dst = openSync(tmp, 'w');
  try {
    const size = fstatSync(src).size;
    const chunk = Buffer.alloc(channels * (1 << 20));
    for (let off = 0; off < size; ) {
      const got = readSync(src, chunk, 0, Math.min(chunk.length, size - off), off);
      const f = new Float32Array(got);
      for (let i = 0; i < got; i++) {
        const c = (off + i) % channels;
        f[i] = (chunk[i]! / 255 - norm.mean[c]!) / norm.std[c]!;
      }
      writeSync(dst, new Uint8Array(f.buffer), 0, f.byteLength, off * 4);
      off += got;
    }
  } finally {
    closeSync(src);
    closeSync(dst);
  }
  renameSync(tmp, path);
}
