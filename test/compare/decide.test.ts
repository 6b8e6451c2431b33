// Decide, don't shrug: a smallest effect of interest lets a 'better' claim be refuted (the gain is
// shown smaller than it), an undecided claim says how many seeds 80 % power would take, and a
// collapsed training is flagged on every claim it enters (counted by default, or excluded).
import { describe, expect, it } from 'vitest';
import { checkClaim } from '../../src/compare/verdicts.js';
import { emptyNotes, type ObservationTable } from '../../src/compare/observations.js';
import { checkCompareWith, type ClaimEntry } from '../../src/compare/spec.js';
import { historyHealth, predictionHealth } from '../../src/ml/health.js';

function table(metric: string, byVariant: Record<string, number[]>): ObservationTable {
  const t: ObservationTable = new Map();
  for (const [v, xs] of Object.entries(byVariant)) t.set(v, new Map(xs.map((x, i) => [String(i + 1), { [metric]: x }])));
  return t;
}

const claim = (over: Partial<ClaimEntry> = {}): ClaimEntry => ({
  id: 'C1',
  text: 'emd2 beats xe',
  metric: 'accuracy',
  relation: { type: 'better', a: 'emd2', b: 'xe' },
  test: 'paired-t',
  ...over,
});

const xe = [0.5, 0.52, 0.49, 0.51, 0.5, 0.53, 0.48, 0.5];

describe('refutation against the smallest effect of interest', () => {
  it('a true null with a small sd: not reproduced, with the test and its interval', () => {
    const null_ = table('accuracy', { xe, emd2: xe.map((x, i) => x + [0.002, -0.001, 0.001, -0.002, 0.0015, -0.0005, 0, 0.001][i]!) });
    const c = checkClaim(claim({ smallest_effect: 0.02 }), null_, 'seed', 'proxy');
    expect(c.verdict).toBe('not reproduced');
    expect(c.smallestEffect).toBe(0.02);
    expect(c.refutation!.bound).toBe(0.02);
    expect(c.refutation!.pValue).toBeLessThan(0.05);
    expect(c.refutation!.interval[1]).toBeLessThan(0.02);
    expect(c.refutation!.level).toBeCloseTo(0.9, 12);
    expect(c.explanation).toMatch(/smaller than the smallest effect of interest \+0\.02: one-sided paired-t p < 0\.001 for gain < \+0\.02.*90% CI of the gain .* lies below it/);
    // Without a smallest effect the same data cannot refute the claim: they are only undecided.
    expect(checkClaim(claim(), null_, 'seed', 'proxy').verdict).toBe('inconclusive');
  });

  it('a true effect: reproduced, whatever the smallest effect of interest below it', () => {
    const effect = table('accuracy', { xe, emd2: xe.map((x, i) => x + 0.05 + [0.002, -0.001, 0.001, -0.002, 0.0015, -0.0005, 0, 0.001][i]!) });
    const c = checkClaim(claim({ smallest_effect: { accuracy: 0.02 } }), effect, 'seed', 'proxy');
    expect(c.verdict).toBe('reproduced');
    expect(c.refutation!.pValue).toBeGreaterThan(0.5);
  });

  it('a significant gain smaller than the smallest effect of interest is not the claimed benefit', () => {
    const tiny = table('accuracy', { xe, emd2: xe.map((x, i) => x + 0.005 + [0.001, -0.001, 0.0005, -0.0005, 0, 0.001, -0.001, 0][i]!) });
    const c = checkClaim(claim({ smallest_effect: 0.02 }), tiny, 'seed', 'proxy');
    expect(c.verdict).toBe('not reproduced');
    expect(c.explanation).toMatch(/is significant, .* but smaller than what the claim is worth/);
  });

  it('noisy: undecided, with the seeds 80 % power needs and what they cost', () => {
    const noisy = table('accuracy', { xe, emd2: xe.map((x, i) => x + [0.04, -0.03, 0.02, -0.04, 0.03, 0.01, -0.02, 0.015][i]!) });
    const c = checkClaim(claim({ smallest_effect: 0.02 }), noisy, 'seed', 'proxy', { power: { secondsPerSeed: 120 } });
    expect(c.verdict).toBe('inconclusive');
    const p = c.power!;
    expect(p.basis).toBe('smallest effect of interest');
    expect(p.n).toBe(8);
    // The figure itself is pinned against G*Power values in stats.test.ts; here: more seeds than these 8, and their cost.
    expect(p.seedsNeeded).toBeGreaterThan(8);
    expect(p.more).toBe(p.seedsNeeded! - 8);
    expect(p.seconds).toBe(p.more! * 120);
    expect(c.explanation).toMatch(new RegExp(`power: ${p.seedsNeeded} seeds would give 80 % power at the smallest effect of interest 0\\.02 .*${p.more} more than the 8 here, about \\d+ min of training`));
  });
});

describe('collapsed trainings', () => {
  it('are detected from predictions and histories', () => {
    expect(predictionHealth([2, 2, 2, 2], ['a', 'b', 'c'])).toEqual({ collapsed: true, reasons: ["constant predictions: all 4 examples predicted as class 2 ('c')"] });
    expect(predictionHealth([2, 1, 2], ['a', 'b', 'c']).collapsed).toBe(false);
    const epochs = [
      { epoch: 0, train_loss: 1.2, val: { accuracy: 0.4 } },
      { epoch: 1, train_loss: null, val: { accuracy: 0.45 } },
    ];
    expect(historyHealth(epochs, [45, 30, 25]).reasons).toEqual([
      'training loss not finite in epoch 2',
      'never beat the majority class on validation (best accuracy 0.450 ≤ majority share 0.450)',
    ]);
    expect(historyHealth([{ epoch: 0, train_loss: 1, val: { accuracy: 0.6 } }], [45, 30, 25]).collapsed).toBe(false);
  });

  it('are counted with a warning by default, or excluded with their pair', () => {
    const t = table('accuracy', { xe, emd2: xe.map((x) => x + 0.05) });
    t.get('emd2')!.get('3')!.accuracy = 0.2;
    const notes = emptyNotes();
    notes.collapsed.set('emd2', new Map([['3', ['constant predictions: all 400 examples predicted as class 0']]]));
    const counted = checkClaim(claim(), t, 'seed', 'proxy', { notes });
    expect(counted.collapsed).toEqual([{ variant: 'emd2', key: '3', reasons: ['constant predictions: all 400 examples predicted as class 0'] }]);
    expect(counted.collapsedPolicy).toBe('count');
    expect(counted.stats!.n).toBe(8);
    expect(counted.explanation).toMatch(/WARNING collapsed training counted: emd2 seed 3 \(constant predictions/);
    const excluded = checkClaim(claim(), t, 'seed', 'proxy', { notes, collapsed: 'exclude' });
    expect(excluded.stats!.n).toBe(7);
    expect(excluded.verdict).toBe('reproduced');
    expect(excluded.explanation).toMatch(/collapsed training excluded with its seed pair \(collapsed: exclude\)/);
  });
});

describe('smallest_effect: bad input', () => {
  const results = ['xe', 'emd2'].flatMap((v) => [1, 2].map((seed) => ({ matrix: { variant: v, seed }, step: `e[${v},${seed}]`, value: null })));
  const issues = (se: unknown, rel: object = { type: 'better', a: 'emd2', b: 'xe' }) =>
    checkCompareWith({ results, claims: [{ ...claim(), relation: rel, smallest_effect: se }] } as never);
  it.each([
    ['negative', -0.01, 'claims/0/smallest_effect', /must be a number > 0 in the units of accuracy \(got -0\.01\)/],
    ['not a number', 'big', 'claims/0/smallest_effect', /must be a number > 0 .*\(got "big"\)/],
    ['in a metric the claim does not test', { mae: 0.1 }, 'claims/0/smallest_effect/mae', /given for metric 'mae', but this claim tests 'accuracy'/],
  ])('%s', (_name, se, path, message) => {
    expect(issues(se)).toEqual([{ path, message: expect.stringMatching(message) }]);
  });
  it('on a non-inferiority or equivalence claim', () => {
    expect(issues(0.01, { type: 'better', a: 'emd2', b: 'xe', min_gain: -0.03 })[0]!.message).toMatch(/non-inferiority/);
    expect(issues(0.01, { type: 'equivalent', a: 'emd2', b: 'xe', delta: 0.03 })[0]!.message).toMatch(/delta/);
  });
});
