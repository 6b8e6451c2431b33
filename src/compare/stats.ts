// Statistics for checking a paper's claims across seeds: descriptive summaries, t-based
// confidence intervals and the three paired tests a claim may name (paired t, Wilcoxon
// signed-rank, sign test). Distributions come from jstat; the rank and binomial tests are
// written here because jstat has none. Every function is tested against SciPy values
// (test/compare/stats.test.ts).
//
// Paired tests take the differences d_i = a_i − b_i (already shifted by a margin when a claim has
// one) and test H0: "the centre of d is 0" against an alternative:
//   'greater'   centre > 0,   'less'   centre < 0,   'two-sided'   centre ≠ 0.

import jStat from 'jstat';
import { mulberry32 } from '../core/rng.js';

export type Alternative = 'two-sided' | 'greater' | 'less';
export type TestName = 'sign-flip' | 'paired-t' | 'wilcoxon' | 'sign';

export function mean(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  let s = 0;
  for (const x of xs) s += x;
  const m = s / xs.length;
  // Paired gains that cancel (0.7825 − 0.78, 0.78 − 0.7825, …) leave a rounding residue (2.2e-17 in a
  // report is noise, not a gain): below the noise floor the mean is 0, as sd below it is.
  return Math.abs(m) <= noiseFloor(xs) ? 0 : m;
}

/** Sample standard deviation (n − 1 in the denominator, as the papers' "± sd" across seeds). */
export function sd(xs: readonly number[]): number {
  if (xs.length < 2) return NaN;
  const m = mean(xs);
  let s = 0;
  for (const x of xs) s += (x - m) ** 2;
  const v = Math.sqrt(s / (xs.length - 1));
  // Equal values summed in floating point leave a residue (0.1 + 0.1 + 0.1): that is no variation.
  return v <= noiseFloor(xs) ? 0 : v;
}

export function tCdf(t: number, df: number): number {
  if (t === Infinity) return 1;
  if (t === -Infinity) return 0;
  return jStat.studentt.cdf(t, df);
}

export function tQuantile(p: number, df: number): number {
  return jStat.studentt.inv(p, df);
}

export function normalCdf(z: number): number {
  if (z === Infinity) return 1;
  if (z === -Infinity) return 0;
  return jStat.normal.cdf(z, 0, 1);
}

export function normalQuantile(p: number): number {
  return jStat.normal.inv(p, 0, 1);
}

/**
 * Two-sided t confidence interval of the mean at `level` (0.95 → the 95 % CI).
 * null for fewer than two values: one run gives no interval.
 */
export function meanCI(xs: readonly number[], level = 0.95): [number, number] | null {
  const n = xs.length;
  if (n < 2) return null;
  const m = mean(xs);
  const half = tQuantile(1 - (1 - level) / 2, n - 1) * (sd(xs) / Math.sqrt(n));
  return [m - half, m + half];
}

/**
 * The standard error of b's mean − a's for two independent samples (unequal variances) and its
 * Welch–Satterthwaite degrees of freedom; with one side constant, the other side's n − 1 (df 1 when
 * both are: se is 0 then and the interval is the point). Both sides need two values.
 */
export function welch(a: readonly number[], b: readonly number[]): { se: number; df: number } {
  const va = sd(a) ** 2 / a.length;
  const vb = sd(b) ** 2 / b.length;
  const se = Math.sqrt(va + vb);
  return { se, df: se === 0 ? 1 : (va + vb) ** 2 / (va ** 2 / (a.length - 1) + vb ** 2 / (b.length - 1)) };
}

export interface Summary {
  n: number;
  mean: number;
  sd: number;
  ci95: [number, number];
}

/** n, mean, sd and 95 % CI; null below two values (no sd, no interval). */
export function summarize(xs: readonly number[]): Summary | null {
  const ci = meanCI(xs, 0.95);
  if (!ci) return null;
  return { n: xs.length, mean: mean(xs), sd: sd(xs), ci95: ci };
}

/** Cohen's d_z for paired data: mean difference over the sd of the differences. */
export function cohensDz(d: readonly number[]): number {
  const s = sd(d);
  const m = mean(d);
  if (s === 0) return m === 0 ? 0 : Math.sign(m) * Infinity;
  return m / s;
}

export interface TestResult {
  test: TestName;
  alternative: Alternative;
  /** t for the t-test; W+ (sum of positive ranks) for Wilcoxon; number of positive differences for the sign test; the sum of the differences for the sign-flip test. */
  statistic: number;
  pValue: number;
  /** Differences that entered the test (zeros are dropped by the rank and sign tests). */
  n: number;
  /** How p was computed: 't' | 'exact' | 'normal'. */
  method: string;
  /**
   * The smallest one-sided p this test could give with this n. When it is not below α, the test
   * can never reject whatever the data: the verdict is then "too few runs", not "not reproduced".
   */
  minPValue: number;
}

// Differences this small relative to the data are rounding noise (0.3 − 0.1 − 0.2), not effects:
// the rank and sign tests treat them as zeros, and equal-up-to-noise magnitudes as ties.
const RELATIVE_NOISE = 1e-12;

function noiseFloor(d: readonly number[]): number {
  let max = 0;
  for (const x of d) max = Math.max(max, Math.abs(x));
  return RELATIVE_NOISE * Math.max(1, max);
}

function tailP(lower: number, upper: number, alternative: Alternative): number {
  if (alternative === 'greater') return upper;
  if (alternative === 'less') return lower;
  return Math.min(1, 2 * Math.min(lower, upper));
}

/** One-sample t-test on the paired differences (scipy.stats.ttest_rel / ttest_1samp). */
export function pairedTTest(d: readonly number[], alternative: Alternative = 'two-sided'): TestResult {
  const n = d.length;
  const df = n - 1;
  const m = mean(d);
  const s = sd(d);
  let t: number;
  if (n < 2) t = NaN;
  else if (s === 0) t = m === 0 ? NaN : Math.sign(m) * Infinity;
  else t = m / (s / Math.sqrt(n));
  // No variation and no difference (or one pair): no evidence either way.
  const pValue = Number.isNaN(t) ? 1 : tailP(tCdf(t, df), tCdf(-t, df), alternative);
  return { test: 'paired-t', alternative, statistic: t, pValue, n, method: 't', minPValue: n >= 2 ? 0 : 1 };
}

/**
 * Average ranks ("midranks") of |d|, 1-based, as integers doubled so that ties (x.5 ranks) stay
 * exact in the exact distribution below. Magnitudes equal up to rounding noise are ties.
 */
function doubledMidranks(abs: readonly number[]): { ranks2: number[]; tieGroups: number[] } {
  const order = abs.map((_, i) => i).sort((i, j) => abs[i]! - abs[j]!);
  const ranks2 = new Array<number>(abs.length);
  const tieGroups: number[] = [];
  const floor = noiseFloor(abs);
  for (let start = 0; start < order.length; ) {
    let end = start + 1;
    while (end < order.length && abs[order[end]!]! - abs[order[start]!]! <= floor) end++;
    // Ranks start+1 … end share their mean; doubled: (start+1 + end).
    for (let k = start; k < end; k++) ranks2[order[k]!] = start + 1 + end;
    tieGroups.push(end - start);
    start = end;
  }
  return { ranks2, tieGroups };
}

/** Largest n for which the exact distribution is used; SciPy switches at the same point. */
export const WILCOXON_EXACT_MAX_N = 50;

/**
 * Wilcoxon signed-rank test on paired differences.
 * - Zeros are dropped before ranking (Wilcoxon's original rule, SciPy's zero_method='wilcox').
 * - Tied magnitudes get their average rank.
 * - n ≤ 50 non-zero differences: exact p from the distribution of W+ over all 2^n sign patterns
 *   of the observed ranks. With ties this is the exact conditional (permutation) distribution, the
 *   value scipy.stats.permutation_test gives; SciPy's own method='exact' ignores ties instead.
 * - n > 50: normal approximation with the tie-corrected variance, no continuity correction
 *   (SciPy's method='approx' defaults).
 */
export function wilcoxonSignedRank(
  d: readonly number[],
  alternative: Alternative = 'two-sided',
  /** 'auto': exact up to WILCOXON_EXACT_MAX_N; 'normal' forces the approximation (tests compare it with SciPy). */
  method: 'auto' | 'normal' = 'auto',
): TestResult {
  const floor = noiseFloor(d);
  const nz = d.filter((x) => Math.abs(x) > floor);
  const n = nz.length;
  if (n === 0) {
    return { test: 'wilcoxon', alternative, statistic: 0, pValue: 1, n: 0, method: 'exact', minPValue: 1 };
  }
  const { ranks2, tieGroups } = doubledMidranks(nz.map(Math.abs));
  let wPlus2 = 0;
  nz.forEach((x, i) => {
    if (x > 0) wPlus2 += ranks2[i]!;
  });
  const statistic = wPlus2 / 2;
  if (method === 'auto' && n <= WILCOXON_EXACT_MAX_N) {
    // dist[s] = P(2·W+ = s) when each rank's sign is + or − with probability ½.
    const total = ranks2.reduce((a, b) => a + b, 0);
    let dist = new Float64Array(total + 1);
    dist[0] = 1;
    for (const r of ranks2) {
      const next = new Float64Array(total + 1);
      for (let s = 0; s <= total; s++) {
        const p = dist[s]!;
        if (p === 0) continue;
        next[s] = next[s]! + p / 2;
        next[s + r] = next[s + r]! + p / 2;
      }
      dist = next;
    }
    let lower = 0;
    let upper = 0;
    for (let s = 0; s <= total; s++) {
      if (s <= wPlus2) lower += dist[s]!;
      if (s >= wPlus2) upper += dist[s]!;
    }
    return {
      test: 'wilcoxon',
      alternative,
      statistic,
      pValue: Math.min(1, tailP(lower, upper, alternative)),
      n,
      method: 'exact',
      minPValue: 2 ** -n,
    };
  }
  const expected = (n * (n + 1)) / 4;
  const tieCorrection = tieGroups.reduce((acc, t) => acc + (t ** 3 - t), 0) / 48;
  const variance = (n * (n + 1) * (2 * n + 1)) / 24 - tieCorrection;
  const z = (statistic - expected) / Math.sqrt(variance);
  return {
    test: 'wilcoxon',
    alternative,
    statistic,
    pValue: tailP(normalCdf(z), normalCdf(-z), alternative),
    n,
    method: 'normal',
    minPValue: 2 ** -n,
  };
}

/** P(X ≤ k) and P(X ≥ k) for X ~ Binomial(n, ½), summed in log space so large n cannot underflow. */
function binomialHalfTails(k: number, n: number): { lower: number; upper: number } {
  const logHalfN = n * Math.log(0.5);
  const logChoose = (i: number) => jStat.gammaln(n + 1) - jStat.gammaln(i + 1) - jStat.gammaln(n - i + 1);
  let lower = 0;
  let upper = 0;
  for (let i = 0; i <= n; i++) {
    const p = Math.exp(logChoose(i) + logHalfN);
    if (i <= k) lower += p;
    if (i >= k) upper += p;
  }
  return { lower: Math.min(1, lower), upper: Math.min(1, upper) };
}

/**
 * Sign test: the number of positive differences among the non-zero ones is Binomial(n, ½) under
 * H0. Zeros are dropped. Two-sided p is twice the smaller tail, capped at 1 — for p = ½ this equals
 * scipy.stats.binomtest's two-sided p.
 */
export function signTest(d: readonly number[], alternative: Alternative = 'two-sided'): TestResult {
  const floor = noiseFloor(d);
  const nz = d.filter((x) => Math.abs(x) > floor);
  const n = nz.length;
  const k = nz.filter((x) => x > 0).length;
  const { lower, upper } = binomialHalfTails(k, n);
  return {
    test: 'sign',
    alternative,
    statistic: k,
    pValue: tailP(lower, upper, alternative),
    n,
    method: 'exact',
    minPValue: n === 0 ? 1 : 2 ** -n,
  };
}

/** Largest n for which the sign-flip test enumerates all 2^n sign patterns (two halves of 2^15 sums each). */
export const SIGN_FLIP_EXACT_MAX_N = 30;
/** Random sign patterns drawn above SIGN_FLIP_EXACT_MAX_N (seeded, so a verdict is the same on every run). */
export const SIGN_FLIP_DRAWS = 200_000;

/** Every sum Σ ε_i·x_i over the 2^k sign patterns ε ∈ {−1, +1}^k of xs (x ≥ 0), sorted: each x merges the sorted sums − x and + x. */
function signedSums(xs: readonly number[]): Float64Array {
  let sums = new Float64Array([0]);
  for (const x of xs) {
    const m = sums.length;
    const next = new Float64Array(2 * m);
    let i = 0;
    let j = 0;
    for (let k = 0; k < 2 * m; k++) {
      if (j >= m || (i < m && sums[i]! - x <= sums[j]! + x)) next[k] = sums[i++]! - x;
      else next[k] = sums[j++]! + x;
    }
    sums = next;
  }
  return sums;
}

/** How many pairs (l, r) of the two sorted lists have l + r ≤ v: one pass, the pointer into `right` only falls. */
function pairsAtMost(left: Float64Array, right: Float64Array, v: number): number {
  let count = 0;
  let j = right.length;
  for (let i = 0; i < left.length; i++) {
    while (j > 0 && left[i]! + right[j - 1]! > v) j--;
    count += j;
  }
  return count;
}

/**
 * Sign-flip permutation test of the paired differences (Fisher 1935; the one-sample permutation test).
 * Under H0 "the two variants are interchangeable" each difference is as likely to have either sign
 * (the distribution of d is symmetric about 0), so the observed sum Σd is compared with the sums of all
 * 2^n sign patterns of |d|. The p is exact at every n and every α for any symmetric distribution,
 * heavy-tailed ones included, and it can never fall below 2^−n (non-zero differences): a tiny α needs
 * enough seeds to be reachable at all. Because Σd² does not change under sign flips, the test is the
 * same as the permutation test of the t statistic, which is asymptotically valid for H0 "mean 0" even
 * when d is not symmetric (Janssen 1997); with strongly skewed d and few pairs it errs as the t-test does.
 * - n ≤ 30: exact, by meet in the middle (the sums of each half, sorted, counted against each other).
 * - n > 30: SIGN_FLIP_DRAWS random patterns from a fixed seed, p = (1 + hits) / (1 + draws) (still a valid test).
 */
export function signFlipTest(d: readonly number[], alternative: Alternative = 'two-sided', draws = SIGN_FLIP_DRAWS): TestResult {
  const floor = noiseFloor(d);
  const nz = d.filter((x) => Math.abs(x) > floor);
  const n = nz.length;
  let observed = 0;
  for (const x of nz) observed += x;
  if (n === 0) return { test: 'sign-flip', alternative, statistic: 0, pValue: 1, n: 0, method: 'exact', minPValue: 1 };
  // Sums equal up to rounding count as ties (both tails include the observed pattern itself).
  const tol = floor * n * 4;
  const abs = nz.map(Math.abs);
  let lower: number;
  let upper: number;
  let method: string;
  if (n <= SIGN_FLIP_EXACT_MAX_N) {
    const half = Math.floor(n / 2);
    const left = signedSums(abs.slice(0, half));
    const right = signedSums(abs.slice(half));
    const total = left.length * right.length;
    lower = pairsAtMost(left, right, observed + tol) / total;
    upper = (total - pairsAtMost(left, right, observed - tol)) / total;
    method = 'exact';
  } else {
    const uniform = mulberry32(0x5eed);
    let hitsLow = 0;
    let hitsHigh = 0;
    for (let r = 0; r < draws; r++) {
      let s = 0;
      for (const x of abs) s += uniform() < 0.5 ? -x : x;
      if (s <= observed + tol) hitsLow++;
      if (s >= observed - tol) hitsHigh++;
    }
    lower = (1 + hitsLow) / (1 + draws);
    upper = (1 + hitsHigh) / (1 + draws);
    method = `monte-carlo (${draws} sign patterns)`;
  }
  return {
    test: 'sign-flip',
    alternative,
    statistic: observed,
    pValue: Math.min(1, tailP(lower, upper, alternative)),
    n,
    method,
    minPValue: n <= SIGN_FLIP_EXACT_MAX_N ? 2 ** -n : 1 / (1 + draws),
  };
}

/** Whether every difference is the same (sd 0 up to rounding): a paired test then has nothing to weigh them by. */
export function zeroVariance(d: readonly number[]): boolean {
  return d.length >= 2 && sd(d) === 0;
}

export function pairedTest(test: TestName, d: readonly number[], alternative: Alternative): TestResult {
  switch (test) {
    case 'sign-flip':
      return signFlipTest(d, alternative);
    case 'paired-t':
      return pairedTTest(d, alternative);
    case 'wilcoxon':
      return wilcoxonSignedRank(d, alternative);
    case 'sign':
      return signTest(d, alternative);
  }
}

/**
 * Power of the one-sided paired t-test at level α with n pairs, when the true mean of the
 * differences is `effect` (> 0, beyond the line tested) and their sd is `sd`: 1 − F_nct(t_{1−α, n−1}; n − 1, effect·√n/sd),
 * the noncentral t as G*Power and statsmodels' TTestPower compute it.
 */
export function pairedTPower(n: number, effect: number, sdOfDiffs: number, alpha: number): number {
  if (n < 2 || !(sdOfDiffs > 0)) return NaN;
  const df = n - 1;
  const crit = tQuantile(1 - alpha, df);
  return 1 - jStat.noncentralt.cdf(crit, df, (effect * Math.sqrt(n)) / sdOfDiffs);
}

/**
 * The fewest pairs (seeds, folds) for which the one-sided paired t-test at α reaches `power` against
 * a true difference `effect` with sd `sd`; null beyond `max` (the effect is hopeless at this sd).
 */
export function pairsForPower(effect: number, sdOfDiffs: number, alpha: number, power = 0.8, max = 100_000): number | null {
  if (!(effect > 0) || !(sdOfDiffs > 0)) return null;
  // The normal approximation gives a start a little below the answer; step up from there.
  const z = normalQuantile(1 - alpha) + normalQuantile(power);
  let n = Math.max(2, Math.floor((z * sdOfDiffs / effect) ** 2));
  if (n > max) return null;
  while (pairedTPower(n, effect, sdOfDiffs, alpha) < power) {
    n++;
    if (n > max) return null;
  }
  // The approximation can overshoot for tiny n: walk back while the smaller n still has the power.
  while (n > 2 && pairedTPower(n - 1, effect, sdOfDiffs, alpha) >= power) n--;
  return n;
}

// ——— group-sequential boundaries ———
//
// One-sided efficacy boundaries c_1 … c_K for standardised statistics Z_k observed at information
// fractions t_1 < … < t_K (t_k = n_k / n_max), so that under H0 P(Z_k ≥ c_k for some k) = α and the α
// crossed by look k is the spending function's α(t_k) (Lan & DeMets 1983). The joint distribution of
// (Z_1, …, Z_K) is that of a Brownian motion: Z_k·√t_k has independent increments of variance t_k − t_{k−1}
// and mean θ·(t_k − t_{k−1}) under a drift θ. The crossing probabilities come from the recursive numerical
// integration of Armitage, McPherson & Rowe (1969), with Simpson's rule on a grid over the continuation
// region (Jennison & Turnbull 2000, ch. 19), as gsDesign and ldbounds compute them.

export type SpendingFunction = 'obrien-fleming' | 'pocock';

/** α spent by information fraction t (0 < t ≤ 1): Lan–DeMets O'Brien–Fleming-type or Pocock-type. */
export function alphaSpent(t: number, alpha: number, spending: SpendingFunction = 'obrien-fleming'): number {
  if (t <= 0) return 0;
  if (t >= 1) return alpha;
  if (spending === 'pocock') return alpha * Math.log(1 + (Math.E - 1) * t);
  return 2 - 2 * normalCdf(normalQuantile(1 - alpha / 2) / Math.sqrt(t));
}

const GRID_STEP = 0.025;
const GRID_REACH = 9;

interface Grid {
  z: Float64Array;
  /** Simpson weights times the density of Z_k at z, restricted to the continuation region (no crossing so far). */
  mass: Float64Array;
}

function normalPdf(x: number): number {
  return Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
}

/** Simpson's rule nodes over [a, b]: an odd number of points, weights h/3·(1, 4, 2, …, 4, 1). */
function simpson(a: number, b: number): { z: Float64Array; w: Float64Array } {
  const intervals = Math.max(2, 2 * Math.ceil((b - a) / GRID_STEP / 2));
  const h = (b - a) / intervals;
  const z = new Float64Array(intervals + 1);
  const w = new Float64Array(intervals + 1);
  for (let i = 0; i <= intervals; i++) {
    z[i] = a + i * h;
    w[i] = (h / 3) * (i === 0 || i === intervals ? 1 : i % 2 ? 4 : 2);
  }
  return { z, w };
}

/** P(no crossing before look k, Z_k ≥ c) under drift θ, from look k − 1's grid. */
function crossing(prev: Grid | null, tPrev: number, t: number, c: number, theta: number): number {
  if (c === Infinity) return 0;
  if (!prev) return 1 - normalCdf(c - theta * Math.sqrt(t));
  const dt = t - tPrev;
  let p = 0;
  for (let j = 0; j < prev.z.length; j++) {
    p += prev.mass[j]! * (1 - normalCdf((c * Math.sqrt(t) - prev.z[j]! * Math.sqrt(tPrev) - theta * dt) / Math.sqrt(dt)));
  }
  return p;
}

/** The density of Z_k on its continuation region z < c (weighted for the next look's integral). */
function propagate(prev: Grid | null, tPrev: number, t: number, c: number, theta: number): Grid {
  const centre = theta * Math.sqrt(t);
  const { z, w } = simpson(centre - GRID_REACH, Math.min(c, centre + GRID_REACH));
  const mass = new Float64Array(z.length);
  const dt = t - tPrev;
  for (let i = 0; i < z.length; i++) {
    let f: number;
    if (!prev) f = normalPdf(z[i]! - centre);
    else {
      f = 0;
      const scale = Math.sqrt(t / dt);
      for (let j = 0; j < prev.z.length; j++) {
        f += prev.mass[j]! * scale * normalPdf((z[i]! * Math.sqrt(t) - prev.z[j]! * Math.sqrt(tPrev) - theta * dt) / Math.sqrt(dt));
      }
    }
    mass[i] = f * w[i]!;
  }
  return { z, mass };
}

export interface SequentialBoundaries {
  fractions: number[];
  /** Critical values of Z per look (Infinity where the look spends no α). */
  z: number[];
  /** The nominal one-sided p each look rejects below: 1 − Φ(z_k). */
  nominal: number[];
  /** α spent by each look: the spending function's increments. */
  spent: number[];
}

/**
 * Exact one-sided group-sequential boundaries for looks at information fractions `fractions`
 * (increasing, in (0, 1]; the last need not be 1: a budget that ended early keeps the earlier looks' values).
 */
export function sequentialBoundaries(fractions: readonly number[], alpha: number, spending: SpendingFunction = 'obrien-fleming'): SequentialBoundaries {
  const z: number[] = [];
  const spent: number[] = [];
  let grid: Grid | null = null;
  let tPrev = 0;
  let cumulative = 0;
  for (const t of fractions) {
    const target = Math.max(0, alphaSpent(t, alpha, spending) - cumulative);
    let c: number;
    if (target <= 1e-15) c = Infinity;
    else if (!grid) c = normalQuantile(1 - target);
    else {
      // P(cross at k) falls as c rises: bisect on c.
      let lo = -GRID_REACH;
      let hi = GRID_REACH;
      for (let it = 0; it < 45; it++) {
        const mid = (lo + hi) / 2;
        if (crossing(grid, tPrev, t, mid, 0) > target) lo = mid;
        else hi = mid;
      }
      c = (lo + hi) / 2;
    }
    z.push(c);
    const p = crossing(grid, tPrev, t, c, 0);
    spent.push(p);
    cumulative += p;
    grid = propagate(grid, tPrev, t, c, 0);
    tPrev = t;
  }
  return { fractions: [...fractions], z, nominal: z.map((c) => 1 - normalCdf(c)), spent };
}

/**
 * Probability that a one-sided design with boundaries `z` at `fractions` crosses at some look when the
 * standardised drift at the full information is θ (θ = effect·√n_max / sd for paired gains): its power at
 * that effect, and under θ = 0 its type-I error.
 */
export function sequentialCrossing(fractions: readonly number[], z: readonly number[], theta: number): number {
  let grid: Grid | null = null;
  let tPrev = 0;
  let total = 0;
  fractions.forEach((t, k) => {
    total += crossing(grid, tPrev, t, z[k]!, theta);
    grid = propagate(grid, tPrev, t, z[k]!, theta);
    tPrev = t;
  });
  return total;
}
