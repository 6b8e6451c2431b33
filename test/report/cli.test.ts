// `repro report` as a user runs it: the built CLI in a child process.
import { describe, expect, it } from 'vitest';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeRunFixture } from './fixture.js';
import { REPORT_FILES } from '../../src/report/index.js';
import { repro, tempDir } from '../support/index.js';

describe('repro report', () => {
  it('with no argument reports results/<workflow>/latest into the run directory', () => {
    const f = makeRunFixture({ variants: ['xe', 'emd2'], seeds: [1, 2] });
    const r = repro(['report'], { cwd: f.root });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('report of run 20250101T120000Z-abc123 (proxy)');
    for (const name of REPORT_FILES) {
      expect(existsSync(join(f.runDir, name)), name).toBe(true);
      expect(r.stdout).toContain(join('results', 'paper', '20250101T120000Z-abc123', name));
    }
  });

  it('accepts a run.json path, a workflow file, and --out', () => {
    const f = makeRunFixture({ variants: ['xe'], seeds: [1] });
    expect(repro(['report', join(f.runDir, 'run.json')], { cwd: f.root }).code).toBe(0);
    const out = join(f.root, 'report');
    const r = repro(['report', 'workflows/paper.yaml', '--out', 'report'], { cwd: f.root });
    expect(r.code).toBe(0);
    for (const name of REPORT_FILES) expect(existsSync(join(out, name)), name).toBe(true);
  });

  it('a missing run is a usage error (exit 2) with a message, not a stack trace', () => {
    const empty = tempDir('repro-empty-');
    const r = repro(['report'], { cwd: empty });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^repro: no runs under results\/\n  hint: run a workflow first/);
    const r2 = repro(['report', 'no/such/run'], { cwd: empty });
    expect(r2.code).toBe(2);
    expect(r2.stderr).not.toMatch(/\n\s+at /);
  });

  it('an artifact that changed since the run is corruption (exit 5), and nothing is written', () => {
    const f = makeRunFixture({ variants: ['xe'], seeds: [1] });
    writeFileSync(f.verdictsFile, '{}');
    const r = repro(['report', f.runDir], { cwd: f.root });
    expect(r.code).toBe(5);
    expect(r.stderr).toContain('verdicts of compare');
    expect(r.stderr).toContain('hint: Run `repro verify`');
    expect(existsSync(join(f.runDir, 'report.html'))).toBe(false);
    rmSync(f.root, { recursive: true, force: true });
  });
});
