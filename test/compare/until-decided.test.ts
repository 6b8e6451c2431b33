// `repro check --until-decided` end to end, on a workflow whose "training" is a script writing chosen
// metrics per variant and seed: seeds are added in rounds (trainings already run come from the
// cache), each look tests at its share of α, and it stops when the required claim is decided, or
// says that the budget cannot afford another round (exit 4) with the verdicts so far.
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { projectWith, repro as launch } from '../support/index.js';
import { sequentialBoundaries } from '../../src/compare/stats.js';

let dir: string;

// emd2 is better by 0.05 with per-seed noise of sd ≈ 0.01: 4 seeds cannot reach the first look's
// tiny α, 8 can.
const script = `
import { writeFileSync } from 'node:fs';
const variant = process.env.VARIANT, seed = Number(process.env.SEED);
const noise = [0.012, -0.008, 0.004, -0.011, 0.009, -0.003, 0.006, -0.01, 0.002, -0.005, 0.011, -0.007];
const gain = Number(process.env.GAIN ?? 0.05), scale = Number(process.env.NOISE ?? 1);
const accuracy = 0.5 + (variant === 'emd2' ? gain + scale * noise[(seed - 1) % noise.length] : 0);
writeFileSync('metrics.json', JSON.stringify({ accuracy, n: 100 }));
writeFileSync('history.json', JSON.stringify({ loss: variant, best_epoch: 0, facts: {}, epochs: [{ epoch: 0, train_loss: 1, examples_per_second: 1, ms_per_step: 1, seconds: 2 }] }));
`;

const workflow = (node: string, seedAxis = "'${{ params.seeds }}'", smallestEffect = '0.01', seeds = '[1, 2, 3, 4]') => `
name: adaptive
params:
  seeds: {type: array, default: ${seeds}}
  gain: {type: number, default: 0.05}
  noise: {type: number, default: 1}
steps:
  train:
    uses: run
    matrix:
      variant: [xe, emd2]
      seed: ${seedAxis}
    with:
      command: ['${node}', '\${{ workflow.dir }}/train.mjs']
      inputs: [train.mjs]
      env: {VARIANT: '\${{ matrix.variant }}', SEED: '\${{ matrix.seed }}', GAIN: '\${{ params.gain }}', NOISE: '\${{ params.noise }}'}
    outputs:
      metrics: metrics.json
      history: history.json
  compare:
    uses: compare
    with:
      results: \${{ steps.train.outputs.metrics }}
      timings: \${{ steps.train.outputs.history }}
      scale: full
      claims:
        - id: C1
          text: emd2 beats xe
          metric: accuracy
          relation: {type: better, a: emd2, b: xe}
          smallest_effect: ${smallestEffect}
`;

const repro = (...args: string[]) => launch(args, { cwd: dir, timeout: 240_000 });

beforeAll(() => {
  dir = projectWith(
    {
      'train.mjs': script,
      'wf.yaml': workflow(process.execPath),
      'fixed.yaml': workflow(process.execPath, '[1, 2, 3, 4]'),
      'bad-sesoi.yaml': workflow(process.execPath, undefined, '-0.01'),
      'six.yaml': workflow(process.execPath, undefined, '0.02', '[1, 2, 3, 4, 5, 6]'),
    },
    'repro-until-decided-',
  );
});

describe('repro check --until-decided', () => {
  it('exit 2: seeds written out in the workflow (no param to extend), with a hint', () => {
    const r = repro('check', 'fixed.yaml', '--until-decided', '--max-seeds', '12');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/the 'seed' axis of step 'train' is written out in the workflow/);
    expect(r.stderr).toMatch(/hint: .*params\.seeds/);
  });

  it('exit 2: no budget', () => {
    const r = repro('check', 'wf.yaml', '--until-decided');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--until-decided needs a budget/);
  });

  it('exit 2 at line:column: a negative smallest effect of interest', () => {
    const r = repro('validate', 'bad-sesoi.yaml');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad-sesoi\.yaml:\d+:\d+: error: .*smallest_effect must be a number > 0 in the units of accuracy \(got -0\.01\)/);
  });

  it('adds a round of seeds, reusing the cached trainings, until the claim is decided', () => {
    const r = repro('check', 'wf.yaml', '--until-decided', '--max-seeds', '12', '--json', '-j', '2');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.design).toMatch(/Lan–DeMets O'Brien–Fleming-type alpha spending, exact boundaries/);
    expect(out.rounds.map((x: { seeds: number; verdicts: { C1: string } }) => [x.seeds, x.verdicts.C1])).toEqual([
      [4, 'inconclusive'],
      [8, 'reproduced'],
    ]);
    const c1 = out.verdicts[0].file.checks[0];
    expect(c1.sequential).toMatchObject({ look: 2, n: 8, nMax: 12, alpha: 0.05 });
    // The exact boundaries for looks at 4, 8 and 12 of 12 seeds.
    const b = sequentialBoundaries([4 / 12, 8 / 12, 1], 0.05);
    expect(c1.sequential.z).toBeCloseTo(b.z[1]!, 10);
    expect(c1.sequential.alphaLook).toBeCloseTo(b.nominal[1]!, 10);
    expect(c1.terminal).toBe(true);
    expect(c1.explanation).toMatch(new RegExp(`look 2 of at most 3, 8 of at most 12 seeds: boundary z ${b.z[1]!.toPrecision(3)}, tested at nominal one-sided α ${b.nominal[1]!.toPrecision(3)} of 0\\.05`));
    expect(r.stderr).toMatch(/look 1\/3: 4 seeds.*C1 inconclusive/);
    expect(r.stderr).toMatch(/every required claim decided \(terminal under the verdict rule\) after 2 rounds/);
    // The second round ran only the new seeds: the first four of each variant came from the cache.
    const second = JSON.parse(readFileSync(out.rounds[1].record, 'utf8')) as { steps: Array<{ stepId: string; status: string }> };
    const trains = second.steps.filter((s) => s.stepId === 'train');
    expect(trains.length).toBe(16);
    expect(trains.filter((s) => s.status === 'cached').length).toBe(8);
  });

  it('exit 4 with the verdicts so far when the budget cannot afford one more round', () => {
    const r = repro('check', 'wf.yaml', '--until-decided', '--max-seeds', '12', '--max-time', '1');
    expect(r.code).toBe(4);
    expect(r.stdout).toMatch(/C1/);
    expect(r.stdout).toMatch(/inconclusive/);
    expect(r.stdout).toMatch(/the budget cannot afford another round: 4 more seeds would take about \d+ s/);
  });

  it('fixed and sequential give one answer in the same words: a real gain smaller than the smallest effect', () => {
    // Gain 0.01 ± 0.006 with a smallest effect of 0.02: every gain positive, every gain below 0.02.
    const set = ['--set', 'gain=0.01', '--set', 'noise=0.5'];
    const fixed = repro('check', 'six.yaml', ...set, '--json', '-j', '2');
    expect(fixed.code, fixed.stderr).toBe(3);
    const f = JSON.parse(fixed.stdout).verdicts[0].file.checks[0];
    expect(f.verdict).toBe('smaller than claimed');
    const seq = repro('check', 'six.yaml', ...set, '--until-decided', '--max-seeds', '12', '--json', '-j', '2');
    expect(seq.code, seq.stderr).toBe(3);
    const out = JSON.parse(seq.stdout);
    // Look 1 (6 seeds) cannot reach its nominal α (the sign-flip p is at least 1/64); look 2 decides, in the fixed check's word.
    expect(out.rounds.map((x: { seeds: number; verdicts: { C1: string } }) => [x.seeds, x.verdicts.C1])).toEqual([
      [6, 'inconclusive'],
      [12, 'smaller than claimed'],
    ]);
    const s = out.verdicts[0].file.checks[0];
    expect(s.terminal).toBe(true);
    // Pocock-type spending as the option: flat boundaries; the trainings come from the cache.
    const pocock = repro('check', 'six.yaml', ...set, '--until-decided', '--max-seeds', '12', '--spending', 'pocock', '--json', '-j', '2');
    const p = JSON.parse(pocock.stdout);
    expect(p.design).toMatch(/Pocock-type alpha spending/);
    const last = p.verdicts[0].file.checks[0];
    const pb = sequentialBoundaries([0.5, 1], 0.05, 'pocock');
    expect(last.sequential.z).toBeCloseTo(pb.z[last.sequential.look - 1]!, 10);
    expect(last.verdict).toBe('smaller than claimed');
    const bad = repro('check', 'six.yaml', '--until-decided', '--max-seeds', '12', '--spending', 'linear');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--spending 'linear' is not a spending function/);
    console.log(`fixed 6 seeds: ${f.verdict} (${f.explanation})\nuntil-decided, max 12: ${out.rounds.map((x: { seeds: number; verdicts: { C1: string } }) => `${x.seeds} seeds ${x.verdicts.C1}`).join(', ')}; ${out.stop}`);
  });
});
