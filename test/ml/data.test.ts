// Batches: normalisation, centre crop, mirror, seeded random crop (docs/ml.md, Training).
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/ml/backend/index.js';
import { batchRanges, imageBatch } from '../../src/ml/data.js';
import { mulberry32 } from '../../src/core/rng.js';
import type { LoadedSplit } from '../../src/data/tensors.js';

beforeAll(async () => {
  await initBackend('cpu', 1);
});

// One 4×4 single-channel image whose pixel (y, x) is 10·y + x.
const split: LoadedSplit = {
  name: 'train',
  images: Uint8Array.from({ length: 16 }, (_, i) => 10 * Math.floor(i / 4) + (i % 4)),
  labels: Int32Array.from([0]),
  shape: [1, 4, 4, 1],
  dtype: 'uint8',
};
const rows = (values: Float32Array | Int32Array | Uint8Array, w: number) =>
  Array.from({ length: values.length / w }, (_, r) => Array.from(values.slice(r * w, (r + 1) * w), (v) => Math.round(v * 1000) / 1000));

describe('imageBatch', () => {
  it('normalises (x/255 − mean)/std and centre-crops', () => {
    const x = imageBatch(split, [0], { inputShape: [2, 2, 1], normalization: { mean: [0], std: [1 / 255] } });
    expect(x.shape).toEqual([1, 2, 2, 1]);
    expect(rows(x.dataSync() as Float32Array, 2)).toEqual([[11, 12], [21, 22]]);
    const y = imageBatch(split, [0], { inputShape: [4, 4, 1], normalization: { mean: [0.5], std: [0.5] } });
    expect(y.dataSync()[0]).toBeCloseTo((0 / 255 - 0.5) / 0.5, 6);
  });

  it('mirrors every image for test-time averaging', () => {
    const x = imageBatch(split, [0], { inputShape: [2, 2, 1], normalization: { mean: [0], std: [1 / 255] }, flipAll: true });
    expect(rows(x.dataSync() as Float32Array, 2)).toEqual([[12, 11], [22, 21]]);
  });

  it('draws random crops and mirrors from the seeded stream, the same for the same seed', () => {
    const streams: Record<number, () => number> = { 1: mulberry32(1), 2: mulberry32(1), 3: mulberry32(3) };
    const options = { inputShape: [2, 2, 1] as [number, number, number], normalization: { mean: [0], std: [1 / 255] }, mirror: true, randomCrop: true };
    const take = (stream: number) =>
      Array.from({ length: 6 }, () => rows(imageBatch(split, [0], { ...options, rand: streams[stream] }).dataSync() as Float32Array, 2));
    const a = take(1);
    expect(take(2)).toEqual(a);
    const windows = new Set(a.map((r) => JSON.stringify(r)));
    expect(windows.size).toBeGreaterThan(1);
    for (const crop of a) {
      // Every crop is a 2×2 window of the image (possibly mirrored): rows differ by 10, columns by ±1.
      expect(crop[1][0] - crop[0][0]).toBe(10);
      expect(Math.abs(crop[0][1] - crop[0][0])).toBe(1);
    }
    expect(take(3)).not.toEqual(a);
  });
});

describe('batchRanges', () => {
  it('keeps every sample; the last batch may be smaller', () => {
    expect(batchRanges(10, 4)).toEqual([[0, 4], [4, 8], [8, 10]]);
    expect(batchRanges(8, 4)).toEqual([[0, 4], [4, 8]]);
  });
});
