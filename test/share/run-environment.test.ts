// A `run` step records the interpreter its command starts and the versions of the packages the
// workflow names (a Python distribution, found by the command's python through importlib.metadata);
// `repro diff` names a changed version; `packages_in_fingerprint` re-runs the step on a change.
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repro, tempDir } from '../support/index.js';

const PY = '/usr/bin/python3';

function project(dir: string, inFingerprint: boolean): string {
  writeFileSync(
    join(dir, 'wf.yaml'),
    `name: envrec
steps:
  fit:
    uses: run
    with:
      command: [${PY}, -c, "import json, os, time; open(os.environ['REPRO_OUT'] + '/m.json', 'w').write(json.dumps({'accuracy': 0.5, 'seconds': time.time()}))"]
      env: {PYTHONPATH: '\${{ workflow.dir }}/site'}
      packages: [demo-pkg, not-installed-anywhere]
      packages_in_fingerprint: ${inFingerprint}
      measurements: [seconds]
    outputs: {metrics: m.json}
`,
  );
  setVersion(dir, '1.2.1');
  return dir;
}

/** A Python distribution as pip leaves it: site/demo_pkg-X.dist-info/METADATA. */
function setVersion(dir: string, version: string): void {
  const info = join(dir, 'site', 'demo_pkg.dist-info');
  mkdirSync(info, { recursive: true });
  writeFileSync(join(info, 'METADATA'), `Metadata-Version: 2.1\nName: demo-pkg\nVersion: ${version}\n`);
}

const facts = (dir: string) => JSON.parse(readFileSync(join(dir, 'results', 'envrec', 'latest', 'run.json'), 'utf8')).steps[0].facts;

describe.runIf(existsSync(PY))('run step environment', { timeout: 120_000 }, () => {
  it('records the interpreter and package versions; diff names the change; packages_in_fingerprint re-runs', () => {
    const dir = project(tempDir('repro-runenv-'), true);
    expect(repro(['run', 'wf.yaml'], { cwd: dir }).code).toBe(0);
    const first = facts(dir);
    expect(first).toMatchObject({ interpreter: PY, 'package:demo-pkg': '1.2.1', 'package:not-installed-anywhere': 'absent' });
    expect(first.interpreter_version).toMatch(/^Python 3\.\d+\.\d+$/);
    const runA = readFileSync(join(dir, 'results', 'envrec', 'latest', 'run.json'), 'utf8');
    const idA = JSON.parse(runA).runId;

    setVersion(dir, '1.5.0');
    const again = repro(['run', 'wf.yaml'], { cwd: dir });
    expect(again.out).toMatch(/1 ran, 0 from cache/);
    expect(facts(dir)['package:demo-pkg']).toBe('1.5.0');

    const d = repro(['diff', join('results', 'envrec', idA), join('results', 'envrec', 'latest')], { cwd: dir });
    expect(d.code, d.out).toBe(0);
    expect(d.stdout).toMatch(/^execution facts:\n {2}demo-pkg 1\.2\.1 → 1\.5\.0 {2}\(fit\)$/m);
    expect(d.stdout).toMatch(/package:demo-pkg "1\.2\.1" → "1\.5\.0"|package:demo-pkg 1\.2\.1 → 1\.5\.0/);
    // `seconds` is the workflow's declared measurement: informative, the accuracy is identical.
    expect(d.stdout).toMatch(/fit seconds: .*measurement of the machine \(informative\)/);
    expect(d.stdout).not.toMatch(/fit accuracy/);
  });

  it('without packages_in_fingerprint a new version is recorded by the next run that runs the step, and does not re-run it', () => {
    const dir = project(tempDir('repro-runenv-'), false);
    expect(repro(['run', 'wf.yaml'], { cwd: dir }).code).toBe(0);
    setVersion(dir, '1.5.0');
    expect(repro(['run', 'wf.yaml'], { cwd: dir }).out).toMatch(/0 ran, 1 from cache/);
  });
});
