// The group-sequential design of `repro check --until-decided` (src/compare/sequential.ts, stats.ts):
// its exact boundaries against published values, its type-I error by simulation at several look
// schedules (tight enough to notice the 0.035 of the union-bound design it replaced), the paired tests
// on normal and skewed gains, and its power against a fixed design of the same largest size.
import { describe, expect, it } from 'vitest';
import { lookAlphas, normalStream, obrienFlemingSpent, plannedLooks, simulateTypeIError } from '../../src/compare/sequential.js';
import { normalCdf, normalQuantile, pairedTPower, sequentialBoundaries, sequentialCrossing, type SpendingFunction, type TestName } from '../../src/compare/stats.js';
import { mulberry32 } from '../../src/core/rng.js';
import { checkClaim } from '../../src/compare/verdicts.js';
import type { ObservationTable } from '../../src/compare/observations.js';
import type { Verdict } from '../../src/formats/verdict.js';

const alpha = 0.05;

describe('exact Lan–DeMets boundaries', () => {
  it("O'Brien–Fleming, one-sided α 0.05, fractions ¼ ½ ¾ 1: z = 3.750, 2.540, 2.016, 1.720 (published)", () => {
    // Published: issue 23's independent check, and SeqBounds.jl's README table for bounds([0.25, 0.5, 0.75, 1.0], 0.05):
    // Z 3.74955, 2.53993, 2.01604, 1.72014; nominal p 8.85754e-5, 0.00554366, 0.0218979, 0.0427037;
    // spend 8.85754e-5, 0.00548602, 0.0180505, 0.0263749.
    const b = sequentialBoundaries([0.25, 0.5, 0.75, 1], alpha);
    console.log(`OBF α 0.05 boundaries: z ${b.z.map((z) => z.toFixed(4)).join(', ')}; nominal p ${b.nominal.map((p) => p.toPrecision(4)).join(', ')}`);
    [3.75, 2.54, 2.016, 1.72].forEach((z, k) => expect(b.z[k]!).toBeCloseTo(z, 3));
    [8.85754e-5, 0.00554366, 0.0218979, 0.0427037].forEach((p, k) => expect(b.nominal[k]!).toBeCloseTo(p, 5));
    [8.85754e-5, 0.00548602, 0.0180505, 0.0263749].forEach((p, k) => expect(b.spent[k]!).toBeCloseTo(p, 6));
    // gsDesign(k = 4, test.type = 1, sfu = sfLDOF, alpha = 0.025): 4.33, 2.96, 2.36, 2.01.
    const g = sequentialBoundaries([0.25, 0.5, 0.75, 1], 0.025);
    [4.33, 2.96, 2.36, 2.01].forEach((z, k) => expect(g.z[k]!).toBeCloseTo(z, 2));
    // The exact crossing probability under H0 is α.
    expect(sequentialCrossing(b.fractions, b.z, 0)).toBeCloseTo(alpha, 6);
  });

  it('the looks actually taken: a budget that ends early keeps the earlier boundaries; unequal looks; Pocock as an option', () => {
    const full = sequentialBoundaries([0.25, 0.5, 0.75, 1], alpha);
    const early = sequentialBoundaries([0.25, 0.5], alpha);
    expect(early.z[1]!).toBeCloseTo(full.z[1]!, 10);
    // Looks at 4, 7, 13, 20 of 20 seeds.
    const uneven = sequentialBoundaries([4, 7, 13, 20].map((n) => n / 20), alpha);
    expect(sequentialCrossing(uneven.fractions, uneven.z, 0)).toBeCloseTo(alpha, 6);
    expect(lookAlphas([4, 7, 13, 20], 20, alpha)).toEqual(uneven.nominal);
    const pocock = sequentialBoundaries([0.25, 0.5, 0.75, 1], alpha, 'pocock');
    expect(sequentialCrossing(pocock.fractions, pocock.z, 0)).toBeCloseTo(alpha, 6);
    // Pocock-type boundaries are nearly flat; O'Brien–Fleming-type fall steeply.
    expect(Math.max(...pocock.z) - Math.min(...pocock.z)).toBeLessThan(0.1);
    console.log(`Pocock-type α 0.05 boundaries: z ${pocock.z.map((z) => z.toFixed(3)).join(', ')}`);
    // One look is the fixed design.
    expect(sequentialBoundaries([1], alpha).z[0]!).toBeCloseTo(normalQuantile(1 - alpha), 10);
    expect(obrienFlemingSpent(0.25, alpha)).toBeCloseTo(8.857e-5, 7);
    expect(plannedLooks(5, 5, 20)).toEqual([5, 10, 15, 20]);
    expect(plannedLooks(5, 4, 15)).toEqual([5, 9, 13, 15]);
    expect(plannedLooks(5, 5, 5)).toEqual([5]);
  });
});

/** Rejection rate of boundaries `z` at `fractions` over simulated Brownian paths under H0. */
function simulateZ(fractions: number[], z: number[], sequences: number, seed: number): number {
  const draw = normalStream(seed);
  let rejections = 0;
  for (let s = 0; s < sequences; s++) {
    let sum = 0;
    let tPrev = 0;
    for (let k = 0; k < fractions.length; k++) {
      sum += draw() * Math.sqrt(fractions[k]! - tPrev);
      tPrev = fractions[k]!;
      if (sum / Math.sqrt(tPrev) >= z[k]!) {
        rejections++;
        break;
      }
    }
  }
  return rejections / sequences;
}

describe('type-I error by simulation', () => {
  const sequences = 20_000;
  const se = Math.sqrt((alpha * (1 - alpha)) / sequences);
  const band = [alpha - 3 * se, alpha + 3 * se] as const;

  it(`the boundaries hold α at several look schedules: 0.05 ± 3 SE (${band[0].toFixed(4)} … ${band[1].toFixed(4)}, which excludes 0.035)`, () => {
    expect(band[0]).toBeGreaterThan(0.035 + 0.005);
    const schedules: Array<[number[], number, SpendingFunction]> = [
      [[5, 10, 15, 20], 20, 'obrien-fleming'],
      [[10, 20], 20, 'obrien-fleming'],
      [[4, 7, 13, 20], 20, 'obrien-fleming'],
      [[4, 8, 12, 16, 20, 24], 24, 'obrien-fleming'],
      [[5, 10, 15, 20], 20, 'pocock'],
    ];
    schedules.forEach(([looks, nMax, spending], i) => {
      const b = sequentialBoundaries(looks.map((n) => n / nMax), alpha, spending);
      const rate = simulateZ(b.fractions, b.z, sequences, 1000 + i);
      console.log(`type-I, ${spending}, looks ${looks.join('/')} of ${nMax}: ${rate.toFixed(4)} over ${sequences} sequences (exact ${sequentialCrossing(b.fractions, b.z, 0).toFixed(4)})`);
      expect(rate).toBeGreaterThanOrEqual(band[0]);
      expect(rate).toBeLessThanOrEqual(band[1]);
    });
    // The union-bound form it replaced (each look at its increment of α as a nominal level) would fail this band.
    const looks = [0.25, 0.5, 0.75, 1];
    const increments = looks.map((t, k) => obrienFlemingSpent(t, alpha) - (k ? obrienFlemingSpent(looks[k - 1]!, alpha) : 0));
    const old = simulateZ(looks, increments.map((a) => normalQuantile(1 - a)), sequences, 999);
    console.log(`type-I of the old union-bound design (nominal level = increment): ${old.toFixed(4)}`);
    expect(old).toBeLessThan(band[0]);
  });

  it('the procedure with the paired t-test at each look (nominal levels) holds α on normal gains; testing each look at α does not', () => {
    const n = 10_000;
    const tse = Math.sqrt((alpha * (1 - alpha)) / n);
    const design = simulateTypeIError({ looks: [5, 10, 15, 20], alpha, sequences: n, seed: 20261202 });
    const naive = simulateTypeIError({ looks: [5, 10, 15, 20], alpha, sequences: n, seed: 20261202, naive: true });
    console.log(`paired t, looks 5/10/15/20: type-I ${design.rate.toFixed(4)} (band ${(alpha - 3 * tse).toFixed(4)} … ${(alpha + 3 * tse).toFixed(4)}), by look ${design.byLook.join('/')}; naive ${naive.rate.toFixed(4)}`);
    expect(Math.abs(design.rate - alpha)).toBeLessThanOrEqual(3 * tse);
    expect(naive.rate).toBeGreaterThan(alpha + 3 * tse);
  });
});

// Gains under a null, each generator with mean 0. 'collapses' are interchangeable variants whose runs
// collapse now and then (a and b alike): each result is skewed, the gain a − b symmetric.
const nulls: Record<string, (normal: () => number, uniform: () => number) => number> = {
  normal: (normal) => normal(),
  'right-skewed (Exp(1) − 1)': (_n, u) => -Math.log(1 - u()) - 1,
  'left-skewed (1 − Exp(1))': (_n, u) => 1 + Math.log(1 - u()),
  'interchangeable, 10 % collapses': (normal, u) => {
    const run = () => (u() < 0.1 ? -5 : 0) + normal() * 0.3;
    return run() - run();
  },
};

describe('paired tests on normal and skewed gains (type-I error, one-sided α 0.05)', () => {
  const sequences = 2000;
  const se = Math.sqrt((alpha * (1 - alpha)) / sequences);
  const rate = (gen: string, test: TestName, looks: number[]) =>
    simulateTypeIError({ looks, alpha, sequences, seed: 4242, test, gain: nulls[gen] });

  for (const gen of Object.keys(nulls)) {
    it(`${gen}`, () => {
      const rows = (['sign-flip', 'paired-t'] as const).map((test) => ({ test, fixed: rate(gen, test, [20]), seq: rate(gen, test, [5, 10, 15, 20]) }));
      for (const r of rows) {
        console.log(
          `${gen}: ${r.test} fixed 20 seeds ${r.fixed.rate.toFixed(4)}, sequential 5/10/15/20 ${r.seq.rate.toFixed(4)} (rejections by look ${r.seq.byLook.join('/')}; ± ${(3 * se).toFixed(4)} is 3 SE over ${sequences})`,
        );
      }
      const flip = rows[0]!;
      const t = rows[1]!;
      // The sign-flip test cannot reject at look 1 (5 seeds: p ≥ 1/32, far above α₁ = 8.9e-5): no tail approximation at a tiny α.
      expect(flip.seq.byLook[0]).toBe(0);
      if (gen === 'normal' || gen.startsWith('interchangeable')) {
        // Symmetric gains: the sign-flip test is exact, the design holds α.
        expect(Math.abs(flip.fixed.rate - alpha)).toBeLessThanOrEqual(3 * se);
        expect(flip.seq.rate).toBeLessThanOrEqual(alpha + 3 * se);
      }
      if (gen.startsWith('right')) {
        expect(flip.seq.rate).toBeLessThanOrEqual(alpha + 3 * se);
        expect(t.seq.rate).toBeLessThanOrEqual(alpha + 3 * se);
      }
      if (gen.startsWith('left')) {
        // Mean 0 but not symmetric: no test of the mean holds with 20 seeds (Bahadur & Savage 1956; docs/compare.md
        // "Which paired test"), the sign-flip test no more than the t-test. Printed above; asserted so a change shows.
        expect(flip.fixed.rate).toBeGreaterThan(alpha + 3 * se);
        expect(t.fixed.rate).toBeGreaterThan(alpha + 3 * se);
        // The t-test's first look rejects far beyond its share of α (8.9e-5 · 2000 ≈ 0.2 sequences); the sign-flip's cannot.
        expect(t.seq.byLook[0]!).toBeGreaterThan(3);
      }
    });
  }
});

describe('the sign test holds on skewed gains for its own null (median gain 0)', () => {
  it('left-skewed gains with median 0: exact, fixed and sequential', () => {
    const sequences = 2000;
    const se = Math.sqrt((alpha * (1 - alpha)) / sequences);
    // 1 − Exp(1) shifted to median 0 (its median is 1 − ln 2).
    const gain = (_n: () => number, u: () => number) => 1 + Math.log(1 - u()) - (1 - Math.LN2);
    const fixed = simulateTypeIError({ looks: [20], alpha, sequences, seed: 31, test: 'sign', gain });
    const seq = simulateTypeIError({ looks: [5, 10, 15, 20], alpha, sequences, seed: 31, test: 'sign', gain });
    console.log(`left-skewed, median 0: sign test fixed 20 ${fixed.rate.toFixed(4)}, sequential 5/10/15/20 ${seq.rate.toFixed(4)} (discrete: at most α)`);
    expect(fixed.rate).toBeLessThanOrEqual(alpha + 3 * se);
    expect(seq.rate).toBeLessThanOrEqual(alpha + 3 * se);
  });
});

describe('power of the design against a fixed design of its largest size', () => {
  it('exact (normal theory): within 0.02 of the fixed design at the effect that gives it 80 %', () => {
    const theta = normalQuantile(1 - alpha) + normalQuantile(0.8);
    for (const spending of ['obrien-fleming', 'pocock'] as const) {
      const b = sequentialBoundaries([0.25, 0.5, 0.75, 1], alpha, spending);
      const power = sequentialCrossing(b.fractions, b.z, theta);
      console.log(`power at θ = ${theta.toFixed(3)} (fixed design 0.800): ${spending} 4 looks ${power.toFixed(4)}`);
      if (spending === 'obrien-fleming') expect(power).toBeGreaterThanOrEqual(0.8 - 0.02);
      else expect(power).toBeGreaterThanOrEqual(0.8 - 0.1);
    }
    expect(1 - normalCdf(normalQuantile(1 - alpha) - theta)).toBeCloseTo(0.8, 10);
  });

  it('simulated with the paired t-test: sequential power ≥ fixed 20-seed power − 0.03 (± simulation error)', () => {
    // d_z at which a fixed 20-seed one-sided t-test has 80 % power.
    let dz = 0.3;
    while (pairedTPower(20, dz, 1, alpha) < 0.8) dz += 0.001;
    const sequences = 4000;
    const shift = (normal: () => number) => normal() + dz;
    const seq = simulateTypeIError({ looks: [5, 10, 15, 20], alpha, sequences, seed: 77, gain: shift });
    const fixed = simulateTypeIError({ looks: [20], alpha, sequences, seed: 77, gain: shift });
    const se = Math.sqrt((0.8 * 0.2) / sequences);
    console.log(`power at d_z ${dz.toFixed(3)}: sequential 5/10/15/20 ${seq.rate.toFixed(4)}, fixed 20 ${fixed.rate.toFixed(4)} (exact t ${pairedTPower(20, dz, 1, alpha).toFixed(3)})`);
    expect(seq.rate).toBeGreaterThanOrEqual(fixed.rate - 0.03 - 3 * se * Math.SQRT2);
  });
});

describe('one rule in fixed and sequential checks', () => {
  it('true gain of half the smallest effect (d_z 0.5): the sequential verdicts are distributed as the fixed ones, in the same words', () => {
    const claim = { id: 'C1', text: '', metric: 'accuracy', relation: { type: 'better' as const, a: 'a', b: 'b' }, smallest_effect: 1, test: 'paired-t' as const };
    const tableOf = (g: number[]): ObservationTable =>
      new Map([
        ['b', new Map(g.map((_, i) => [String(i + 1), { accuracy: 0 }]))],
        ['a', new Map(g.map((x, i) => [String(i + 1), { accuracy: x }]))],
      ]);
    const b = sequentialBoundaries([0.5, 1], alpha);
    const draw = normalStream(2323);
    const sequences = 800;
    const fixed = new Map<Verdict, number>();
    const seq = new Map<Verdict, number>();
    const add = (m: Map<Verdict, number>, v: Verdict) => m.set(v, (m.get(v) ?? 0) + 1 / sequences);
    for (let s = 0; s < sequences; s++) {
      const g = Array.from({ length: 20 }, () => 0.5 + draw());
      add(fixed, checkClaim(claim, tableOf(g), 'seed', 'full').verdict);
      const look1 = checkClaim(claim, tableOf(g.slice(0, 10)), 'seed', 'full', { levelAt: () => b.nominal[0]! });
      add(seq, look1.terminal ? look1.verdict : checkClaim(claim, tableOf(g), 'seed', 'full', { levelAt: () => b.nominal[1]! }).verdict);
    }
    const words: Verdict[] = ['reproduced', 'smaller than claimed', 'not reproduced', 'inconclusive'];
    const show = (m: Map<Verdict, number>) => words.map((w) => `${w} ${(m.get(w) ?? 0).toFixed(3)}`).join(', ');
    console.log(`true gain δ/2, sd = δ, 20 seeds, paired t: fixed ${show(fixed)}\n  sequential 10/20: ${show(seq)}`);
    // No word appears in one procedure and not the other; each share within 0.1 of the other's.
    for (const w of words) expect(Math.abs((fixed.get(w) ?? 0) - (seq.get(w) ?? 0))).toBeLessThan(0.1);
  });
});

// mulberry32 is core's generator; a pinned first value keeps the simulations above reproducible.
it('the simulations draw from core/rng mulberry32', () => {
  expect(mulberry32(1)()).toBeCloseTo(0.6270739405881613, 12);
});
