// Statistics over runs pooled from many records (the `repro ui` across-runs view): the mean with its
// t interval, the interquartile mean (IQM) with a stratified bootstrap interval, the probability of
// improvement of one variant over another, and the interval of a difference between two runs.
// IQM, stratified bootstrap and probability of improvement follow rliable (Agarwal et al., 2021,
// "Deep RL at the edge of the statistical precipice"): robust to a seed that diverged, and honest
// about few seeds. Every bootstrap is seeded (src/core/rng.ts), so a page shows the same interval
// each time it is drawn.

import { mulberry32 } from '../core/rng.js';
import { mean, meanCI, tQuantile, welch } from './stats.js';

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

function percentiles(stats: number[], level: number): [number, number] {
  stats.sort((a, b) => a - b);
  return [quantileSorted(stats, (1 - level) / 2), quantileSorted(stats, 1 - (1 - level) / 2)];
}

/**
 * The IQM of a sample given as counts over sorted values (counts[i] copies of values[i]): what a
 * bootstrap resample is, without building it.
 */
export function iqmOfCounts(values: readonly number[], counts: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < values.length; i++) total += counts[i]!;
  if (total === 0) return NaN;
  const cut = Math.floor(total * 0.25);
  const end = total - cut;
  let start = 0;
  let sum = 0;
  for (let i = 0; i < values.length && start < end; i++) {
    const c = counts[i]!;
    const overlap = Math.min(start + c, end) - Math.max(start, cut);
    if (overlap > 0) sum += overlap * values[i]!;
    start += c;
  }
  return sum / (end - cut);
}

/**
 * A percentile bootstrap interval of `statistic` over strata: each resample draws, within every
 * stratum separately, as many values as it has, with replacement (rliable's stratified bootstrap: a
 * stratum is a task; here a fold, or the one group of seeds). A resample is handed to `statistic`
 * as counts over the pooled values sorted once (as `iqmOfCounts` takes it), so it costs O(n) and
 * neither a copy nor a sort. null when no stratum has two values.
 */
export function stratifiedBootstrapCI(
  strata: readonly (readonly number[])[],
  statistic: (sortedValues: readonly number[], counts: Int32Array) => number,
  opts: BootstrapOptions = {},
): [number, number] | null {
  const nonEmpty = strata.filter((s) => s.length > 0);
  if (!nonEmpty.some((s) => s.length >= 2)) return null;
  const rand = mulberry32(opts.seed ?? BOOTSTRAP_SEED);
  const reps = opts.reps ?? BOOTSTRAP_REPS;
  // Every value with its stratum, sorted by value; each stratum's positions in that order.
  const order = nonEmpty.flatMap((s, k) => s.map((v) => ({ v, k }))).sort((a, b) => a.v - b.v);
  const values = order.map((o) => o.v);
  const positions = nonEmpty.map(() => [] as number[]);
  order.forEach((o, i) => positions[o.k]!.push(i));
  const counts = new Int32Array(values.length);
  const stats: number[] = new Array(reps);
  for (let r = 0; r < reps; r++) {
    counts.fill(0);
    for (const pos of positions) for (let i = 0; i < pos.length; i++) counts[pos[Math.floor(rand() * pos.length)]!]!++;
    stats[r] = statistic(values, counts);
  }
  return percentiles(stats, opts.level ?? 0.95);
}

/** The first index of sorted `xs` whose value is ≥ v (strict: > v). */
function bound(xs: readonly number[], v: number, strict: boolean): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (strict ? xs[mid]! <= v : xs[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** One stratum prepared for P(X > Y): y sorted, and where each x falls among the y (below, tied). */
function prepare(xs: readonly number[], ys: readonly number[]) {
  const sortedY = [...ys].sort((a, b) => a - b);
  return { xs, m: ys.length, lo: xs.map((x) => bound(sortedY, x, false)), hi: xs.map((x) => bound(sortedY, x, true)) };
}

/**
 * P(X > Y) for one draw of each: the share of pairs (x, y) with x better than y, ties counting
 * half (the Mann–Whitney U statistic over n·m). `higherIsBetter` false flips the order (MAE).
 */
export function probabilityOfImprovement(xs: readonly number[], ys: readonly number[], higherIsBetter = true): number {
  if (xs.length === 0 || ys.length === 0) return NaN;
  const p = prepare(xs, ys);
  let wins = 0;
  for (let i = 0; i < xs.length; i++) {
    const below = p.lo[i]!;
    const tied = p.hi[i]! - p.lo[i]!;
    wins += (higherIsBetter ? below : p.m - p.hi[i]!) + tied / 2;
  }
  return wins / (xs.length * ys.length);
}

/**
 * P(X > Y) averaged over strata (rliable: the mean over tasks of the per-task probability), with a
 * stratified bootstrap interval that resamples X and Y independently within each stratum. A
 * resample of Y is counts over Y sorted once, so each costs O(n + m), not O(n·m).
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
  const prepared = used.map((s) => prepare(s.x, s.y));
  const stats: number[] = new Array(reps);
  for (let r = 0; r < reps; r++) {
    let sum = 0;
    for (const s of prepared) {
      // below[k]: how many drawn y sit at sorted positions < k.
      const below = new Int32Array(s.m + 1);
      for (let j = 0; j < s.m; j++) below[Math.floor(rand() * s.m) + 1]!++;
      for (let k = 1; k <= s.m; k++) below[k]! += below[k - 1]!;
      let wins = 0;
      for (let i = 0; i < s.xs.length; i++) {
        const d = Math.floor(rand() * s.xs.length);
        const lo = below[s.lo[d]!]!;
        const hi = below[s.hi[d]!]!;
        wins += (higherIsBetter ? lo : s.m - hi) + (hi - lo) / 2;
      }
      sum += wins / (s.xs.length * s.m);
    }
    stats[r] = sum / prepared.length;
  }
  return { p, ci95: percentiles(stats, opts.level ?? 0.95) };
}

/**
 * The difference of two means b − a with Welch's t interval (unequal variances, Welch–Satterthwaite
 * degrees of freedom): two runs' seeds are independent samples, not pairs. null interval when either
 * side has fewer than two values or both have no spread.
 */
export function differenceCI(a: readonly number[], b: readonly number[], level = 0.95): { delta: number; ci95: [number, number] | null } {
  const delta = mean(b) - mean(a);
  if (a.length < 2 || b.length < 2) return { delta, ci95: null };
  const { se, df } = welch(a, b);
  if (se === 0) return { delta, ci95: null };
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
    iqmCi95: stratifiedBootstrapCI(strata, iqmOfCounts, opts),
  };
}
