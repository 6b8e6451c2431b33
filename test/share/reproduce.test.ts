// Exports that re-run: `repro export` in one folder and store, `repro reproduce` in another folder
// and store; per-artifact verdicts, declared tolerances, and damaged archives refused (exit 5).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const BIN = resolve('bin/repro.js');

function repro(cwd: string, args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, stdout: r.stdout, all: r.stdout + r.stderr };
}

function tar(cwd: string, ...args: string[]): string {
  const r = spawnSync('tar', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tar ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

// `score` also writes a wall-clock time: it never repeats, so only a declared tolerance lets it pass.
const WF = `name: exported
steps:
  gen:
    uses: run
    with:
      command: [node, '\${{ workflow.dir }}/scripts/gen.mjs']
    outputs: {data: data.json}
  score:
    uses: run
    with:
      command: 'node \${{ workflow.dir }}/scripts/score.mjs "$DATA"'
      env: {DATA: '\${{ steps.gen.outputs.data }}'}
    outputs: {metrics: metrics.json}
`;

function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'repro-export-a-'));
  writeFileSync(join(dir, 'wf.yaml'), WF);
  spawnSync('mkdir', [join(dir, 'scripts')]);
  writeFileSync(join(dir, 'scripts', 'gen.mjs'), `import { writeFileSync } from 'node:fs';\nwriteFileSync(process.env.REPRO_OUT + '/data.json', '{"n": 3}');\n`);
  writeFileSync(
    join(dir, 'scripts', 'score.mjs'),
    `import { readFileSync, writeFileSync } from 'node:fs';\nconst d = JSON.parse(readFileSync(process.argv[2], 'utf8'));\n` +
      `writeFileSync('metrics.json', JSON.stringify({ accuracy: d.n / 4, ms: 1 + (process.hrtime.bigint() % 1000000n).toString() / 1 }));\n`,
  );
  return dir;
}

describe('export → reproduce', { timeout: 180_000 }, () => {
  const a = project();
  const archive = join(a, 'run.repro.tar.gz');

  it('exports the scripts, artifacts with their extensions, and the logs of a cached run', () => {
    expect(repro(a, ['run', 'wf.yaml']).code).toBe(0);
    const again = repro(a, ['run', 'wf.yaml']);
    expect(again.all).toMatch(/0 ran, 2 from cache/);
    const ex = repro(a, ['export', '-o', archive, '--tolerance', 'ms=1e9']);
    expect(ex.code).toBe(0);
    const files = tar(a, '-tzf', archive).split('\n');
    expect(files).toEqual(expect.arrayContaining(['project/wf.yaml', 'project/scripts/gen.mjs', 'project/scripts/score.mjs', 'artifacts/score/metrics.json', 'artifacts/gen/data.json', 'logs/gen.log', 'logs/score.log']));
    const log = tar(a, '-xzOf', archive, 'logs/score.log');
    expect(log).toMatch(/^# cached: outputs and log from run \d{8}-/);
    expect(log).toMatch(/# succeeded in/);
  });

  it('re-runs in another folder and store: bit-identical data, metrics within the declared tolerance', () => {
    const b = mkdtempSync(join(tmpdir(), 'repro-export-b-'));
    const refused = repro(b, ['reproduce', archive, '--dir', 'again']);
    expect(refused.code).toBe(2);
    expect(refused.all).toMatch(/--trust/);
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
    expect(strict.all).toMatch(/differs +score → metrics/);
    expect(strict.all).toMatch(/verdict: differs: 1 bit-identical, 0 within tolerance, 1 differ/);
  });

  it('refuses a tampered or truncated archive with exit 5 and runs nothing', () => {
    const c = mkdtempSync(join(tmpdir(), 'repro-export-c-'));
    tar(c, '-xzf', archive);
    writeFileSync(join(c, 'project', 'scripts', 'score.mjs'), 'console.log("not what was run")\n');
    const tampered = join(c, 'tampered.tar.gz');
    tar(c, '-czf', tampered, 'repro.lock.json', 'run.json', 'workflow', 'project', 'artifacts', 'logs', 'report');
    const t = repro(c, ['reproduce', tampered, '--dir', 'x', '--trust']);
    expect(t.code).toBe(5);
    expect(t.all).toMatch(/project\/scripts\/score\.mjs/);
    expect(existsSync(join(c, 'x'))).toBe(false);

    const bytes = readFileSync(archive);
    const truncated = join(c, 'truncated.tar.gz');
    writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const u = repro(c, ['reproduce', truncated, '--dir', 'y', '--trust']);
    expect(u.code).toBe(5);
    expect(existsSync(join(c, 'y'))).toBe(false);
  });
});
