// A position-independent cache: the same project in another folder, or another clone sharing the
// same `.repro/`, finds everything cached; a commit that touches one script re-runs only what
// depends on it. Through the real CLI, real git, real copies.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const BIN = resolve('bin/repro.js');

function repro(cwd: string, args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, all: r.stdout + r.stderr };
}

function git(cwd: string, ...args: string[]): void {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
}

const WF = `name: moved
steps:
  gen:
    uses: run
    with:
      command: [node, '\${{ workflow.dir }}/gen.mjs']
    outputs: {data: data.json}
  score:
    uses: run
    with:
      command: 'node \${{ workflow.dir }}/score.mjs "$DATA"'
      env: {DATA: '\${{ steps.gen.outputs.data }}'}
    outputs: {metrics: metrics.json}
`;

function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'repro-moved-a-'));
  writeFileSync(join(dir, 'wf.yaml'), WF);
  writeFileSync(join(dir, 'gen.mjs'), `import { writeFileSync } from 'node:fs';\nwriteFileSync(process.env.REPRO_OUT + '/data.json', '{"n": 3}');\n`);
  writeFileSync(
    join(dir, 'score.mjs'),
    `import { readFileSync, writeFileSync } from 'node:fs';\nconst d = JSON.parse(readFileSync(process.argv[2], 'utf8'));\nwriteFileSync('metrics.json', JSON.stringify({ accuracy: d.n / 4 }));\n`,
  );
  writeFileSync(join(dir, '.gitignore'), '.repro/\nresults/\n');
  return dir;
}

const summary = (out: string) => out.match(/(\d+) ran, (\d+) from cache/)?.slice(1).map(Number);

describe('a cache that survives moving the folder', { timeout: 120_000 }, () => {
  const a = project();
  it('runs once, then is fully cached after the folder is copied elsewhere', () => {
    expect(summary(repro(a, ['run', 'wf.yaml']).all)).toEqual([2, 0]);
    const b = join(mkdtempSync(join(tmpdir(), 'repro-moved-b-')), 'project');
    cpSync(a, b, { recursive: true });
    const r = repro(b, ['run', 'wf.yaml']);
    expect(r.code).toBe(0);
    expect(summary(r.all)).toEqual([0, 2]);
  });

  it('a second clone with the same .repro/ is cached; a commit touching one script re-runs only its step', () => {
    git(a, 'init', '-q', '-b', 'main');
    git(a, '-c', 'user.email=t@example.org', '-c', 'user.name=t', 'add', '.');
    git(a, '-c', 'user.email=t@example.org', '-c', 'user.name=t', 'commit', '-qm', 'first');
    const clone = join(mkdtempSync(join(tmpdir(), 'repro-moved-c-')), 'clone');
    git(tmpdir(), 'clone', '-q', a, clone);
    cpSync(join(a, '.repro'), join(clone, '.repro'), { recursive: true });
    expect(summary(repro(clone, ['run', 'wf.yaml']).all)).toEqual([0, 2]);

    appendFileSync(join(clone, 'score.mjs'), '// a comment: the bytes changed\n');
    git(clone, '-c', 'user.email=t@example.org', '-c', 'user.name=t', 'commit', '-qam', 'touch score');
    const why = repro(clone, ['why', 'wf.yaml', 'score']);
    expect(why.all).toMatch(/input file score\.mjs changed/);
    expect(why.all).not.toMatch(/\/tmp\//);
    expect(summary(repro(clone, ['run', 'wf.yaml']).all)).toEqual([1, 1]);
  });
});
