import { describe, expect, it } from 'vitest';
import {
  cohensDz,
  mean,
  meanCI,
  normalCdf,
  normalQuantile,
  pairedTTest,
  sd,
  signFlipTest,
  signTest,
  summarize,
  zeroVariance,
  SIGN_FLIP_DRAWS,
  tCdf,
  tQuantile,
  wilcoxonSignedRank,
} from '../../src/compare/stats.js';

// Reference values were produced once with SciPy 1.17.1 (scipy.stats.ttest_1samp / ttest_rel,
// wilcoxon, binomtest, permutation_test, t, norm) and are written here as constants.

// Five seeds of a gain in accuracy: the shape the flagship produces.
const gains = [0.02, 0.035, -0.01, 0.05, 0.04];

// Hollander & Wolfe (1973, p. 29): Hamilton depression scale before (x) and after (y) a tranquilizer;
// the textbook example of the Wilcoxon signed-rank test (also R's ?wilcox.test).
const hwX = [1.83, 0.5, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.3];
const hwY = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29];
const hwD = hwX.map((x, i) => x - hwY[i]!);

describe('distributions (jstat) against SciPy', () => {
  it('t and normal quantiles and cdfs', () => {
    expect(tQuantile(0.975, 4)).toBeCloseTo(2.7764451051977934, 6);
    expect(tQuantile(0.95, 9)).toBeCloseTo(1.833112932656237, 6);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 9);
    expect(tCdf(-2, 4)).toBeCloseTo(0.05805826175840778, 9);
    expect(normalCdf(0)).toBeCloseTo(0.5, 12);
    expect(tCdf(Infinity, 3)).toBe(1);
  });
});

describe('descriptive statistics', () => {
  it('mean, sample sd and the 95 % t interval', () => {
    expect(mean(gains)).toBeCloseTo(0.027, 12);
    expect(sd(gains)).toBeCloseTo(0.023345235059857507, 12);
    const ci = meanCI(gains)!;
    expect(ci[0]).toBeCloseTo(-0.0019869379034293567, 8);
    expect(ci[1]).toBeCloseTo(0.05598693790342936, 8);
  });

  it('a mean that should cancel is exactly 0, not its rounding residue; a small real mean stays', () => {
    // Accuracies of two variants on 400 test images, the same values in another order: the gains sum to 0.
    const a = [0.425, 0.925, 0.6825, 0.155, 0.57];
    const diffs = a.map((x, i) => x - a[a.length - 1 - i]!);
    expect(diffs.reduce((a, b) => a + b, 0)).not.toBe(0); // the residue this guards against
    expect(mean(diffs)).toBe(0);
    expect(mean([1e-6, 3e-6])).toBeCloseTo(2e-6, 15);
  });

  it('gives no sd or interval for a single run', () => {
    expect(sd([0.5])).toBeNaN();
    expect(meanCI([0.5])).toBeNull();
    expect(summarize([0.5])).toBeNull();
  });

  it("Cohen's d_z is the mean difference over the sd of the differences", () => {
    expect(cohensDz(gains)).toBeCloseTo(0.027 / 0.023345235059857507, 10);
    expect(cohensDz([0.1, 0.1, 0.1])).toBe(Infinity);
    expect(cohensDz([0, 0])).toBe(0);
  });
});

describe('paired t-test', () => {
  it('matches scipy.stats.ttest_1samp on five seeds', () => {
    const two = pairedTTest(gains, 'two-sided');
    expect(two.statistic).toBeCloseTo(2.586130970097109, 9);
    expect(two.pValue).toBeCloseTo(0.06093196844741854, 8);
    expect(pairedTTest(gains, 'greater').pValue).toBeCloseTo(0.03046598422370927, 8);
    expect(pairedTTest(gains, 'less').pValue).toBeCloseTo(1 - 0.03046598422370927, 8);
  });

  it('matches scipy.stats.ttest_rel on the Hollander–Wolfe data, CI included', () => {
    const r = pairedTTest(hwD, 'two-sided');
    expect(r.statistic).toBeCloseTo(3.0353754156485917, 8);
    expect(r.pValue).toBeCloseTo(0.016176627434908088, 8);
    const ci = meanCI(hwD)!;
    expect(ci[0]).toBeCloseTo(0.10377871227216856, 8);
    expect(ci[1]).toBeCloseTo(0.7599990655056093, 8);
  });

  it('handles no variation: a constant gain is certain, no gain is no evidence', () => {
    expect(pairedTTest([0.01, 0.01, 0.01], 'greater').pValue).toBe(0);
    expect(pairedTTest([0.01, 0.01, 0.01], 'less').pValue).toBe(1);
    expect(pairedTTest([0, 0, 0], 'greater').pValue).toBe(1);
    expect(pairedTTest([0.3], 'greater').minPValue).toBe(1);
  });
});

describe('Wilcoxon signed-rank', () => {
  it('exact p without ties matches scipy.stats.wilcoxon', () => {
    const two = wilcoxonSignedRank(hwD, 'two-sided');
    expect(two.method).toBe('exact');
    expect(two.statistic).toBe(40); // W+ = 45 − 5 (SciPy reports min(W+, W−) = 5)
    expect(two.pValue).toBeCloseTo(0.0390625, 12);
    expect(wilcoxonSignedRank(hwD, 'greater').pValue).toBeCloseTo(0.01953125, 12);
    expect(wilcoxonSignedRank(gains, 'two-sided').pValue).toBeCloseTo(0.125, 12);
    expect(wilcoxonSignedRank(gains, 'greater').pValue).toBeCloseTo(0.0625, 12);
  });

  it('with ties and a zero: exact conditional p equals scipy.stats.permutation_test', () => {
    // The zero is dropped; |d| has ties (2,2,2 … 3,3,3): midranks.
    const d = [1, 2, 2, -1, 3, 0, 3, 3, -2, 4];
    const two = wilcoxonSignedRank(d, 'two-sided');
    expect(two.n).toBe(9);
    expect(two.statistic).toBe(39.5);
    expect(two.pValue).toBeCloseTo(0.05078125, 12);
    expect(wilcoxonSignedRank(d, 'greater').pValue).toBeCloseTo(0.025390625, 12);
    // SciPy's normal approximation (tie-corrected variance, zeros dropped, no continuity correction).
    expect(wilcoxonSignedRank(d, 'two-sided', 'normal').pValue).toBeCloseTo(0.042348725650043925, 10);
    expect(wilcoxonSignedRank(d, 'greater', 'normal').pValue).toBeCloseTo(0.021174362825021963, 10);
  });

  it('uses the normal approximation above 50 pairs, as SciPy does', () => {
    const big = Array.from({ length: 60 }, (_, k) => Math.sin(k + 1) + 0.1);
    const two = wilcoxonSignedRank(big, 'two-sided');
    expect(two.method).toBe('normal');
    expect(two.statistic).toBe(1127); // SciPy: min(W+, W−) = 703; W+ + W− = 1830
    expect(two.pValue).toBeCloseTo(0.1186040324703133, 10);
    expect(wilcoxonSignedRank(big, 'greater').pValue).toBeCloseTo(0.05930201623515665, 10);
  });

  it('treats rounding noise as zero and knows the smallest p it can reach', () => {
    const noisy = [0.3 - 0.1 - 0.2, 0.01, 0.02];
    const r = wilcoxonSignedRank(noisy, 'greater');
    expect(r.n).toBe(2);
    expect(r.minPValue).toBe(0.25);
    expect(r.pValue).toBeCloseTo(0.25, 12);
    expect(wilcoxonSignedRank([0, 0], 'greater').pValue).toBe(1);
  });
});

describe('sign test', () => {
  it('matches scipy.stats.binomtest', () => {
    expect(signTest(gains, 'two-sided').pValue).toBeCloseTo(0.375, 12);
    expect(signTest(gains, 'greater').pValue).toBeCloseTo(0.1875, 12);
    const seven = [1, 1, 1, 1, 1, 1, 1, -1, -1, 0];
    expect(signTest(seven, 'two-sided').statistic).toBe(7);
    expect(signTest(seven, 'two-sided').pValue).toBeCloseTo(0.1796875, 12);
    expect(signTest(seven.map((x) => -x), 'less').pValue).toBeCloseTo(0.08984375, 12);
  });

  it('gives p = 1 for a balanced split and survives large n', () => {
    expect(signTest([1, -1, 1, -1], 'two-sided').pValue).toBe(1);
    const many = Array.from({ length: 2000 }, (_, i) => (i % 3 === 0 ? -1 : 1));
    expect(signTest(many, 'greater').pValue).toBeLessThan(1e-40);
    expect(signTest(many, 'less').pValue).toBeCloseTo(1, 8);
  });
});

describe('power of the paired t-test (G*Power 3.1, one-sided, α = 0.05, power 0.8)', () => {
  it('pairs needed for d_z = 0.2, 0.5, 1', async () => {
    const { pairsForPower, pairedTPower } = await import('../../src/compare/stats.js');
    expect(pairsForPower(0.2, 1, 0.05)).toBe(156);
    expect(pairsForPower(0.5, 1, 0.05)).toBe(27);
    expect(pairsForPower(1, 1, 0.05)).toBe(8);
    expect(pairedTPower(27, 0.5, 1, 0.05)).toBeCloseTo(0.8118, 3);
    expect(pairsForPower(0, 1, 0.05)).toBeNull();
  });
});

describe('sign-flip permutation test', () => {
  // SciPy 1.10.1: scipy.stats.permutation_test((d,), np.mean, permutation_type='samples', n_resamples=np.inf, alternative=…).
  it('matches scipy.stats.permutation_test (exact, every sign pattern) at 5, 9 and 22 pairs', () => {
    const cases: Array<[number[], [number, number, number]]> = [
      [gains, [0.0625, 0.96875, 0.125]],
      [hwD, [0.013671875, 0.98828125, 0.02734375]],
      [
        [0.0352, 0.0373, 0.0142, -0.0127, -0.0188, 0.0016, 0.0297, 0.0397, 0.0224, -0.0063, -0.02, -0.0061, 0.0226, 0.0397, 0.0295, 0.0014, -0.0188, -0.0125, 0.0145, 0.0374, 0.0351, 0.0097],
        [0.007256269454956055, 0.9927818775177002, 0.01451253890991211],
      ],
    ];
    for (const [d, [greater, less, two]] of cases) {
      expect(signFlipTest(d, 'greater').pValue).toBeCloseTo(greater, 12);
      expect(signFlipTest(d, 'less').pValue).toBeCloseTo(less, 12);
      expect(signFlipTest(d, 'two-sided').pValue).toBeCloseTo(two, 12);
      expect(signFlipTest(d, 'greater').method).toBe('exact');
    }
  });

  it('can never go below 2^−n: five seeds all positive give 1/32, four give 1/16', () => {
    expect(signFlipTest([0.1, 0.2, 0.3, 0.4, 0.5], 'greater').pValue).toBeCloseTo(1 / 32, 15);
    expect(signFlipTest([0.1, 0.2, 0.3, 0.4], 'greater').minPValue).toBeCloseTo(1 / 16, 15);
    // Zeros carry no sign: they leave the count.
    expect(signFlipTest([0.1, 0, 0.3, 0.4, 0.5], 'greater').n).toBe(4);
  });

  it('above 30 pairs: seeded random sign patterns, the same p on every run', () => {
    const d = Array.from({ length: 40 }, (_, i) => Math.sin(i + 1) * 0.03 + 0.004);
    const a = signFlipTest(d, 'greater');
    expect(a.method).toMatch(/monte-carlo/);
    expect(signFlipTest(d, 'greater').pValue).toBe(a.pValue);
    // Close to the normal approximation of the sign-flip distribution (mean 0, variance Σd²).
    const z = d.reduce((x, y) => x + y, 0) / Math.sqrt(d.reduce((x, y) => x + y * y, 0));
    expect(Math.abs(a.pValue - (1 - normalCdf(z)))).toBeLessThan(0.01);
    expect(a.minPValue).toBeCloseTo(1 / (1 + SIGN_FLIP_DRAWS), 15);
  });

  it('zero variance is recognised, rounding residue included', () => {
    expect(zeroVariance([0.4, 0.4, 0.4])).toBe(true);
    expect(zeroVariance([0.7825 - 0.78, 0.0025000000000000022, 0.0025])).toBe(true);
    expect(zeroVariance([0.4, 0.41])).toBe(false);
    expect(zeroVariance([0.4])).toBe(false);
  });
});
