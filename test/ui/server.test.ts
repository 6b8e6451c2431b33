// `repro ui`'s server over real HTTP on 127.0.0.1, on run records laid out as the engine writes them
// (test/report/fixture.ts): the token, the loopback Host, read-only methods, paths confined to the
// folder, hostile strings escaped, on-demand reports, live progress, and the diff of two runs.
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { makeRunFixture } from '../report/fixture.js';
import { projectWith, startRepro, until } from '../support/index.js';
import { startUi, type UiServer } from '../../src/ui/server.js';
import type { RunRecord } from '../../src/formats/run-record.js';

const HOSTILE = `<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">`;

function get(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((ok, fail) => {
    const req = request(url, { method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => ok({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', fail);
    req.end();
  });
}

/** A second run beside the fixture's: a copy of its record with changes, under a new run id. */
function addRun(root: string, base: RunRecord, runId: string, change: (r: RunRecord) => void): string {
  const record = JSON.parse(JSON.stringify(base)) as RunRecord;
  record.runId = runId;
  change(record);
  const dir = join(root, 'results', 'paper', runId);
  mkdirSync(join(dir, 'logs'), { recursive: true });
  writeFileSync(join(dir, 'run.json'), JSON.stringify(record, null, 2));
  return dir;
}

describe('repro ui server', () => {
  const f = makeRunFixture({ variants: ['xe', 'emd2'], seeds: [1, 2], epochs: 3 });
  let ui: UiServer;
  let runningDir: string;

  beforeAll(async () => {
    writeFileSync(join(f.runDir, 'report.html'), '<!doctype html><title>the written report</title><p>written by repro run</p>');
    addRun(f.root, f.record, '20250102T120000Z-lr0001', (r) => {
      r.params = { ...r.params, lr: 0.001 };
      r.startedAt = '2025-01-02T12:00:00.000Z';
    });
    // Hostile strings everywhere a workflow or a metrics file puts text: title, params, summaries, metric keys.
    const metrics = JSON.stringify({ accuracy: 0.5, [HOSTILE]: 0.25 });
    const digest = createHash('sha256').update(metrics).digest('hex');
    mkdirSync(join(f.store, 'files', digest), { recursive: true });
    writeFileSync(join(f.store, 'files', digest, 'metrics.json'), metrics);
    addRun(f.root, f.record, '20250103T120000Z-hostile', (r) => {
      r.workflow.title = HOSTILE;
      r.params = { ...r.params, [HOSTILE]: HOSTILE };
      r.startedAt = '2025-01-03T12:00:00.000Z';
      const compare = r.steps.find((s) => s.uses === 'compare')!;
      compare.summary = HOSTILE;
      const evaluate = r.steps.find((s) => s.uses === 'evaluate')!;
      evaluate.outputs.metrics = { type: 'file', sha256: digest, storePath: `files/${digest}/metrics.json`, size: metrics.length };
    });
    runningDir = addRun(f.root, f.record, '20250104T120000Z-running', (r) => {
      r.status = 'running';
      r.startedAt = '2025-01-04T12:00:00.000Z';
      r.steps = r.steps.slice(0, 3);
      delete r.durationMs;
    });
    writeFileSync(join(runningDir, 'logs', 'train_variant=emd2,seed=2_.log'), 'loading data\nepoch 2/3 loss 1.234\n');
    symlinkSync('/etc', join(f.root, 'escape'));
    ui = await startUi({ dir: f.root });
  });
  afterAll(() => ui?.close());

  it('listens on 127.0.0.1 only and refuses any request without its token', async () => {
    expect(ui.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/[0-9a-f]{48}\/$/);
    const origin = new URL(ui.url).origin;
    expect((await get(ui.url)).status).toBe(200);
    expect((await get(`${origin}/`)).status).toBe(403);
    expect((await get(`${origin}/assets/ui.js`)).status).toBe(403);
    expect((await get(`${origin}/${'0'.repeat(48)}/`)).status).toBe(403);
    expect((await get(`${origin}/${ui.url.split('/')[3]!.slice(0, 20)}/`)).status).toBe(403);
    // DNS rebinding: a page on another name that resolves to 127.0.0.1 sends its own Host.
    expect((await get(ui.url, { host: 'evil.example:80' })).status).toBe(403);
    expect((await get(ui.url, {}, 'POST')).status).toBe(405);
  });

  it('serves files only from under its folder', async () => {
    expect((await get(`${ui.url}files/results/paper/latest/run.json`)).status).toBe(200);
    expect((await get(`${ui.url}files/results/paper/..%2F..%2F..%2Fetc%2Fpasswd`)).status).toBe(403);
    expect((await get(`${ui.url}files/%2e%2e/%2e%2e/etc/passwd`)).status).toBe(403);
    expect((await get(`${ui.url}files/escape/passwd`)).status).toBe(403);
    const log = await get(`${ui.url}files/results/paper/20250104T120000Z-running/logs/train_variant=emd2,seed=2_.log`);
    expect(log.headers['content-type']).toMatch(/^text\/plain/);
    expect(log.headers['content-security-policy']).toMatch(/sandbox/);
  });

  it('lists every run newest first, with filters and live progress', async () => {
    const list = await get(ui.url);
    const ids = [...list.body.matchAll(/<tr data-run="paper\/([^"]+)"/g)].map((m) => m[1]);
    expect(ids).toEqual(['20250104T120000Z-running', '20250103T120000Z-hostile', '20250102T120000Z-lr0001', f.record.runId]);
    const running = await get(`${ui.url}?status=running`);
    expect([...running.body.matchAll(/<tr data-run=/g)]).toHaveLength(1);
    expect(running.body).toMatch(/3 of about \d+ steps done \(3 ran, 0 cached\); running: train_variant=emd2,seed=2_ \(epoch 2\/3 loss 1\.234\)/);
    const text = await get(`${ui.url}?q=lr0001`);
    expect([...text.body.matchAll(/<tr data-run=/g)]).toHaveLength(1);
    const progress = JSON.parse((await get(`${ui.url}progress/paper/20250104T120000Z-running`)).body);
    expect(progress.status).toBe('running');
    expect(progress.text).toContain('epoch 2/3');
  });

  it('escapes every string from a run: titles, params, summaries, metric keys', async () => {
    const pages = [
      await get(ui.url),
      await get(`${ui.url}run/paper/20250103T120000Z-hostile`),
      await get(`${ui.url}compare?run=paper/${f.record.runId}&run=paper/20250103T120000Z-hostile`),
      await get(`${ui.url}drift?workflow=paper&metric=${encodeURIComponent(HOSTILE)}`),
    ];
    for (const p of pages) {
      expect(p.status).toBe(200);
      expect(p.body).not.toContain('<script>window');
      expect(p.body).not.toContain('<img src=x');
    }
    expect(pages[1]!.body).toContain('&lt;script&gt;window.__pwned=1&lt;/script&gt;');
    // The metric key of the hostile metrics file, as a row of the compare table.
    expect(pages[2]!.body).toContain('&lt;img src=x onerror=&quot;window.__pwned=2&quot;&gt;');
  });

  it("shows a run's written report, and renders one with src/report when the run has none", async () => {
    const written = await get(`${ui.url}files/results/paper/${f.record.runId}/report.html`);
    expect(written.body).toContain('written by repro run');
    const rendered = await get(`${ui.url}files/results/paper/20250102T120000Z-lr0001/report.html`);
    expect(rendered.status).toBe(200);
    expect(rendered.headers['content-security-policy']).toMatch(/^sandbox/);
    expect(rendered.body).toContain('Squared EMD loss on ordered classes');
    expect(rendered.body).toContain('figure class="plot"');
  });

  it('compares two runs: only the param that changed', async () => {
    const page = await get(`${ui.url}compare?run=paper/${f.record.runId}&run=paper/20250102T120000Z-lr0001`);
    const diff = page.body.match(/<ul class="changes" data-diff="[^"]+">(.*?)<\/ul>/)![1]!;
    expect([...diff.matchAll(/<li/g)]).toHaveLength(1);
    expect(diff).toContain('param `lr`: unset → 0.001');
    // Same seeds, same steps: every metric's difference is 0.
    expect(page.body).toMatch(/<th class="n">Δ B − A<\/th>/);
  });

  it('`repro ui DIR` prints its URL and serves until stopped', async () => {
    const child = startRepro(['ui', f.root]);
    try {
      await until(() => /http:\/\/127\.0\.0\.1:\d+\/\w+\//.test(child.output()), 20_000, 'the URL');
      const url = child.output().match(/http:\/\/127\.0\.0\.1:\d+\/\w+\//)![0];
      expect(child.output()).toMatch(/4 runs under /);
      expect((await get(url)).body).toContain(f.record.runId);
    } finally {
      child.child.kill('SIGINT');
    }
    expect(await child.done).toBe(0);
  });

  it('writes nothing into the folder it serves', () => {
    // The run without report.html still has none: the rendered one lives in memory only.
    expect(() => readFileSync(join(f.root, 'results', 'paper', '20250102T120000Z-lr0001', 'report.html'))).toThrow();
  });

  it('compares two runs: the environment, execution facts and metrics that differ, and nothing else', async () => {
    // Another machine and backend: a CPU of its own, tfjs's cpu backend for every training, and emd2's
    // accuracy 0.1 higher on every seed (new metrics files); xe's metrics are the same files.
    addRun(f.root, f.record, '20250105T120000Z-machine', (r) => {
      r.environment = { ...r.environment, cpuModel: 'Other CPU <b>9000</b>' };
      for (const step of r.steps) {
        if (step.uses === 'train') step.facts = { ...step.facts, backend: 'cpu' };
        if (step.uses !== 'evaluate' || step.matrix?.variant === undefined || !JSON.stringify(step.matrix.variant).includes('emd2')) continue;
        const metrics = JSON.parse(readFileSync(join(f.store, step.outputs.metrics!.storePath!), 'utf8'));
        metrics.accuracy += 0.1;
        const text = JSON.stringify(metrics);
        const digest = createHash('sha256').update(text).digest('hex');
        mkdirSync(join(f.store, 'files', digest), { recursive: true });
        writeFileSync(join(f.store, 'files', digest, 'metrics.json'), text);
        step.outputs.metrics = { type: 'file', sha256: digest, storePath: `files/${digest}/metrics.json`, size: text.length };
      }
      r.startedAt = '2025-01-05T12:00:00.000Z';
    });
    const page = await get(`${ui.url}compare?run=paper/${f.record.runId}&run=paper/20250105T120000Z-machine`);
    const diff = page.body.match(/<ul class="changes" data-diff="[^"]+">(.*?)<\/ul>/)![1]!;
    expect(diff).toContain('<li class="env">environment: cpu model: ');
    expect(diff).toContain('→ Other CPU &lt;b&gt;9000&lt;/b&gt;</li>');
    expect(diff).toMatch(/<li class="fact">backend wasm → cpu <span class="muted">\(4 steps: train\[variant=xe,seed=1\], /);
    const samples = [...diff.matchAll(/<li class="sample">(.*?)<\/li>/g)].map((m) => m[1]!);
    // Only emd2's accuracy differs (paired by seed: the same seeds); xe's samples are identical and not listed.
    expect(samples).toHaveLength(1);
    expect(samples[0]).toMatch(/^evaluate variant=emd2 accuracy: 0\.64 → 0\.74, Δ \+0\.1<span class="muted"> \[\+0\.1, \+0\.1\] \(90%, n 2\/2, paired by seed\)<\/span>: <b>different within ±/);
    expect(diff).not.toContain('variant=xe accuracy');
  });
});

describe('repro ui on a run in progress', () => {
  it('shows the live progress of a real `repro run`: steps done, the step running and its last log line', async () => {
    const dir = projectWith({
      'wf.yaml': `name: slow
steps:
  first:
    uses: run
    with: {command: "echo one > a.txt"}
    outputs: {a: a.txt}
  second:
    uses: run
    with: {command: 'echo warming up; echo halfway there; while [ ! -e "$GO" ]; do sleep 0.1; done; echo two > b.txt', env: {GO: "${'$'}{{ workflow.dir }}/go"}}
    outputs: {b: b.txt}
    needs: [first]
`,
    });
    const run = startRepro(['run', 'wf.yaml', '--no-report'], { cwd: dir });
    const ui = await startUi({ dir });
    try {
      let progress: { status: string; text: string } = { status: '', text: '' };
      await until(
        () => {
          ui.index.refresh();
          return ui.index.all().length === 1;
        },
        30_000,
        'the run record',
      );
      const key = ui.index.all()[0]!.key;
      const poll = async () => (progress = JSON.parse((await get(`${ui.url}progress/${key}`)).body));
      for (let i = 0; i < 300 && !progress.text.includes('halfway there'); i++) {
        await poll();
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(progress.status).toBe('running');
      expect(progress.text).toBe('1 step done (1 ran, 0 cached); running: second (halfway there)');
      writeFileSync(join(dir, 'go'), '');
      expect(await run.done).toBe(0);
      await poll();
      expect(progress).toEqual({ status: 'succeeded', text: 'succeeded' });
    } finally {
      run.child.kill();
      await ui.close();
    }
  }, 60_000);
});

