import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync, writeFileSync, statSync, chmodSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { execute } from '../../src/engine/executor.js';
import { getStepKind } from '../../src/steps/registry.js';
import { Store } from '../../src/engine/store.js';
import { verifyStore, gcStore } from '../../src/engine/maintenance.js';
import type { RunEvent } from '../../src/engine/events.js';
import { makePlan, nodeCmd, ref, tempProject, type StepSpec } from './helpers.js';

/** A step that appends its id to ran.log (so a test can count real executions) and writes out.txt. */
function counted(project: string, id: string, body = '', extra: Partial<StepSpec> = {}): StepSpec {
  const script = `const fs=require('fs');fs.appendFileSync(${JSON.stringify(join(project, 'ran.log'))}, ${JSON.stringify(id)}+'\\n');${body}`;
  return { id, with: { command: nodeCmd(script) }, outputs: { out: 'out.txt' }, ...extra };
}
const writeOut = (expr: string) => `fs.writeFileSync('out.txt', String(${expr}));`;
const ran = (project: string) => (existsSync(join(project, 'ran.log')) ? readFileSync(join(project, 'ran.log'), 'utf8').trim().split('\n') : []);

function opts(project: string, events?: RunEvent[]) {
  return { kinds: getStepKind, store: join(project, '.repro'), results: join(project, 'results'), jobs: 2, onEvent: events ? (e: RunEvent) => events.push(e) : undefined };
}

describe('execute', () => {
  it('runs a chain, then a re-run is all cache hits with the same outputs', async () => {
    const p = tempProject();
    const plan = makePlan(p, [
      counted(p, 'a', writeOut("'hello'")),
      counted(p, 'b', writeOut("fs.readFileSync(process.env.IN,'utf8').toUpperCase()"), { deps: ['a'] }),
    ]);
    (plan.steps[1]!.with as any).env = { IN: ref('a', 'out') };
    const first = await execute(plan, opts(p));
    expect(first.status).toBe('succeeded');
    expect(first.steps.map((s) => s.status)).toEqual(['succeeded', 'succeeded']);
    const out = first.steps[1]!.outputs.out!;
    expect(readFileSync(join(first.store, out.storePath!), 'utf8')).toBe('HELLO');
    expect(first.steps[1]!.inputs['steps.a.outputs.out']!.sha256).toBe(first.steps[0]!.outputs.out!.sha256);

    const events: RunEvent[] = [];
    const second = await execute(plan, opts(p, events));
    expect(second.steps.map((s) => s.status)).toEqual(['cached', 'cached']);
    expect(ran(p)).toEqual(['a', 'b']); // nothing ran the second time
    expect(second.steps[1]!.outputs.out!.sha256).toBe(out.sha256);
    expect(events.filter((e) => e.type === 'step-cached')).toHaveLength(2);
    const fin = events.at(-1)!;
    expect(fin.type === 'run-finished' && fin.counts.cached).toBe(2);
    // results/<wf>/latest points at the newest run.
    expect(readFileSync(join(p, 'results', 'test-wf', 'latest', 'run.json'), 'utf8')).toContain(second.runId);
  });

  it('re-runs after a with/param change and says which key changed; downstream re-runs only if its input changed', async () => {
    const p = tempProject();
    const mk = (epochs: number) => {
      const plan = makePlan(p, [
        counted(p, 'train', writeOut('process.env.EPOCHS > 0 ? "model" : "none"')),
        counted(p, 'eval', writeOut("fs.readFileSync(process.env.IN,'utf8')"), { deps: ['train'] }),
      ]);
      (plan.steps[0]!.with as any).env = { EPOCHS: epochs };
      (plan.steps[1]!.with as any).env = { IN: ref('train', 'out') };
      plan.params = { epochs };
      return plan;
    };
    await execute(mk(3), opts(p));
    const events: RunEvent[] = [];
    const rec = await execute(mk(5), opts(p, events));
    const started = events.find((e) => e.type === 'step-started' && e.step === 'train');
    expect(started && started.type === 'step-started' && started.reason).toBe('with key `env.EPOCHS`: 3 → 5');
    // train re-ran but produced identical bytes, so eval is a cache hit.
    expect(rec.steps.map((s) => s.status)).toEqual(['succeeded', 'cached']);
    expect(ran(p)).toEqual(['train', 'eval', 'train']);
  });

  it('re-runs after a local input file changes', async () => {
    const p = tempProject();
    writeFileSync(join(p, 'wf', 'data.csv'), 'x\n1\n');
    const plan = makePlan(p, [counted(p, 'read', writeOut("fs.readFileSync(process.env.DATA,'utf8').length"))]);
    plan.steps[0]!.with = { ...plan.steps[0]!.with, env: { DATA: join(p, 'wf', 'data.csv') }, inputs: ['data.csv'] };
    await execute(plan, opts(p));
    expect((await execute(plan, opts(p))).steps[0]!.status).toBe('cached');
    writeFileSync(join(p, 'wf', 'data.csv'), 'x\n2\n');
    const events: RunEvent[] = [];
    const rec = await execute(plan, opts(p, events));
    expect(rec.steps[0]!.status).toBe('succeeded');
    const started = events.find((e) => e.type === 'step-started');
    expect(started && started.type === 'step-started' && started.reason).toMatch(/^input file data\.csv changed \(sha256 [0-9a-f]{12}… → [0-9a-f]{12}…\)$/);
    expect(rec.steps[0]!.inputs['data.csv']!.type).toBe('file');
  });

  it('--force re-runs a step by declared id', async () => {
    const p = tempProject();
    const plan = makePlan(p, [counted(p, 'x[seed=1]', writeOut('1'), { stepId: 'x' }), counted(p, 'y', writeOut('2'))]);
    await execute(plan, opts(p));
    const rec = await execute(plan, { ...opts(p), force: ['x'] });
    expect(rec.steps.map((s) => s.status)).toEqual(['succeeded', 'cached']);
  });

  it('a failure skips dependents, lets independent steps finish, and names the log', async () => {
    const p = tempProject();
    const plan = makePlan(p, [
      { id: 'bad', with: { command: 'echo about to fail; echo oops >&2; exit 3' }, outputs: { out: 'out.txt' } },
      counted(p, 'after', writeOut('1'), { deps: ['bad'] }),
      counted(p, 'after2', writeOut('2'), { deps: ['after'] }),
      counted(p, 'independent', writeOut('3')),
    ]);
    const events: RunEvent[] = [];
    const rec = await execute(plan, opts(p, events));
    expect(rec.status).toBe('failed');
    expect(rec.steps.map((s) => s.status)).toEqual(['failed', 'skipped', 'skipped', 'succeeded']);
    expect(rec.steps[0]!.error).toContain('exited with code 3');
    expect(rec.steps[0]!.error).toContain('oops');
    expect(rec.steps[1]!.error).toBe('needs bad which failed');
    expect(rec.steps[2]!.error).toBe('needs bad which failed');
    const log = readFileSync(join(p, 'results', 'test-wf', rec.runId, rec.steps[0]!.logFile!), 'utf8');
    expect(log).toContain('about to fail');
    // Nothing of the failed attempt is in the store's cache.
    expect(new Store(rec.store).readCacheEntry(rec.steps[0]!.fingerprint)).toBeNull();
  });

  it('stores a directory output as a read-only tree and a JSON file as a value output', async () => {
    const p = tempProject();
    const plan = makePlan(p, [
      {
        id: 'make',
        with: { command: 'mkdir -p model/sub empty && echo w > model/weights.bin && echo c > model/sub/config.json && echo \'{"acc":0.5}\' > m.json' },
        outputs: { model: 'model/', metrics: 'value:m.json' },
      },
      {
        id: 'use',
        deps: ['make'],
        with: { command: 'cat "$M/sub/config.json" > out.txt && echo "$ACC" >> out.txt', env: { M: ref('make', 'model'), ACC: ref('make', 'metrics') } },
        outputs: { out: 'out.txt' },
      },
    ]);
    const rec = await execute(plan, opts(p));
    expect(rec.status).toBe('succeeded');
    const model = rec.steps[0]!.outputs.model!;
    expect(model.type).toBe('dir');
    expect(model.storePath).toBe(`trees/${model.sha256}`);
    const tree = join(rec.store, model.storePath!);
    expect(readdirSync(tree).sort()).toEqual(['sub', 'weights.bin']);
    expect(statSync(tree).mode & 0o222).toBe(0);
    expect(rec.steps[0]!.outputs.metrics).toMatchObject({ type: 'value', value: { acc: 0.5 } });
    // A value output reaches a dependent as its JSON (an object in an env var becomes JSON text).
    const out = readFileSync(join(rec.store, rec.steps[1]!.outputs.out!.storePath!), 'utf8');
    expect(out).toBe('c\n{"acc":0.5}\n');
  });

  it('runs independent steps in parallel within --jobs, and never overlaps steps that need all cores', async () => {
    const p = tempProject();
    const sleeper = (id: string, cpu = 1): StepSpec => ({ id, cpu, with: { command: nodeCmd('setTimeout(()=>{}, 400)') } });
    const overlap = (r: Awaited<ReturnType<typeof execute>>, a: number, b: number) => {
      const [x, y] = [r.steps[a]!, r.steps[b]!];
      return Date.parse(x.startedAt!) < Date.parse(y.finishedAt!) && Date.parse(y.startedAt!) < Date.parse(x.finishedAt!);
    };
    const par = await execute(makePlan(p, [sleeper('p1'), sleeper('p2')]), { ...opts(p), jobs: 2 });
    expect(overlap(par, 0, 1)).toBe(true);
    const serial = await execute(makePlan(p, [sleeper('s1', 2), sleeper('s2')], { name: 'w2' }), { ...opts(p), jobs: 2 });
    expect(overlap(serial, 0, 1)).toBe(false);
  });

  it('gives GPU steps distinct GPUs, and runs them on the CPU when there are none', async () => {
    const p = tempProject();
    // The id is in the command: equal fingerprints would share one cache entry.
    const gpuStep = (id: string): StepSpec => ({ id, gpu: 1, with: { command: `echo "$CUDA_VISIBLE_DEVICES" > g.txt # ${id}` }, outputs: { g: 'g.txt' } });
    // Stand-in for nvidia-smi: this machine has no GPU, so the scheduler is given a list of two.
    const rec = await execute(makePlan(p, [gpuStep('g1'), gpuStep('g2')]), { ...opts(p), gpus: [{ index: 0, name: 'A' }, { index: 1, name: 'B' }] });
    const seen = rec.steps.map((s) => readFileSync(join(rec.store, s.outputs.g!.storePath!), 'utf8').trim()).sort();
    expect(seen).toEqual(['0', '1']);
    const none = await execute(makePlan(p, [gpuStep('g3')], { name: 'nogpu' }), { ...opts(p), gpus: [] });
    expect(none.status).toBe('succeeded');
    const log = readFileSync(join(p, 'results', 'nogpu', none.runId, none.steps[0]!.logFile!), 'utf8');
    expect(log).toContain('none was detected');
  });

  it('an abort stops the running command, records the run as interrupted, and the next run resumes', async () => {
    const p = tempProject();
    const pidFile = join(p, 'child.pid');
    const plan = makePlan(p, [
      counted(p, 'quick', writeOut('1')),
      {
        id: 'slow',
        deps: ['quick'],
        with: {
          command: nodeCmd(
            `const fs=require('fs'),path=require('path');const ck=path.join(process.env.REPRO_SCRATCH,'ck');` +
              `if(fs.existsSync(ck)){fs.writeFileSync('out.txt','resumed');process.exit(0)}` +
              `fs.writeFileSync(ck,'1');fs.writeFileSync(${JSON.stringify(pidFile)},String(process.pid));setInterval(()=>{},1000)`,
          ),
        },
        outputs: { out: 'out.txt' },
      },
    ]);
    const ac = new AbortController();
    const running = execute(plan, { ...opts(p), signal: ac.signal });
    while (!existsSync(pidFile)) await new Promise((r) => setTimeout(r, 50));
    const childPid = Number(readFileSync(pidFile, 'utf8'));
    ac.abort();
    const rec = await running;
    expect(rec.status).toBe('interrupted');
    expect(rec.steps.map((s) => s.status)).toEqual(['succeeded', 'interrupted']);
    expect(() => process.kill(childPid, 0)).toThrow(); // the command was killed
    expect(JSON.parse(readFileSync(join(p, 'results', 'test-wf', rec.runId, 'run.json'), 'utf8')).status).toBe('interrupted');
    expect(existsSync(join(p, '.repro', 'lock'))).toBe(false);

    const again = await execute(plan, opts(p));
    expect(again.steps.map((s) => s.status)).toEqual(['cached', 'succeeded']);
    expect(readFileSync(join(again.store, again.steps[1]!.outputs.out!.storePath!), 'utf8')).toBe('resumed');
  });

  it('never writes a secret into run.json, logs, history or cache', async () => {
    const p = tempProject();
    const secret = 's3cr3t-TOKEN-value';
    process.env.REPRO_TEST_API_KEY = 'env-api-key-9876';
    const plan = makePlan(
      p,
      [
        {
          id: 'use-secret',
          with: { command: 'echo "token is $TOKEN, key is $REPRO_TEST_API_KEY"; echo ok > out.txt; exit 0', env: { TOKEN: secret } },
          outputs: { out: 'out.txt' },
        },
        {
          id: 'fails',
          with: { command: `echo "failing with ${secret}" >&2; exit 1` },
        },
      ],
      { params: { token: secret, epochs: 2 }, secretParams: ['token'] },
    );
    // A kind that reads a credential registers it for masking through ctx.secret():
    const { runStep } = await import('../../src/steps/run.js');
    const kinds = (name: string) =>
      name === 'run'
        ? { ...runStep, async run(ctx: any, w: any) { ctx.secret('REPRO_TEST_API_KEY'); return runStep.run(ctx, w); } }
        : undefined;
    const rec = await execute(plan, { ...opts(p), kinds });
    expect(rec.steps.map((s) => s.status)).toEqual(['succeeded', 'failed']);
    expect(rec.params).toEqual({ token: '***', epochs: 2 });
    const everything = allText(p);
    expect(everything).toContain('token is ***, key is ***'); // the log line is there, masked
    expect(everything).not.toContain(secret);
    expect(everything).not.toContain('env-api-key-9876');
    delete process.env.REPRO_TEST_API_KEY;
  });

  it('a second concurrent run on the same store fails fast with LOCKED, or waits with waitLock', async () => {
    const p = tempProject();
    const gate = join(p, 'gate');
    const plan = makePlan(p, [{ id: 'hold', with: { command: nodeCmd(`const fs=require('fs');fs.writeFileSync(${JSON.stringify(join(p, 'started'))},'');const t=setInterval(()=>{if(fs.existsSync(${JSON.stringify(gate)})){clearInterval(t)}},20)`) } }]);
    const first = execute(plan, opts(p));
    while (!existsSync(join(p, 'started'))) await new Promise((r) => setTimeout(r, 20));
    await expect(execute(plan, opts(p))).rejects.toMatchObject({ category: 'locked', message: expect.stringContaining(`pid ${process.pid}`) });
    const settled: string[] = [];
    void first.then(() => settled.push('first'), () => settled.push('first (failed)'));
    const waiting = execute(plan, { ...opts(p), waitLock: true });
    void waiting.then(() => settled.push('waiting'), () => settled.push('waiting (failed)'));
    await new Promise((r) => setTimeout(r, 300));
    // Still blocked while the first run holds the lock: nothing has settled yet.
    expect(settled).toEqual([]);
    writeFileSync(gate, '');
    expect((await first).status).toBe('succeeded');
    expect((await waiting).steps[0]!.status).toBe('cached');
    expect(settled).toEqual(['first', 'waiting']);
  });
});

describe('store verification and gc', () => {
  it('verify finds a corrupted object; a run re-creates the corrupted output', async () => {
    const p = tempProject();
    const plan = makePlan(p, [counted(p, 'a', writeOut("'payload'"))]);
    const rec = await execute(plan, opts(p));
    const store = new Store(rec.store);
    expect((await verifyStore(store)).problems).toEqual([]);
    const obj = store.objectPath(rec.steps[0]!.outputs.out!.sha256);
    chmodSync(obj, 0o644);
    appendFileSync(obj, 'tampered');
    const report = await verifyStore(store);
    expect(report.problems).toHaveLength(1);
    expect(report.problems[0]).toMatchObject({ kind: 'corrupted', path: obj });
    // The executor checks cached outputs before trusting them: the step runs again.
    const events: RunEvent[] = [];
    const again = await execute(plan, opts(p, events));
    expect(again.steps[0]!.status).toBe('succeeded');
    const started = events.find((e) => e.type === 'step-started');
    expect(started && started.type === 'step-started' && started.reason).toMatch(/cached output `out` is corrupted/);
    expect((await verifyStore(new Store(rec.store))).problems).toEqual([]);
  });

  it('gc removes only what no cache entry or run record references', async () => {
    const p = tempProject();
    const rec = await execute(makePlan(p, [{ id: 'a', with: { command: 'mkdir d && echo 1 > d/x && echo 2 > f' }, outputs: { d: 'd', f: 'f' } }]), opts(p));
    const store = new Store(rec.store);
    // An orphan object, as a crash between storing and caching would leave.
    const orphan = store.objectPath('f'.repeat(64));
    writeFileSync(join(p, 'orphan'), 'x');
    const { mkdirSync, renameSync } = await import('node:fs');
    mkdirSync(join(orphan, '..'), { recursive: true });
    renameSync(join(p, 'orphan'), orphan);
    const dry = gcStore(store, { resultsRoots: [join(p, 'results')], dryRun: true });
    expect(dry.removedObjects).toBe(1);
    expect(existsSync(orphan)).toBe(true);
    const real = gcStore(store, { resultsRoots: [join(p, 'results')] });
    expect(real.removedObjects).toBe(1);
    expect(existsSync(orphan)).toBe(false);
    expect((await verifyStore(store)).problems).toEqual([]);
    expect((await execute(makePlan(p, [{ id: 'a', with: { command: 'mkdir d && echo 1 > d/x && echo 2 > f' }, outputs: { d: 'd', f: 'f' } }]), opts(p))).steps[0]!.status).toBe('cached');
  });
});

function allText(dir: string): string {
  let out = '';
  const walk = (d: string) => {
    for (const ent of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, ent.name);
      if (ent.isDirectory()) walk(path);
      else if (ent.isFile()) out += `\n== ${path}\n` + readFileSync(path, 'utf8');
    }
  };
  walk(dir);
  return out;
}
