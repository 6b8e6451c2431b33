// The statistical level of a reproduction (src/compare/reproduction.ts): equivalence of a re-run's
// seeds with the original's, paired or Welch, against SciPy's numbers; claims side by side; the
// overall verdict; and the environment/fact lines of `repro diff` (src/compare/differences.ts).
import { describe, expect, it } from 'vitest';
import { compareClaims, compareSample, reproduction, smallestEffects, type RunSamples } from '../../src/compare/reproduction.js';
import { environmentChanges, factChanges } from '../../src/compare/differences.js';
import type { VerdictFile } from '../../src/formats/verdict.js';
import type { StepRecord } from '../../src/formats/run-record.js';

const keyed = (xs: number[], from = 1) => new Map(xs.map((x, i) => [`seed=${i + from}`, x]));
const effect = (value: number) => ({ value, source: 'metric' as const });

describe('equivalence of two sets of seeds', () => {
  const a = [0.5, 0.52, 0.51, 0.49, 0.53];
  const b = [0.47, 0.5, 0.48, 0.49, 0.46];

  it("fresh seeds: Welch's 90 % interval of the difference and the TOST p as SciPy gives them", () => {
    const r = compareSample(keyed(a), keyed(b, 1001), effect(0.05), { alpha: 0.05, design: 'welch' });
    // scipy: Welch df 8.0, interval [-0.048595, -0.011405]; max of the two one-sided ttest_ind p = 0.040258.
    expect(r.delta).toBeCloseTo(-0.03, 12);
    expect(r.interval![0]).toBeCloseTo(-0.0485954804, 8);
    expect(r.interval![1]).toBeCloseTo(-0.0114045196, 8);
    expect(r.pValue!).toBeCloseTo(0.0402581190, 8);
    expect(r.verdict).toBe('equivalent');
    expect(compareSample(keyed(a), keyed(b, 1001), effect(0.01), { alpha: 0.05, design: 'welch' }).verdict).toBe('different');
    expect(compareSample(keyed(a), keyed(b, 1001), effect(0.03), { alpha: 0.05, design: 'welch' }).verdict).toBe('inconclusive');
  });

  it('the same seeds: paired by seed (scipy ttest_1samp on the differences)', () => {
    const r = compareSample(keyed([0.61, 0.63, 0.6, 0.62]), keyed([0.612, 0.628, 0.603, 0.621]), effect(0.01), { alpha: 0.05, design: 'paired' });
    expect(r.delta).toBeCloseTo(0.001, 12);
    expect(r.interval![0]).toBeCloseTo(-0.0015419230, 8);
    expect(r.interval![1]).toBeCloseTo(0.0035419230, 8);
    expect(r.pValue!).toBeCloseTo(0.0018115933, 8);
    expect(r.verdict).toBe('equivalent');
  });

  it('identical values are identical; one run a side that differs cannot be tested', () => {
    expect(compareSample(keyed(a), keyed(a), undefined, { alpha: 0.05, design: 'paired' }).verdict).toBe('identical');
    expect(compareSample(keyed([0.5]), keyed([0.6]), effect(0.5), { alpha: 0.05, design: 'paired' }).verdict).toBe('untested');
  });

  it('the default smallest effect is half the sd of the original seeds', () => {
    const r = compareSample(keyed(a), keyed(b, 1001), undefined, { alpha: 0.05, design: 'welch' });
    expect(r.effectSource).toBe('default');
    expect(r.smallestEffect).toBeCloseTo(0.5 * 0.0158113883, 9);
  });
});

const file = (checks: Array<Partial<VerdictFile['checks'][number]>>, metrics: VerdictFile['metrics'] = {}): VerdictFile =>
  ({ scale: 'smoke', scaleNote: '', metrics, checks }) as unknown as VerdictFile;

describe('claims and the overall verdict', () => {
  it("takes δ from the workflow's metric declaration first, else the smallest of its claims'", () => {
    const e = smallestEffects([
      file(
        [
          { kind: 'claim', id: 'a', metric: 'mae', smallestEffect: 0.05 },
          { kind: 'claim', id: 'b', metric: 'mae', smallestEffect: 0.03 },
          { kind: 'claim', id: 'c', metric: 'accuracy', smallestEffect: 0.5 },
        ],
        { accuracy: { label: 'accuracy', smallest_effect: 0.025 } as never },
      ),
    ]);
    expect(e.get('mae')).toEqual({ value: 0.03, source: 'claim' });
    expect(e.get('accuracy')).toEqual({ value: 0.025, source: 'metric' });
  });

  it('puts each claim beside its re-run: same, changed between decided verdicts, undecided with inconclusive on one side', () => {
    const c = compareClaims(
      [file([{ id: 'x', verdict: 'reproduced' }, { id: 'y', verdict: 'reproduced' }, { id: 'z', verdict: 'inconclusive', required: true }])],
      [file([{ id: 'x', verdict: 'reproduced' }, { id: 'y', verdict: 'not reproduced' }, { id: 'z', verdict: 'reproduced' }])],
    );
    expect(c.map((x) => x.agreement)).toEqual(['same', 'changed', 'undecided']);
    expect(c[2]!.required).toBe(true);
  });

  const samples = (xs: number[], from = 1): RunSamples => new Map([['evaluate variant=xe', new Map([['accuracy', keyed(xs, from)], ['ms_per_step', keyed(xs.map((x) => x * 1000), from)]])]]);
  const claims = (v: string) => [file([{ kind: 'claim', id: 'C1', metric: 'accuracy', verdict: v as never }], { accuracy: { label: 'accuracy', smallest_effect: 0.05 } as never })];

  it('reproduced: every metric equivalent and every claim the same; a measurement of the machine never counts', () => {
    const r = reproduction({ samples: samples(a()), verdicts: claims('reproduced') }, { samples: samples(b(), 1001), verdicts: claims('reproduced') }, { measurements: new Set(['ms_per_step']) });
    expect(r.verdict).toBe('reproduced');
    expect(r.metrics.find((m) => m.metric === 'ms_per_step')!.measurement).toBe(true);
    const changed = reproduction({ samples: samples(a()), verdicts: claims('reproduced') }, { samples: samples(b(), 1001), verdicts: claims('not reproduced') });
    expect(changed.verdict).toBe('not reproduced');
    expect(changed.reasons.join()).toMatch(/claim C1: reproduced → not reproduced/);
  });

  it("a claim on a measurement of the machine (C5's ms per step) is shown but never decides", () => {
    const timing = (v: string) => [file([{ kind: 'claim', id: 'C5', metric: 'ms_per_step', verdict: v as never }])];
    const r = reproduction({ samples: samples(a()), verdicts: timing('reproduced') }, { samples: samples(a()), verdicts: timing('not reproduced') }, { measurements: new Set(['ms_per_step']) });
    expect(r.claims[0]).toMatchObject({ id: 'C5', agreement: 'changed', measurement: true });
    expect(r.verdict).toBe('reproduced');
    // Without the declaration the same flip is a changed result.
    expect(reproduction({ samples: samples(a()), verdicts: timing('reproduced') }, { samples: samples(a()), verdicts: timing('not reproduced') }).verdict).toBe('not reproduced');
  });

  it('differs when values differ and one run a side allows no test; no evidence with nothing to compare', () => {
    expect(reproduction({ samples: samples([0.5]), verdicts: [] }, { samples: samples([0.6]), verdicts: [] }).verdict).toBe('differs');
    expect(reproduction({ samples: new Map(), verdicts: [] }, { samples: new Map(), verdicts: [] }).verdict).toBe('no evidence');
  });

  function a() {
    return [0.5, 0.52, 0.51, 0.49, 0.53];
  }
  function b() {
    return [0.47, 0.5, 0.48, 0.49, 0.46];
  }
});

describe('what differs between two machines', () => {
  it('lists CPU model and features, cores, packages and Python/torch versions that differ, nothing else', () => {
    const base = { os: 'Debian 12', kernel: '6.1', arch: 'x64', cpuModel: 'AMD EPYC', cpuFeatures: ['avx2', 'sse4_2'], cores: 2, memoryBytes: 8, node: 'v20.1.0', repro: '0.1.0', lockfileSha256: 'ab', packages: { sharp: '0.35.5', jstat: '1.9.6' }, gpus: [], python: { path: '/usr/bin/python3', version: '3.11.2', torch: '2.1.0' } };
    const other = { ...base, cpuModel: 'Intel Xeon', cpuFeatures: ['avx2', 'avx512f'], cores: 16, packages: { sharp: '0.36.0', jstat: '1.9.6' }, python: { ...base.python, torch: '2.3.1' } };
    expect(environmentChanges(base, other)).toEqual([
      'cpu model: AMD EPYC → Intel Xeon',
      'cpu features: +avx512f −sse4_2',
      'cores: 2 → 16',
      'package sharp: 0.35.5 → 0.36.0',
      'torch: 2.1.0 → 2.3.1',
    ]);
    expect(environmentChanges(base, base)).toEqual([]);
  });

  it('groups execution facts that changed the same way across steps, and names packages as people do', () => {
    const step = (id: string, facts: Record<string, string | number>) => ({ id, facts }) as unknown as StepRecord;
    const changes = factChanges(
      [step('train[seed=1]', { backend: 'wasm', threads: 2 }), step('train[seed=2]', { backend: 'wasm', threads: 2 }), step('fit', { 'package:scikit-learn': '1.2.1' })],
      [step('train[seed=1]', { backend: 'cpu', threads: 2 }), step('train[seed=2]', { backend: 'cpu', threads: 2 }), step('fit', { 'package:scikit-learn': '1.5.0' })],
    );
    expect(changes).toEqual([
      { change: 'backend wasm → cpu', steps: ['train[seed=1]', 'train[seed=2]'] },
      { change: 'scikit-learn 1.2.1 → 1.5.0', steps: ['fit'] },
    ]);
  });
});
