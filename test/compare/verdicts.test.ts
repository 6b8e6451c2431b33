import { describe, expect, it } from 'vitest';
import { buildVerdictFile, checkClaim, checkReported, summarizeVerdicts } from '../../src/compare/verdicts.js';
import { combinedGate } from '../../src/compare/gate.js';
import { exitCodeOfGate } from '../../src/cli/exit-codes.js';
import type { ObservationTable } from '../../src/compare/observations.js';
import type { ClaimEntry, ReportedEntry } from '../../src/compare/spec.js';
import type { ClaimCheck } from '../../src/formats/verdict.js';

/** variant → values of `metric` by seed 1..n. */
function table(metric: string, byVariant: Record<string, number[]>): ObservationTable {
  const t: ObservationTable = new Map();
  for (const [v, xs] of Object.entries(byVariant)) {
    t.set(v, new Map(xs.map((x, i) => [String(i + 1), { [metric]: x }])));
  }
  return t;
}

const source = { paper: 'arXiv:1611.05916', version: 'v4', table: '2', row: 'XE', column: 'exact' };

function reported(over: Partial<ReportedEntry>): ReportedEntry {
  return { id: 'r', metric: 'accuracy', variant: 'xe', value: 0.5, source, tolerance: { absolute: 0.02 }, ...over };
}

describe('reported numbers', () => {
  const close = table('accuracy', { xe: [0.5, 0.51, 0.49, 0.505, 0.495] });

  it('reproduced when the 90 % interval of the mean lies inside value ± tolerance', () => {
    const c = checkReported(reported({}), close, 'full', 'paper protocol');
    expect(c.verdict).toBe('reproduced');
    expect(c.measured!.n).toBe(5);
    expect(c.measured!.mean).toBeCloseTo(0.5, 12);
    // SciPy: max(ttest_1samp(v, 0.48, 'greater'), ttest_1samp(v, 0.52, 'less')).
    expect(c.measured!.pValue!).toBeCloseTo(0.00240633916502211, 8);
    expect(c.explanation).toMatch(/inside reported 0\.5 ± 0\.02/);
  });

  it('not reproduced when the interval lies outside the band', () => {
    const far = table('accuracy', { xe: [0.4, 0.41, 0.39, 0.405, 0.395] });
    const c = checkReported(reported({}), far, 'full', '');
    expect(c.verdict).toBe('not reproduced');
    expect(c.explanation).toMatch(/outside/);
  });

  it('inconclusive when the interval straddles the band edge, or with one run', () => {
    const spread = table('accuracy', { xe: [0.45, 0.55, 0.5, 0.42, 0.56] });
    expect(checkReported(reported({}), spread, 'full', '').verdict).toBe('inconclusive');
    const one = checkReported(reported({}), table('accuracy', { xe: [0.5] }), 'full', '');
    expect(one.verdict).toBe('inconclusive');
    expect(one.measured).toBeNull();
    expect(one.explanation).toMatch(/one run/);
  });

  it('uses the widest of absolute, relative and k·sd', () => {
    const c = checkReported(reported({ tolerance: { absolute: 0.001, k_sd: 2 }, sd: 0.01 }), close, 'full', '');
    expect(c.verdict).toBe('reproduced');
    expect(c.explanation).toMatch(/0\.5 ± 0\.02/);
    const rel = checkReported(reported({ tolerance: { relative: 0.001 } }), close, 'full', '');
    expect(rel.verdict).toBe('inconclusive');
  });

  it('never marks an absolute number reproduced on a proxy or smoke run', () => {
    for (const scale of ['proxy', 'smoke'] as const) {
      const c = checkReported(reported({}), close, scale, 'RetinaMNIST stands in for Adience');
      expect(c.verdict).toBe('inconclusive');
      expect(c.scale).toBe(scale);
      expect(c.explanation).toContain(`${scale} run (RetinaMNIST stands in for Adience)`);
      expect(c.measured!.mean).toBeCloseTo(0.5, 12);
    }
  });

  it('not recorded when the paper value is unknown, still showing what was measured', () => {
    const c = checkReported(reported({ value: null, tolerance: undefined, note: 'table not available here' }), close, 'full', '');
    expect(c.verdict).toBe('not recorded');
    expect(c.reported.value).toBeNull();
    expect(c.explanation).toMatch(/^table not available here; measured 0\.5 ± /);
  });
});

function claim(over: Partial<ClaimEntry>): ClaimEntry {
  // These pin the paired t-test against SciPy; the default test (sign-flip) is pinned in stats.test.ts.
  return { id: 'C1', text: 'EMD² beats XE', metric: 'accuracy', relation: { type: 'better', a: 'emd2', b: 'xe' }, test: 'paired-t', ...over };
}

// Gains of emd2 over xe per seed: [0.02, 0.035, −0.01, 0.05, 0.04] (SciPy: one-sided t p = 0.0305).
const xe = [0.5, 0.5, 0.52, 0.48, 0.49];
const emd2 = [0.52, 0.535, 0.51, 0.53, 0.53];
const c1 = table('accuracy', { emd2, xe });

describe('claims: a better than b', () => {
  it('paired t: reproduced at one-sided p = 0.0305', () => {
    const c = checkClaim(claim({}), c1, 'seed', 'proxy');
    expect(c.verdict).toBe('reproduced');
    expect(c.stats!.n).toBe(5);
    expect(c.stats!.mean).toBeCloseTo(0.027, 12);
    expect(c.stats!.pValue!).toBeCloseTo(0.03046598422370927, 8);
    expect(c.stats!.effectSize!).toBeCloseTo(0.027 / 0.023345235059857507, 8);
    expect(c.stats!.ci95[0]).toBeCloseTo(-0.0019869379034293567, 8);
    expect(c.perVariant.emd2!.n).toBe(5);
    expect(c.scale).toBe('proxy'); // relational claims are checked on proxy runs, labelled
    expect(c.required).toBe(true);
  });

  it('Wilcoxon on the same data: p = 0.0625 ≥ 0.05, the interval straddles → inconclusive', () => {
    const c = checkClaim(claim({ test: 'wilcoxon' }), c1, 'seed', 'full');
    expect(c.verdict).toBe('inconclusive');
    expect(c.stats!.pValue!).toBeCloseTo(0.0625, 12);
    expect(c.explanation).toMatch(/straddles/);
  });

  it('too few runs: three seeds cannot reach α = 0.05 with a Wilcoxon test', () => {
    const three = table('accuracy', { emd2: [0.6, 0.61, 0.62], xe: [0.5, 0.5, 0.5] });
    const c = checkClaim(claim({ test: 'wilcoxon' }), three, 'seed', 'full');
    expect(c.verdict).toBe('inconclusive');
    expect(c.explanation).toMatch(/too few runs: with 3 non-zero seed pairs a one-sided wilcoxon test gives no p below 0\.125, and α = 0\.05/);
    // …but the t-test can.
    expect(checkClaim(claim({}), three, 'seed', 'full').verdict).toBe('reproduced');
  });

  it('not reproduced when the data go the other way', () => {
    const reversed = table('accuracy', { emd2: xe, xe: emd2 });
    const c = checkClaim(claim({}), reversed, 'seed', 'full');
    expect(c.verdict).toBe('not reproduced');
    expect(c.stats!.mean).toBeCloseTo(-0.027, 12);
    expect(c.explanation).toMatch(/against the claim/);
  });

  it('respects the direction: lower MAE is better', () => {
    const mae = table('mae', { emd2: [0.6, 0.61, 0.58, 0.6, 0.59], xe: [0.7, 0.72, 0.69, 0.71, 0.7] });
    expect(checkClaim(claim({ metric: 'mae' }), mae, 'seed', 'full').verdict).toBe('reproduced');
    expect(checkClaim(claim({ metric: 'mae', direction: 'higher' }), mae, 'seed', 'full').verdict).toBe('not reproduced');
  });

  it('min_gain moves the line: a gain of 0.027 does not show a gain above 0.1', () => {
    const c = checkClaim(claim({ relation: { type: 'better', a: 'emd2', b: 'xe', min_gain: 0.1 } }), c1, 'seed', 'full');
    expect(c.verdict).toBe('not reproduced');
    // A negative min_gain is a non-inferiority margin: xe is not worse than emd2 by more than 0.1.
    const ni = checkClaim(claim({ relation: { type: 'better', a: 'xe', b: 'emd2', min_gain: -0.1 } }), c1, 'seed', 'full');
    expect(ni.verdict).toBe('reproduced');
  });

  it('relative margins: "at most 3 % slower" holds for 1 % slower steps and fails for 10 % slower ones, in ms or in s', () => {
    const overhead = (slowdown: number, unit: number) =>
      table('ms_per_step', {
        xe: [200, 210, 190, 205, 195].map((x) => x * unit),
        emd2: [200, 210, 190, 205, 195].map((x, i) => x * unit * (1 + slowdown + (i % 2 ? 0.002 : -0.002))),
      });
    const c5 = claim({ metric: 'ms_per_step', relation: { type: 'better', a: 'emd2', b: 'xe', min_gain: -0.03, relative: true } });
    const small = checkClaim(c5, overhead(0.01, 1), 'seed', 'full');
    expect(small.verdict).toBe('reproduced');
    expect(small.relation).toBe('emd2 no worse than xe by more than 3 % of xe');
    // Gains are fractions whatever the unit: slowdowns 0.8 %, 1.2 %, 0.8 %, 1.2 %, 0.8 % average a gain of −0.0096.
    expect(small.stats!.mean).toBeCloseTo(-0.0096, 9);
    expect(checkClaim(c5, overhead(0.01, 1e-3), 'seed', 'full').stats!.mean).toBeCloseTo(-0.0096, 9);
    expect(checkClaim(c5, overhead(0.1, 1), 'seed', 'full').verdict).toBe('not reproduced');
  });

  it('sign test: 4 of 5 positive is not enough (p = 0.1875)', () => {
    const c = checkClaim(claim({ test: 'sign' }), c1, 'seed', 'full');
    expect(c.verdict).toBe('inconclusive');
    expect(c.stats!.pValue!).toBeCloseTo(0.1875, 12);
    expect(c.stats!.statistic).toBe(4);
  });
});

describe('claims: equivalence (TOST) and ranking', () => {
  const eq = (delta: number, data: ObservationTable, test: ClaimEntry['test'] = 'paired-t'): ClaimCheck =>
    checkClaim(claim({ test, relation: { type: 'equivalent', a: 'emd2', b: 'xe', delta } }), data, 'seed', 'full');

  it('reproduced when the difference is surely within ±δ, not reproduced when surely beyond', () => {
    expect(eq(0.1, c1).verdict).toBe('reproduced');
    expect(eq(0.1, c1).stats!.alternative).toBe('tost');
    // SciPy: max(ttest_1samp(d, −0.1, 'greater'), ttest_1samp(d, 0.1, 'less')) and the same with wilcoxon.
    expect(eq(0.1, c1).stats!.pValue!).toBeCloseTo(0.0011006939500182002, 8);
    expect(eq(0.1, c1, 'wilcoxon').stats!.pValue!).toBeCloseTo(0.03125, 12);
    expect(eq(0.1, c1, 'wilcoxon').verdict).toBe('reproduced');
    const apart = table('accuracy', { emd2: [0.8, 0.81, 0.79, 0.8, 0.8], xe });
    expect(eq(0.1, apart).verdict).toBe('not reproduced');
    expect(eq(0.03, c1).verdict).toBe('inconclusive');
  });

  it('ranking: all adjacent pairs must hold', () => {
    const l2 = [0.45, 0.44, 0.47, 0.43, 0.44];
    const ranked = table('accuracy', { emd2, xe, l2 });
    const ok = checkClaim(claim({ relation: { type: 'ranking', order: ['emd2', 'xe', 'l2'] } }), ranked, 'seed', 'full');
    expect(ok.verdict).toBe('reproduced');
    expect(ok.pairwise!.map((p) => p.verdict)).toEqual(['reproduced', 'reproduced']);
    // The weakest pair's statistics represent the ranking.
    expect(ok.stats!.pValue!).toBeCloseTo(0.03046598422370927, 8);
    const bad = checkClaim(claim({ relation: { type: 'ranking', order: ['l2', 'emd2', 'xe'] } }), ranked, 'seed', 'full');
    expect(bad.verdict).toBe('not reproduced');
    expect(bad.explanation).toMatch(/^l2 > emd2 fails/);
  });
});

describe('summary and gate', () => {
  it('counts verdicts and gates on the required ones only', () => {
    const file = buildVerdictFile(
      {
        results: [],
        scale: 'full',
        reported: [reported({ id: 'R1', tolerance: { absolute: 0.01 } }), reported({ id: 'R2', value: null, tolerance: undefined })],
        claims: [claim({ id: 'C1' }), claim({ id: 'C2', test: 'wilcoxon', required: false })],
      },
      c1,
    );
    expect(file.checks.map((c) => c.verdict)).toEqual(['inconclusive', 'not recorded', 'reproduced', 'inconclusive']);
    expect(file.summary!.counts).toEqual({ reproduced: 1, 'smaller than claimed': 0, 'not reproduced': 0, inconclusive: 2, 'not recorded': 1 });
    expect(file.summary!.gate).toBe('pass');
    expect(exitCodeOfGate(combinedGate([file]))).toBe(0);
  });

  it('3 for a required claim not reproduced, 4 for a required inconclusive, 3 outranks 4', () => {
    const check = (verdict: ClaimCheck['verdict'], required = true): ClaimCheck => ({
      kind: 'claim', id: verdict, text: '', required, relation: '', metric: 'accuracy', variants: [], stats: null, perVariant: {}, verdict, explanation: '',
    });
    const file = (...checks: ClaimCheck[]) => ({ scale: 'full' as const, scaleNote: '', checks, summary: summarizeVerdicts(checks, 'full') });
    expect(exitCodeOfGate(combinedGate([file(check('reproduced'), check('not reproduced', false))]))).toBe(0);
    expect(exitCodeOfGate(combinedGate([file(check('reproduced'), check('inconclusive'))]))).toBe(4);
    expect(exitCodeOfGate(combinedGate([file(check('inconclusive'), check('not reproduced'))]))).toBe(3);
    expect(exitCodeOfGate(combinedGate([file(check('inconclusive')), file(check('not reproduced'))]))).toBe(3);
    // A real gain shown smaller than the smallest effect fails the gate as not reproduced does.
    expect(exitCodeOfGate(combinedGate([file(check('reproduced'), check('smaller than claimed'))]))).toBe(3);
    expect(exitCodeOfGate(combinedGate([file(check('inconclusive'), check('smaller than claimed'))]))).toBe(3);
  });
});
