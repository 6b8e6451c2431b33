// `repro validate` and `repro plan` end to end, through bin/repro.js (needs a built dist/).
import { describe, expect, it } from 'vitest';
import { writeWorkflow } from './helpers.js';
import { repro } from '../support/index.js';

// Real kinds that take plain values: this test does not depend on the training kinds being finished.
const CHAIN = `name: chain
params:
  sources: {type: array, default: ["https://example.org/data.npz"]}
  token: {type: string, env: CHAIN_TOKEN, secret: true}
profiles:
  local: {params: {sources: ["./data.npz"]}}
steps:
  fetch:
    uses: fetch
    with: {sources: "\${{ params.sources }}", sha256: "${'0'.repeat(64)}"}
  dataset:
    uses: dataset
    with: {name: retinamnist, npz: "\${{ steps.fetch.outputs.path }}"}
  preprocess:
    uses: preprocess
    matrix: {size: [24, 28]}
    with: {dataset: "\${{ steps.dataset.outputs.dataset }}", crop: {size: "\${{ matrix.size }}"}}
`;

describe('repro validate / plan', () => {
  const file = writeWorkflow(CHAIN);

  it('validate prints a one-line summary and exits 0', () => {
    const r = repro(['validate', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('ok: 3 steps (4 concrete)\n');
  });

  it('plan prints one line per concrete step with kind, status and compact needs', () => {
    const r = repro(['plan', file, '--store', `${file}.store`]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^chain \(.*\) · 3 steps, 4 concrete: 4 would run, 0 cached$/);
    expect(lines[1]).toMatch(/^STEP\s+KIND\s+FINGERPRINT\s+STATUS\s+NEEDS\s+REASON$/);
    expect(lines.slice(2).map((l) => l.split(/\s{2,}/)[0])).toEqual(['fetch', 'dataset', 'preprocess[size=24]', 'preprocess[size=28]']);
    expect(lines[5]).toMatch(/^preprocess\[size=28\]\s+preprocess\s+\S+\s+would run\s+dataset/);
  });

  it('plan --json is machine-readable and masks secrets', () => {
    const r = repro(['plan', file, '--json', '--profile', 'local', '--store', `${file}.store`], { env: { CHAIN_TOKEN: 'hunter2' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('hunter2');
    const plan = JSON.parse(r.stdout);
    expect(plan.profile).toBe('local');
    expect(plan.params).toEqual({ sources: ['./data.npz'], token: '***' });
    expect(plan.secretParams).toEqual(['token']);
    expect(plan.steps.map((s: any) => s.id)).toEqual(['fetch', 'dataset', 'preprocess[size=24]', 'preprocess[size=28]']);
    expect(plan.steps[2]).toMatchObject({
      uses: 'preprocess',
      matrix: { size: 24 },
      deps: ['dataset'],
      with: { dataset: { $ref: { step: 'dataset', output: 'dataset' } }, crop: { size: 24 } },
      resources: { cpu: 1, gpu: 0, memory: 0 },
      outputs: ['dataset'],
      status: 'would run',
    });
  });

  it('plan of an invalid workflow exits 2 with the diagnostics', () => {
    const r = repro(['plan', writeWorkflow(CHAIN.replace('uses: dataset', 'uses: datset'))]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/:12:11: error: unknown step kind 'datset' \(did you mean 'dataset'\?\)/);
    expect(r.stdout).toBe('');
  });
});
