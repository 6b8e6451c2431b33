// Sharing a workflow and a run: `repro run <git-url>#<path>@<rev>` (with --trust for shell steps),
// `repro export RUN` and `repro verify ARCHIVE` — through the real CLI and a real git repository.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync, appendFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const BIN = resolve('bin/repro.js');

function sh(cwd: string, cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

function repro(cwd: string, args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, all: r.stdout + r.stderr };
}

const WF = (word: string) => `name: shared-demo
steps:
  hello:
    uses: run
    with:
      command: "echo ${word} > greeting.txt"
    outputs: {greeting: greeting.txt}
`;

function gitRepo(): { dir: string; first: string; second: string } {
  const dir = mkdtempSync(join(tmpdir(), 'repro-share-repo-'));
  sh(dir, 'git', ['init', '-q', '-b', 'main']);
  sh(dir, 'git', ['config', 'user.email', 't@example.org']);
  sh(dir, 'git', ['config', 'user.name', 'test']);
  mkdirSync(join(dir, 'workflows'));
  writeFileSync(join(dir, 'workflows', 'demo.yaml'), WF('first'));
  sh(dir, 'git', ['add', '.']);
  sh(dir, 'git', ['commit', '-qm', 'first']);
  const first = sh(dir, 'git', ['rev-parse', 'HEAD']);
  writeFileSync(join(dir, 'workflows', 'demo.yaml'), WF('second'));
  sh(dir, 'git', ['commit', '-qam', 'second']);
  const second = sh(dir, 'git', ['rev-parse', 'HEAD']);
  return { dir, first, second };
}

describe('sharing workflows and runs', { timeout: 180_000 }, () => {
  const repo = gitRepo();
  const work = mkdtempSync(join(tmpdir(), 'repro-share-work-'));
  const env = { REPRO_CACHE: join(work, 'cache') };
  const url = `file://${repo.dir}#workflows/demo.yaml@${repo.first.slice(0, 10)}`;

  it('refuses shell steps from a remote workflow without --trust, and shows them', () => {
    const r = repro(work, ['run', url], env);
    expect(r.code).toBe(2);
    expect(r.all).toMatch(/remote repository.*`run` steps.*hello/s);
    expect(r.all).toMatch(/--trust/);
  });

  it('runs the pinned revision with --trust and records the resolved commit', () => {
    const r = repro(work, ['run', url, '--trust'], env);
    expect(r.code, r.all).toBe(0);
    const runs = join(work, 'results', 'shared-demo');
    const record = JSON.parse(readFileSync(join(runs, 'latest', 'run.json'), 'utf8'));
    expect(record.workflow.source).toEqual({ url: `file://${repo.dir}`, path: 'workflows/demo.yaml', rev: repo.first.slice(0, 10), commit: repo.first });
    // The pinned commit's content ran, not the branch tip's.
    const out = record.steps[0].outputs.greeting;
    expect(readFileSync(join(record.store, out.storePath), 'utf8').trim()).toBe('first');
  });

  it('names a missing revision or path clearly', () => {
    const bad = repro(work, ['run', `file://${repo.dir}#workflows/demo.yaml@no-such-tag`, '--trust'], env);
    expect(bad.code).toBe(2);
    expect(bad.all).toMatch(/no revision 'no-such-tag'/);
    const missing = repro(work, ['run', `file://${repo.dir}#workflows/nope.yaml@main`, '--trust'], env);
    expect(missing.code).toBe(2);
    expect(missing.all).toMatch(/has no file workflows\/nope\.yaml/);
  });

  it('exports a run to one archive that verify accepts, and detects a tampered one', async () => {
    const archive = join(work, 'run.repro.tar.gz');
    const ex = repro(work, ['export', '--out', archive]);
    expect(ex.code, ex.all).toBe(0);
    const ok = repro(work, ['verify', archive]);
    expect(ok.code, ok.all).toBe(0);
    expect(ok.stdout).toMatch(/^ok: .*run \S+ of shared-demo \(succeeded\)/m);

    // Tamper with the artifact inside the archive: unpack, edit, repack.
    const unpacked = mkdtempSync(join(tmpdir(), 'repro-share-unpack-'));
    sh(unpacked, 'tar', ['-xzf', archive]);
    const stepDir = readdirSync(join(unpacked, 'artifacts'))[0]!;
    appendFileSync(join(unpacked, 'artifacts', stepDir, 'greeting'), 'tampered\n');
    const tampered = join(work, 'tampered.repro.tar.gz');
    sh(unpacked, 'tar', ['-czf', tampered, '.']);
    const bad = repro(work, ['verify', tampered]);
    expect(bad.code).toBe(5);
    expect(bad.stdout).toMatch(/corrupted: artifacts\/.*greeting/);
  });

  it("runs this repository's own flagship workflow through a file:// git URL at a pinned commit", () => {
    const head = spawnSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' });
    if (head.status !== 0) {
      console.log('skipped: this checkout is not a git repository');
      return;
    }
    const commit = head.stdout.trim();
    const self = `file://${resolve('.')}#workflows/paper.yaml@${commit}`;
    const r = repro(work, ['run', self, '--profile', 'smoke', '--no-report'], env);
    expect(r.code, r.all).toBe(0);
    const record = JSON.parse(readFileSync(join(work, 'results', 'hou2016-emd2', 'latest', 'run.json'), 'utf8'));
    expect(record.workflow.source.commit).toBe(commit);
    expect(record.workflow.file).toContain(join('checkouts'));
    expect(record.steps.find((s: { id: string }) => s.id === 'compare').status).toBe('succeeded');
  });
});
