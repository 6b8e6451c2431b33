// The engine through the real CLI (`node bin/repro.js`, which runs dist/: `npm test` builds it first).
import { describe, expect, it } from 'vitest';
import { appendFileSync, chmodSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempProject } from './helpers.js';
import { repro, SEEDED_COPY_STEP, startRepro, until } from '../support/index.js';

const waitFor = (path: string): Promise<void> => until(() => existsSync(path), 20_000, path);

const WF = `name: demo
params:
  epochs: {type: integer, default: 3}
steps:
  make:
    uses: run
    with:
      command: "echo making $EPOCHS with token $H2_TOKEN; echo ::progress 0.5 half; echo $EPOCHS > out.txt"
      env: {EPOCHS: "\${{ params.epochs }}"}
      secrets: [H2_TOKEN]
    outputs: {out: out.txt}
${SEEDED_COPY_STEP}`;
const SECRET = 'h2-very-secret-token-42';

function project(text = WF): string {
  const p = tempProject('repro-engine-cli-');
  writeFileSync(join(p, 'wf.yaml'), text);
  return p;
}

// Each CLI call starts node and loads the workflow analyzer: slow on a loaded 2-core machine.
describe('repro run / why / verify / gc', { timeout: 180_000 }, () => {
  it('runs, re-runs from cache, explains a param change, and keeps secrets out of records and logs', () => {
    const p = project();
    const env = { H2_TOKEN: SECRET };
    const first = repro(['run', 'wf.yaml'], { cwd: p, env });
    expect(first.stderr).not.toContain('internal error');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/succeeded: 3 ran, 0 from cache/);
    const recordPath = /record: (\S+)/.exec(first.stdout)![1]!;
    const record = JSON.parse(readFileSync(join(p, recordPath), 'utf8'));
    expect(record.status).toBe('succeeded');
    expect(record.steps.map((s: any) => s.id)).toEqual(['make', 'train[seed=1]', 'train[seed=2]']);
    expect(record.environment.node).toBe(process.version);
    expect(record.environment.cores).toBeGreaterThan(0);
    expect(record.workflow.sha256).toMatch(/^[0-9a-f]{64}$/);

    const second = repro(['run', 'wf.yaml'], { cwd: p, env });
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/succeeded: 0 ran, 3 from cache/);

    const why = repro(['why', 'wf.yaml', 'make', '--set', 'epochs=5'], { cwd: p, env });
    expect(why.code).toBe(0);
    expect(why.stdout).toContain('with key `env.EPOCHS`: 3 → 5');
    expect(why.stdout).toContain('param `epochs`: 3 → 5');
    const whyTrain = repro(['why', 'wf.yaml', 'train', '--set', 'epochs=5'], { cwd: p, env });
    expect(whyTrain.stdout).toContain('train (2 instances: seed=1,2): upstream make would run');

    const third = repro(['run', 'wf.yaml', '--set', 'epochs=5', '--json'], { cwd: p, env });
    expect(third.code).toBe(0);
    const events = third.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(events.at(-1).type).toBe('run-finished');
    expect(events.find((e: any) => e.type === 'step-started' && e.step === 'make').reason).toBe('with key `env.EPOCHS`: 3 → 5');
    expect(events.find((e: any) => e.type === 'step-progress')).toMatchObject({ fraction: 0.5, message: 'half' });

    const text = allText(p);
    expect(text).toContain('making 5 with token ***');
    expect(text).not.toContain(SECRET);
  });

  it('exits 1 on a failed step, 2 on a bad --force, and verify exits 5 on a corrupted object', () => {
    const p = project(`name: failing
steps:
  ok:
    uses: run
    with: {command: "echo fine > f.txt"}
    outputs: {f: f.txt}
  bad:
    uses: run
    needs: [ok]
    with: {command: "echo broken >&2; exit 4"}
    outputs: {f: f.txt}
`);
    const r = repro(['run', 'wf.yaml'], { cwd: p });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('✗ bad failed: command `echo broken >&2; exit 4` exited with code 4');
    expect(r.stderr).toMatch(/log: results\/failing\/[^/]+\/logs\/bad\.log/);
    expect(r.stdout).toMatch(/failed: 1 ran, 0 from cache, 1 failed/);
    expect(repro(['run', 'wf.yaml', '--force', 'nope'], { cwd: p }).code).toBe(2);

    expect(repro(['verify'], { cwd: p }).code).toBe(0);
    const objects = join(p, '.repro', 'objects');
    const sub = readdirSync(objects)[0]!;
    const obj = join(objects, sub, readdirSync(join(objects, sub))[0]!);
    chmodSync(obj, 0o644);
    appendFileSync(obj, 'bit rot');
    const v = repro(['verify'], { cwd: p });
    expect(v.code).toBe(5);
    expect(v.stdout).toContain(`corrupted: ${obj}`);
    expect(repro(['gc', '--dry-run'], { cwd: p }).code).toBe(0);
  });

  it('kill -9 mid-step leaves a stale lock; the next run takes it over, resumes and marks the dead run interrupted', async () => {
    const p = project(`name: killme
steps:
  first:
    uses: run
    with: {command: "echo 1 > a.txt"}
    outputs: {a: a.txt}
  slow:
    uses: run
    needs: [first]
    with:
      command: "if [ -f \\"$REPRO_SCRATCH/ck\\" ]; then echo resumed > b.txt; exit 0; fi; touch \\"$REPRO_SCRATCH/ck\\"; echo $$ > ../../../../started; sleep 30"
    outputs: {b: b.txt}
`);
    const run = startRepro(['run', 'wf.yaml'], { cwd: p });
    const started = join(p, 'started');
    await waitFor(started);
    run.child.kill('SIGKILL');
    await run.done;
    // The orphaned command (its own process group) would sleep on: end it, as the test's own cleanup.
    try {
      process.kill(-Number(readFileSync(started, 'utf8')), 'SIGKILL');
    } catch {
      /* already gone */
    }
    expect(existsSync(join(p, '.repro', 'lock'))).toBe(true);
    const dead = readdirSync(join(p, 'results', 'killme')).filter((d) => d !== 'latest')[0]!;
    expect(JSON.parse(readFileSync(join(p, 'results', 'killme', dead, 'run.json'), 'utf8')).status).toBe('running');

    const again = repro(['run', 'wf.yaml'], { cwd: p });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/succeeded: 1 ran, 1 from cache/);
    const rec = JSON.parse(readFileSync(join(p, 'results', 'killme', 'latest', 'run.json'), 'utf8'));
    const b = rec.steps.find((s: any) => s.id === 'slow').outputs.b;
    expect(readFileSync(join(rec.store, b.storePath), 'utf8')).toBe('resumed\n');
    expect(JSON.parse(readFileSync(join(p, 'results', 'killme', dead, 'run.json'), 'utf8')).status).toBe('interrupted');
    expect(existsSync(join(p, '.repro', 'lock'))).toBe(false);
    expect(readdirSync(join(p, '.repro', 'tmp'))).toEqual([]);
  });

  it('a second concurrent run fails fast with exit 6; SIGINT stops a run with exit 130', async () => {
    const p = project(`name: hold
steps:
  wait:
    uses: run
    with: {command: "touch ../../../../started; sleep 20; echo > x"}
    outputs: {x: x}
`);
    const run = startRepro(['run', 'wf.yaml'], { cwd: p });
    await waitFor(join(p, 'started'));
    const second = repro(['run', 'wf.yaml'], { cwd: p });
    expect(second.code).toBe(6);
    expect(second.stderr).toMatch(/repro: the store .* is locked by another repro process: pid \d+/);
    expect(second.stderr).toContain('--wait-lock');
    run.child.kill('SIGINT');
    expect(await run.done).toBe(130);
    expect(run.output()).toContain('interrupted');
    const rec = JSON.parse(readFileSync(join(p, 'results', 'hold', 'latest', 'run.json'), 'utf8'));
    expect(rec.status).toBe('interrupted');
    expect(rec.steps[0].status).toBe('interrupted');
  });

  it('exits 1, not hanging, when the only remaining step depends on a failed one', () => {
    // Regression: a skip settled the last step without waking the scheduler, and node exited 13.
    const p = project(`name: chain
steps:
  a:
    uses: run
    with: {command: "exit 3"}
    outputs: {o: o.txt}
  b:
    uses: run
    with: {command: "cat $X", env: {X: "\${{ steps.a.outputs.o }}"}}
    outputs: {p: p.txt}
`);
    const r = repro(['run', 'wf.yaml'], { cwd: p });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/b\s+skipped\s+-\s+needs a which failed/);
  });
});

function allText(dir: string): string {
  let out = '';
  const walk = (d: string) => {
    for (const ent of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, ent.name);
      if (ent.isDirectory()) walk(path);
      else if (ent.isFile()) out += readFileSync(path, 'utf8');
    }
  };
  walk(dir);
  return out;
}
