// `repro compare` on run records written by hand (the engine's own runs are covered by e2e.test.ts):
// the table, Markdown and JSON views, and the errors a user can meet. Spawns dist/ (built by `npm test`).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildVerdictFile } from '../../src/compare/verdicts.js';
import type { ObservationTable } from '../../src/compare/observations.js';
import type { RunRecord, StepRecord } from '../../src/formats/run-record.js';
import { repro, tempDir } from '../support/index.js';

let dir: string;

const table: ObservationTable = new Map([
  ['xe', new Map([['1', { accuracy: 0.5 }], ['2', { accuracy: 0.51 }], ['3', { accuracy: 0.49 }]])],
  ['emd2', new Map([['1', { accuracy: 0.56 }], ['2', { accuracy: 0.55 }], ['3', { accuracy: 0.57 }]])],
]);

function writeRun(name: string, runId: string, steps: StepRecord[]) {
  const runDir = join(dir, 'results', name, runId);
  mkdirSync(runDir, { recursive: true });
  const record = {
    format: 'repro-run/1', runId, workflow: { name, file: join(dir, 'wf.yaml'), sha256: '0'.repeat(64) },
    git: { commit: null, dirty: null }, profile: null, params: {}, status: 'succeeded', startedAt: new Date().toISOString(),
    command: ['repro', 'run'], store: join(dir, 'store'), environment: {} as RunRecord['environment'], steps,
  } satisfies RunRecord;
  writeFileSync(join(runDir, 'run.json'), JSON.stringify(record));
  symlinkSync(runId, join(dir, 'results', name, 'latest'));
  return runDir;
}

function compareStepRecord(storePath: string): StepRecord {
  return {
    id: 'compare', stepId: 'compare', uses: 'compare', matrix: {}, status: 'succeeded', fingerprint: 'f', fingerprintComponents: {},
    inputs: {}, outputs: { verdicts: { type: 'file', sha256: 'x', storePath } },
  };
}

beforeAll(() => {
  dir = tempDir('repro-compare-cli-');
  mkdirSync(join(dir, 'store', 'objects'), { recursive: true });
  const verdicts = buildVerdictFile(
    {
      results: [],
      scale: 'smoke',
      scale_note: '2 epochs on CPU',
      claims: [{ id: 'C1', text: 'EMD² beats XE', metric: 'accuracy', relation: { type: 'better', a: 'emd2', b: 'xe' }, test: 'paired-t' }], // 3 seeds: the default sign-flip test cannot reach 0.05
      reported: [{ id: 'R1', metric: 'accuracy', variant: 'xe', value: 0.507, source: { paper: 'x' }, tolerance: { absolute: 0.02 } }],
    },
    table,
  );
  writeFileSync(join(dir, 'store', 'objects', 'verdicts.json'), JSON.stringify(verdicts));
  const train: StepRecord = {
    id: 'train[variant=xe,seed=1]', stepId: 'train', uses: 'train', matrix: { variant: 'xe', seed: 1 }, status: 'succeeded',
    fingerprint: 't', fingerprintComponents: {}, inputs: {}, outputs: {}, facts: { engine: 'tfjs', backend: 'wasm', device: 'cpu', threads: 2 },
  };
  writeRun('good', '20260101-000000-aaaa', [train, compareStepRecord('objects/verdicts.json')]);
  writeRun('gone', '20260101-000000-bbbb', [compareStepRecord('objects/missing.json')]);
  writeRun('none', '20260101-000000-cccc', []);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('repro compare RUN', () => {
  it('prints the verdict table with the scale on every line', () => {
    const r = repro(['compare', 'results/good/20260101-000000-aaaa'], { cwd: dir, timeout: 60_000 });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/scale: smoke \(2 epochs on CPU\)\nran on: engine=tfjs backend=wasm device=cpu\n/);
    expect(r.stdout).toMatch(/^smoke\s+R1\s+inconclusive\s+accuracy of xe vs reported 0\.507/m);
    expect(r.stdout).toMatch(/^smoke\s+C1\*\s+reproduced\s+emd2 better than xe \(accuracy\)\s+3\s+\+0\.06 ± 0\.02/m);
    expect(r.stdout).toMatch(/^\[smoke\] R1 inconclusive: smoke run \(2 epochs on CPU\): reported absolute numbers are not comparable/m);
    expect(r.stdout).toMatch(/gate: pass \(required: 1 reproduced\)/);
  });

  it('finds the run by its directory, run.json or id; prints Markdown and JSON', () => {
    expect(repro(['compare', 'results/good/20260101-000000-aaaa/run.json'], { cwd: dir, timeout: 60_000 }).code).toBe(0);
    expect(repro(['compare', '20260101-000000-aaaa'], { cwd: dir, timeout: 60_000 }).stdout).toMatch(/C1\*/);
    expect(repro(['compare', 'good'], { cwd: dir, timeout: 60_000 }).stdout).toMatch(/C1\*/); // a workflow name: its latest run
    const md = repro(['compare', '20260101-000000-aaaa', '--markdown'], { cwd: dir, timeout: 60_000 });
    expect(md.stdout).toMatch(/^\| smoke \| C1\\\* \| \*\*reproduced\*\* \|/m);
    expect(md.stdout).toMatch(/\*\*Scale: smoke\*\* — 2 epochs on CPU\. Reported absolute numbers cannot be reproduced by this run/);
    const json = JSON.parse(repro(['compare', '20260101-000000-aaaa', '--json'], { cwd: dir, timeout: 60_000 }).stdout);
    expect(json.verdicts[0].file.checks[1].stats.n).toBe(3);
  });

  it('explains what is wrong, with distinct exit codes and no stack trace', () => {
    const missing = repro(['compare', 'results/gone/20260101-000000-bbbb'], { cwd: dir, timeout: 60_000 });
    expect(missing.code).toBe(5);
    expect(missing.stderr).toMatch(/the verdicts output of compare is missing from the store/);
    const none = repro(['compare', 'results/none/20260101-000000-cccc'], { cwd: dir, timeout: 60_000 });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/has no compare step/);
    const unknown = repro(['compare', 'no-such-run'], { cwd: dir, timeout: 60_000 });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no run 'no-such-run' found under results\//);
    expect(repro(['compare', 'a', 'b', 'c'], { cwd: dir, timeout: 60_000 }).code).toBe(2);
    expect(repro(['compare', '--json', '--markdown'], { cwd: dir, timeout: 60_000 }).code).toBe(2);
    for (const r of [missing, none, unknown]) expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
