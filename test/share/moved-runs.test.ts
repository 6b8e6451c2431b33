// Runs recorded before the project moved still work after `mv proj proj-moved`: export (and verify
// of the archive), compare against a run made after the move, report and logs, for each of three
// runs; one of them recorded as older repro wrote run.json (absolute paths only). A report never
// replaces a good one when the store lacks an object: it refuses with exit 5 and names it. And the
// report of a fully cached re-run names that run and its own record, not the run it reused plots from.
// Through the real CLI; a script stands in for training.
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectWith, repro, scriptedTrainStep, tempDir } from '../support/index.js';
import { RunIndex } from '../../src/ui/runs.js';

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

const fakeTrain = `
import { writeFileSync } from 'node:fs';
const variant = process.env.VARIANT, seed = Number(process.env.SEED);
const gain = variant === 'emd2' ? Number(process.env.GAIN) : 0;
console.log('trained', variant, 'seed', seed);
writeFileSync('metrics.json', JSON.stringify({ accuracy: 0.6 + gain + [0.004, -0.006][seed - 1], n: 100, split: 'test' }));
writeFileSync('history.json', JSON.stringify({ loss: variant, epochs: [1, 2].map((epoch) => ({ epoch, train_loss: 1 / epoch + gain })) }));
`;

const workflow = `
name: moving
params:
  gain: {type: number, default: 0.04}
steps:
${scriptedTrainStep({ seeds: [1, 2], env: { GAIN: "'${{ params.gain }}'" } })}  compare:
    uses: compare
    with:
      results: \${{ steps.train.outputs.metrics }}
      scale: smoke
      scale_note: a script stands in for training
      claims:
        - {id: C1, text: EMD2 beats XE, metric: accuracy, relation: {type: better, a: emd2, b: xe}, test: paired-t}
`;

const runIdOf = (out: string) => out.match(/results\/moving\/([^/\s]+)\/run\.json/)?.[1];
const ranCached = (out: string) => out.match(/(\d+) ran, (\d+) from cache/)?.slice(1).map(Number);

describe('runs recorded before the project moved', { timeout: 240_000 }, () => {
  const parent = tempDir('repro-move-');
  const before = join(parent, 'proj');
  const after = join(parent, 'proj-moved');
  renameSync(projectWith({ 'fake-train.mjs': fakeTrain, 'wf.yaml': workflow }, 'repro-move-src-'), before);
  const ids: string[] = [];
  const run = (cwd: string, ...args: string[]) => {
    const r = repro(['run', 'wf.yaml', ...args], { cwd });
    expect(r.code, r.out).toBe(0);
    const id = runIdOf(r.out);
    expect(id, r.out).toBeTruthy();
    return { id: id!, counts: ranCached(r.out), dir: join(cwd, 'results', 'moving', id!) };
  };

  it('a fully cached re-run gets a report naming itself and its own run record', () => {
    const first = run(before);
    const second = run(before);
    expect(second.counts).toEqual([0, 5]);
    for (const r of [first, second]) {
      const other = r === first ? second : first;
      const recordSha = sha256(readFileSync(join(r.dir, 'run.json')));
      const html = readFileSync(join(r.dir, 'report.html'), 'utf8');
      const md = readFileSync(join(r.dir, 'report.md'), 'utf8');
      expect(html).toContain(`run <code>${r.id}</code>`);
      expect(html).toContain(`sha256:${recordSha}`);
      expect(md).toContain(`Run \`${r.id}\``);
      expect(md).toMatch(new RegExp(`run record ${r.id} \\| \`${recordSha}\``));
      for (const text of [html, md]) expect(text).not.toContain(other.id);
      expect(html).toContain('data-plot="per-seed"');
      expect(readFileSync(join(r.dir, 'checklist.yaml'), 'utf8')).toContain(`filled from run ${r.id}`);
      const crate = JSON.parse(readFileSync(join(r.dir, 'ro-crate-metadata.json'), 'utf8')) as { '@graph': Array<{ '@id': string; sha256?: string }> };
      expect(crate['@graph'].find((e) => e['@id'] === 'run.json')?.sha256).toBe(recordSha);
    }
    // The second report's plots are the first's (reused, not rendered again), and still all there.
    const figures = (dir: string) => readFileSync(join(dir, 'report.html'), 'utf8').match(/<figure class="plot"[\s\S]*?<\/figure>/g);
    expect(figures(second.dir)).toEqual(figures(first.dir));
    ids.push(first.id, second.id);
  });

  it('after mv, export, compare, report and logs of each earlier run work', () => {
    const third = run(before, '--set', 'gain=0.05');
    expect(third.counts).toEqual([5, 0]);
    ids.push(third.id);
    // The first run as older repro recorded it: absolute store and workflow paths only.
    const oldStyle = join(before, 'results', 'moving', ids[0]!, 'run.json');
    const record = JSON.parse(readFileSync(oldStyle, 'utf8'));
    expect(record.relative).toEqual({ store: '../../../.repro', workflow: '../../../wf.yaml' });
    delete record.relative;
    writeFileSync(oldStyle, JSON.stringify(record, null, 2) + '\n');

    renameSync(before, after);
    expect(existsSync(before)).toBe(false);
    const fresh = run(after);
    expect(fresh.counts).toEqual([0, 5]);

    for (const id of ids) {
      const dir = join(after, 'results', 'moving', id);
      const archive = join(parent, `${id}.repro.tar.gz`);
      const exported = repro(['export', id, '-o', archive], { cwd: after });
      expect(exported.code, exported.out).toBe(0);
      expect(exported.out).not.toMatch(/omitted|missing|by hash only/);
      const verified = repro(['verify', archive], { cwd: after });
      expect(verified.code, verified.out).toBe(0);

      const compared = repro(['compare', id, fresh.id], { cwd: after });
      expect(compared.code, compared.out).toBe(0);
      expect(compared.out).not.toMatch(/missing|\/proj\//);
      expect(compared.out).toContain('accuracy');
      expect(repro(['compare', id], { cwd: after }).code).toBe(0);

      const good = readFileSync(join(dir, 'report.html'), 'utf8');
      const reported = repro(['report', id], { cwd: after });
      expect(reported.code, reported.out).toBe(0);
      expect(reported.stderr).toBe('');
      const html = readFileSync(join(dir, 'report.html'), 'utf8');
      expect(html).not.toContain('Not shown');
      expect(html.match(/data-plot="/g)?.length).toBe(good.match(/data-plot="/g)?.length);
      expect(html).toContain(`run <code>${id}</code>`);
      // The crate carries the workflow file, found where it is now.
      expect(existsSync(join(dir, 'workflow', 'wf.yaml'))).toBe(true);

      const logs = repro(['logs', 'train[variant=emd2,seed=2]', id], { cwd: after });
      expect(logs.code, logs.out).toBe(0);
      expect(logs.stdout).toContain('trained emd2 seed 2');
    }
    // repro ui reads them where they are now too: every earlier run's metrics, from the moved store.
    const index = new RunIndex(after);
    index.refresh();
    for (const id of ids) {
      const run = index.all().find((r) => r.summary.id === id)!;
      expect(index.metricSteps(run).length, id).toBeGreaterThan(0);
    }
    // The third run had another gain than the fresh one: the diff says so, with the change in accuracy.
    const diff = repro(['compare', ids[2]!, fresh.id], { cwd: after });
    expect(diff.out).toContain('param `gain`: 0.05 → 0.04');
    expect(diff.out, diff.out).toMatch(/emd2 +accuracy .*−0\.01/);
  });

  it('gc after the move keeps the objects of runs recorded before it', () => {
    // Without cache entries, only the run records keep the objects alive.
    rmSync(join(after, '.repro', 'cache'), { recursive: true });
    const gc = repro(['gc'], { cwd: after });
    expect(gc.code, gc.out).toBe(0);
    for (const id of ids) expect(repro(['report', id], { cwd: after }).code).toBe(0);
  });

  it('a report whose store lacks an object refuses (exit 5), names it, and leaves the report as it was', () => {
    const id = ids[2]!;
    const dir = join(after, 'results', 'moving', id);
    const good = readFileSync(join(dir, 'report.html'));
    const goodMd = readFileSync(join(dir, 'report.md'));
    const away = join(tempDir('repro-move-away-'), 'store');
    renameSync(join(after, '.repro'), away);
    try {
      const r = repro(['report', id], { cwd: after });
      expect(r.code, r.out).toBe(5);
      expect(r.stderr).toMatch(new RegExp(`cannot report run ${id}: \\d+ objects it recorded are missing from the store`));
      expect(r.stderr).toMatch(/output metrics of train\[variant=xe,seed=1\] \(files\/[0-9a-f]{64}\/metrics\.json\)/);
      expect(r.stderr).toContain('an existing one is left as it was');
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(readFileSync(join(dir, 'report.html')).equals(good)).toBe(true);
      expect(readFileSync(join(dir, 'report.md')).equals(goodMd)).toBe(true);
    } finally {
      renameSync(away, join(after, '.repro'));
    }
    expect(readdirSync(realpathSync(join(after, 'results', 'moving', 'latest')))).toContain('report.html');
  });
});
