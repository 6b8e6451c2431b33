// Batches from a `repro-tensors/1` split (read by src/data/tensors.ts): normalisation, the seeded
// augmentation (mirror, random crop) and centre crops at evaluation. Plain loops over typed arrays:
// a batch is small next to a training step.
import * as tf from '@tensorflow/tfjs-core';
import type { DatasetManifest } from '../formats/dataset.js';
import type { LoadedSplit } from '../data/tensors.js';
import { StepError } from '../core/errors.js';

export interface Normalization {
  mean: number[];
  std: number[];
}

/** How raw values become network inputs: uint8 → (x/255 − mean)/std; float32 data is already normalised. */
export function inputNormalization(manifest: DatasetManifest, split: LoadedSplit): Normalization | null {
  if (split.dtype === 'float32') return null;
  const channels = split.shape[3];
  return manifest.normalization ?? { mean: new Array<number>(channels).fill(0), std: new Array<number>(channels).fill(1) };
}

export interface BatchOptions {
  /** Network input [H, W, C]; the stored image may be larger (cropped) but not smaller. */
  inputShape: [number, number, number];
  normalization: Normalization | null;
  /**
   * Training augmentation from this stream, per image in batch order: one draw for the mirror
   * (mirrored when < 0.5) if `mirror`, then one for the crop row and one for the crop column if
   * `randomCrop` and the image is larger than the input. Without it: no mirror, centre crop.
   */
  rand?: () => number;
  mirror?: boolean;
  randomCrop?: boolean;
  /** Mirror every image (test-time mirror averaging). */
  flipAll?: boolean;
}

export function checkInputFits(split: LoadedSplit, inputShape: [number, number, number]): void {
  const [, H, W, C] = split.shape;
  const [h, w, c] = inputShape;
  if (H < h || W < w || C !== c) {
    throw new StepError(`split '${split.name}' holds ${H}×${W}×${C} images but the model takes ${h}×${w}×${c}`, 'set model.input_size to at most the image size, or resize the data in a preprocess step');
  }
}

/** The images at `indices` as an [n, h, w, c] float32 tensor. */
export function imageBatch(split: LoadedSplit, indices: ArrayLike<number>, options: BatchOptions): tf.Tensor4D {
  const [, H, W, C] = split.shape;
  const [h, w] = options.inputShape;
  const n = indices.length;
  const out = new Float32Array(n * h * w * C);
  const norm = options.normalization;
  const scale = split.dtype === 'uint8' ? 1 / 255 : 1;
  const mean = norm?.mean ?? new Array<number>(C).fill(0);
  const invStd = (norm?.std ?? new Array<number>(C).fill(1)).map((s) => 1 / s);
  const src = split.images;
  for (let b = 0; b < n; b++) {
    let flip = options.flipAll === true;
    let top = Math.floor((H - h) / 2);
    let left = Math.floor((W - w) / 2);
    if (options.rand) {
      if (options.mirror) flip = options.rand() < 0.5;
      if (options.randomCrop && (H > h || W > w)) {
        top = Math.floor(options.rand() * (H - h + 1));
        left = Math.floor(options.rand() * (W - w + 1));
      }
    }
    const base = indices[b] * H * W * C;
    let o = b * h * w * C;
    for (let y = 0; y < h; y++) {
      const row = base + (top + y) * W * C;
      for (let x = 0; x < w; x++) {
        const px = row + (left + (flip ? w - 1 - x : x)) * C;
        for (let c = 0; c < C; c++) out[o++] = (src[px + c] * scale - mean[c]) * invStd[c];
      }
    }
  }
  return tf.tensor4d(out, [n, h, w, C], 'float32');
}

export function labelBatch(split: LoadedSplit, indices: ArrayLike<number>): tf.Tensor1D {
  const y = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) y[i] = split.labels[indices[i]];
  return tf.tensor1d(y, 'int32');
}

/** Consecutive index ranges [from, to) of at most `size`; the last batch may be smaller. */
export function batchRanges(n: number, size: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let from = 0; from < n; from += size) out.push([from, Math.min(n, from + size)]);
  return out;
}
