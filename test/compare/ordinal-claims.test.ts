// A claim or reported number on an ordinal metric (one-off accuracy, MAE, QWK) over classes that
// have no order: evaluate never writes the metric there, so the plan refuses it at the claim's
// file:line:column, inline or in a claims file, before anything is trained. The real CLI, real kinds.
import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { projectWith, repro } from '../support/index.js';

/**
 * `dataset`: the dataset step's `with`, three lines, so the positions below stay put. The models are
 * named by path, not trained here: what the plan judges is the data evaluate reads.
 */
function workflow(dataset: string, compare: string): string {
  return `name: ordinal-claims
steps:
  data:
    uses: dataset
    with:
${dataset}
  evaluate:
    uses: evaluate
    matrix:
      variant: [small, large]
      seed: [1, 2]
    with:
      model: models/\${{ matrix.variant }}-\${{ matrix.seed }}
      dataset: \${{ steps.data.outputs.dataset }}
  compare:
    uses: compare
    with:
      results: \${{ steps.evaluate.outputs.metrics }}
${compare}`;
}

const UNORDERED = '      format: csv\n      csv: grapes.csv\n      classes: [barbera, grignolino, nebbiolo]';
const CLAIM = (metric: string) => `      claims:
        - id: C-1
          text: The large model does better.
          metric: ${metric}
          relation: {type: better, a: large, b: small}
`;
const FIX = /hint: declare ordered: true in step 'data' if its classes are ordered \(grades, age groups\), or claim a metric that exists, e.g\. accuracy/;

function validate(files: Record<string, string>) {
  const dir = projectWith(files, 'repro-ordinal-claims-');
  return { dir, ...repro(['validate', 'w.yaml'], { cwd: dir }) };
}

describe('an ordinal metric claimed over classes without an order', () => {
  it.each(['mae', 'qwk', 'one_off_accuracy'])('inline claim on %s: exit 2 at the claim\'s metric, with the fix', (metric) => {
    const r = validate({ 'w.yaml': workflow(UNORDERED, CLAIM(metric)) });
    expect(r.code, r.out).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^w\\.yaml:24:19: error: step 'compare': metric '${metric}' exists only for ordered classes, and dataset step 'data' does not declare its classes ordered`, 'm'));
    expect(r.stderr).toMatch(FIX);
  });

  it('a claim in a claims file: at its line and column in that file', () => {
    const claims = `claims:\n  - id: C-1\n    text: The large model agrees better with the grades.\n    metric: qwk\n    relation: {type: better, a: large, b: small}\n`;
    const r = validate({ 'w.yaml': workflow(UNORDERED, '      claims_file: claims.yaml\n'), 'claims.yaml': claims });
    expect(r.code, r.out).toBe(2);
    expect(r.stderr).toMatch(/^w\.yaml:21:20: error: step 'compare': claims\.yaml:4:13: metric 'qwk' exists only for ordered classes/m);
    expect(r.stderr).toMatch(FIX);
  });

  it('a reported number, and classes declared `ordered: false`: at its metric', () => {
    const reported = `      reported:
        - id: R-1
          metric: mae
          variant: large
          value: 0.4
          source: {paper: 'pilot study'}
          tolerance: {absolute: 0.1}
`;
    const r = validate({ 'w.yaml': workflow('      format: csv\n      csv: grapes.csv\n      ordered: false', reported) });
    expect(r.code, r.out).toBe(2);
    expect(r.stderr).toMatch(/^w\.yaml:23:19: error: step 'compare': metric 'mae' exists only for ordered classes/m);
    expect(r.stderr).toMatch(/or compare a metric that exists, e\.g\. accuracy/);
  });

  it('`repro run` stops at the plan: nothing trains, no run is recorded', () => {
    const dir = projectWith({ 'w.yaml': workflow(UNORDERED, CLAIM('mae')) }, 'repro-ordinal-claims-');
    const r = repro(['run', 'w.yaml', '--backend', 'cpu'], { cwd: dir, timeout: 60_000 });
    expect(r.code, r.out).toBe(2);
    expect(r.stderr).toMatch(/^w\.yaml:24:19: error: step 'compare': metric 'mae' exists only for ordered classes/m);
    expect(readdirSync(dir)).toEqual(['w.yaml']);
  });

  it.each([
    ['classes declared ordered', '      format: csv\n      csv: grapes.csv\n      ordered: true', CLAIM('mae')],
    // npz data may be RetinaMNIST's file, whose grades are ordered: only the run can tell.
    ['npz data, its order undeclared', '      format: npz\n      npz: grapes.npz\n      seed: 1', CLAIM('qwk')],
    ['accuracy, which every evaluation writes', UNORDERED, CLAIM('accuracy')],
  ])('%s: valid', (_name, dataset, compare) => {
    const r = validate({ 'w.yaml': workflow(dataset, compare) });
    expect(r.code, r.out).toBe(0);
  });
});
