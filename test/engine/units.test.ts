// Smaller pieces: the lock, fingerprint diffs (kind version, backend), plan status, renderers.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { acquireLock, isStale } from '../../src/engine/lock.js';
import { execute } from '../../src/engine/executor.js';
import { planStatus, explainSteps } from '../../src/engine/plan-status.js';
import { branchOf, gitState, parseNvidiaSmi } from '../../src/engine/environment.js';
import { TerminalRenderer, renderSummary } from '../../src/cli/render/terminal.js';
import type { StepKind } from '../../src/steps/kind.js';
import type { RunEvent } from '../../src/engine/events.js';
import { makePlan, ref, tempProject } from './helpers.js';

describe('git state of the workflow folder', () => {
  it('reads commit, dirty and branch from real repositories: empty, clean, dirty, detached; nulls outside one', async () => {
    const p = tempProject();
    const repo = join(p, 'repo');
    const git = (...args: string[]) => {
      const r = spawnSync('git', ['-C', repo, '-c', 'user.email=t@example.org', '-c', 'user.name=t', ...args], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      return r.stdout.trim();
    };
    spawnSync('git', ['init', '-q', '-b', 'trunk', repo]);
    expect(await gitState(repo)).toEqual({ commit: null, dirty: false, branch: 'trunk' });
    writeFileSync(join(repo, 'wf.yaml'), 'name: x\n');
    expect((await gitState(repo)).dirty).toBe(true); // an untracked file counts
    git('add', 'wf.yaml');
    git('commit', '-qm', 'one');
    const head = git('rev-parse', 'HEAD');
    expect(await gitState(repo)).toEqual({ commit: head, dirty: false, branch: 'trunk' });
    git('checkout', '-q', '--detach');
    expect(await gitState(repo)).toEqual({ commit: head, dirty: false, branch: 'HEAD' });
    expect(await gitState(join(p, 'wf'))).toEqual({ commit: null, dirty: null, branch: null });
    expect(branchOf('main...origin/main [ahead 1]')).toBe('main');
  });
});

describe('store lock', () => {
  it('is exclusive, names its holder, and is taken over when its process is dead', async () => {
    const p = tempProject();
    const store = join(p, '.repro');
    const a = await acquireLock(store, { command: ['repro', 'run', 'x.yaml'] });
    await expect(acquireLock(store)).rejects.toMatchObject({ category: 'locked', message: expect.stringContaining('(repro run x.yaml)') });
    a.release();
    expect(existsSync(join(store, 'lock'))).toBe(false);

    // A lock left by a process that has exited (as after kill -9).
    const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
    const info = { pid: Number(dead.stdout.trim()), hostname: hostname(), pidStart: null, startedAt: 'then', command: ['repro', 'run'] };
    expect(isStale(info)).toBe(true);
    writeFileSync(join(store, 'lock'), JSON.stringify(info));
    const b = await acquireLock(store);
    expect(b.tookOverFrom).toMatchObject({ pid: info.pid });
    expect(JSON.parse(readFileSync(join(store, 'lock'), 'utf8')).pid).toBe(process.pid);
    b.release();

    // A live holder on this host, or any holder on another host, is not stale.
    expect(isStale({ ...info, pid: process.pid })).toBe(false);
    expect(isStale({ ...info, hostname: 'elsewhere' })).toBe(false);
  });
});

/** An in-process kind whose result depends on the backend option (like `train`). */
function backendKind(version = '1'): StepKind<{ n: number }> {
  return {
    name: 'fake-train',
    version,
    description: 'test kind',
    withSchema: { type: 'object' },
    outputs: ['model'],
    plannedFacts: (_w, options) => ({ backend: (options.backend as string) ?? 'cpu' }),
    async run(ctx, w) {
      writeFileSync(join(ctx.workDir, 'model.txt'), `n=${w.n} backend=${ctx.options.backend ?? 'cpu'}`);
      ctx.progress(1, 'done');
      return { outputs: { model: { type: 'file', path: 'model.txt' } }, facts: { engine: 'fake', backend: (ctx.options.backend as string) ?? 'cpu' }, summary: `n ${w.n}` };
    },
  };
}

describe('fingerprints, plan status and why', () => {
  it('names a backend change, a kind version change, and pending upstream steps', async () => {
    const p = tempProject();
    const plan = makePlan(p, [
      { id: 'train', uses: 'fake-train', with: { n: 1 }, outputs: {} },
      { id: 'use', uses: 'run', deps: ['train'], with: { command: 'cat "$M" > o', env: { M: ref('train', 'model') } }, outputs: { o: 'o' } },
    ]);
    plan.steps[0]!.outputs = ['model'];
    const { runStep } = await import('../../src/steps/run.js');
    const kinds = (v: string) => (name: string) => (name === 'fake-train' ? backendKind(v) : name === 'run' ? runStep : undefined);
    const store = join(p, '.repro');
    const base = { store, results: join(p, 'results'), kinds: kinds('1') };

    expect((await planStatus(plan, { store, kinds: kinds('1') })).map((s) => [s.step, s.status, s.reason])).toEqual([
      ['train', 'would run', 'no previous run'],
      ['use', 'would run', 'upstream train would run'],
    ]);
    const rec = await execute(plan, { ...base, stepOptions: { backend: 'wasm' } });
    expect(rec.status).toBe('succeeded');
    expect(rec.steps[0]!.facts).toEqual({ engine: 'fake', backend: 'wasm' });
    expect(rec.environment.backends).toEqual([{ engine: 'fake', backend: 'wasm' }]);
    expect(rec.steps[0]!.fingerprintComponents).toMatchObject({ kind: 'fake-train', facts: { backend: 'wasm' } });

    const cached = await planStatus(plan, { store, kinds: kinds('1'), stepOptions: { backend: 'wasm' } });
    expect(cached.map((s) => s.status)).toEqual(['cached', 'cached']);
    expect(cached[1]!.fingerprint).toBe(rec.steps[1]!.fingerprint);

    const onCpu = await explainSteps(plan, 'train', { store, kinds: kinds('1'), stepOptions: { backend: 'cpu' } });
    expect(onCpu![0]!.lines.slice(1)).toEqual(['  backend wasm → cpu']);
    const newVersion = await explainSteps(plan, 'train', { store, kinds: kinds('2'), stepOptions: { backend: 'wasm' } });
    expect(newVersion![0]!.lines.slice(1)).toEqual(['  kind fake-train version 1 → 2']);
    expect(await explainSteps(plan, 'nope', { store, kinds: kinds('1') })).toBeNull();
  });
});

describe('run record', () => {
  it("records the Python a step ran on from the step's facts, whatever its engine is called", async () => {
    const p = tempProject();
    const plan = makePlan(p, [
      { id: 'py', uses: 'py-kind', with: {}, outputs: {} },
      { id: 'js', uses: 'js-kind', with: {}, outputs: {} },
    ]);
    const kind = (name: string, facts: Record<string, string | boolean>): StepKind => ({
      name,
      version: '1',
      description: 'test kind',
      withSchema: { type: 'object' },
      outputs: [],
      run: async () => ({ outputs: {}, facts }),
    });
    const kinds = new Map([
      ['py', kind('py-kind', { engine: 'other', python: '/opt/py/bin/python3', python_version: '3.12.1', cuda: false, device: 'cpu' })],
      ['js', kind('js-kind', { engine: 'tfjs', backend: 'cpu' })],
    ]);
    const rec = await execute(plan, { store: join(p, '.repro'), results: join(p, 'results'), kinds: (n) => kinds.get(n.split('-')[0]!) });
    expect(rec.status).toBe('succeeded');
    expect(rec.environment.python).toEqual({ path: '/opt/py/bin/python3', version: '3.12.1', cuda: false, device: 'cpu' });
    expect(rec.environment.backends).toHaveLength(2);
    const onDisk = JSON.parse(readFileSync(join(p, 'results', plan.workflow.name, 'latest', 'run.json'), 'utf8'));
    expect(onDisk.environment.python).toEqual(rec.environment.python);
    expect(onDisk.steps.map((s: { id: string; status: string }) => [s.id, s.status])).toEqual([
      ['py', 'succeeded'],
      ['js', 'succeeded'],
    ]);
  });
});

describe('renderers', () => {
  it('prints started/finished/failed/skipped lines and a summary table', () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d) => (text += d));
    const r = new TerminalRenderer({ stream: out as unknown as NodeJS.WriteStream, color: false, live: false });
    const t = new Date().toISOString();
    const events: RunEvent[] = [
      { type: 'run-started', runId: 'r', workflow: 'w', steps: 3, time: t },
      { type: 'step-started', step: 'a', fingerprint: 'f', reason: 'no previous run', time: t },
      { type: 'step-finished', step: 'a', fingerprint: 'f', durationMs: 1500, summary: 'acc 0.61', time: t },
      { type: 'step-failed', step: 'b', error: 'boom', hint: 'try again', logFile: '/x/b.log', time: t },
      { type: 'step-skipped', step: 'c', because: 'needs b which failed', time: t },
    ];
    events.forEach(r.onEvent);
    expect(text).toBe('▶ a  (no previous run)\n✓ a 1.5s  acc 0.61\n✗ b failed: boom\n    hint: try again\n    log: /x/b.log\n- c skipped: needs b which failed\n');
    const summary = renderSummary(
      {
        status: 'failed',
        durationMs: 2000,
        steps: [
          { id: 'a', status: 'succeeded', durationMs: 1500, summary: 'acc 0.61' },
          { id: 'b', status: 'failed', durationMs: 10, error: 'boom' },
          { id: 'c', status: 'skipped', error: 'needs b which failed' },
        ],
      } as any,
      '/tmp/run.json',
    );
    expect(summary.split('\n').slice(0, 4)).toEqual([
      'STEP  STATUS     TIME  SUMMARY',
      'a     succeeded  1.5s  acc 0.61',
      'b     failed     0.0s  boom',
      'c     skipped    -     needs b which failed',
    ]);
    expect(summary).toContain('failed: 1 ran, 0 from cache, 1 failed, 1 skipped in 2.0s');
  });

  it('parses nvidia-smi output', () => {
    expect(parseNvidiaSmi('0, NVIDIA H200, 550.54, 143771 MiB\n1, NVIDIA H200, 550.54, 143771 MiB\n')).toEqual([
      { index: 0, name: 'NVIDIA H200', driver: '550.54', memory: '143771 MiB' },
      { index: 1, name: 'NVIDIA H200', driver: '550.54', memory: '143771 MiB' },
    ]);
    expect(parseNvidiaSmi(null)).toEqual([]);
    expect(parseNvidiaSmi('NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver.\n')).toEqual([]);
  });
});
