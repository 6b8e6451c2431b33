// writeRunReport on a realistic finished run: the five files, their contents, and the links
// from numbers to artifacts. Also the `report` step, which renders mid-run from gathered paths.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { makeRunFixture } from './fixture.js';
import { writeRunReport, ReportError, REPORT_FILES } from '../../src/report/index.js';
import { reportStep } from '../../src/steps/report.js';
import type { EvaluationMetrics } from '../../src/formats/metrics.js';
import { readmeResults } from '../../src/report/readme.js';
import { sha256 } from '../../src/core/hash.js';
import { tempDir } from '../support/index.js';

describe('writeRunReport', () => {
  it('writes the HTML, Markdown, checklist and RO-Crate into the run directory', async () => {
    const f = makeRunFixture();
    const out = await writeRunReport(f.runDir, { now: new Date('2025-01-02T00:00:00Z') });
    for (const name of REPORT_FILES) expect(existsSync(join(f.runDir, name)), name).toBe(true);
    const html = readFileSync(join(f.runDir, 'report.html'), 'utf8');
    const md = readFileSync(join(f.runDir, 'report.md'), 'utf8');

    // Citation, scale banner (a proxy run is labelled), verdicts.
    expect(html).toContain("Squared Earth Mover&#39;s Distance-based Loss for Training Deep Neural Networks");
    expect(html).toContain('arXiv:1611.05916v4');
    // The data in its manifest's words, with its licence.
    expect(html).toMatch(/<p class="data">Data: <b>retinamnist<\/b> \(5 ordered classes; train 1080, val 120, test 400\); licence CC BY 4.0<\/p>/);
    expect(md).toContain('Data: **retinamnist**; licence CC BY 4.0');
    expect(html).toContain('data-scale="proxy"');
    expect(html).toMatch(/<title>[^<]*\[proxy\]<\/title>/);
    for (const id of ['C1-one-off', 'C3-learned-D', 'adience-xe-exact']) {
      expect(html).toContain(id);
      expect(md).toContain(id);
    }
    expect(md).toContain('> **Proxy run.**');
    expect(md).toContain('**2 reproduced, 1 inconclusive, 1 not recorded** · gate for required claims: **inconclusive**');
    expect(html).toContain('<li>emd2 &gt; xe: <span class="v v-reproduced">reproduced</span>');
    expect(md).toContain('  - emd2 > xe: reproduced (Δ -0.035 [-0.065, -0.005])');
    expect(md).toMatch(/unknown: The table was not available/);
    // A reported number says where the paper prints it, in both renderings.
    expect(md).toContain('unknown: The table was not available to the workflow authors.<br>arXiv:1611.05916, Table unknown');
    expect(html).toContain('<p>Reported in: arXiv:1611.05916, Table unknown.</p>');

    // Plots: one figure per kind, each with an inline SVG; the learned-D heat map exists only for 'learned'.
    for (const plot of ['learning-curves', 'per-seed', 'confusion', 'ground-distance-learned']) {
      expect(html).toMatch(new RegExp(`<figure class="plot" data-plot="${plot}"><h3>[^<]*</h3><svg`));
    }
    expect(html).not.toContain('data-plot="ground-distance-xe"');
    // Self-contained: no scripts, no stylesheets or images fetched from anywhere.
    expect(html).not.toMatch(/<script|<link |<img /);

    // Mean ± sd and the 95% CI per variant, recomputed here from the metrics files themselves, by hand
    // (not with src/report/stats.ts, which is what this checks): three seeds, sample sd over n − 1 = 2,
    // half-width t(0.975; 2 df) · sd/√3 with t = 4.3027 (any printed t table).
    const xs = f.metricsFiles
      .filter((m) => (m.matrix.variant as { name: string }).name === 'emd2')
      .map((m) => (JSON.parse(readFileSync(m.path, 'utf8')) as EvaluationMetrics).one_off_accuracy!);
    expect(xs).toHaveLength(3);
    const mean = (xs[0]! + xs[1]! + xs[2]!) / 3;
    const sd = Math.sqrt(((xs[0]! - mean) ** 2 + (xs[1]! - mean) ** 2 + (xs[2]! - mean) ** 2) / 2);
    const half = (4.3027 * sd) / Math.sqrt(3);
    // One-off accuracy is declared a fraction shown as a percentage with one decimal.
    const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
    const cell = `${pct(mean)} ± ${pct(sd)}`;
    expect(html).toContain(`title="95% CI [${pct(mean - half)}, ${pct(mean + half)}]">${cell}</a>`);
    expect(md).toContain(cell);
    expect(out.input.evaluations).toHaveLength(9);
    // The README's results block keeps the claims and the metrics, without links.
    const block = readmeResults(md, 'run X');
    expect(block).toContain('#### Claims and reported numbers');
    expect(block).toContain('#### Metrics by variant');
    expect(block).toContain(cell);

    // Every number link resolves: relative hrefs to existing files, or an anchor that exists.
    const hrefs = [...html.matchAll(/<a class="num" href="([^"]+)"/g)].map((m) => m[1]!);
    expect(hrefs.length).toBeGreaterThan(50);
    for (const href of new Set(hrefs)) {
      if (href.startsWith('#')) expect(html, href).toContain(`id="${href.slice(1)}"`);
      else expect(existsSync(resolve(f.runDir, decodeURIComponent(href))), href).toBe(true);
    }
    // Each per-seed value links to exactly the metrics file it came from, with its sha256.
    const first = f.metricsFiles[0]!;
    expect(html).toContain(sha256(readFileSync(first.path)));

    // Backend and timings come from the run record: one row for the nine trainings on one backend, without
    // what each training chose (its α), which would give a row per training.
    expect(html).toContain('backend=<b>wasm</b>');
    const backendTable = md.slice(md.indexOf('### Backend')).split('\n\n')[1]!.split('\n');
    expect(backendTable.slice(2)).toEqual([expect.stringMatching(/^\| engine=tfjs, backend=wasm, device=cpu, threads=2 \| 9 \|/)]);
    expect(html).toContain('Intel(R) Xeon(R) CPU @ 2.20GHz');
    // What is installed, and the optional packages that are not (never the lockfile's pins).
    expect(html).toMatch(/<th>not installed \(optional\)<\/th><td>(<a [^>]*>)?@tensorflow\/tfjs-node, @tensorflow\/tfjs-node-gpu</);
    expect(md).toMatch(/\| train \| 9 \| 0 \|/);
  });

  it('writes to --out and copies run.json and the workflow there, so the crate stands alone', async () => {
    const f = makeRunFixture({ variants: ['xe', 'emd2'], seeds: [1, 2] });
    const outDir = tempDir('repro-out-');
    await writeRunReport(join(f.runDir, 'run.json'), { outDir });
    for (const name of [...REPORT_FILES, 'run.json', 'workflow/paper.yaml']) expect(existsSync(join(outDir, name)), name).toBe(true);
    const html = readFileSync(join(outDir, 'report.html'), 'utf8');
    const href = /<a class="num" href="([^"#][^"]*metrics\.json)"/.exec(html)![1]!;
    expect(existsSync(resolve(outDir, decodeURIComponent(href)))).toBe(true);
  });

  it('finds history.json inside a directory output and links to the file itself', async () => {
    const f = makeRunFixture({ variants: ['xe', 'learned'], seeds: [1, 2], trainLayout: 'model-dir' });
    const out = await writeRunReport(f.runDir);
    expect(out.input.trainings).toHaveLength(4);
    const src = out.input.sources[out.input.trainings[0]!.source]!;
    expect(src.storePath).toMatch(/^trees\/[0-9a-f]{64}\/history\.json$/);
    expect(src.sha256).toBe(sha256(readFileSync(f.historyFiles[0]!.path)));
    expect(readFileSync(out.files['report.html'], 'utf8')).toContain('data-plot="ground-distance-learned"');
  });

  it('refuses to cite an artifact that changed after the run (corrupt), and names it', async () => {
    const f = makeRunFixture({ variants: ['xe'], seeds: [1] });
    writeFileSync(f.metricsFiles[0]!.path, '{"accuracy": 0.99}');
    const err = await writeRunReport(f.runDir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReportError);
    expect((err as ReportError).kind).toBe('corrupt');
    expect((err as Error).message).toContain('evaluate[variant=xe,seed=1]');
    expect(existsSync(join(f.runDir, 'report.html'))).toBe(false);
  });

  it('refuses, naming the object, when an artifact was removed from the store: never a poorer report', async () => {
    const f = makeRunFixture({ variants: ['xe', 'emd2'], seeds: [1, 2] });
    rmSync(f.historyFiles[0]!.path);
    await expect(writeRunReport(f.runDir)).rejects.toThrow(/cannot report run .*: 1 object it recorded is missing from the store .*: output history of train\[variant=xe,seed=1\]/);
    expect(existsSync(join(f.runDir, 'report.html'))).toBe(false);
  });

  it('says so when the run did not finish, and which steps have no results', async () => {
    const f = makeRunFixture({ variants: ['xe', 'emd2'], seeds: [1] });
    f.record.status = 'interrupted';
    f.record.steps.find((s) => s.id === 'train[variant=emd2,seed=1]')!.status = 'interrupted';
    writeFileSync(f.runJson, JSON.stringify(f.record));
    const out = await writeRunReport(f.runDir);
    expect(out.input.warnings[0]).toBe('the run was interrupted when this report was made; steps without results: train[variant=emd2,seed=1] (interrupted)');
    expect(out.input.trainings.map((t) => t.step)).toEqual(['train[variant=xe,seed=1]']);
  });

  it('rejects something that is not a run record', async () => {
    const dir = tempDir('repro-bad-');
    writeFileSync(join(dir, 'run.json'), '{"format": "something-else"}');
    await expect(writeRunReport(dir)).rejects.toThrow(/not a repro run record/);
    await expect(writeRunReport(join(dir, 'nope'))).rejects.toThrow(/no run record here/);
  });
});

describe('report step', () => {
  it('renders the same report mid-run from gathered metrics and histories, citing artifacts by sha256', async () => {
    const f = makeRunFixture({ variants: ['xe', 'emd2', 'learned'], seeds: [1, 2] });
    const workDir = tempDir('repro-step-');
    const w = {
      verdicts: f.verdictsFile,
      metrics: f.metricsFiles.map((m) => ({ matrix: m.matrix, step: m.step, value: m.path })),
      histories: f.historyFiles.map((h) => ({ matrix: h.matrix, step: h.step, value: h.path })),
      paper: { title: 'Squared EMD loss', authors: ['L. Hou'], arxiv: '1611.05916' },
    };
    expect(reportStep.check!(w, { steps: [] })).toEqual([]);
    expect(reportStep.check!({}, { steps: [] })).toHaveLength(1);
    // A misspelt variant_key is a plan-time error at that key, not one pooled "default" row.
    const typo = reportStep.check!({ ...w, variant_key: 'variantt' }, { steps: [] });
    expect(typo).toEqual([{ path: 'variant_key', message: expect.stringContaining("no matrix axis 'variantt' (did you mean 'variant'?)") }]);
    expect(reportStep.check!({ ...w, variant_key: 'variant' }, { steps: [] })).toEqual([]);
    const ctx = {
      id: 'report', workflowDir: f.root, workDir, scratchDir: workDir, matrix: {}, params: {},
      secret: () => undefined, signal: new AbortController().signal, log: () => {}, progress: () => {}, threads: 1, options: {},
    };
    const result = await reportStep.run(ctx, w);
    expect(result.outputs).toEqual({ html: { type: 'file', path: 'report.html' }, markdown: { type: 'file', path: 'report.md' } });
    const html = readFileSync(join(workDir, 'report.html'), 'utf8');
    expect(html).toContain('data-plot="ground-distance-learned"');
    expect(html).toContain('data-scale="proxy"');
    expect(html).toContain(sha256(readFileSync(f.metricsFiles[3]!.path)));
    // No run record mid-run: the backend comes from the histories' facts.
    expect(html).toContain('backend=<b>wasm</b>');
    expect(readFileSync(join(workDir, 'report.md'), 'utf8')).toContain('C1-one-off');
  });

  it('fails with a StepError naming the unreadable input', async () => {
    const workDir = tempDir('repro-step-');
    const ctx = {
      id: 'report', workflowDir: workDir, workDir, scratchDir: workDir, matrix: {}, params: {},
      secret: () => undefined, signal: new AbortController().signal, log: () => {}, progress: () => {}, threads: 1, options: {},
    };
    await expect(reportStep.run(ctx, { metrics: [{ matrix: { seed: 1 }, step: 'evaluate[seed=1]', value: join(workDir, 'missing.json') }] })).rejects.toMatchObject({
      name: 'StepError',
      message: expect.stringContaining('metrics of evaluate[seed=1]'),
    });
  });
});
