// Seeded randomness for data splits and augmentation: the same seed gives the same split on
// every machine, so a split is part of what a workflow pins, not an accident of the run.
// The generator is the one training uses (src/core/rng.ts), on a seed of its own stream.
import { mulberry32 } from '../core/rng.js';

export function seededRandom(seed: number): () => number {
  return mulberry32((Math.trunc(seed) ^ 0x9e3779b9) >>> 0);
}

/** Fisher–Yates, in place; returns the array for chaining. */
export function shuffleInPlace<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
