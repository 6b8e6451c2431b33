import { describe, expect, it } from 'vitest';
import { checkCompareWith, compareWithSchema } from '../../src/compare/spec.js';
import { compareStep } from '../../src/steps/compare.js';
import type { Gathered } from '../../src/workflow/types.js';
import Ajv2020 from 'ajv/dist/2020.js';

// At plan time the engine hands `check` the gathered entries with unresolved references as values.
function gathered(variants: string[], seeds: number[], extra: Record<string, unknown> = {}): Gathered[] {
  return variants.flatMap((v) =>
    seeds.map((seed) => ({
      matrix: { variant: { name: v, loss: { kind: v } }, seed, ...extra },
      step: `evaluate[variant=${v},seed=${seed}]`,
      value: { $ref: { step: `evaluate[variant=${v},seed=${seed}]`, output: 'metrics' } },
    })),
  );
}

const source = { paper: 'arXiv:1611.05916', version: 'v4', table: '2', row: 'XE', column: 'exact' };
const base = () => ({
  results: gathered(['xe', 'emd2'], [1, 2, 3]),
  scale: 'proxy',
  scale_note: 'RetinaMNIST, CPU',
  reported: [{ id: 'R1', metric: 'accuracy', variant: 'xe', value: 0.507, source, tolerance: { absolute: 0.02 } }],
  claims: [{ id: 'C1', text: 'EMD² beats XE', metric: 'accuracy', relation: { type: 'better', a: 'emd2', b: 'xe' }, test: 'paired-t' }],
});

function issuesOf(mutate: (w: any) => void) {
  const w: any = base();
  mutate(w);
  return checkCompareWith(w);
}

describe('compare: plan-time checks', () => {
  it('accepts a well-formed comparison', () => {
    expect(checkCompareWith(base() as any)).toEqual([]);
    expect(compareStep.check!(base() as any, { steps: [] })).toEqual([]);
  });

  it('the schema is valid JSON Schema 2020-12 and accepts the example', () => {
    const ajv = new Ajv2020.default({ allErrors: true, strict: false });
    const validate = ajv.compile(compareWithSchema);
    expect(validate(base())).toBe(true);
    expect(validate({ ...base(), claims: [{ id: 'C1' }] })).toBe(false);
  });

  // Each bad input of the issue, with the node the diagnostic must point at.
  const cases: Array<[string, (w: any) => void, string, RegExp]> = [
    ['claim naming an unknown variant', (w) => (w.claims[0].relation.a = 'emd3'), 'claims/0/relation/a', /no step produces variant 'emd3' \(did you mean 'emd2'\?\) \(variant values: xe, emd2\)/],
    ['claim naming an unknown metric', (w) => (w.claims[0].metric = 'acuracy'), 'claims/0/metric', /unknown metric 'acuracy' \(did you mean 'accuracy'\?\)/],
    ['reported value for an unknown variant', (w) => (w.reported[0].variant = 'l2'), 'reported/0/variant', /no step produces variant 'l2'/],
    ['timing metric without timings', (w) => (w.claims[0].metric = 'ms_per_step'), 'claims/0/metric', /add timings/],
    [
      'pairing keys that differ between variants',
      (w) => (w.results = [...gathered(['xe'], [1, 2, 3]), ...gathered(['emd2'], [1, 2, 4])]),
      'claims/0/relation/b',
      /seeds differ between 'emd2' \(1, 2, 4\) and 'xe' \(1, 2, 3\): 'xe' lacks 4; only 'xe' has 3/,
    ],
    ['negative tolerance', (w) => (w.reported[0].tolerance = { absolute: -0.01 }), 'reported/0/tolerance/absolute', /must be a number ≥ 0/],
    ['missing tolerance', (w) => delete w.reported[0].tolerance, 'reported/0', /has a value but no tolerance/],
    ['k_sd tolerance without the reported sd', (w) => (w.reported[0].tolerance = { k_sd: 2 }), 'reported/0/tolerance/k_sd', /needs the reported sd/],
    ['reported value without a source', (w) => delete w.reported[0].source, 'reported/0', /has no source/],
    ['source without the paper', (w) => (w.reported[0].source = { table: '2' }), 'reported/0/source', /needs 'paper'/],
    ['a percentage where a fraction is meant', (w) => (w.reported[0].value = 50.7), 'reported/0/value', /write 0\.507 for 50\.7 %/],
    ['an unknown value that is required', (w) => Object.assign(w.reported[0], { value: null, required: true }), 'reported/0/required', /cannot be required/],
    ['a proxy run without a note', (w) => delete w.scale_note, 'scale', /needs a scale_note/],
    ['results that are not gathered', (w) => (w.results = { $ref: { step: 'evaluate', output: 'metrics' } }), 'results', /must gather every instance/],
    ['a variant axis that does not exist', (w) => (w.variant_key = 'loss'), 'variant_key', /no axis 'loss'/],
    ['a pairing axis that does not exist', (w) => (w.pair_by = 'fold'), 'pair_by', /no axis 'fold' to pair runs by/],
    ['two runs per variant and seed', (w) => (w.results = [...gathered(['xe', 'emd2'], [1], { lr: 1 }), ...gathered(['xe', 'emd2'], [1], { lr: 2 })]), 'results', /several runs of variant 'xe' with seed 1 \(they differ in 'lr'\)/],
    ['equivalence without delta', (w) => (w.claims[0].relation = { type: 'equivalent', a: 'emd2', b: 'xe' }), 'claims/0/relation', /needs delta/],
    ['equivalence with delta ≤ 0', (w) => (w.claims[0].relation = { type: 'equivalent', a: 'emd2', b: 'xe', delta: 0 }), 'claims/0/relation/delta', /> 0/],
    ['a variant compared with itself', (w) => (w.claims[0].relation.b = 'emd2'), 'claims/0/relation/b', /both 'emd2'/],
    ['a ranking of one', (w) => (w.claims[0].relation = { type: 'ranking', order: ['xe'] }), 'claims/0/relation/order', /at least two/],
    ['a ranking naming an unknown variant', (w) => (w.claims[0].relation = { type: 'ranking', order: ['emd2', 'xe', 'sinkhorn'] }), 'claims/0/relation/order/2', /variant 'sinkhorn'/],
    ['a duplicate id', (w) => (w.claims[0].id = 'R1'), 'claims/0/id', /id 'R1' is used twice/],
    ['alpha out of range', (w) => (w.claims[0].alpha = 5), 'claims/0/alpha', /alpha must be between 0 and 0\.5/],
  ];

  it.each(cases)('%s', (_name, mutate, path, message) => {
    const issues = issuesOf(mutate);
    expect(issues).toContainEqual({ path, message: expect.stringMatching(message) });
  });

  it('knows timing metrics once timings are given', () => {
    const issues = issuesOf((w) => {
      w.timings = gathered(['xe', 'emd2'], [1, 2, 3]);
      w.claims[0].metric = 'ms_per_step';
    });
    expect(issues).toEqual([]);
  });
});
