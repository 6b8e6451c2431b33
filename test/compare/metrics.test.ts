// Metrics are data: a `run` step writes its own metric (log_loss), the compare step declares it once
// (direction, unit), and claims and reported numbers use it. A typo is caught at plan time with a
// did-you-mean (exit 2, line:column); a non-number under a declared key fails the step (exit 1).
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkCompareWith } from '../../src/compare/spec.js';
import { formatMetric, metricCatalog, metricTitle } from '../../src/formats/metrics.js';
import { repro, tempDir } from '../support/index.js';

let dir: string;

// log_loss of 'small' is lower than of 'big' by 0.05 (noise ±0.003); BROKEN=1 writes a string.
const script = `
import { writeFileSync } from 'node:fs';
const model = process.env.MODEL, seed = Number(process.env.SEED);
const noise = [0.003, -0.002, 0.001, -0.003, 0.002][seed - 1];
const log_loss = process.env.BROKEN === '1' ? 'n/a' : (model === 'small' ? 0.40 : 0.45) + noise;
writeFileSync('scores.json', JSON.stringify({ log_loss, brier: 0.2 + noise }));
`;

const workflow = (node: string, metric = 'log_loss') => `
name: custom-metrics
params:
  broken: {type: string, default: '0'}
steps:
  score:
    uses: run
    matrix:
      model: [small, big]
      seed: [1, 2, 3, 4, 5]
    with:
      command: ['${node}', '\${{ workflow.dir }}/score.mjs']
      inputs: [score.mjs]
      env: {MODEL: '\${{ matrix.model }}', SEED: '\${{ matrix.seed }}', BROKEN: '\${{ params.broken }}'}
    outputs:
      scores: scores.json
  compare:
    uses: compare
    with:
      results: \${{ steps.score.outputs.scores }}
      variant_key: model
      scale: full
      metrics:
        log_loss: {label: log loss, direction: lower, unit: nats, digits: 4}
      claims:
        - id: L1
          text: the small model has the lower log loss
          metric: ${metric}
          relation: {type: better, a: small, b: big}
`;

beforeAll(() => {
  dir = tempDir('repro-metrics-');
  writeFileSync(join(dir, 'score.mjs'), script);
  writeFileSync(join(dir, 'wf.yaml'), workflow(process.execPath));
  writeFileSync(join(dir, 'typo.yaml'), workflow(process.execPath, 'log_los'));
});


describe('metrics are data', () => {
  it('a declared metric of a run step is the subject of a claim; verdicts.json carries its declaration', () => {
    const r = repro(['check', 'wf.yaml', '--json', '-j', '2'], { cwd: dir, timeout: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    const file = out.verdicts[0].file;
    expect(file.checks[0].verdict).toBe('reproduced');
    expect(file.checks[0].direction).toBe('lower');
    expect(file.metrics.log_loss).toEqual({ label: 'log loss', direction: 'lower', unit: 'nats', digits: 4, format: 'number', origin: 'declared' });
    // brier is in every file but declared nowhere: it is a metric too, read as its name.
    expect(file.metrics.brier.origin).toBe('undeclared');
  });

  it('a typo in a metric name: exit 2 at line:column with a did-you-mean over the declared metrics', () => {
    const r = repro(['validate', 'typo.yaml'], { cwd: dir, timeout: 120_000 });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/typo\.yaml:\d+:\d+: error: .*unknown metric 'log_los' \(did you mean 'log_loss'\?\)/);
    // A near miss suggests the known metric, never declaring the typo.
    expect(r.stderr).not.toMatch(/log_los:|declared once under metrics/);
  });

  it('a non-number under a declared metric fails the step, naming the file and the key', () => {
    const r = repro(['check', 'wf.yaml', '--json', '-j', '2', '--set', 'broken=1'], { cwd: dir, timeout: 120_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/scores\.json: metric 'log_loss' is "n\/a", not a finite number/);
  });
});

describe('the metric catalog', () => {
  it('built-ins come declared; a declaration refines one or adds one; names never meet prototypes', () => {
    const c = metricCatalog({ mae: { smallest_effect: 0.05 }, __proto__: { label: 'odd' } } as never);
    expect(c.get('accuracy')).toMatchObject({ direction: 'higher', format: 'percent', origin: 'built-in' });
    expect(c.get('mae')).toMatchObject({ direction: 'lower', unit: 'class steps', smallest_effect: 0.05, origin: 'built-in' });
    expect(metricTitle('mae', c)).toBe('MAE (class steps)');
    expect(formatMetric(0.6123, 'accuracy', c)).toBe('61.2 %');
    expect(formatMetric(0.61234, 'mae', c)).toBe('0.612');
    expect(formatMetric(Number.NaN, 'mae', c)).toBe('–');
  });

  it('plan-time checks accept a declared metric and reject a bad declaration', () => {
    const results = ['a', 'b'].flatMap((v) => [1, 2].map((seed) => ({ matrix: { variant: v, seed }, step: `s[${v},${seed}]`, value: null })));
    const claim = { id: 'C', text: 't', metric: 'f1', relation: { type: 'better', a: 'a', b: 'b' } };
    // No known metric is near 'f1': the message says how to declare it.
    expect(checkCompareWith({ results, claims: [claim] } as never)).toEqual([
      expect.objectContaining({ path: 'claims/0/metric', message: expect.stringMatching(/unknown metric 'f1' \(built-in.*declared once under metrics: \(e\.g\. metrics: \{f1: \{direction: higher\}\}\)$/) }),
    ]);
    expect(checkCompareWith({ results, claims: [claim], metrics: { f1: { direction: 'higher' } } } as never)).toEqual([]);
    expect(checkCompareWith({ results, claims: [claim], metrics: { f1: {} } } as never)).toEqual([
      expect.objectContaining({ path: 'claims/0/metric', message: expect.stringMatching(/no default direction/) }),
    ]);
    expect(checkCompareWith({ results, claims: [claim], metrics: { f1: { direction: 'higher', smallest_effect: -1 } } } as never)).toEqual([
      expect.objectContaining({ path: 'metrics/f1/smallest_effect' }),
    ]);
  });
});
