// The artifact checklist is filled from facts, and the badge self-assessment never over-claims.
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { makeRunFixture } from './fixture.js';
import { buildChecklist, loadRunReport, writeRunReport } from '../../src/report/index.js';
import type { Checklist } from '../../src/report/checklist.js';
import type { RunRecord } from '../../src/formats/run-record.js';
import type { VerdictFile } from '../../src/formats/verdict.js';
import { sha256 } from '../../src/core/hash.js';
import { fmtBytes } from '../../src/report/format.js';

async function checklistOf(f: ReturnType<typeof makeRunFixture>, doi?: string): Promise<Checklist> {
  await writeRunReport(f.runDir, { doi });
  return YAML.parse(readFileSync(join(f.runDir, 'checklist.yaml'), 'utf8')) as Checklist;
}

/** Rewrites the fixture's run.json (and verdicts) after a change to the record. */
function rewrite(f: ReturnType<typeof makeRunFixture>, change: (r: RunRecord) => void) {
  change(f.record);
  writeFileSync(f.runJson, JSON.stringify(f.record, null, 2));
}

describe('artifact checklist', () => {
  it('fills every cTuning/ACM field from the run record and artifacts', async () => {
    const f = makeRunFixture();
    const c = await checklistOf(f);
    expect(Object.keys(c.fields)).toEqual([
      'algorithm', 'program', 'model', 'data_set', 'run_time_environment', 'hardware', 'execution', 'metrics', 'output',
      'experiments', 'disk_space_used', 'time_to_prepare', 'time_to_run', 'code_licenses', 'data_licenses', 'workflow_framework', 'archived',
    ]);
    // From the dataset directory's manifest.json: name, classes, splits, source hash and licence.
    const dataset = f.record.steps.find((s) => s.uses === 'dataset')!;
    const npz = f.record.steps.find((s) => s.uses === 'fetch')!.outputs.path!;
    expect(c.fields.data_set!.value).toBe('retinamnist, 5 ordered classes, train 1080, val 120, test 400 (licence: CC BY 4.0)');
    expect(c.fields.data_set!.evidence).toContain(`dataset source retinamnist.npz sha256:${npz.sha256}`);
    expect(c.fields.data_set!.evidence.join(' ')).toContain(dataset.outputs.dataset!.sha256.slice(0, 16));
    expect(c.fields.data_licenses!.value).toBe('CC BY 4.0');
    expect(c.fields.code_licenses!.value).toBe('repro: MIT');
    expect(c.fields.hardware!.value).toContain('Intel(R) Xeon(R) CPU @ 2.20GHz, 2 cores, 8.0 GiB');
    expect(c.fields.run_time_environment!.evidence).toContain('@tensorflow/tfjs-node: not installed');
    expect(c.fields.execution!.value).toContain('tfjs/wasm/cpu');
    expect(c.fields.metrics!.value).toContain('one-off accuracy');
    expect(c.fields.experiments!.value).toMatch(/^3 variant\(s\) of 'variant' × 3 repeat\(s\): 9 evaluated runs; 4 check\(s\)/);
    // What the fixture has, and nothing it has not: it trains models and writes histories.
    expect(c.fields.output!.value).toMatch(/^verdicts, per-run metrics \(9\), training histories \(9\), trained models \(9\); report.html/);
    // Disk space: the sum of distinct artifact sizes in run.json.
    const sizes = new Map<string, number>();
    for (const s of f.record.steps) for (const a of Object.values(s.outputs)) sizes.set(a.sha256, a.size ?? 0);
    const total = [...sizes.values()].reduce((a, b) => a + b, 0);
    expect(c.fields.disk_space_used!.value).toMatch(new RegExp(`in ${sizes.size} stored artifacts`));
    expect(total).toBeGreaterThan(0);
    expect(c.fields.disk_space_used!.value).toBe(`${fmtBytes(total)} in ${sizes.size} stored artifacts`);
    // Time to prepare = fetch + dataset durations (120 ms + 850 ms).
    expect(c.fields.time_to_prepare!.value).toBe('970 ms');
    expect(c.fields.archived!.value).toBe('not archived');
    expect(readFileSync(join(f.runDir, 'checklist.md'), 'utf8')).toContain('**Data licences:** CC BY 4.0');
  });

  it('says "not recorded" for a licence nobody recorded, instead of guessing', async () => {
    const c = await checklistOf(makeRunFixture({ datasetLicense: null, variants: ['xe'], seeds: [1] }));
    expect(c.fields.data_licenses!.value).toBe('not recorded by the dataset steps');
  });
});

describe('badge self-assessment', () => {
  it('gives a successful CPU proxy run Functional at most, never Results Reproduced', async () => {
    const c = await checklistOf(makeRunFixture());
    expect(c.badges.functional!.status).toBe('earned');
    expect(c.badges.reusable!.status).toBe('not earned');
    expect(c.badges.reusable!.reason).toMatch(/Functional at most: the training ran on CPU and the run is a proxy run/);
    expect(c.badges.results_reproduced!.status).toBe('not earned');
    expect(c.badges.results_replicated!.status).toBe('not earned');
    expect(c.badges.available!.status).toBe('not earned');
  });

  it('keeps a full-scale GPU run whose claims all hold at "needs review", never "earned"', async () => {
    const f = makeRunFixture({ scale: 'full', device: 'cuda', gpus: [{ name: 'NVIDIA H200', memory: '141 GiB' }] });
    // Make every required claim reproduced.
    const v = JSON.parse(readFileSync(f.verdictsFile, 'utf8')) as VerdictFile;
    for (const c of v.checks) c.verdict = 'reproduced';
    const text = JSON.stringify(v);
    writeFileSync(f.verdictsFile, text);
    rewrite(f, (r) => {
      const cmp = r.steps.find((s) => s.uses === 'compare')!;
      cmp.outputs.verdicts!.sha256 = sha256(text);
    });
    const c = await checklistOf(f, '10.5281/zenodo.1234567');
    expect(c.badges.available!.status).toBe('earned');
    expect(c.badges.functional!.status).toBe('earned');
    expect(c.badges.reusable!.status).toBe('needs review');
    expect(c.badges.results_reproduced!.status).toBe('needs review');
    expect(c.fields.archived!.value).toBe('10.5281/zenodo.1234567');
    for (const b of Object.values(c.badges)) if (b.badge === 'Results Reproduced') expect(b.status).not.toBe('earned');
  });

  it('withholds Functional from a failed run or one whose artifacts are gone, and says why', async () => {
    const f = makeRunFixture({ variants: ['xe', 'emd2'], seeds: [1] });
    rewrite(f, (r) => {
      r.status = 'failed';
      r.steps.find((s) => s.uses === 'train')!.status = 'failed';
    });
    rmSync(join(f.store, f.record.steps.find((s) => s.uses === 'fetch')!.outputs.path!.storePath!));
    // `repro report` refuses such a run (a poorer report must not replace a good one); the checklist's own rule still holds.
    await expect(writeRunReport(f.runDir)).rejects.toThrow(/missing from the store/);
    const input = loadRunReport(f.record, f.runJson, { outDir: f.runDir, generator: 'test' });
    const c = buildChecklist(f.record, input, { doi: null, codeLicense: 'MIT', outputs: [] });
    expect(c.badges.functional!.status).toBe('not earned');
    expect(c.badges.functional!.reason).toContain('run status is failed');
    expect(c.badges.functional!.reason).toContain('1 step(s) did not succeed: train[variant=xe,seed=1] (failed)');
    expect(c.badges.functional!.reason).toContain('1 recorded artifact(s) are missing from the store');
  });
});
