// Statistics over runs pooled from many records (the `repro ui` across-runs view): the mean with its
// t interval, the interquartile mean (IQM) with a stratified bootstrap interval, the probability of
// improvement of one variant over another, and the interval of a difference between two runs.
// IQM, stratified bootstrap and probability of improvement follow rliable (Agarwal et al., 2021,
// "Deep RL at the edge of the statistical precipice"): robust to a seed that diverged, and honest
// about few seeds. Every bootstrap is seeded (src/core/rng.ts), so a page shows the same interval
// each time it is drawn.

import { mulberry32 } from '../core/rng.js';
import { mean, meanCI, sd, tQuantile } from './stats.js';

/** Bootstrap resamples drawn for an interval (rliable's default is 2,000 as well). */
export const BOOTSTRAP_REPS = 2000;
/** The bootstrap's seed when none is given: intervals are reproducible page to page. */
export const BOOTSTRAP_SEED = 20_240_611;

/**
 * The interquartile mean: the mean of the middle half, as rliable computes it (scipy.stats.trim_mean
 * with 25 % cut: ⌊n/4⌋ values dropped at each end, so n = 1..3 keep all of them).
 */
export function iqm(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  const cut = Math.floor(sorted.length * 0.25);
  return mean(sorted.slice(cut, sorted.length - cut));
}

/** The q-quantile (0..1) of sorted values, linearly interpolated (numpy's default, 'linear'). */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export interface BootstrapOptions {
  reps?: number;
  seed?: number;
  /** Interval level (0.95 → the 2.5 % and 97.5 % percentiles). */
  level?: number;
}

/**
 * A percentile bootstrap interval of `statistic` over strata: each resample draws, within every
 * stratum separately, as many values as it has, with replacement (rliable's stratified bootstrap: a
 * stratum is a task; here a fold, or the one group of seeds). null when every stratum has < 2 values.
 */
export function stratifiedBootstrapCI(
  strata: readonly (readonly number[])[],
  statistic: (pooled: number[]) => number,
  opts: BootstrapOptions = {},
): [number, number] | null {
  const nonEmpty = strata.filter((s) => s.length > 0);
  if (!nonEmpty.some((s) => s.length >= 2)) return null;
  const rand = mulberry32(opts.seed ?? BOOTSTRAP_SEED);
  const reps = opts.reps ?? BOOTSTRAP_REPS;
  const level = opts.level ?? 0.95;
  const stats: number[] = new Array(reps);
  const total = nonEmpty.reduce((n, s) => n + s.length, 0);
  const sample = new Array<number>(total);
  for (let r = 0; r < reps; r++) {
    let k = 0;
    for (const s of nonEmpty) for (let i = 0; i < s.length; i++) sample[k++] = s[Math.floor(rand() * s.length)]!;
    stats[r] = statistic(sample);
  }
  stats.sort((a, b) => a - b);
  return [quantileSorted(stats, (1 - level) / 2), quantileSorted(stats, 1 - (1 - level) / 2)];
}

/**
 * P(X > Y) for one draw of each: the share of pairs (x, y) with x better than y, ties counting
 * half (the Mann–Whitney U statistic over n·m). `higherIsBetter` false flips the order (MAE).
 */
export function probabilityOfImprovement(xs: readonly number[], ys: readonly number[], higherIsBetter = true): number {
  if (xs.length === 0 || ys.length === 0) return NaN;
  let wins = 0;
  for (const x of xs) {
    for (const y of ys) {
      if (x === y) wins += 0.5;
      else if (x > y === higherIsBetter) wins += 1;
    }
  }
  return wins / (xs.length * ys.length);
}

/**
 * P(X > Y) averaged over strata (rliable: the mean over tasks of the per-task probability), with a
 * stratified bootstrap interval that resamples X and Y independently within each stratum.
 */
export function probabilityOfImprovementCI(
  strata: ReadonlyArray<{ x: readonly number[]; y: readonly number[] }>,
  higherIsBetter = true,
  opts: BootstrapOptions = {},
): { p: number; ci95: [number, number] | null } {
  const used = strata.filter((s) => s.x.length > 0 && s.y.length > 0);
  if (used.length === 0) return { p: NaN, ci95: null };
  const p = mean(used.map((s) => probabilityOfImprovement(s.x, s.y, higherIsBetter)));
  if (!used.some((s) => s.x.length >= 2 || s.y.length >= 2)) return { p, ci95: null };
  const rand = mulberry32(opts.seed ?? BOOTSTRAP_SEED);
  const reps = opts.reps ?? BOOTSTRAP_REPS;
  const level = opts.level ?? 0.95;
  const draw = (s: readonly number[]) => Array.from({ length: s.length }, () => s[Math.floor(rand() * s.length)]!);
  const stats: number[] = new Array(reps);
  for (let r = 0; r < reps; r++) stats[r] = mean(used.map((s) => probabilityOfImprovement(draw(s.x), draw(s.y), higherIsBetter)));
  stats.sort((a, b) => a - b);
  return { p, ci95: [quantileSorted(stats, (1 - level) / 2), quantileSorted(stats, 1 - (1 - level) / 2)] };
}

/**
 * The difference of two means b − a with Welch's t interval (unequal variances, Welch–Satterthwaite
 * degrees of freedom): two runs' seeds are independent samples, not pairs. null interval when either
 * side has fewer than two values or both have no spread.
 */
export function differenceCI(a: readonly number[], b: readonly number[], level = 0.95): { delta: number; ci95: [number, number] | null } {
  const delta = mean(b) - mean(a);
  if (a.length < 2 || b.length < 2) return { delta, ci95: null };
  const va = sd(a) ** 2 / a.length;
  const vb = sd(b) ** 2 / b.length;
  const se = Math.sqrt(va + vb);
  if (se === 0) return { delta, ci95: null };
  const df = (va + vb) ** 2 / (va ** 2 / (a.length - 1) + vb ** 2 / (b.length - 1));
  const half = tQuantile(1 - (1 - level) / 2, df) * se;
  return { delta, ci95: [delta - half, delta + half] };
}

export interface PooledSummary {
  n: number;
  mean: number;
  /** Student-t 95 % interval of the mean; null below two values. */
  ci95: [number, number] | null;
  iqm: number;
  /** Stratified percentile bootstrap 95 % interval of the IQM; null below two values. */
  iqmCi95: [number, number] | null;
}

/** Mean ± t interval and IQM with its stratified bootstrap interval, for values grouped in strata. */
export function pooledSummary(strata: readonly (readonly number[])[], opts: BootstrapOptions = {}): PooledSummary | null {
  const all = strata.flat();
  if (all.length === 0) return null;
  return {
    n: all.length,
    mean: mean(all),
    ci95: meanCI(all),
    iqm: iqm(all),
    iqmCi95: stratifiedBootstrapCI(strata, iqm, opts),
  };
}
