// A position-independent cache: the same project in another folder, or another clone sharing the
// same `.repro/`, finds everything cached; a commit that touches one script re-runs only what
// depends on it. Through the real CLI, real git, real copies.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repro, scriptProject, tempDir } from '../support/index.js';

function git(cwd: string, ...args: string[]): void {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
}

function project(): string {
  const dir = scriptProject(tempDir('repro-moved-a-'), { name: 'moved' });
  writeFileSync(join(dir, '.gitignore'), '.repro/\nresults/\n');
  return dir;
}

const summary = (out: string) => out.match(/(\d+) ran, (\d+) from cache/)?.slice(1).map(Number);

describe('a cache that survives moving the folder', { timeout: 120_000 }, () => {
  const a = project();
  it('runs once, then is fully cached after the folder is copied elsewhere', () => {
    expect(summary(repro(['run', 'wf.yaml'], { cwd: a }).out)).toEqual([2, 0]);
    const b = join(tempDir('repro-moved-b-'), 'project');
    cpSync(a, b, { recursive: true });
    const r = repro(['run', 'wf.yaml'], { cwd: b });
    expect(r.code).toBe(0);
    expect(summary(r.out)).toEqual([0, 2]);
  });

  it('a second clone with the same .repro/ is cached; a commit touching one script re-runs only its step', () => {
    git(a, 'init', '-q', '-b', 'main');
    git(a, '-c', 'user.email=t@example.org', '-c', 'user.name=t', 'add', '.');
    git(a, '-c', 'user.email=t@example.org', '-c', 'user.name=t', 'commit', '-qm', 'first');
    const clone = join(tempDir('repro-moved-c-'), 'clone');
    git(tmpdir(), 'clone', '-q', a, clone);
    cpSync(join(a, '.repro'), join(clone, '.repro'), { recursive: true });
    expect(summary(repro(['run', 'wf.yaml'], { cwd: clone }).out)).toEqual([0, 2]);

    appendFileSync(join(clone, 'score.mjs'), '// a comment: the bytes changed\n');
    git(clone, '-c', 'user.email=t@example.org', '-c', 'user.name=t', 'commit', '-qam', 'touch score');
    const why = repro(['why', 'wf.yaml', 'score'], { cwd: clone });
    expect(why.out).toMatch(/input file score\.mjs changed/);
    expect(why.out).not.toMatch(/\/tmp\//);
    expect(summary(repro(['run', 'wf.yaml'], { cwd: clone }).out)).toEqual([1, 1]);
  });
});
