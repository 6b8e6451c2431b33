import { describe, expect, it } from 'vitest';
import {
  differenceCI,
  iqm,
  iqmOfCounts,
  pooledSummary,
  probabilityOfImprovement,
  probabilityOfImprovementCI,
  quantileSorted,
  stratifiedBootstrapCI,
} from '../../src/compare/aggregate.js';

// Every expected value below is worked out by hand in the comment beside it.

describe('interquartile mean (scipy.stats.trim_mean(x, 0.25), as rliable)', () => {
  it('drops ⌊n/4⌋ values at each end', () => {
    expect(iqm([8, 1, 7, 2, 6, 3, 5, 4])).toBe(4.5); // keeps 3,4,5,6
    expect(iqm([1, 2, 3, 4, 100])).toBe(3); // ⌊5/4⌋ = 1 each end: 2,3,4; the outlier is gone
    expect(iqm([1, 2, 3])).toBe(2); // ⌊3/4⌋ = 0: the plain mean
    expect(iqm([5])).toBe(5);
    expect(iqm([])).toBeNaN();
  });

  it('from counts over sorted values, as a bootstrap resample gives it', () => {
    // 1,1,1,2,5,9,9,9 (n = 8, 2 cut each end): 1,2,5,9 → 4.25.
    expect(iqmOfCounts([1, 2, 5, 9], [3, 1, 1, 3])).toBe(4.25);
    // The same as iqm of the expanded sample, for n not divisible by 4: 0,0,3,3,3 → cut 1: 0,3,3 → 2.
    expect(iqmOfCounts([0, 3], [2, 3])).toBe(iqm([0, 0, 3, 3, 3]));
    expect(iqmOfCounts([1], [0])).toBeNaN();
  });
});

describe('quantiles (numpy linear)', () => {
  it('interpolates between order statistics', () => {
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBe(2.5); // position 1.5
    expect(quantileSorted([1, 2, 3, 4], 0.25)).toBe(1.75); // position 0.75
    expect(quantileSorted([10], 0.9)).toBe(10);
  });
});

describe('stratified bootstrap', () => {
  it('resamples within strata: two constant strata give a fixed IQM', () => {
    // Every resample is [0,0,1,1] → IQM of the middle two = 0.5; a plain bootstrap over the four would vary.
    expect(stratifiedBootstrapCI([[0, 0], [1, 1]], iqmOfCounts, { reps: 500 })).toEqual([0.5, 0.5]);
  });

  it('covers the resampling distribution: two values 0 and 1', () => {
    // A resample of [0,1] has mean 0 (¼), ½ (½) or 1 (¼): the 2.5 % and 97.5 % percentiles are 0 and 1.
    expect(stratifiedBootstrapCI([[0, 1]], iqmOfCounts, { reps: 4000 })).toEqual([0, 1]);
  });

  it('is seeded: the same seed gives the same interval, and one value gives none', () => {
    const data = [[0.61, 0.64, 0.6, 0.7, 0.66, 0.58]];
    expect(stratifiedBootstrapCI(data, iqmOfCounts, { seed: 7 })).toEqual(stratifiedBootstrapCI(data, iqmOfCounts, { seed: 7 }));
    const ci = stratifiedBootstrapCI(data, iqmOfCounts)!;
    expect(ci[0]).toBeGreaterThanOrEqual(0.58);
    expect(ci[1]).toBeLessThanOrEqual(0.7);
    expect(ci[0]).toBeLessThan(ci[1]);
    expect(stratifiedBootstrapCI([[0.5]], iqmOfCounts)).toBeNull();
  });
});

describe('probability of improvement', () => {
  it('counts wins over all pairs, ties as half', () => {
    // (1,2) loses, (2,2) ties, (3,2) wins: (0 + ½ + 1) / 3.
    expect(probabilityOfImprovement([1, 2, 3], [2])).toBe(0.5);
    expect(probabilityOfImprovement([3, 4], [1, 2])).toBe(1);
    // Lower is better (MAE): the same numbers now always lose.
    expect(probabilityOfImprovement([3, 4], [1, 2], false)).toBe(0);
    // 2 beats 1; 0 beats nothing: 1 win of 4 pairs.
    expect(probabilityOfImprovement([0, 2], [1, 3])).toBe(0.25);
  });

  it('agrees with counting every pair, with ties, on many values', () => {
    const xs = Array.from({ length: 300 }, (_, i) => Math.round(Math.sin(i) * 20) / 20);
    const ys = Array.from({ length: 200 }, (_, i) => Math.round(Math.cos(i * 1.3) * 20) / 20 - 0.05);
    let wins = 0;
    for (const x of xs) for (const y of ys) wins += x > y ? 1 : x === y ? 0.5 : 0;
    expect(probabilityOfImprovement(xs, ys)).toBeCloseTo(wins / (300 * 200), 12);
    expect(probabilityOfImprovement(xs, ys, false)).toBeCloseTo(1 - wins / (300 * 200), 12);
    const r = probabilityOfImprovementCI([{ x: xs, y: ys }]);
    expect(r.ci95![0]).toBeLessThan(r.p);
    expect(r.ci95![1]).toBeGreaterThan(r.p);
  });

  it('averages over strata, with a bootstrap interval inside [0, 1]', () => {
    // Stratum 1: P = 1; stratum 2: P = 0 → mean ½.
    const r = probabilityOfImprovementCI([
      { x: [3, 4], y: [1, 2] },
      { x: [1, 2], y: [3, 4] },
    ]);
    expect(r.p).toBe(0.5);
    // Resamples never change the order within a stratum: every draw is ½ again.
    expect(r.ci95).toEqual([0.5, 0.5]);
    expect(probabilityOfImprovementCI([{ x: [1], y: [0] }]).ci95).toBeNull();
  });
});

describe('difference of two runs (Welch)', () => {
  it('b − a with the Welch–Satterthwaite interval', () => {
    // a = 1,2,3 and b = 2,3,4: Δ = 1; each variance/n = 1/3; se = √(2/3) = 0.81650; df = 4;
    // t(0.975, 4) = 2.776445 → half width 2.266959.
    const r = differenceCI([1, 2, 3], [2, 3, 4]);
    expect(r.delta).toBe(1);
    expect(r.ci95![0]).toBeCloseTo(1 - 2.266959, 5);
    expect(r.ci95![1]).toBeCloseTo(1 + 2.266959, 5);
    expect(differenceCI([1], [2, 3]).ci95).toBeNull();
    expect(differenceCI([1, 1], [2, 2])).toEqual({ delta: 1, ci95: null });
  });
});

describe('pooled summary', () => {
  it('mean with t interval and IQM with bootstrap interval', () => {
    // 1,2,3: mean 2, sd 1, t(0.975, 2) = 4.302653 → ± 4.302653/√3 = 2.484138.
    const s = pooledSummary([[1, 2, 3]])!;
    expect(s.n).toBe(3);
    expect(s.mean).toBe(2);
    expect(s.ci95![0]).toBeCloseTo(2 - 2.484138, 5);
    expect(s.iqm).toBe(2);
    expect(s.iqmCi95![0]).toBeGreaterThanOrEqual(1);
    expect(s.iqmCi95![1]).toBeLessThanOrEqual(3);
    expect(pooledSummary([[]])).toBeNull();
  });
});
