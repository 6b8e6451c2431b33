// A collapsed training through the real CLI: one variant trains with a learning rate so large that
// the network's outputs saturate (or its loss overflows). The train/evaluate steps flag it in their
// result and log, the compare step counts it in the claim with a warning, and the report shows it.
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { RunRecord } from '../../src/formats/run-record.js';
import type { VerdictFile, ClaimCheck } from '../../src/formats/verdict.js';
import { syntheticDataset } from '../ml/helpers.js';
import { repro, tempDir } from '../support/index.js';

describe('collapsed trainings', () => {
  it('are flagged in the step result, the log, the verdict and the report', () => {
    const dir = tempDir('repro-collapsed-');
    const data = syntheticDataset(join(dir, 'data'), { train: 160, val: 40 });
    writeFileSync(
      join(dir, 'wf.yaml'),
      `name: collapse
steps:
  train:
    uses: train
    matrix: &runs
      variant: [{name: sane, lr: 0.01}, {name: wild, lr: 1000}]
      seed: [1, 2]
    with:
      dataset: ${data}
      model: {arch: small-cnn, width: 0.25}
      loss: {kind: xe}
      optimizer: {kind: adam, lr: '\${{ matrix.variant.lr }}'}
      epochs: 3
      batch_size: 16
      seed: \${{ matrix.seed }}
  evaluate:
    uses: evaluate
    matrix: *runs
    with:
      model: \${{ steps.train.outputs.model }}
      dataset: ${data}
      split: val
  compare:
    uses: compare
    with:
      results: \${{ steps.evaluate.outputs.metrics }}
      timings: \${{ steps.train.outputs.history }}
      scale: smoke
      scale_note: a synthetic dataset, three epochs
      claims:
        - {id: C1, text: a sane learning rate beats a wild one, metric: accuracy, relation: {type: better, a: sane, b: wild}, required: false}
  report:
    uses: report
    with:
      verdicts: \${{ steps.compare.outputs.verdicts }}
      metrics: \${{ steps.evaluate.outputs.metrics }}
      histories: \${{ steps.train.outputs.history }}
`,
    );
    const r = repro(['run', 'wf.yaml', '--backend', 'wasm', '-j', '2'], { cwd: dir, timeout: 240_000 });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const recordPath = join(dir, 'results', 'collapse', 'latest', 'run.json');
    const record = JSON.parse(readFileSync(recordPath, 'utf8')) as RunRecord;
    const wild = record.steps.filter((s) => (s.uses === 'train' || s.uses === 'evaluate') && JSON.stringify(s.matrix).includes('wild'));
    expect(wild.length).toBe(4);
    // Every wild training is flagged, by its train step (loss, validation) or its evaluate step (constant predictions).
    for (const seed of [1, 2]) {
      const steps = wild.filter((s) => s.matrix.seed === seed);
      expect(steps.some((s) => /^COLLAPSED/.test(s.summary ?? '')), JSON.stringify(steps.map((s) => s.summary))).toBe(true);
      const logs = steps.map((s) => readFileSync(join(dirname(recordPath), s.logFile!), 'utf8')).join('\n');
      expect(logs).toMatch(/WARNING collapsed training: /);
    }
    const compare = record.steps.find((s) => s.uses === 'compare')!;
    const verdicts = JSON.parse(readFileSync(join(record.store, compare.outputs.verdicts.storePath!), 'utf8')) as VerdictFile;
    const c1 = verdicts.checks[0] as ClaimCheck;
    expect(c1.collapsed!.map((c) => [c.variant, c.key]), JSON.stringify(c1.collapsed)).toEqual([
      ['wild', '1'],
      ['wild', '2'],
    ]);
    expect(c1.collapsedPolicy).toBe('count');
    expect(c1.explanation).toMatch(/WARNING collapsed training counted: wild seed 1 \(/);
    const report = readFileSync(join(dirname(recordPath), 'report.md'), 'utf8');
    expect(report).toMatch(/WARNING collapsed training counted: wild seed 1/);
  });
});
