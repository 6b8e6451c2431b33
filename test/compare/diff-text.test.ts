// The one renderer of a RunDiff (src/compare/diff-text.ts): `repro diff`'s brief text of only what
// differs, and `repro compare RUN_A RUN_B`'s overview of the same sections, in the terminal and as
// Markdown for a pull-request comment.
import { describe, expect, it } from 'vitest';
import { diffHeading, renderDifferences } from '../../src/compare/diff-text.js';
import type { RunDiff } from '../../src/compare/runs.js';
import type { SampleComparison } from '../../src/compare/reproduction.js';

const trainings = ['train[variant=xe,seed=1]', 'train[variant=xe,seed=2]', 'train[variant=emd2,seed=1]'];
const sample = (metric: string, verdict: SampleComparison['verdict'], a: number, b: number): SampleComparison => ({
  group: 'evaluate variant=emd2',
  metric,
  design: 'paired',
  original: { n: 2, mean: a, sd: 0.01 },
  reproduced: { n: 2, mean: b, sd: 0.01 },
  delta: b - a,
  interval: verdict === 'identical' ? [0, 0] : [b - a - 0.01, b - a + 0.01],
  level: 0.9,
  smallestEffect: 0.02,
  effectSource: 'metric',
  pValue: 0.5,
  verdict,
  measurement: false,
});

function diff(): RunDiff {
  return {
    a: { runId: 'run-a', path: '/a/run.json', scale: 'smoke' },
    b: { runId: 'run-b', path: '/b/run.json', scale: 'smoke' },
    params: ['param `gain`: 0.05 → 0.04'],
    metrics: [
      { group: 'evaluate variant=emd2', metric: 'accuracy', a: { mean: 0.64, n: 2 }, b: { mean: 0.74, n: 2 }, delta: 0.1 },
      { group: 'evaluate variant=xe|<b>', metric: 'accuracy', a: { mean: 0.6, n: 2 }, b: { mean: 0.6, n: 2 }, delta: 0 },
      { group: 'evaluate variant=xe|<b>', metric: 'loss', a: { mean: 0.3, n: 2 }, b: null, delta: null },
    ],
    steps: [
      ...trainings.map((step) => ({ step, status: 'changed' as const, changes: ['with key `env.GAIN`: 0.05 → 0.04', 'c2', 'c3', 'c4', 'c5'] })),
      { step: 'evaluate[variant=xe]', status: 'same', changes: [] },
      { step: 'plot', status: 'only in B', changes: [] },
    ],
    verdicts: [{ id: 'C1', a: 'reproduced', b: null }],
    environment: ['cpu model: AMD EPYC → Intel Xeon'],
    facts: [{ change: 'backend wasm → cpu', steps: trainings }],
    samples: [sample('accuracy', 'different', 0.64, 0.74), sample('loss', 'identical', 0.3, 0.3)],
  };
}

describe('a RunDiff as text', () => {
  it("repro diff: only what differs, steps that changed alike on one line, the metrics' intervals and verdicts", () => {
    const text = renderDifferences(diff());
    expect(text).toBe(
      [
        'params:',
        '  param `gain`: 0.05 → 0.04',
        'steps (by fingerprint: with, inputs and code by hash, kind version):',
        '  with key `env.GAIN`: 0.05 → 0.04; c2; c3; … 2 more  (3 steps: train[variant=xe,seed=1], train[variant=xe,seed=2], …)',
        '  only in B: plot',
        'environment:',
        '  cpu model: AMD EPYC → Intel Xeon',
        'execution facts:',
        '  backend wasm → cpu  (3 steps: train[variant=xe,seed=1], train[variant=xe,seed=2], …)',
        'metrics (B − A; 90% interval, equivalence within the smallest effect):',
        '  evaluate variant=emd2 accuracy: 0.64 → 0.74, Δ +0.1 [+0.09, +0.11], n 2/2 paired by seed: different within ±0.02 (δ from the metric)',
        'verdicts:',
        '  C1: reproduced → absent',
        '',
      ].join('\n'),
    );
    expect(diffHeading(diff(), { a: 'x.repro.tar.gz', b: 'latest' })).toBe('A: run run-a (x.repro.tar.gz; scale smoke)\nB: run run-b (latest; scale smoke)\n');
  });

  it("repro compare: the same sections with every metric's means, every step and change, and the steps that kept their fingerprint", () => {
    const text = renderDifferences(diff(), { overview: true });
    expect(text).toContain(`  with key \`env.GAIN\`: 0.05 → 0.04; c2; c3; c4; c5  (3 steps: ${trainings.join(', ')})\n`);
    expect(text).toContain('  1 of 5 steps have the same fingerprint\n');
    expect(text).toContain(`  backend wasm → cpu  (3 steps: ${trainings.join(', ')})\n`);
    expect(text).toContain('environment:\n  cpu model: AMD EPYC → Intel Xeon\n');
    expect(text).toMatch(/^metrics \(mean over seeds\/folds; Δ = B − A\):\n {2}step +metric +A +B +Δ\n {2}evaluate variant=emd2 +accuracy +0\.64 \(n=2\) +0\.74 \(n=2\) +\+0\.1\n/m);
    // Identical metrics and those of one run only are in the table too.
    expect(text).toMatch(/^ {2}evaluate variant=xe\|<b> +accuracy +0\.6 \(n=2\) +0\.6 \(n=2\) +0$/m);
    expect(text).toMatch(/^ {2}evaluate variant=xe\|<b> +loss +0\.3 \(n=2\) +—$/m);
    expect(text).not.toMatch(/interval/);
  });

  it('repro compare --markdown: a list per section, the metrics as a table, strings from the workflow as text', () => {
    const md = diffHeading(diff(), { a: 'a', b: 'b' }, { markdown: true }) + renderDifferences(diff(), { overview: true, markdown: true });
    expect(md).toMatch(/^- \*\*A\*\*: run run-a \(a; scale smoke\)\n- \*\*B\*\*: run run-b \(b; scale smoke\)\n\n\*\*params\*\*\n\n- param \\`gain\\`: 0\.05 → 0\.04\n\n/);
    expect(md).toContain('| step | metric | A | B | Δ |\n|---|---|---|---|---|\n| evaluate variant=emd2 | accuracy | 0.64 (n=2) | 0.74 (n=2) | +0.1 |\n');
    // A variant's name cannot break the table row or add HTML.
    expect(md).toContain('| evaluate variant=xe\\|\\<b\\> | accuracy |');
    expect(md).not.toMatch(/<b>/);
    expect(md).toContain('- 1 of 5 steps have the same fingerprint\n');
    expect(md).toMatch(/\*\*verdicts\*\*\n\n- C1: reproduced → absent\n$/);
  });

  it('says when nothing differs, and nests under a heading with an indent', () => {
    const same: RunDiff = { ...diff(), params: [], steps: [], verdicts: [], environment: [], facts: [], samples: [] };
    expect(renderDifferences(same)).toBe("nothing differs but the runs' ids and times\n");
    expect(renderDifferences(same, { indent: '  ', metrics: false })).toBe('  no parameter, input, code, environment or execution fact differs\n');
    expect(renderDifferences(diff(), { indent: '  ', metrics: false })).toMatch(/^ {2}params:\n {4}param/);
  });
});
