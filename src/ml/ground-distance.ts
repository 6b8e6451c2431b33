// Ground-distance matrices D (C×C) between classes: from class positions, or learned from the
// network's own features (docs/paper-notes.md, "Learning D"). Plain JS: these are tiny and computed once per epoch.

export interface GroundDistanceOptions {
  /** Element-wise exponent ω applied after scaling (default 1). */
  omega?: number;
  /** Divide by the largest distance so D lies in [0, 1] (default true). */
  scale?: boolean;
}

/** D_ik = (|pos_i − pos_k| / max|pos_a − pos_b|)^ω; unscaled when scale is false. */
export function groundDistance(positions: readonly number[], options: GroundDistanceOptions = {}): number[][] {
  const omega = options.omega ?? 1;
  const C = positions.length;
  let max = 0;
  for (const a of positions) for (const b of positions) max = Math.max(max, Math.abs(a - b));
  const divisor = options.scale === false || max === 0 ? 1 : max;
  return Array.from({ length: C }, (_, i) =>
    Array.from({ length: C }, (_, k) => Math.pow(Math.abs(positions[i] - positions[k]) / divisor, omega)),
  );
}

/** 1 off the diagonal, 0 on it: the "no prior" starting point of the learned D. */
export function uniformDistance(classes: number): number[][] {
  return Array.from({ length: classes }, (_, i) => Array.from({ length: classes }, (_, k) => (i === k ? 0 : 1)));
}

/** Element-wise D^ω + μ: the weights M of the XEMD term Σ_i p_i² M_{i,k}. */
export function emdWeights(d: readonly (readonly number[])[], omega: number, mu: number): number[][] {
  return d.map((row) => row.map((v) => Math.pow(v, omega) + mu));
}

/**
 * The learned ground distance, once per epoch (docs/paper-notes.md):
 * features divided by their sum → class centroids → Euclidean distances → per-row ranks 0..C−1
 * divided by C−1 → symmetrised (D + Dᵀ)/2.
 * `features` is N×F row-major; `labels` the N true classes.
 */
export function learnGroundDistance(features: Float32Array, featureSize: number, labels: ArrayLike<number>, classes: number): number[][] {
  const n = labels.length;
  if (features.length !== n * featureSize) {
    throw new Error(`learnGroundDistance: ${features.length} feature values for ${n} samples of size ${featureSize}`);
  }
  const centroids = Array.from({ length: classes }, () => new Float64Array(featureSize));
  const counts = new Array<number>(classes).fill(0);
  for (let s = 0; s < n; s++) {
    const row = features.subarray(s * featureSize, (s + 1) * featureSize);
    let sum = 0;
    for (let f = 0; f < featureSize; f++) sum += row[f];
    // Post-ReLU features are ≥ 0; an all-zero vector stays zero rather than becoming NaN.
    const inv = sum !== 0 ? 1 / sum : 0;
    const c = centroids[labels[s]];
    for (let f = 0; f < featureSize; f++) c[f] += row[f] * inv;
    counts[labels[s]]++;
  }
  centroids.forEach((c, k) => {
    if (counts[k] > 0) for (let f = 0; f < featureSize; f++) c[f] /= counts[k];
  });
  const dist = centroids.map((a) =>
    centroids.map((b) => {
      let s = 0;
      for (let f = 0; f < featureSize; f++) s += (a[f] - b[f]) ** 2;
      return Math.sqrt(s);
    }),
  );
  const ranks = dist.map((row, i) => rankRow(row, i));
  const denom = Math.max(1, classes - 1);
  return ranks.map((row, i) => row.map((r, k) => (r + ranks[k][i]) / 2 / denom));
}

/** Ranks 0..C−1 by ascending value; on ties the class itself comes first, then the lower index. */
function rankRow(row: readonly number[], self: number): number[] {
  const tieKey = (i: number) => (i === self ? -1 : i);
  const order = row.map((v, i) => ({ v, i })).sort((a, b) => a.v - b.v || tieKey(a.i) - tieKey(b.i));
  const ranks = new Array<number>(row.length);
  order.forEach(({ i }, r) => (ranks[i] = r));
  return ranks;
}
