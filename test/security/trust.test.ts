// The trust line (issue 17, classes 2 and 3), with a real git repository served through a file:// URL
// and a real HTTP server on 127.0.0.1: without --trust a remote workflow may not read the user's
// environment into anything that leaves the machine, pass flags to sbatch, or run commands; the refusal
// lists each place at file:line:col. A cached checkout is checked against its commit before use.
import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, type TestServer } from '../data/http-server.js';
import { reproAsync } from '../support/index.js';
import { repository, repro, tempDir } from './helpers.js';

let server: TestServer;
afterAll(async () => server?.close());

describe('a remote workflow without --trust', () => {
  it('may not send an environment variable out, pass sbatch flags or run commands: each place is listed', async () => {
    server = await startServer({});
    const wf = `name: leaky
params:
  token:
    type: string
    env: SEC_TEST_TOKEN
executor:
  type: local
  flags: [--output=/tmp/owned]
steps:
  get:
    uses: fetch
    with:
      sources: ["${server.url}/\${{ params.token }}/data.bin"]
      sha256: ${'a'.repeat(64)}
  cred:
    uses: fetch
    with:
      sources: ["${server.url}/x"]
      sha256: ${'a'.repeat(64)}
      auth: {user: SEC_TEST_USER, password: SEC_TEST_TOKEN}
  shell:
    uses: run
    with: {command: "echo hi > o.txt"}
    outputs: {o: o.txt}
`;
    const repo = repository({ 'wf/leaky.yaml': wf });
    const work = tempDir('repro-sec-work-');
    const url = `file://${repo.dir}#wf/leaky.yaml@${repo.commit.slice(0, 10)}`;
    const r = repro(work, ['run', url, '--no-report'], { SEC_TEST_TOKEN: 's3cr3t-token', SEC_TEST_USER: 'me' });
    expect(r.code, r.out).toBe(2);
    const places = [
      /leaky\.yaml:5:10: error: .*reads your environment variable SEC_TEST_TOKEN/,
      /leaky\.yaml:8:3: error: .*passes its executor setting 'flags' to sbatch/,
      /leaky\.yaml:20:13: error: .*sends your environment variables SEC_TEST_USER and SEC_TEST_TOKEN as HTTP credentials/,
      /leaky\.yaml:22:11: error: .*runs a command \(step 'shell'\)/,
    ];
    for (const p of places) expect(r.stderr).toMatch(p);
    expect(r.stderr).toMatch(/4 place\(s\) above need --trust; nothing ran/);
    expect(r.out).not.toContain('s3cr3t-token');
    expect(server.requests).toEqual([]);

    // With --trust the same workflow does what it says (here: the token goes into the URL).
    // (Asynchronously: this process serves the HTTP requests meanwhile.)
    const trusted = await reproAsync(['run', url, '--no-report', '--trust'], {
      cwd: work,
      env: { REPRO_CACHE: join(work, '.cache'), SEC_TEST_TOKEN: 's3cr3t-token', SEC_TEST_USER: 'me' },
    });
    expect(trusted.code, trusted.out).not.toBe(2);
    expect(server.requests.map((q) => q.path)).toContain('/s3cr3t-token/data.bin');
  });

  it('runs the built-in kinds on data without --trust', () => {
    const repo = repository({
      'data.txt': 'hello\n',
      'wf.yaml': `name: plain
steps:
  get:
    uses: fetch
    with:
      sources: [data.txt]
      sha256: 5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03
`,
    });
    const work = tempDir('repro-sec-work-');
    const r = repro(work, ['run', `file://${repo.dir}#wf.yaml@main`, '--no-report']);
    expect(r.code, r.out).toBe(0);
  });
});

describe('a cached checkout of a remote workflow', () => {
  it('is checked against its commit: an edit in the cache is not run under the commit’s name', () => {
    const repo = repository({
      'wf.yaml': `name: pinned
steps:
  hello:
    uses: run
    with: {command: "echo original > g.txt"}
    outputs: {g: g.txt}
`,
    });
    const work = tempDir('repro-sec-work-');
    const url = `file://${repo.dir}#wf.yaml@${repo.commit}`;
    expect(repro(work, ['run', url, '--trust', '--no-report']).code).toBe(0);
    // Edit the cached checkout, as an attacker with access to the cache (or bad luck) would.
    const checkouts = join(work, '.cache', 'checkouts');
    const key = readdirSync(checkouts)[0]!;
    const file = join(checkouts, key, repo.commit, 'wf.yaml');
    chmodSync(file, 0o644);
    writeFileSync(file, readFileSync(file, 'utf8').replace('original', 'EDITED'));
    writeFileSync(join(checkouts, key, repo.commit, 'planted.sh'), 'echo planted\n');

    const again = repro(work, ['run', url, '--trust', '--no-report']);
    expect(again.code, again.out).toBe(0);
    expect(again.stderr).toMatch(/differs from that commit; checking it out again/);
    expect(readFileSync(file, 'utf8')).toContain('original');
    const record = JSON.parse(readFileSync(join(work, 'results', 'pinned', 'latest', 'run.json'), 'utf8'));
    expect(record.workflow.source.commit).toBe(repo.commit);
    expect(readFileSync(join(record.store, record.steps[0].outputs.g.storePath), 'utf8')).toBe('original\n');

    // An intact checkout is used as it is (no message).
    const third = repro(work, ['run', url, '--trust', '--no-report']);
    expect(third.code).toBe(0);
    expect(third.stderr).not.toMatch(/checking it out again/);
  });
});
