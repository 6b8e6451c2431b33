// Descriptive statistics for the report's tables and plots: mean ± sd over seeds or folds and a
// Student-t 95% interval. (The tests that decide verdicts live in src/compare; the report only
// describes, so this stays small.)

export interface Summary {
  n: number;
  mean: number;
  /** Sample standard deviation (n − 1); 0 when n = 1. */
  sd: number;
  /** Student-t 95% interval of the mean; null when n < 2 (one run has no interval). */
  ci95: [number, number] | null;
}

export function summarize(values: number[]): Summary | null {
  const xs = values.filter((v) => Number.isFinite(v));
  const n = xs.length;
  if (n === 0) return null;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  const half = n > 1 ? tQuantile975(n - 1) * (sd / Math.sqrt(n)) : null;
  return { n, mean, sd, ci95: half === null ? null : [mean - half, mean + half] };
}

// Two-sided 95% critical values of Student's t for 1..30 degrees of freedom.
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12,
  2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/** The 0.975 quantile of Student's t: exact table to 30 df, then the Cornish–Fisher expansion (error < 1e-4). */
export function tQuantile975(df: number): number {
  if (df < 1) return Number.NaN;
  if (df <= 30) return T975[Math.round(df) - 1]!;
  const z = 1.959964;
  return z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df ** 2);
}
