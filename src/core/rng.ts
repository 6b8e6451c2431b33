// Seeded randomness: our own small PRNG, so data generation, shuffling, augmentation and weight init
// are the same on every backend and every platform (tfjs's random kernels differ between backends).

/** mulberry32: a 32-bit state PRNG, uniform in [0, 1). Tiny, fast, and good enough for shuffling. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Derives an independent 32-bit seed from a base seed and labels (epoch, step, weight index...), so
 * each stream can be recreated from its coordinates alone: a resumed training needs no RNG state.
 */
export function deriveSeed(seed: number, ...parts: number[]): number {
  // FNV-1a over the 32-bit words, then a murmur3 finaliser to spread the bits.
  let h = 0x811c9dc5;
  for (const v of [seed, ...parts]) {
    for (let shift = 0; shift < 32; shift += 8) {
      h ^= (v >>> shift) & 0xff;
      h = Math.imul(h, 0x01000193);
    }
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A uniformly random permutation of 0..n−1 (Fisher–Yates). */
export function permutation(n: number, rand: () => number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const tmp = out[i];
    out[i] = out[j];
    out[j] = tmp;
  }
  return out;
}

/** Standard normal samples (Box–Muller). */
export function normal(rand: () => number): number {
  // 1 − u keeps the logarithm finite (u can be 0, never 1).
  const u = 1 - rand();
  const v = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}
