// registry.ts promises that a new kind is one line. These kinds exist only in this test: registered
// beside the built-in ones, they are planned, run and recorded, and every command and report that
// looks for the comparison, data or training steps finds them by the role their descriptor declares.
// The scan below keeps it so: outside src/steps/ nothing asks a step for its kind's name.
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { stepKinds } from '../../src/steps/registry.js';
import type { StepKind } from '../../src/steps/kind.js';
import { loadPlan } from '../../src/workflow/index.js';
import { execute } from '../../src/engine/executor.js';
import { listRuns } from '../../src/engine/runs.js';
import { missingVerdicts, runVerdicts } from '../../src/compare/runs.js';
import { seedAxisOf } from '../../src/compare/sequential.js';
import { planMetricCatalog } from '../../src/formats/metrics.js';
import type { RunRecord } from '../../src/formats/run-record.js';
import type { VerdictFile } from '../../src/formats/verdict.js';
import { trainingDevices } from '../../src/report/checklist.js';
import { tempDir } from '../support/index.js';

/** A kind that exists only in this test: a name, a role, its outputs and what it does. */
function testKind(name: string, role: StepKind['role'], outputs: string[], run: StepKind['run']): StepKind {
  return { name, role, version: '1', description: `test-only ${role} kind`, withSchema: { type: 'object' }, outputs, run };
}

const synth = testKind('synth', 'data', ['data'], async (ctx) => {
  writeFileSync(join(ctx.workDir, 'data.txt'), String(ctx.matrix.seed));
  return { outputs: { data: { type: 'file', path: 'data.txt' } } };
});

const fit = testKind('fit', 'training', ['model'], async () => ({ outputs: { model: { type: 'value', value: 1 } }, facts: { device: 'test-device' } }));

const tally = testKind('tally', 'comparison', ['verdicts'], async (ctx, w) => {
  const file: VerdictFile = { scale: 'smoke', scaleNote: `${(w.results as unknown[]).length} results tallied`, checks: [] };
  writeFileSync(join(ctx.workDir, 'verdicts.json'), JSON.stringify(file));
  return { outputs: { verdicts: { type: 'file', path: 'verdicts.json' } }, summary: 'tallied' };
});

const WORKFLOW = `name: new-kinds
params:
  seeds: {type: array, default: [1, 2]}
steps:
  synth:
    uses: synth
    matrix: {seed: '\${{ params.seeds }}'}
  fit:
    uses: fit
  tally:
    uses: tally
    with:
      results: \${{ steps.synth.outputs.data }}
      pair_by: seed
      metrics: {tallies: {direction: higher}}
`;

describe('a kind registered in a test, with no change outside src/steps', () => {
  it('is found by its role by check, compare, the run list and the checklist', async () => {
    const dir = tempDir('repro-new-kind-');
    const file = join(dir, 'new-kinds.yaml');
    writeFileSync(file, WORKFLOW);
    const kinds = new Map<string, StepKind<any>>([...stepKinds, ...[synth, fit, tally].map((k) => [k.name, k] as const)]);

    const { plan, diagnostics } = await loadPlan(file, { kinds });
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(plan!.steps.find((s) => s.uses === 'tally')!.role).toBe('comparison');
    // `repro check --until-decided` finds the comparison and the seed axis it pairs on.
    expect(seedAxisOf(plan!)).toMatchObject({ pairBy: 'seed', param: 'seeds', seeds: [1, 2] });
    // Reports show the metrics the comparison declares.
    expect(planMetricCatalog(plan!.steps).has('tallies')).toBe(true);

    const record = await execute(plan!, { kinds: (n) => kinds.get(n), store: join(dir, '.repro'), results: join(dir, 'results') });
    expect(record.status).toBe('succeeded');
    const path = join(dir, 'results', 'new-kinds', record.runId, 'run.json');
    const onDisk = JSON.parse(readFileSync(path, 'utf8')) as RunRecord;
    expect(Object.fromEntries(onDisk.steps.map((s) => [s.id, s.role]))).toEqual({
      'synth[seed=1]': 'data',
      'synth[seed=2]': 'data',
      fit: 'training',
      tally: 'comparison',
    });

    const verdicts = runVerdicts({ path, record: onDisk });
    expect(verdicts.map((v) => [v.step, v.file.scaleNote])).toEqual([['tally', '2 results tallied']]);
    expect(missingVerdicts({ path, record: onDisk })).toEqual([]);
    expect(listRuns(join(dir, 'results'), 'new-kinds')[0]!.verdicts).toEqual(['tallied']);
    expect(trainingDevices(onDisk)).toEqual(['test-device']);
  });

  it('outside src/steps/, no source file asks a step for its kind by name', () => {
    // Two readers of one kind's own output format remain, each named with why.
    const allowed = new Map([
      ['src/report/input.ts', "x.uses === 'dataset'"], // reads the dataset kind's manifest.json (preprocess writes one too)
      ['src/report/rocrate.ts', "s.uses === 'fetch'"], // the crate's inputs are what fetch downloaded, not what later data steps made
    ]);
    const root = join(__dirname, '..', '..');
    const found: string[] = [];
    const walk = (d: string): void => {
      for (const name of readdirSync(d)) {
        const p = join(d, name);
        if (statSync(p).isDirectory()) {
          if (relative(root, p) !== join('src', 'steps')) walk(p);
          continue;
        }
        if (!p.endsWith('.ts')) continue;
        const rel = relative(root, p).split('\\').join('/');
        for (const m of readFileSync(p, 'utf8').matchAll(/\w+\.uses\s*[!=]==?\s*['"][\w-]+['"]|\.has\(\s*\w+\.uses\s*\)/g)) {
          if (allowed.get(rel) !== m[0]) found.push(`${rel}: ${m[0]}`);
        }
      }
    };
    walk(join(root, 'src'));
    expect(found).toEqual([]);
  });
});
