// End to end: a tiny workflow whose "training" is a deterministic script (a `run` step writing
// chosen metrics per variant and seed) feeding a compare step; `repro check` is spawned for real
// (dist/ must be built: `npm test` does it first) and its verdicts and exit codes are asserted.
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import { projectWith, repro, scriptedTrainStep } from '../support/index.js';
let dir: string;

// emd2's accuracy is xe's plus GAIN, with per-seed noise: GAIN 0.05 → EMD² clearly better,
// −0.05 → clearly worse, 0 → the noise decides nothing. GAIN > 1 writes metrics without accuracy;
// GAIN < −1 makes "training" fail.
const fakeTrain = `
import { writeFileSync } from 'node:fs';
const variant = process.env.VARIANT, seed = Number(process.env.SEED), gain = Number(process.env.GAIN);
if (gain < -1) { console.error('training diverged'); process.exit(1); }
const noise = { xe: [0.004, -0.006, 0.002, -0.001], emd2: [-0.002, 0.005, 0.001, 0.003] };
const accuracy = 0.5 + (variant === 'emd2' ? gain : 0) + noise[variant][seed - 1];
const metrics = { accuracy, one_off_accuracy: 0.9, mae: 0.6, qwk: 0.4, n: 400 };
if (gain > 1) delete metrics.accuracy;
writeFileSync('metrics.json', JSON.stringify(metrics));
// Per-epoch step times: the first epoch includes warm-up and is left out by compare.
const ms = (variant === 'emd2' ? 10.4 : 10) + seed * 0.01;
writeFileSync('history.json', JSON.stringify({ loss: variant, best_epoch: 2, facts: {},
  epochs: [1, 2, 3].map((epoch) => ({ epoch, train_loss: 1 / epoch, examples_per_second: 1000, seconds: 1, ms_per_step: epoch === 1 ? 500 : ms })) }));
`;

const workflow = `
name: tiny-claims
params:
  gain: {type: number, default: 0.05}
  scale: {type: string, default: full, enum: [full, proxy, smoke]}
steps:
${scriptedTrainStep({ seeds: [1, 2, 3, 4], env: { GAIN: '${{ params.gain }}' } })}  compare:
    uses: compare
    with:
      results: \${{ steps.train.outputs.metrics }}
      timings: \${{ steps.train.outputs.history }}
      scale: \${{ params.scale }}
      scale_note: a deterministic script stands in for training
      reported:
        - id: R1
          metric: accuracy
          variant: xe
          value: 0.5
          source: {paper: 'test fixture', version: v1, table: '1', row: xe, column: accuracy}
          tolerance: {absolute: 0.02}
          required: true
        - id: R2
          metric: accuracy
          variant: xe
          value: 0.6
          source: {paper: 'test fixture', version: v1, table: '1', row: xe, column: accuracy}
          tolerance: {absolute: 0.02}
        - id: R3
          metric: one_off_accuracy
          variant: emd2
          value: null
          source: {paper: 'test fixture', version: v1, table: '1', row: emd2, column: one-off}
          note: the paper's table is not available here
      claims:
        - id: C1
          text: EMD² beats XE on ordered classes
          metric: accuracy
          relation: {type: better, a: emd2, b: xe}
          test: paired-t
          required: true
        - id: C5
          text: The computational overhead is limited
          metric: ms_per_step
          relation: {type: better, a: emd2, b: xe, min_gain: -1}
          test: paired-t
          required: false
`;

function check(...set: string[]) {
  const r = repro(['check', 'wf.yaml', '--json', '-j', '2', ...set.flatMap((s) => ['--set', s])], { cwd: dir, timeout: 120_000 });
  const status = r.code;
  if (status !== 1 && status !== 2 && !r.stdout.trim()) throw new Error(`repro check printed nothing (exit ${status}): ${r.stderr}`);
  const out = r.stdout.trim() ? JSON.parse(r.stdout) : null;
  const verdicts: Record<string, string> = {};
  for (const c of out?.verdicts?.[0]?.file?.checks ?? []) verdicts[c.id] = c.verdict;
  return { ...r, out, verdicts };
}

beforeAll(() => {
  dir = projectWith({ 'fake-train.mjs': fakeTrain, 'wf.yaml': workflow }, 'repro-compare-e2e-');
});

describe('repro check on a workflow with chosen outcomes', () => {
  it('exit 0: every verdict kind appears and the required checks are reproduced', () => {
    const r = check();
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.verdicts).toEqual({ R1: 'reproduced', R2: 'not reproduced', R3: 'not recorded', C1: 'reproduced', C5: 'reproduced' });
    expect(r.code).toBe(0);
    const c5 = r.out.verdicts[0].file.checks.find((c: { id: string }) => c.id === 'C5');
    // ms_per_step: mean of epochs 2–3 (the 500 ms warm-up epoch left out); emd2 is 0.4 ms slower.
    expect(c5.stats.mean).toBeCloseTo(-0.4, 9);
  });

  it('a second check is served from the cache', () => {
    const r = repro(['check', 'wf.yaml'], { cwd: dir, timeout: 120_000 });
    expect(r.code).toBe(0);
    const record = JSON.parse(readFileSync(join(dir, 'results', 'tiny-claims', 'latest', 'run.json'), 'utf8'));
    expect(record.steps.map((s: { status: string }) => s.status)).toEqual(Array(9).fill('cached'));
    expect(r.stdout).toMatch(/C1\*\s+reproduced/);
    expect(r.stdout).toMatch(/gate: pass/);
  });

  it('exit 3: the required claim is not reproduced', () => {
    const r = check('gain=-0.05');
    expect(r.verdicts.C1).toBe('not reproduced');
    expect(r.code).toBe(3);
  });

  it('exit 4: the required claim is inconclusive (the interval straddles 0)', () => {
    const r = check('gain=0');
    expect(r.verdicts.C1, r.stderr).toBe('inconclusive');
    expect(r.out.verdicts[0].file.checks.find((c: { id: string }) => c.id === 'C1').explanation).toMatch(/straddles/);
    expect(r.code).toBe(4);
  });

  it('exit 4 on a proxy run: the absolute number R1 cannot be reproduced there, the claim still is', () => {
    const r = check('scale=proxy');
    expect(r.verdicts.R1, r.stderr).toBe('inconclusive');
    expect(r.verdicts.C1).toBe('reproduced');
    expect(r.code).toBe(4);
    const table = repro(['compare'], { cwd: dir, timeout: 120_000 });
    expect(table.code).toBe(0);
    // Every verdict row and every explanation line names the scale.
    const rows = table.stdout.split('\n').filter((l) => /^(proxy|full|smoke) /.test(l) || /^\[/.test(l));
    expect(rows.length).toBe(10);
    expect(rows.every((l) => l.startsWith('proxy') || l.startsWith('[proxy]'))).toBe(true);
    expect(table.stdout).toMatch(/R1 inconclusive: proxy run \(a deterministic script stands in for training\): reported absolute numbers are not comparable/);
  });

  it('exit 1 when a step fails: here compare, on metrics without the claimed metric', () => {
    const failed = check('gain=9');
    expect(failed.stderr).toMatch(/compare: the run of variant 'xe' with key 1 has no numeric 'accuracy'/);
    expect(failed.stderr).toMatch(/a step failed: the claims were not checked/);
    expect(failed.code).toBe(1);
  });

  it('exit 1 when training fails: compare is skipped, the claims are not checked', () => {
    const failed = check('gain=-9');
    expect(failed.stderr).toMatch(/training diverged/);
    expect(failed.stderr).toMatch(/a step failed: the claims were not checked/);
    expect(failed.out).toBeNull();
    expect(failed.code).toBe(1);
  });

  it('exit 2 when the workflow is invalid, pointing at the line and column', () => {
    writeFileSync(join(dir, 'bad.yaml'), workflow.replace('a: emd2, b: xe}', 'a: emd3, b: xe}'));
    const bad = repro(['check', 'bad.yaml'], { cwd: dir, timeout: 120_000 });
    expect(bad.code, bad.stderr).toBe(2);
    expect(bad.stderr).toMatch(/bad\.yaml:\d+:\d+: error: .*no step produces variant 'emd3' \(did you mean 'emd2'\?\)/);
    expect(bad.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('repro compare RUN_A RUN_B: metric deltas, what changed in each step, verdicts that changed', () => {
    // In start order: run ids have one-second resolution, and these runs can start within one second.
    const started = (d: string) => (JSON.parse(readFileSync(join(dir, 'results', 'tiny-claims', d, 'run.json'), 'utf8')) as { startedAt: string }).startedAt;
    const runs = readdirSync(join(dir, 'results', 'tiny-claims'))
      .filter((d) => /^\d/.test(d))
      .sort((a, b) => started(a).localeCompare(started(b)));
    expect(runs.length).toBeGreaterThanOrEqual(3);
    const first = join('results', 'tiny-claims', runs[0]!);
    const r = repro(['compare', first, join('results', 'tiny-claims', runs[2]!)], { cwd: dir, timeout: 120_000 });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/param `gain`: 0\.05 → -0\.05/);
    expect(r.stdout).toMatch(/train variant=emd2\s+accuracy\s+0\.552 \(n=4\)\s+0\.452 \(n=4\)\s+−0\.1/);
    // Every step is named with what changed in it (steps that changed alike share a line).
    expect(r.stdout).toMatch(/^ {2}with key `env\.GAIN`: 0\.05 → -0\.05[^\n]*\(\d+ steps: [^\n]*train\[variant=xe,seed=1\]/m);
    expect(r.stdout).toMatch(/^ {2}\d+ of \d+ steps have the same fingerprint$/m);
    expect(r.stdout).toMatch(/C1: reproduced → not reproduced/);
    const md = repro(['compare', first, join('results', 'tiny-claims', runs[2]!), '--markdown'], { cwd: dir, timeout: 120_000 });
    expect(md.code, md.out).toBe(0);
    expect(md.stdout).toMatch(/^\| train variant=emd2 \| accuracy \| 0\.552 \(n=4\) \| 0\.452 \(n=4\) \| −0\.1 \|$/m);
    expect(md.stdout).toMatch(/^- C1: reproduced → not reproduced$/m);
    const json = JSON.parse(repro(['compare', first, '--json'], { cwd: dir, timeout: 120_000 }).stdout);
    expect(json.verdicts[0].file.summary.gate).toBe('pass');
    // Two runs as JSON: the very diff `repro diff --json` gives (one code path: printRunDiff).
    const both = [first, join('results', 'tiny-claims', runs[2]!)];
    const asCompare = JSON.parse(repro(['compare', ...both, '--json'], { cwd: dir, timeout: 120_000 }).stdout);
    const asDiff = JSON.parse(repro(['diff', ...both, '--json'], { cwd: dir, timeout: 120_000 }).stdout);
    expect(asCompare).toEqual(asDiff);
    expect(asDiff.samples.length).toBeGreaterThan(0);
  });
});
