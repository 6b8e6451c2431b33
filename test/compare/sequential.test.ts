// The group-sequential design of `repro check --until-decided` (src/compare/sequential.ts): its
// spending function, and its type-I error by simulation. Under a true null (mean gain 0) with looks
// at 5, 10, 15 and 20 seeds, a procedure that tests at the full α at every look rejects far more
// often than α; the spending design must stay within α plus three Monte-Carlo standard errors.
import { describe, expect, it } from 'vitest';
import { lookAlphas, obrienFlemingSpent, plannedLooks, simulateTypeIError } from '../../src/compare/sequential.js';

describe('alpha spending', () => {
  it("O'Brien–Fleming-type spending: almost nothing early, α at the end, increments summing to α", () => {
    expect(obrienFlemingSpent(1, 0.05)).toBeCloseTo(0.05, 12);
    // 2 − 2Φ(1.959964/√0.25) = 2 − 2Φ(3.919928)
    expect(obrienFlemingSpent(0.25, 0.05)).toBeCloseTo(8.857e-5, 7);
    expect(obrienFlemingSpent(0.5, 0.05)).toBeCloseTo(0.005575, 5);
    const inc = lookAlphas([5, 10, 15, 20], 20, 0.05);
    expect(inc.reduce((a, b) => a + b, 0)).toBeCloseTo(0.05, 12);
    expect(inc[0]!).toBeLessThan(inc[1]!);
    expect(plannedLooks(5, 5, 20)).toEqual([5, 10, 15, 20]);
    expect(plannedLooks(5, 4, 15)).toEqual([5, 9, 13, 15]);
    expect(plannedLooks(5, 5, 5)).toEqual([5]);
  });
});

describe('type-I error by simulation (null effect, paired t at every look)', () => {
  const looks = [5, 10, 15, 20];
  const alpha = 0.05;
  const sequences = 4000;

  it('the spending design rejects a true null at most α (+ 3 Monte-Carlo SE); testing each look at α does not', () => {
    const design = simulateTypeIError({ looks, alpha, sequences, seed: 20261202 });
    const naive = simulateTypeIError({ looks, alpha, sequences, seed: 20261202, naive: true });
    const bound = alpha + 3 * design.standardError;
    console.log(
      `type-I error over ${sequences} simulated sequences (looks ${looks.join(', ')}, α = ${alpha}): ` +
        `spending design ${design.rate.toFixed(4)} (bound ${bound.toFixed(4)}), naive ${naive.rate.toFixed(4)}`,
    );
    expect(design.rate).toBeLessThanOrEqual(bound);
    // The simulation can see an inflated rate: the naive procedure is well above the bound.
    expect(naive.rate).toBeGreaterThan(bound);
    // And the design is not vacuous: it does reject sometimes.
    expect(design.rejections).toBeGreaterThan(0);
  });

  it('with one look it is the fixed-sample test: rate ≈ α', () => {
    const one = simulateTypeIError({ looks: [10], alpha, sequences, seed: 7 });
    expect(Math.abs(one.rate - alpha)).toBeLessThanOrEqual(3 * one.standardError);
  });
});
