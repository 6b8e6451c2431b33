// `repro ui` speed figures (`npm run bench ui`), on 1,000 small synthetic run records of two
// workflows (4 evaluate steps each, with their metrics files in a store) in a temp folder:
//   ui.start.1000-runs    startUi: the first scan and index of every record, and listening
//   ui.list.1000-runs     GET of the runs list (median of 7, after one warm-up)
//   ui.warm.1000-runs     from start until every run's metrics and verdicts are read in the background
//   ui.drift.1000-runs.first  then the first GET of the across-runs page of a workflow with 500 runs
//                             (draws the pooled bootstrap intervals)
//   ui.drift.1000-runs    the same page again (median of 5; files and intervals cached per record version)
//   ui.refresh.1000-runs  one rescan when nothing changed (what every page request pays)
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { sha256 } from '../core/hash.js';
import { mulberry32 } from '../core/rng.js';
import { removeTree } from '../engine/store.js';
import { startUi } from '../ui/server.js';
import { line } from './line.js';
import type { RunRecord, StepRecord } from '../formats/run-record.js';

/** n run records under dir/results, half of each workflow, one a minute apart, with metrics in dir/.repro. */
export function writeSyntheticRuns(dir: string, n: number): void {
  const store = join(dir, '.repro');
  mkdirSync(join(store, 'objects'), { recursive: true });
  const rand = mulberry32(1);
  const t0 = Date.UTC(2026, 0, 1);
  for (let i = 0; i < n; i++) {
    const workflow = i % 2 ? 'synthetic-b' : 'synthetic-a';
    const started = new Date(t0 + i * 60_000);
    const iso = started.toISOString();
    const runId = `${iso.slice(0, 10).replace(/-/g, '')}-${iso.slice(11, 19).replace(/:/g, '')}-${(i % 65536).toString(16).padStart(4, '0')}`;
    const steps: StepRecord[] = [];
    for (const variant of ['xe', 'emd2']) {
      for (const seed of [1, 2]) {
        const metrics = JSON.stringify({ accuracy: 0.6 + 0.05 * rand() + (variant === 'emd2' ? 0.01 : 0), mae: 0.5 + 0.1 * rand(), n: 400 });
        const hash = sha256(metrics);
        writeFileSync(join(store, 'objects', hash), metrics);
        steps.push({
          id: `evaluate[variant=${variant},seed=${seed}]`,
          stepId: 'evaluate',
          uses: 'evaluate',
          matrix: { variant, seed },
          status: 'succeeded',
          fingerprint: sha256(`${i}/${variant}/${seed}`),
          fingerprintComponents: {},
          durationMs: 1000,
          inputs: {},
          outputs: { metrics: { type: 'file', sha256: hash, storePath: `objects/${hash}`, size: metrics.length } },
          summary: `test: acc ${metrics.slice(12, 17)}`,
        });
      }
    }
    const record: RunRecord = {
      format: 'repro-run/1',
      runId,
      workflow: { name: workflow, file: `/work/${workflow}.yaml`, sha256: sha256(workflow), title: `Synthetic ${workflow}` },
      git: { commit: sha256(String(i >> 4)).slice(0, 40), dirty: false },
      profile: i % 3 ? 'smoke' : null,
      params: { seeds: [1, 2], lr: 0.001 },
      status: 'succeeded',
      startedAt: iso,
      finishedAt: new Date(started.getTime() + 30_000).toISOString(),
      durationMs: 30_000,
      command: ['run', `${workflow}.yaml`],
      store,
      environment: {
        os: 'linux', kernel: '6', arch: 'x64', cpuModel: 'cpu', cores: 2, memoryBytes: 2 ** 33, node: 'v20', repro: '0.1.0',
        lockfileSha256: null, packages: { vega: '6.4.0' }, gpus: [],
      },
      steps,
    };
    mkdirSync(join(dir, 'results', workflow, runId), { recursive: true });
    writeFileSync(join(dir, 'results', workflow, runId, 'run.json'), JSON.stringify(record, null, 2));
  }
}

function get(url: string): Promise<{ status: number; ms: number; bytes: number }> {
  const t0 = performance.now();
  return new Promise((ok, fail) => {
    request(url, (res) => {
      let bytes = 0;
      res.on('data', (d: Buffer) => (bytes += d.length));
      res.on('end', () => ok({ status: res.statusCode ?? 0, ms: performance.now() - t0, bytes }));
    })
      .on('error', fail)
      .end();
  });
}

async function median(times: number, f: () => Promise<number>): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < times; i++) xs.push(await f());
  xs.sort((a, b) => a - b);
  return xs[Math.floor(xs.length / 2)]!;
}

export async function bench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'repro-bench-ui-'));
  try {
    writeSyntheticRuns(dir, 1000);
    const t0 = performance.now();
    const ui = await startUi({ dir });
    line('ui.start.1000-runs', performance.now() - t0, 'ms');
    try {
      if (ui.index.all().length !== 1000) throw new Error(`expected 1000 runs, indexed ${ui.index.all().length}`);
      const timed = async (path: string) => {
        const r = await get(ui.url + path);
        if (r.status !== 200) throw new Error(`GET ${path}: ${r.status}`);
        return r.ms;
      };
      await ui.warmed;
      line('ui.warm.1000-runs', performance.now() - t0, 'ms');
      await timed('');
      line('ui.list.1000-runs', await median(7, () => timed('')), 'ms');
      line('ui.drift.1000-runs.first', await timed('drift?workflow=synthetic-a'), 'ms');
      line('ui.drift.1000-runs', await median(5, () => timed('drift?workflow=synthetic-a')), 'ms');
      line('ui.refresh.1000-runs', await median(7, async () => {
        const s = performance.now();
        ui.index.refresh();
        return performance.now() - s;
      }), 'ms', 1);
    } finally {
      await ui.close();
    }
  } finally {
    removeTree(dir);
  }
}
