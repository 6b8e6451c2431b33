// Small real datasets for the ML tests, written in the repro-tensors/1 format by the data code.
import { existsSync } from 'node:fs';
import { writeDataset } from '../../src/data/tensors.js';
import { loadRetinaMnist, RETINAMNIST_CLASSES } from '../../src/data/retinamnist.js';
import { mulberry32 } from '../../src/core/rng.js';

/**
 * n images of size×size×3 per split whose class is readable from the brightness of a centre blob
 * (plus noise), so a tiny CNN learns it within an epoch or two.
 */
export function syntheticDataset(dir: string, options: { train?: number; val?: number; size?: number; classes?: number; seed?: number } = {}): string {
  const { train = 64, val = 32, size = 8, classes = 5, seed = 7 } = options;
  const rand = mulberry32(seed);
  const make = (n: number) => {
    const images = new Uint8Array(n * size * size * 3);
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const k = Math.floor(rand() * classes);
      labels[i] = k;
      for (let y = 0; y < size; y++)
        for (let x = 0; x < size; x++) {
          const inBlob = Math.abs(y - size / 2) < size / 4 && Math.abs(x - size / 2) < size / 4;
          for (let c = 0; c < 3; c++) {
            const base = inBlob ? 40 + (k * 200) / Math.max(1, classes - 1) : 60;
            images[((i * size + y) * size + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(base + (rand() - 0.5) * 40)));
          }
        }
    }
    return { images, labels, shape: [n, size, size, 3] as [number, number, number, number] };
  };
  writeDataset(
    dir,
    {
      name: 'synthetic',
      classes: Array.from({ length: classes }, (_, k) => `c${k}`),
      ordered: true,
      positions: Array.from({ length: classes }, (_, k) => k),
      sources: [],
    },
    { train: make(train), val: make(val) },
  );
  return dir;
}

/** The RetinaMNIST npz: the repository's embedded copy, else the shared one. */
export function retinaMnistNpz(): string | null {
  for (const p of [new URL('../../artifacts/retinamnist/retinamnist.npz', import.meta.url).pathname, '/work/shared/data/retinamnist/retinamnist.npz']) {
    if (existsSync(p)) return p;
  }
  return null;
}

/** The first `train`/`val`/`test` images of RetinaMNIST's official splits as a dataset directory. */
export async function retinaMnistSubset(dir: string, counts: { train: number; val: number; test?: number }): Promise<string> {
  const npz = retinaMnistNpz();
  if (!npz) throw new Error('RetinaMNIST npz not found');
  const all = await loadRetinaMnist(npz);
  const head = (s: (typeof all)['train'], n: number) => {
    const [, h, w, c] = s.shape;
    const m = Math.min(n, s.shape[0]);
    return { images: s.images.slice(0, m * h * w * c), labels: s.labels.slice(0, m), shape: [m, h, w, c] as [number, number, number, number] };
  };
  const splits: Record<string, ReturnType<typeof head>> = { train: head(all.train, counts.train), val: head(all.val, counts.val) };
  if (counts.test) splits.test = head(all.test, counts.test);
  writeDataset(dir, { name: 'retinamnist-subset', classes: RETINAMNIST_CLASSES, ordered: true, positions: [0, 1, 2, 3, 4], sources: [] }, splits);
  return dir;
}
