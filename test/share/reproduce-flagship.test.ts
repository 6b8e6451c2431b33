// The flagship's smoke profile exported in one folder and store, reproduced in another: the archived
// seeds again give bit-identical models and metrics (training timings are measurements of the
// machine, never a difference) and exit 0; fresh seeds give a statistical verdict per metric and one
// line per claim; `repro diff` says what differs; `repro check --against` gates on drift.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, repro, tempDir } from '../support/index.js';

interface Artifact {
  step: string;
  output: string;
  verdict: string;
}

describe('flagship smoke: export → reproduce', { timeout: 400_000 }, () => {
  const a = tempDir('repro-flagship-a-');
  cpSync(join(REPO_ROOT, 'workflows'), join(a, 'workflows'), { recursive: true });
  mkdirSync(join(a, 'artifacts'));
  cpSync(join(REPO_ROOT, 'artifacts', 'retinamnist'), join(a, 'artifacts', 'retinamnist'), { recursive: true });
  // A repository: the project is its root, so the embedded RetinaMNIST the fetch step reads is shipped.
  spawnSync('git', ['init', '-q'], { cwd: a });
  const archive = join(a, 'smoke.repro.tar.gz');
  const b = tempDir('repro-flagship-b-');

  it('exports the smoke run', () => {
    const r = repro(['run', 'workflows/paper.yaml', '--profile', 'smoke', '-q'], { cwd: a });
    expect(r.code, r.out).toBe(0);
    expect(repro(['export', '-o', archive], { cwd: a }).code).toBe(0);
  });

  it('the archived seeds, in a new folder and store, with no flags: exit 0, bit-identical, nothing differs', () => {
    const r = repro(['reproduce', archive, '--dir', 'again', '--json'], { cwd: b });
    expect(r.code, r.out).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.verdict).toBe('bit-identical');
    expect(report.acm).toBe('Results Reproduced');
    const artifacts: Artifact[] = report.artifacts;
    expect(artifacts.filter((x) => x.verdict === 'differs')).toEqual([]);
    // Models and metrics bit-identical; the histories differ only in their timings.
    for (const x of artifacts.filter((x) => /^(train|evaluate)\[/.test(x.step) && x.output !== 'history')) expect(x.verdict, `${x.step} ${x.output}`).toBe('bit-identical');
    const histories = artifacts.filter((x) => x.output === 'history');
    expect(histories).toHaveLength(4);
    for (const h of histories) expect(['bit-identical', 'identical except measurements']).toContain(h.verdict);
    expect(report.reproduction.metrics.every((m: { verdict: string }) => m.verdict === 'identical')).toBe(true);
    expect(report.reproduction.claims).toEqual([{ id: 'C1-one-off', required: false, original: 'inconclusive', reproduced: 'inconclusive', agreement: 'same', measurement: false }]);
    expect(existsSync(join(b, 'again', '.repro', 'cache'))).toBe(true);
  });

  it('fresh seeds: a statistical verdict per variant and metric, one line per claim, the overall verdict and its exit code', () => {
    const r = repro(['reproduce', archive, '--dir', 'fresh', '--fresh-seeds', '100'], { cwd: b });
    const verdict = /^verdict: (reproduced statistically|not reproduced|inconclusive|differs)/m.exec(r.stdout)?.[1];
    expect(verdict, r.out).toBeDefined();
    expect(r.code).toBe({ 'reproduced statistically': 0, 'not reproduced': 3, differs: 3, inconclusive: 4 }[verdict!]);
    expect(r.stdout).toMatch(/fresh seeds against the archived ones: Welch/);
    expect(r.stdout).toMatch(/^ {2}\S+ +evaluate variant=emd2 one_off_accuracy: .*\(n 2 → 2\), Δ .*90% \[/m);
    expect(r.stdout).toMatch(/^ {2}(same|CHANGED|undecided) +C1-one-off: inconclusive → \w/m);
    // What differs: the seeds, and the trainings they made.
    expect(r.stdout).toMatch(/what differs between the original run \(A\) and the re-run \(B\):/);
    expect(r.stdout).toMatch(/param `seeds`: \[1,2\] → \[101,102\]/);
    if (verdict === 'reproduced statistically') expect(r.stdout).toMatch(/ACM badge this supports: Results Reproduced/);
    else expect(r.stdout).not.toMatch(/ACM badge/);
  });

  it('repro diff of the archive and the fresh run lists only what differs', () => {
    const r = repro(['diff', archive, join('fresh', 'results', 'hou2016-emd2', 'latest')], { cwd: b });
    expect(r.code, r.out).toBe(0);
    expect(r.stdout).toMatch(/param `seeds`: \[1,2\] → \[101,102\]/);
    expect(r.stdout).toMatch(/only in B: 8 steps: train\[variant=xe,seed=101/);
    expect(r.stdout).toMatch(/evaluate variant=xe accuracy: .* Welch: /);
    // The same machine: nothing in the environment or the execution facts differs.
    expect(r.stdout).not.toMatch(/^environment:/m);
    expect(r.stdout).not.toMatch(/^execution facts:/m);
  });

  it('repro check --against: passes on the same seeds, fails (exit 3) when two other seeds cannot be shown equivalent', () => {
    const same = repro(['check', 'workflows/paper.yaml', '--profile', 'smoke', '--against', archive, '-q'], { cwd: a });
    expect(same.code, same.out).toBe(0);
    expect(same.stdout).toMatch(/drift gate: pass/);
    // Cached: the fresh reproduction trained these seeds in this folder's store.
    const other = repro(['check', 'workflows/paper.yaml', '--profile', 'smoke', '--set', 'seeds=[101, 102]', '--against', archive, '-q'], { cwd: join(b, 'fresh') });
    expect(other.code, other.out).toBe(3);
    expect(other.stdout).toMatch(/other seeds: Welch/);
    expect(other.stdout).toMatch(/drift gate: FAIL \(exit 3\)/);
  });
});
