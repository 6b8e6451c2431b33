// The commands around runs: `repro runs`, `repro logs` (a cached step's log is the producing run's),
// `gc --keep-runs`, `why` per profile with matrix instances grouped, `validate`/`plan` of a git URL,
// and `verify DIR`. Through the real CLI.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectWith, repro as run, tempDir } from '../support/index.js';

const WF = `name: grouped
params:
  n: {type: integer, default: 1}
profiles:
  other: {params: {n: 2}}
steps:
  make:
    uses: run
    with:
      command: 'echo made $N; echo $N > n.txt'
      env: {N: '\${{ params.n }}'}
    outputs: {n: n.txt}
  train:
    uses: run
    matrix: {seed: [1, 2, 3]}
    with:
      command: 'cat "$IN" > m.txt; echo $SEED >> m.txt'
      env: {IN: '\${{ steps.make.outputs.n }}', SEED: '\${{ matrix.seed }}'}
    outputs: {m: m.txt}
`;

describe('runs, logs, gc of run records, why, git URLs everywhere', { timeout: 240_000 }, () => {
  const dir = projectWith({ 'wf.yaml': WF }, 'repro-commands-');
  const repro = (...args: string[]) => run(args, { cwd: dir });

  it('lists runs and prints logs, for a cached step the log of the run that produced it', () => {
    expect(repro('run', 'wf.yaml').code).toBe(0);
    expect(repro('run', 'wf.yaml').code).toBe(0);
    const runs = repro('runs');
    expect(runs.code).toBe(0);
    expect(runs.stdout).toMatch(/^RUN +STARTED \(UTC\) +WORKFLOW +PROFILE +STATUS +STEPS +VERDICTS$/m);
    const lines = runs.stdout.split('\n').filter((l) => /^\d{8}-/.test(l));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/grouped +- +succeeded +all 4 cached/);
    expect(lines[1]).toMatch(/succeeded +4 ran, 0 cached/);
    const firstId = lines[1]!.split(' ')[0]!;

    const log = repro('logs', 'make');
    expect(log.code).toBe(0);
    expect(log.stdout).toContain(`# cached: outputs and log from run ${firstId}`);
    expect(log.stdout).toMatch(/^made 1$/m);
    const all = repro('logs', 'train', firstId);
    expect(all.stdout.match(/^==> train\[seed=\d\] \(succeeded\) <==$/gm)).toHaveLength(3);
    expect(repro('logs', 'trian').code).toBe(2);
  });

  it('why compares with the last run under the same profile and groups matrix instances', () => {
    expect(repro('run', 'wf.yaml', '--profile', 'other').code).toBe(0);
    const why = repro('why', 'wf.yaml', 'train');
    expect(why.code).toBe(0);
    expect(why.stdout).toMatch(/^train \(3 instances: seed=1,2,3\): cached: nothing changed since its last run/m);
    expect(why.stdout.split('\n').filter(Boolean)).toHaveLength(1);
    const changed = repro('why', 'wf.yaml', 'train', '--set', 'n=7');
    expect(changed.stdout).toMatch(/^train \(3 instances: seed=1,2,3\): upstream make would run/m);
  });

  it('gc --keep-runs removes old run records but never the latest or the one that produced cached outputs', () => {
    expect(repro('run', 'wf.yaml').code).toBe(0); // a no-op run under the default profile
    const runsDir = join(dir, 'results', 'grouped');
    // In start order (run ids carry the second only, and two of these runs may share one).
    const started = (id: string) => (JSON.parse(readFileSync(join(runsDir, id, 'run.json'), 'utf8')) as { startedAt: string }).startedAt;
    const before = readdirSync(runsDir)
      .filter((d) => d !== 'latest')
      .sort((a, b) => started(a).localeCompare(started(b)));
    expect(before).toHaveLength(4);
    const dry = repro('gc', '--keep-runs', '1', '--dry-run');
    expect(dry.stdout).toMatch(/would remove 1 run record\(s\) beyond the newest 1/);
    expect(readdirSync(runsDir).filter((d) => d !== 'latest')).toHaveLength(4);
    const gc = repro('gc', '--keep-runs', '1');
    expect(gc.code).toBe(0);
    const after = readdirSync(runsDir).filter((d) => d !== 'latest').sort();
    // Kept: the first (produced the default profile's outputs), the `other` run (produced its own), the newest.
    expect(after).toEqual([before[0], before[2], before[3]].sort());
    expect(repro('run', 'wf.yaml').stdout).toMatch(/0 ran, 4 from cache/);
  });

  it('validate and plan read a workflow from a git URL; verify refuses a plain folder clearly', () => {
    const repo = tempDir('repro-commands-git-');
    const git = (...args: string[]) => spawnSync('git', ['-c', 'user.email=t@example.org', '-c', 'user.name=t', ...args], { cwd: repo, encoding: 'utf8' });
    git('init', '-q', '-b', 'main');
    writeFileSync(join(repo, 'wf.yaml'), WF);
    git('add', '.');
    git('commit', '-qm', 'wf');
    const env = { REPRO_CACHE: join(repo, '..', `${repo.split('/').pop()}-cache`) };
    const url = `file://${repo}#wf.yaml@main`;
    const v = run(['validate', url], { cwd: dir, env });
    expect(v.code, v.out).toBe(0);
    expect(v.stdout).toMatch(/^ok: 2 steps \(4 concrete\)/);
    const p = run(['plan', url, '--json'], { cwd: dir, env });
    expect(p.code, p.out).toBe(0);
    expect(JSON.parse(p.stdout).steps.map((s: { id: string }) => s.id)).toEqual(['make', 'train[seed=1]', 'train[seed=2]', 'train[seed=3]']);
    // The human plan names the workflow as the user did, not by the checkout's path in the cache.
    const human = run(['plan', url], { cwd: dir, env });
    expect(human.code, human.out).toBe(0);
    expect(human.stdout.split('\n')[0]).toContain(`(${url} = `);
    expect(human.stdout.split('\n')[0]).not.toContain('checkouts');

    const folder = join(dir, 'not-a-store');
    mkdirSync(folder);
    const bad = repro('verify', 'not-a-store');
    expect(bad.code).toBe(2);
    expect(bad.out).toMatch(/is a folder, neither an archive nor an artifact store/);
    expect(bad.out).not.toMatch(/EISDIR/);
    const store = repro('verify', '.repro');
    expect(store.code).toBe(0);
    expect(store.stdout).toMatch(/^ok: .* cache entries in /m);
    expect(existsSync(join(dir, '.repro'))).toBe(true);
  });
});
