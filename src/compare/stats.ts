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

export type Alternative = 'two-sided' | 'greater' | 'less';
export type TestName = 'paired-t' | 'wilcoxon' | 'sign';

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
  /** t for the t-test; W+ (sum of positive ranks) for Wilcoxon; number of positive differences for the sign test. */
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

export function pairedTest(test: TestName, d: readonly number[], alternative: Alternative): TestResult {
  switch (test) {
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
