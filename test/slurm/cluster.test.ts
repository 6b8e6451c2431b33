// `repro run --executor slurm` against a real Slurm cluster. When none answers and this machine
// has Slurm installed (apt-get install -y slurm-wlm munge) and we are root, the one-node cluster
// of scripts/slurm/start-local-cluster.sh is started (a few seconds) and left running for the next
// test run. Without `sbatch`, or when no controller can be had, the suite is skipped and says why.
// Needs dist/ (npm test builds it first): the jobs run `node bin/repro.js exec-step`.
import { describe, expect, it, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { RunRecord } from '../../src/formats/run-record.js';
import { tempProject } from '../engine/helpers.js';
import { reproAsync, SEEDED_COPY_STEP, startRepro } from '../support/index.js';

function sh(cmd: string, args: string[], timeoutMs = 30_000) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs });
  return { ok: !r.error && r.status === 0, out: (r.stdout ?? '') + (r.stderr ?? ''), stdout: r.stdout ?? '', error: r.error };
}

/** Whether a cluster answers; starts the local one when it can. Returns the reason to skip, or null. */
function prepareCluster(): string | null {
  if (sh('sbatch', ['--version']).error) return 'sbatch not found (apt-get install -y slurm-wlm munge to run the Slurm tests)';
  // The script's own cluster (or none configured yet): the script starts it, or says it runs.
  const conf = process.env.SLURM_CONF ?? '/etc/slurm/slurm.conf';
  const ours = !existsSync(conf) || readFileSync(conf, 'utf8').startsWith('# Written by scripts/slurm/start-local-cluster.sh');
  if (ours) {
    if (process.getuid?.() !== 0) return 'no Slurm cluster configured, and starting the local one needs root';
    const r = sh('sh', ['scripts/slurm/start-local-cluster.sh'], 120_000);
    if (!r.ok) return `scripts/slurm/start-local-cluster.sh failed: ${r.out.trim().split('\n').slice(-3).join(' | ')}`;
  }
  return sh('sinfo', ['-h', '-o', '%T'], 30_000).ok ? null : `no Slurm controller answers (${conf})`;
}

const skipReason = prepareCluster();
if (skipReason) console.log(`test/slurm/cluster.test.ts: skipped: ${skipReason}`);

const config = skipReason ? {} : Object.fromEntries(sh('scontrol', ['show', 'config']).stdout.split('\n').map((l) => l.split(/\s+=\s+/).map((x) => x.trim())).filter((kv) => kv.length === 2));
/** Only the cluster our script made is ours to take a node down. */
const ownCluster = config.ClusterName === 'repro-local' && process.getuid?.() === 0;

const record = (p: string, wf: string): RunRecord => JSON.parse(readFileSync(join(p, 'results', wf, 'latest', 'run.json'), 'utf8'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Jobs Slurm knows (squeue -t all) whose name starts with repro:<wf>: → name → {id, state, dependency, nodes}. */
function jobsOf(wf: string): Map<string, { id: string; state: string; dependency: string; nodes: string }> {
  const out = new Map<string, { id: string; state: string; dependency: string; nodes: string }>();
  for (const line of sh('squeue', ['-h', '-t', 'all', '-o', '%i|%j|%T|%E|%N']).stdout.split('\n')) {
    const [id, name, state, dependency, nodes] = line.trim().split('|');
    if (id && name?.startsWith(`repro:${wf}:`)) out.set(name.slice(`repro:${wf}:`.length), { id, state: state!, dependency: dependency!, nodes: nodes ?? '' });
  }
  return out;
}

/** Polls f until it returns something; fails early when the run it watches has ended. */
async function until<T>(what: string, f: () => T | undefined | null | false, run?: ReturnType<typeof startRepro>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  let exited: number | null | undefined;
  void run?.done.then((c) => (exited = c));
  for (;;) {
    const v = f();
    if (v) return v;
    if (exited !== undefined) throw new Error(`the run ended (exit ${exited}) before ${what}:\n${run!.output()}`);
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(150);
  }
}

const uniq = (base: string) => `${base}-${randomBytes(3).toString('hex')}`;

(skipReason ? describe.skip : describe)(`repro run --executor slurm${skipReason ? ` (skipped: ${skipReason})` : ''}`, { timeout: 180_000 }, () => {
  const nodeDowned: string[] = [];
  afterAll(() => {
    for (const n of nodeDowned) sh('scontrol', ['update', `NodeName=${n}`, 'State=RESUME']);
  });

  it('submits jobs with afterok dependencies from the DAG; results and fingerprints equal a local run; a re-run submits nothing', async () => {
    const wf = uniq('sl-dag');
    const text = `name: ${wf}
params:
  token: {type: string, secret: true, env: SL_TEST_TOKEN}
steps:
  make:
    uses: run
    resources: {cpu: 1, memory: 64MiB}
    with:
      command: 'sleep 2; echo made > out.txt; printf %s "$SL_TEST_TOKEN" | wc -c >> out.txt; echo ::progress 1 made'
      secrets: [SL_TEST_TOKEN]
    outputs: {out: out.txt}
${SEEDED_COPY_STEP}  gather:
    uses: run
    needs: [train]
    with:
      command: "cat \\"$M\\" > all.txt"
      env: {M: "\${{ steps.make.outputs.out }}"}
    outputs: {all: all.txt}
`;
    const p = tempProject('repro-slurm-');
    writeFileSync(join(p, 'wf.yaml'), text);
    const token = { SL_TEST_TOKEN: 'sl-secret-token-8817' };
    const run = startRepro(['run', 'wf.yaml', '--executor', 'slurm', '--no-report', '--json'], { cwd: p, env: token });
    // While make runs, its dependents wait in Slurm's queue on it.
    const pending = await until('the train jobs pending on make', () => {
      const jobs = jobsOf(wf);
      return jobs.get('train[seed=1]')?.dependency.startsWith('afterok:') && jobs.get('gather')?.dependency.startsWith('afterok:') ? jobs : null;
    }, run);
    const makeId = pending.get('make')!.id;
    expect(pending.get('train[seed=1]')!.dependency).toBe(`afterok:${makeId}(unfulfilled)`);
    expect(pending.get('train[seed=2]')!.dependency).toBe(`afterok:${makeId}(unfulfilled)`);
    // gather waits for both trainings and for make, whose output it reads.
    const gatherDeps = pending.get('gather')!.dependency;
    for (const s of ['train[seed=1]', 'train[seed=2]']) expect(gatherDeps).toContain(`afterok:${pending.get(s)!.id}`);
    // resources → sbatch: --cpus-per-task and --mem.
    expect(sh('scontrol', ['show', 'job', makeId]).stdout).toMatch(/TRES=cpu=1,mem=64M/);

    expect(await run.done).toBe(0);
    const events = run
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l));
    // The same progress as locally: the job's events come back through the runner.
    expect(events.some((e) => e.type === 'step-progress' && e.step === 'make' && e.message === 'made')).toBe(true);
    expect(events.filter((e) => e.type === 'step-started').map((e) => e.step).sort()).toEqual(['gather', 'make', 'train[seed=1]', 'train[seed=2]']);

    const rec = record(p, wf);
    expect(rec.status).toBe('succeeded');
    expect(rec.executor).toMatchObject({ name: 'slurm' });
    const node = sh('sinfo', ['-h', '-N', '-o', '%N']).stdout.trim().split('\n');
    const byId = Object.fromEntries(rec.steps.map((s) => [s.id, s]));
    for (const s of rec.steps) {
      expect(s.status).toBe('succeeded');
      expect(s.executor).toMatchObject({ name: 'slurm', state: 'COMPLETED' });
      expect(node).toContain(s.executor!.node);
      expect(s.executor!.jobId).toBe(pending.get(s.id)!.id);
    }
    expect(byId['train[seed=1]']!.executor!.dependsOn).toEqual([makeId]);
    expect([...byId.gather!.executor!.dependsOn!].sort()).toEqual([makeId, pending.get('train[seed=1]')!.id, pending.get('train[seed=2]')!.id].sort());
    // Slurm's own records say the jobs completed, on that node.
    const after = jobsOf(wf);
    for (const s of rec.steps) expect(after.get(s.id)).toMatchObject({ state: 'COMPLETED', nodes: s.executor!.node });
    if (config.JobCompType === 'jobcomp/filetxt' && existsSync(config.JobCompLoc!)) {
      const comp = readFileSync(config.JobCompLoc!, 'utf8');
      for (const s of rec.steps) expect(comp).toMatch(new RegExp(`JobId=${s.executor!.jobId} .*JobState=COMPLETED`));
    }
    // The logs are where a local run puts them.
    expect(readFileSync(join(p, 'results', wf, 'latest', byId.make!.logFile!), 'utf8')).toContain('# succeeded');
    // The secret param reached the job (its length is in the output) but no file of the run holds it.
    expect(readFileSync(join(rec.store, byId.make!.outputs.out!.storePath!), 'utf8')).toBe(`made\n${token.SL_TEST_TOKEN.length}\n`);
    const runFiles = spawnSync('grep', ['-rl', token.SL_TEST_TOKEN, join(p, 'results'), join(p, '.repro')], { encoding: 'utf8' });
    expect(runFiles.stdout).toBe('');

    // The same workflow on this machine: identical fingerprints and outputs.
    const q = tempProject('repro-slurm-local-');
    writeFileSync(join(q, 'wf.yaml'), text);
    expect((await reproAsync(['run', 'wf.yaml', '--no-report'], { cwd: q, env: token })).code).toBe(0);
    const local = record(q, wf);
    expect(local.executor).toBeUndefined();
    for (const s of local.steps) {
      expect(s.fingerprint).toBe(byId[s.id]!.fingerprint);
      expect(Object.fromEntries(Object.entries(s.outputs).map(([k, v]) => [k, v.sha256]))).toEqual(Object.fromEntries(Object.entries(byId[s.id]!.outputs).map(([k, v]) => [k, v.sha256])));
    }

    // Cache hits are resolved by the runner: nothing is submitted again.
    const again = await reproAsync(['run', 'wf.yaml', '--executor', 'slurm', '--no-report'], { cwd: p, env: token });
    expect(again.code).toBe(0);
    expect(record(p, wf).steps.map((s) => s.status)).toEqual(['cached', 'cached', 'cached', 'cached']);
    expect(jobsOf(wf).size).toBe(4);
  });

  it('a job killed with scancel is reported, its dependents cancelled; the next run resumes from the cache', async () => {
    const wf = uniq('sl-kill');
    const p = tempProject('repro-slurm-');
    const go = join(p, 'go');
    writeFileSync(
      join(p, 'wf.yaml'),
      `name: ${wf}
steps:
  a:
    uses: run
    with: {command: "echo a > a.txt"}
    outputs: {out: a.txt}
  b:
    uses: run
    with:
      command: 'echo waiting; while [ ! -f "$GO" ]; do sleep 0.2; done; cat "$A" > b.txt'
      env: {GO: ${JSON.stringify(go)}, A: "\${{ steps.a.outputs.out }}"}
    outputs: {out: b.txt}
  c:
    uses: run
    with:
      command: 'cat "$B" > c.txt'
      env: {B: "\${{ steps.b.outputs.out }}"}
    outputs: {out: c.txt}
`,
    );
    const run = startRepro(['run', 'wf.yaml', '--executor', 'slurm', '--no-report'], { cwd: p });
    const b = await until('b running', () => {
      const j = jobsOf(wf).get('b');
      return j?.state === 'RUNNING' ? j : null;
    }, run);
    expect(sh('scancel', [b.id]).ok).toBe(true);
    expect(await run.done).toBe(1);
    expect(run.output()).toContain(`Slurm job ${b.id} was cancelled`);
    expect(run.output()).toContain('c skipped: needs b which failed');
    const rec = record(p, wf);
    expect(rec.steps.map((s) => [s.id, s.status])).toEqual([
      ['a', 'succeeded'],
      ['b', 'failed'],
      ['c', 'skipped'],
    ]);
    expect(rec.steps[1]!.executor).toMatchObject({ jobId: b.id, state: 'CANCELLED' });
    expect(rec.steps[2]!.error).toBe('needs b which failed');
    // c's job was waiting on b: repro cancelled it rather than leave it pending forever.
    expect(jobsOf(wf).get('c')!.state).toBe('CANCELLED');

    writeFileSync(go, '');
    const again = await reproAsync(['run', 'wf.yaml', '--executor', 'slurm', '--no-report'], { cwd: p });
    expect(again.code).toBe(0);
    expect(record(p, wf).steps.map((s) => [s.id, s.status])).toEqual([
      ['a', 'cached'],
      ['b', 'succeeded'],
      ['c', 'succeeded'],
    ]);
  });

  it('Ctrl-C cancels every job of the run: running steps interrupted, waiting ones skipped, exit 130', async () => {
    const wf = uniq('sl-int');
    const p = tempProject('repro-slurm-');
    writeFileSync(
      join(p, 'wf.yaml'),
      `name: ${wf}
steps:
  a:
    uses: run
    with: {command: "sleep 60; echo a > a.txt"}
    outputs: {out: a.txt}
  b:
    uses: run
    with:
      command: 'cat "$A" > b.txt'
      env: {A: "\${{ steps.a.outputs.out }}"}
    outputs: {out: b.txt}
`,
    );
    const run = startRepro(['run', 'wf.yaml', '--executor', 'slurm', '--no-report'], { cwd: p });
    await until('a running and b queued', () => {
      const j = jobsOf(wf);
      return j.get('a')?.state === 'RUNNING' && j.get('b')?.state === 'PENDING';
    }, run);
    run.child.kill('SIGINT');
    expect(await run.done).toBe(130);
    const rec = record(p, wf);
    expect(rec.status).toBe('interrupted');
    expect(rec.steps.map((s) => [s.id, s.status])).toEqual([
      ['a', 'interrupted'],
      ['b', 'skipped'],
    ]);
    // Both by name: every() on a list that lost its jobs would pass (MinJobAge keeps them listed).
    await until('both jobs cancelled', () => ['a', 'b'].every((id) => jobsOf(wf).get(id)?.state === 'CANCELLED'), undefined, 15_000);
  });

  it.skipIf(!ownCluster)('a node failure (NODE_FAIL) requeues the step once and re-points its dependents', async () => {
    const wf = uniq('sl-node');
    const p = tempProject('repro-slurm-');
    writeFileSync(
      join(p, 'wf.yaml'),
      `name: ${wf}
steps:
  a:
    uses: run
    with: {command: "echo start; sleep 3; echo a > a.txt"}
    outputs: {out: a.txt}
  b:
    uses: run
    with:
      command: 'cat "$A" > b.txt; echo b >> b.txt'
      env: {A: "\${{ steps.a.outputs.out }}"}
    outputs: {out: b.txt}
`,
    );
    const run = startRepro(['run', 'wf.yaml', '--executor', 'slurm', '--no-report'], { cwd: p });
    const first = await until('a running', () => {
      const j = jobsOf(wf).get('a');
      return j?.state === 'RUNNING' ? j : null;
    }, run);
    nodeDowned.push(first.nodes);
    expect(sh('scontrol', ['update', `NodeName=${first.nodes}`, 'State=DOWN', 'Reason=repro-test']).ok).toBe(true);
    await until('a NODE_FAIL', () => jobsOf(wf).get('a')?.state !== 'RUNNING' || null, undefined, 30_000);
    // ReturnToService=2 brings a responsive node back by itself; say RESUME in case it did not.
    await sleep(1000);
    if (/down|drain/.test(sh('sinfo', ['-h', '-N', '-n', first.nodes, '-o', '%T']).stdout)) sh('scontrol', ['update', `NodeName=${first.nodes}`, 'State=RESUME']);
    expect(await run.done).toBe(0);
    const rec = record(p, wf);
    const [a, b] = rec.steps;
    expect(a!.status).toBe('succeeded');
    expect(a!.executor!.requeuedFrom).toEqual([first.id]);
    expect(a!.executor!.jobId).not.toBe(first.id);
    expect(b!.executor!.dependsOn).toEqual([a!.executor!.jobId]);
    expect(jobsOf(wf).get('a')).toBeDefined();
    expect(sh('squeue', ['-h', '-t', 'all', '-j', first.id, '-o', '%T']).stdout.trim()).toBe('NODE_FAIL');
    expect(readFileSync(join(p, 'results', wf, 'latest', a!.logFile!), 'utf8')).toContain(`# Slurm job ${first.id} ended NODE_FAIL`);
  });

  it('bad input: controller unreachable (7), invalid partition (2), resources the partition cannot give (2, Slurm’s message)', async () => {
    const wf = uniq('sl-bad');
    const p = tempProject('repro-slurm-');
    writeFileSync(
      join(p, 'wf.yaml'),
      `name: ${wf}
steps:
  a:
    uses: run
    with: {command: "echo a > a.txt"}
    outputs: {out: a.txt}
  big:
    uses: run
    resources: {cpu: 100000}
    with:
      command: 'cat "$A" > b.txt'
      env: {A: "\${{ steps.a.outputs.out }}"}
    outputs: {out: b.txt}
`,
    );
    // A slurm.conf naming a port where no controller listens.
    const conf = readFileSync(config.SLURM_CONF ?? '/etc/slurm/slurm.conf', 'utf8')
      .split('\n')
      .filter((l) => !/^\s*(SlurmctldPort|MessageTimeout)\s*=/i.test(l))
      .join('\n');
    const dead = join(p, 'dead.conf');
    writeFileSync(dead, `${conf}\nSlurmctldPort=1\nMessageTimeout=1\n`);
    const down = await reproAsync(['run', 'wf.yaml', '--executor', 'slurm', '--no-report'], { cwd: p, env: { SLURM_CONF: dead } });
    expect(down.code).toBe(7);
    expect(down.out).toContain('repro: the Slurm controller did not answer');
    expect(down.out).not.toContain('    at ');

    const part = await reproAsync(['run', 'wf.yaml', '--executor', 'slurm', '--partition', 'no-such-partition', '--no-report'], { cwd: p });
    expect(part.code).toBe(2);
    expect(part.out).toContain("repro: partition 'no-such-partition' does not exist on this Slurm cluster");
    expect(part.out).toMatch(/hint: partitions: \S+/);

    const big = await reproAsync(['run', 'wf.yaml', '--executor', 'slurm', '--no-report'], { cwd: p });
    expect(big.code).toBe(2);
    // Slurm's own words, and where the request is in the workflow.
    expect(big.out).toMatch(/repro: wf\.yaml:9:16: submitting big: Slurm says: .*Batch job submission failed: \S+/);
    expect(big.out).toContain('cpus-per-task 100000');
    expect(big.out).not.toContain('    at ');
    // Nothing of that run is left in the queue: a's job was cancelled with the run, or had finished.
    await sleep(500);
    for (const j of jobsOf(wf).values()) expect(['COMPLETED', 'CANCELLED']).toContain(j.state);
  });
});

describe('repro run --executor slurm without Slurm', () => {
  it('sbatch not found: exit 7 with a hint, nothing run', async () => {
    const p = tempProject('repro-slurm-');
    writeFileSync(join(p, 'wf.yaml'), 'name: nosbatch\nsteps:\n  a:\n    uses: run\n    with: {command: "echo a > a.txt"}\n    outputs: {out: a.txt}\n');
    // A PATH holding only node: no Slurm commands at all.
    const bin = join(p, 'bin');
    mkdirSync(bin);
    symlinkSync(process.execPath, join(bin, 'node'));
    const r = await reproAsync(['run', 'wf.yaml', '--executor', 'slurm', '--no-report'], { cwd: p, env: { PATH: bin } });
    expect(r.code).toBe(7);
    expect(r.out).toContain('repro: sbatch not found: the Slurm client commands are not on PATH');
    expect(r.out).toContain('hint:');
    expect(existsSync(join(p, 'a.txt'))).toBe(false);
    expect(record(p, 'nosbatch').steps).toEqual([]);
  });
});

