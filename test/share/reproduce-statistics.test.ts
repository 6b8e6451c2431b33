// `repro reproduce` when the outputs are not bit-identical (as on another CPU): a "training" whose
// metric carries a last-digit wobble from the clock re-runs with every output different, and the
// statistical level decides: equivalent within the smallest effect → reproduced statistically (exit
// 0); a real shift (SHIFT in the environment the re-run inherits) → not reproduced (exit 3). Its
// declared measurement (`seconds`) never counts.
import { describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repro, tempDir } from '../support/index.js';

function project(dir: string): string {
  mkdirSync(join(dir, 'scripts'));
  writeFileSync(
    join(dir, 'wf.yaml'),
    `name: wobbly
steps:
  train:
    uses: run
    matrix: {seed: [1, 2, 3, 4, 5]}
    with:
      command: ['${process.execPath}', '\${{ workflow.dir }}/scripts/train.mjs']
      env: {SEED: '\${{ matrix.seed }}'}
      measurements: [seconds]
    outputs: {metrics: metrics.json}
`,
  );
  writeFileSync(
    join(dir, 'scripts', 'train.mjs'),
    `import { writeFileSync } from 'node:fs';
const seed = Number(process.env.SEED);
const wobble = Number(process.hrtime.bigint() % 1000n) * 1e-9;
const accuracy = 0.6 + 0.05 * Math.sin(seed) + wobble + Number(process.env.SHIFT ?? 0);
writeFileSync('metrics.json', JSON.stringify({ accuracy, seconds: performance.now() / 1000 }));
`,
  );
  return dir;
}

describe('reproduce: the statistical level', { timeout: 180_000 }, () => {
  const a = project(tempDir('repro-wobbly-a-'));
  const archive = join(a, 'wobbly.repro.tar.gz');

  it('exports', () => {
    expect(repro(['run', 'wf.yaml', '-q'], { cwd: a }).code).toBe(0);
    expect(repro(['export', '-o', archive], { cwd: a }).code).toBe(0);
  });

  it('outputs that differ in the last digits: reproduced statistically, paired by seed, exit 0', () => {
    const b = tempDir('repro-wobbly-b-');
    const r = repro(['reproduce', archive, '--dir', 'again', '--trust', '--json'], { cwd: b });
    expect(r.code, r.out).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.artifactVerdict).toBe('differs');
    expect(report.verdict).toBe('reproduced statistically');
    expect(report.acm).toBe('Results Reproduced');
    const acc = report.reproduction.metrics.find((m: { metric: string }) => m.metric === 'accuracy');
    expect(acc).toMatchObject({ group: 'train', design: 'paired', verdict: 'equivalent', effectSource: 'default' });
    expect(Math.abs(acc.delta)).toBeLessThan(1e-5);
    expect(report.reproduction.metrics.find((m: { metric: string }) => m.metric === 'seconds').measurement).toBe(true);
    expect(report.differences).not.toBeNull();
  });

  it('a real shift of the metric: not reproduced, exit 3, with the reason', () => {
    const b = tempDir('repro-wobbly-c-');
    const r = repro(['reproduce', archive, '--dir', 'shifted', '--trust'], { cwd: b, env: { SHIFT: '0.2' } });
    expect(r.code, r.out).toBe(3);
    expect(r.stdout).toMatch(/^ {2}DIFFERENT +train accuracy: /m);
    expect(r.stdout).toMatch(/^verdict: not reproduced: train accuracy differs beyond its smallest effect ±/m);
    expect(r.stdout).not.toMatch(/ACM/);
  });
});
