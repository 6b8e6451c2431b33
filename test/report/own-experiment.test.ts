// A stranger's experiment, not the flagship: a table of wine measurements with three unordered cultivars,
// built-in dataset/train/evaluate/compare steps, a reported number from the user's own pilot study, and no
// paper. Its report.md, checklist.md and report.html must read as the user's experiment: no paper wording,
// and no ordinal metric (one-off accuracy, MAE in class steps, QWK) for classes that have no order.
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mulberry32 } from '../../src/core/rng.js';
import type { EvaluationMetrics, TrainingHistory } from '../../src/formats/metrics.js';
import type { RunRecord } from '../../src/formats/run-record.js';
import { repro, tempDir } from '../support/index.js';

const CULTIVARS = ['barbera', 'grignolino', 'nebbiolo'];

/** Four measurements per wine whose means differ by cultivar, with noise. */
function wines(n: number, seed: number): string {
  const rand = mulberry32(seed);
  const rows = ['alcohol,phenols,hue,colour,cultivar'];
  for (let i = 0; i < n; i++) {
    const k = i % 3;
    const noise = () => (rand() - 0.5) * 1.2;
    rows.push([1 + k + noise(), 2 - k + noise(), (k === 1 ? 1 : 0) + noise(), k * 0.5 + noise(), CULTIVARS[k]].map((v) => (typeof v === 'number' ? v.toFixed(3) : v)).join(','));
  }
  return rows.join('\n') + '\n';
}

const WORKFLOW = `name: wine-cultivars
title: Which cultivar is this wine? A small MLP, two learning rates
params:
  seeds: {type: array, default: [1, 2, 3]}
  scale: {type: string, default: full}
  note: {type: string, default: 'our protocol on our 2026 tasting data, 3 epochs on CPU'}
steps:
  data:
    uses: dataset
    with:
      format: csv
      csv: wines-train.csv
      test_csv: wines-test.csv
      label_column: cultivar
      classes: [${CULTIVARS.join(', ')}]
      licence: CC0-1.0
  train:
    uses: train
    matrix:
      variant: [{name: cautious, lr: 0.002}, {name: brisk, lr: 0.02}]
      seed: \${{ params.seeds }}
    with:
      dataset: \${{ steps.data.outputs.dataset }}
      model: {arch: mlp}
      loss: {kind: xe}
      optimizer: {kind: adam, lr: '\${{ matrix.variant.lr }}'}
      epochs: 3
      batch_size: 16
      seed: \${{ matrix.seed }}
  evaluate:
    uses: evaluate
    matrix:
      variant: [{name: cautious, lr: 0.002}, {name: brisk, lr: 0.02}]
      seed: \${{ params.seeds }}
    with:
      model: \${{ steps.train.outputs.model }}
      dataset: \${{ steps.data.outputs.dataset }}
  compare:
    uses: compare
    with:
      results: \${{ steps.evaluate.outputs.metrics }}
      scale: \${{ params.scale }}
      scale_note: \${{ params.note }}
      claims:
        - id: C-1
          text: The brisk learning rate learns the cultivars better in three epochs.
          metric: accuracy
          relation: {type: better, a: brisk, b: cautious}
          test: paired-t
      reported:
        - id: R-1
          metric: accuracy
          variant: brisk
          value: 0.68
          source: {paper: 'pilot study, lab notebook 2026-03', table: '2'}
          tolerance: {absolute: 0.1}
`;

let dir = '';
let record: RunRecord;
const out: Record<string, string> = {};

beforeAll(() => {
  dir = tempDir('repro-own-experiment-');
  writeFileSync(join(dir, 'wines-train.csv'), wines(120, 1));
  writeFileSync(join(dir, 'wines-test.csv'), wines(60, 2));
  writeFileSync(join(dir, 'wines.yaml'), WORKFLOW);
  const r = repro(['run', 'wines.yaml', '--backend', 'cpu', '-j', '2'], { cwd: dir, timeout: 400_000 });
  if (r.code !== 0) throw new Error(`repro run failed (${r.code}):\n${r.out}`);
  const runDir = readdirSync(join(dir, 'results', 'wine-cultivars'), { withFileTypes: true }).find((e) => e.isDirectory() && e.name !== 'latest')!;
  const base = join(dir, 'results', 'wine-cultivars', runDir.name);
  record = JSON.parse(readFileSync(join(base, 'run.json'), 'utf8')) as RunRecord;
  for (const f of ['report.md', 'checklist.md', 'report.html']) out[f] = readFileSync(join(base, f), 'utf8');
}, 420_000);

describe("a stranger's experiment reads as theirs", () => {
  it('evaluate writes no ordinal metric for unordered classes', () => {
    const evals = record.steps.filter((s) => s.uses === 'evaluate');
    expect(evals).toHaveLength(6);
    for (const s of evals) {
      const m = JSON.parse(readFileSync(join(record.store, s.outputs.metrics.storePath!), 'utf8')) as EvaluationMetrics;
      expect(m.accuracy).toBeGreaterThan(0);
      expect(Object.keys(m).filter((k) => ['one_off_accuracy', 'mae', 'qwk'].includes(k))).toEqual([]);
      expect(s.summary).not.toMatch(/one-off|mae|qwk/);
    }
  });

  it.each(['report.md', 'checklist.md', 'report.html'])('%s: no paper wording and no ordinal metric', (name) => {
    const text = out[name]!;
    expect(text).toMatch(/wine|cultivar/i);
    // The matches, not the whole page, when one is found.
    expect(text.match(/.{0,60}(the paper's|vs paper|paper's protocol|Reproducing:).{0,60}/gi) ?? []).toEqual([]);
    expect(text.match(/.{0,60}(one-off|class steps|QWK|quadratic).{0,60}/gi) ?? []).toEqual([]);
  });

  it('a history keeps no ordinal metric either, and selecting the best epoch by one is refused', () => {
    const train = record.steps.find((s) => s.uses === 'train')!;
    const history = JSON.parse(readFileSync(join(record.store, train.outputs.history.storePath!), 'utf8')) as TrainingHistory;
    expect(Object.keys(history.epochs[0]!.val ?? {})).toEqual(['accuracy']);
    writeFileSync(join(dir, 'by-mae.yaml'), WORKFLOW.replace('name: wine-cultivars', 'name: by-mae').replace('      epochs: 3', '      epochs: 3\n      select_by: mae'));
    // Refused by the plan, at the key, before anything trains.
    const r = repro(['run', 'by-mae.yaml', '--backend', 'cpu'], { cwd: dir, timeout: 300_000 });
    expect(r.code, r.out).toBe(2);
    expect(r.stderr).toMatch(/^by-mae\.yaml:28:18: error: step 'train': select_by 'mae' counts class steps, but dataset step 'data' does not declare its classes ordered/m);
  });

  it('a proxy run of it: its checklist says what it is not in the workflow\'s terms, not the paper\'s', () => {
    const r = repro(['run', 'wines.yaml', '--backend', 'cpu', '--set', 'scale=proxy', '--set', 'note=a third of the tasting data'], { cwd: dir, timeout: 300_000 });
    expect(r.code, r.out).toBe(0);
    const latest = join(dir, 'results', 'wine-cultivars', 'latest');
    const checklist = readFileSync(join(latest, 'checklist.md'), 'utf8');
    expect(checklist).toMatch(/the run is a proxy run, not the full protocol on the full data/);
    for (const f of ['checklist.md', 'report.md', 'report.html']) {
      const text = readFileSync(join(latest, f), 'utf8');
      expect(text.match(/.{0,60}(the paper's|vs paper|paper's protocol|Reproducing:).{0,60}/gi) ?? [], f).toEqual([]);
    }
  });

  it('the full-scale banner is the workflow\'s own note and a reported number is "reported", not "paper"', () => {
    expect(out['report.md']).toMatch(/\*\*Full-scale run\.\*\* our protocol on our 2026 tasting data/);
    expect(out['report.html']).toContain('The workflow names no paper.');
    const show = repro(['compare', join(dir, 'results', 'wine-cultivars', 'latest')], { cwd: dir, timeout: 60_000 });
    expect(show.stdout).toMatch(/accuracy of brisk vs reported 0\.68/);
    expect(show.stdout).not.toMatch(/paper/i);
  });
});
