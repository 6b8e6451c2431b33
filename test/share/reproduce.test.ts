// Exports that re-run: `repro export` in one folder and store, `repro reproduce` in another folder
// and store; per-artifact verdicts, declared tolerances, and damaged archives refused (exit 5).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repro as run, scriptProject, tempDir } from '../support/index.js';

const repro = (cwd: string, args: string[]) => run(args, { cwd });

function tar(cwd: string, ...args: string[]): string {
  const r = spawnSync('tar', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tar ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

// `score` also writes a wall-clock time: it never repeats, so only a declared tolerance lets it pass.
const project = () =>
  scriptProject(tempDir('repro-export-a-'), { name: 'exported', scripts: 'scripts', extra: 'ms: 1 + Number(process.hrtime.bigint() % 1000000n)' });

describe('export → reproduce', { timeout: 180_000 }, () => {
  const a = project();
  const archive = join(a, 'run.repro.tar.gz');

  it('exports the scripts, artifacts with their extensions, and the logs of a cached run', () => {
    expect(repro(a, ['run', 'wf.yaml']).code).toBe(0);
    const again = repro(a, ['run', 'wf.yaml']);
    expect(again.out).toMatch(/0 ran, 2 from cache/);
    const ex = repro(a, ['export', '-o', archive, '--tolerance', 'ms=1e9']);
    expect(ex.code).toBe(0);
    // Its steps are `run` steps, which reproduce runs only with --trust: the printed command says so.
    expect(ex.out).toMatch(/re-run it elsewhere with: repro reproduce \S+ --trust$/m);
    const files = tar(a, '-tzf', archive).split('\n');
    expect(files).toEqual(expect.arrayContaining(['project/wf.yaml', 'project/scripts/gen.mjs', 'project/scripts/score.mjs', 'artifacts/score/metrics.json', 'artifacts/gen/data.json', 'logs/gen.log', 'logs/score.log']));
    const log = tar(a, '-xzOf', archive, 'logs/score.log');
    expect(log).toMatch(/^# cached: outputs and log from run \d{8}-/);
    expect(log).toMatch(/# succeeded in/);
  });

  it('re-runs in another folder and store: bit-identical data, metrics within the declared tolerance', () => {
    const b = tempDir('repro-export-b-');
    const refused = repro(b, ['reproduce', archive, '--dir', 'again']);
    expect(refused.code).toBe(2);
    expect(refused.out).toMatch(/--trust/);
    expect(existsSync(join(b, 'again'))).toBe(false);

    const r = repro(b, ['reproduce', archive, '--dir', 'again', '--trust', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.status).toBe('succeeded');
    expect(report.verdict).toBe('reproduced within tolerance');
    const by = Object.fromEntries(report.artifacts.map((x: { step: string; verdict: string }) => [x.step, x]));
    expect(by.gen.verdict).toBe('bit-identical');
    expect(by.score.verdict).toBe('within tolerance');
    expect(by.score.metrics.find((m: { path: string }) => m.path === 'accuracy').verdict).toBe('bit-identical');
    expect(by.score.metrics.find((m: { path: string }) => m.path === 'ms').verdict).toBe('within tolerance');
    // Its own store and results, inside the new folder.
    expect(existsSync(join(b, 'again', '.repro', 'cache'))).toBe(true);
    expect(existsSync(join(b, 'again', 'results', 'exported', 'latest', 'run.json'))).toBe(true);

    // A stricter tolerance on the command line wins: the timing differs, exit 3.
    const strict = repro(b, ['reproduce', archive, '--dir', 'strict', '--trust', '--tolerance', 'ms=0']);
    expect(strict.code).toBe(3);
    expect(strict.out).toMatch(/differs +score → metrics/);
    expect(strict.out).toMatch(/artifacts: differs: 1 bit-identical, 0 within tolerance, 1 differ/);
    // One run, no seeds: nothing to test statistically, so the bytes decide.
    expect(strict.out).toMatch(/^verdict: differs: score ms: values differ, too few seeds to test/m);
  });

  it('refuses a tampered or truncated archive with exit 5 and runs nothing', () => {
    const c = tempDir('repro-export-c-');
    tar(c, '-xzf', archive);
    writeFileSync(join(c, 'project', 'scripts', 'score.mjs'), 'console.log("not what was run")\n');
    const tampered = join(c, 'tampered.tar.gz');
    tar(c, '-czf', tampered, 'repro.lock.json', 'run.json', 'workflow', 'project', 'artifacts', 'logs', 'report');
    const t = repro(c, ['reproduce', tampered, '--dir', 'x', '--trust']);
    expect(t.code).toBe(5);
    expect(t.out).toMatch(/project\/scripts\/score\.mjs/);
    expect(existsSync(join(c, 'x'))).toBe(false);

    const bytes = readFileSync(archive);
    const truncated = join(c, 'truncated.tar.gz');
    writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const u = repro(c, ['reproduce', truncated, '--dir', 'y', '--trust']);
    expect(u.code).toBe(5);
    expect(existsSync(join(c, 'y'))).toBe(false);
  });
});
