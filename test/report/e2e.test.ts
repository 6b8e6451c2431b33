// End to end with the real engine: `repro run` on a tiny workflow (a script stands in for training,
// then compare, then the report step), then `repro report` on the run it recorded. dist/ must be
// built (`npm test` does it first).
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { checkRunCrate } from '../../src/report/rocrate.js';
import { REPORT_FILES } from '../../src/report/index.js';

import { projectWith, repro, scriptedTrainStep } from '../support/index.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
let dir: string;

const fakeTrain = `
import { writeFileSync } from 'node:fs';
const variant = process.env.VARIANT, seed = Number(process.env.SEED);
const gain = variant === 'emd2' ? 0.04 : 0;
const noise = [0.004, -0.006, 0.002][seed - 1];
const confusion = [[30, 8, 2], [6, 20, 4], [1, 5, 24]];
writeFileSync('metrics.json', JSON.stringify({ accuracy: 0.6 + gain + noise, one_off_accuracy: 0.9 + gain / 2, mae: 0.5 - gain, qwk: 0.5 + gain,
  confusion, per_class_recall: [0.75, 0.67, 0.8], n: 100, split: 'test', classes: ['mild', 'moderate', 'severe'] }));
writeFileSync('history.json', JSON.stringify({ loss: variant, best_epoch: 3, facts: { engine: 'script', device: 'cpu' },
  epochs: [1, 2, 3].map((epoch) => ({ epoch, train_loss: 1 / epoch + gain, val: { accuracy: 0.5 + epoch / 20 }, examples_per_second: 1000, seconds: 0.5, ms_per_step: 10 + seed / 10 })),
  ...(variant === 'emd2' ? { ground_distance: [1, 2, 3].map((e) => [[0, 0.5, 1], [0.5, 0, 0.5 + e / 10], [1, 0.5 + e / 10, 0]]) } : {}) }));
`;

const workflow = `
name: tiny-report
title: Tiny report workflow
paper:
  title: Squared Earth Mover's Distance-based Loss for Training Deep Neural Networks
  authors: [L. Hou, C.-P. Yu, D. Samaras]
  arxiv: '1611.05916'
  year: 2016
steps:
${scriptedTrainStep({ seeds: [1, 2, 3] })}  compare:
    uses: compare
    with:
      results: \${{ steps.train.outputs.metrics }}
      timings: \${{ steps.train.outputs.history }}
      scale: proxy
      scale_note: a deterministic script stands in for training
      claims:
        - id: C1
          text: EMD² beats XE on ordered classes
          metric: accuracy
          relation: {type: better, a: emd2, b: xe}
          test: paired-t
          required: true
  report:
    uses: report
    with:
      verdicts: \${{ steps.compare.outputs.verdicts }}
      metrics: \${{ steps.train.outputs.metrics }}
      histories: \${{ steps.train.outputs.history }}
      title: Tiny report workflow
`;

beforeAll(() => {
  dir = projectWith({ 'fake-train.mjs': fakeTrain, 'wf.yaml': workflow }, 'repro-report-e2e-');
});

describe('report of a run recorded by the real engine', () => {
  it('the report step renders mid-run, and repro report writes all five files for the recorded run', () => {
    const run = repro(['run', 'wf.yaml', '-j', '2'], { cwd: dir, timeout: 120_000 });
    expect(run.stderr).not.toMatch(/internal error/);
    expect(run.code).toBe(0);
    const runDir = realpathSync(join(dir, 'results', 'tiny-report', 'latest'));
    const record = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8'));

    // The report step's own outputs are in the store.
    const step = record.steps.find((s: { uses: string }) => s.uses === 'report');
    expect(step.status).toBe('succeeded');
    const stepHtml = readFileSync(join(record.store, step.outputs.html.storePath), 'utf8');
    expect(stepHtml).toContain('data-plot="per-seed"');
    expect(stepHtml).toContain('data-scale="proxy"');

    const r = repro(['report'], { cwd: dir, timeout: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const name of REPORT_FILES) expect(existsSync(join(runDir, name)), name).toBe(true);
    const html = readFileSync(join(runDir, 'report.html'), 'utf8');
    for (const plot of ['learning-curves', 'per-seed', 'confusion', 'ground-distance-emd2']) expect(html).toContain(`data-plot="${plot}"`);
    expect(html).toContain('arXiv:1611.05916');
    expect(html).toMatch(/<b>C1<\/b> <span class="muted">\(required\)<\/span>/);
    const md = readFileSync(join(runDir, 'report.md'), 'utf8');
    expect(md).toMatch(/\| \*\*emd2\*\* \| 3 \| 64\.0 % ± 0\.5 % \|/);
    const crate = JSON.parse(readFileSync(join(runDir, 'ro-crate-metadata.json'), 'utf8'));
    expect(checkRunCrate(crate)).toEqual([]);
    const checklist = readFileSync(join(runDir, 'checklist.yaml'), 'utf8');
    expect(checklist).toMatch(/functional:\n\s+badge: Artifacts Evaluated – Functional\n\s+status: earned/);
    expect(checklist).toMatch(/results_reproduced:\n\s+badge: Results Reproduced\n\s+status: not earned/);
  });

  it('fits a workflow that is not this paper: variants from variant_key, its own metrics, its scripts as the program, no gate without required claims', () => {
    // A user's own pipeline: a Node script scores two models on three seeds and writes a log loss and
    // an accuracy; compare names the variants by the axis `model` and declares the log loss.
    const project = join(dir, 'mine');
    mkdirSync(project, { recursive: true });
    writeFileSync(
      join(project, 'score.mjs'),
      `import { writeFileSync } from 'node:fs';
const model = process.env.MODEL, seed = Number(process.env.SEED);
const base = model === 'small' ? 0.42 : 0.47;
writeFileSync('scores.json', JSON.stringify({ log_loss: base + seed / 1000, accuracy: 0.8 - base / 10, n: 500, split: 'test' }));
`,
    );
    writeFileSync(
      join(project, 'wf.yaml'),
      `name: my-models
steps:
  score:
    uses: run
    matrix:
      model: [small, big]
      seed: [1, 2, 3]
    with:
      command: ['${process.execPath}', '\${{ workflow.dir }}/score.mjs']
      inputs: [score.mjs]
      env:
        MODEL: \${{ matrix.model }}
        SEED: \${{ matrix.seed }}
    outputs:
      metrics: scores.json
  compare:
    uses: compare
    with:
      results: \${{ steps.score.outputs.metrics }}
      variant_key: model
      pair_by: seed
      scale: full
      scale_note: two models of my own, scored on the full test split
      metrics:
        log_loss: {label: log loss, direction: lower, unit: nats, digits: 4}
      claims:
        - {id: L1, text: the small model has the lower log loss, metric: log_loss, relation: {type: better, a: small, b: big}, test: paired-t, required: false}
`,
    );
    const elsewhere = join(dir, 'elsewhere');
    mkdirSync(elsewhere, { recursive: true });
    const r = repro(['run', join(project, 'wf.yaml')], { cwd: elsewhere, timeout: 120_000 });
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const runDir = realpathSync(join(elsewhere, 'results', 'my-models', 'latest'));
    const html = readFileSync(join(runDir, 'report.html'), 'utf8');
    const md = readFileSync(join(runDir, 'report.md'), 'utf8');
    // One row per model, the metrics that exist (no MAE or QWK columns), the declared label and digits.
    expect(md).toContain('| variant | n | accuracy | log loss (nats) | sources |');
    expect(md).toMatch(/\| \*\*small\*\* \| 3 \| 75\.8 % ± 0\.0 % \| 0\.4220 ± 0\.0010 \|/);
    expect(md).toMatch(/\| \*\*big\*\* \| 3 \| /);
    expect(md).not.toMatch(/MAE|QWK|default/);
    expect(md).toContain('no gate: no check is required');
    expect(html).toContain('no gate: no check is required');
    expect(html).not.toContain('gate for required claims');
    // The program: the script the run step executed, with its hash.
    const scriptSha = sha256(readFileSync(join(project, 'score.mjs')));
    expect(html).toMatch(new RegExp(`score\\.mjs <span class="muted">\\(script\\)</span></td><td class="mono sha">${scriptSha}</td>`));
    // Nothing about this paper, models or histories that do not exist.
    expect(html).not.toMatch(/training histories|trained model|paper&#39;s/);
    const checklist = readFileSync(join(runDir, 'checklist.yaml'), 'utf8');
    expect(checklist).toMatch(/experiments:\n\s+title: Experiments\n\s+value: "?2 variant\(s\) of 'model' × 3 repeat\(s\): 6 evaluated runs; 1 check\(s\)/);
    expect(checklist).toMatch(/output:\n\s+title: Output\n\s+value: verdicts, per-run metrics \(6\); report.html/);
    expect(checklist).toContain('no train step');
    expect(checklist).toContain(`score script score.mjs sha256:${scriptSha}`);
    const crate = JSON.parse(readFileSync(join(runDir, 'ro-crate-metadata.json'), 'utf8'));
    expect(checkRunCrate(crate)).toEqual([]);
  });
});
