// A second clone of a project that fetches its data, run with `--store` of the first clone, runs
// nothing: a fetched (and extracted) file enters the fingerprints of the steps that read it by its
// content, not by its path in the store, which is inside the first clone and outside the second.
// Real git, a real HTTP server on 127.0.0.1, the real CLI.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { makeTarGz } from '../data/archives.js';
import { startServer, type TestServer } from '../data/http-server.js';
import { reproAsync, tempDir } from '../support/index.js';

const NPZ = resolve('artifacts/retinamnist/retinamnist.npz');

function git(cwd: string, ...args: string[]): void {
  const r = spawnSync('git', ['-c', 'user.email=t@example.org', '-c', 'user.name=t', ...args], { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
}

const summary = (out: string) => out.match(/(\d+) ran, (\d+) from cache/)?.slice(1).map(Number);

let server: TestServer;
let tgz: Buffer;
beforeAll(async () => {
  tgz = makeTarGz([{ name: 'medmnist/retinamnist.npz', body: readFileSync(NPZ) }]);
  server = await startServer({ '/r.tgz': { body: tgz } });
});
afterAll(() => server.close());

describe('a second clone sharing the first clone’s store', { timeout: 120_000 }, () => {
  it('finds the fetched, extracted and loaded data cached, and fetches nothing', async () => {
    const a = join(tempDir('repro-clone-a-'), 'a');
    mkdirSync(a);
    writeFileSync(join(a, '.gitignore'), '.repro/\nresults/\n');
    writeFileSync(
      join(a, 'wf.yaml'),
      `name: shared-fetch
steps:
  fetch:
    uses: fetch
    with: {sources: ['${server.url}/r.tgz'], sha256: ${createHash('sha256').update(tgz).digest('hex')}}
  extract:
    uses: extract
    with: {archive: '\${{ steps.fetch.outputs.path }}', strip: 1}
  dataset:
    uses: dataset
    with: {name: retinamnist, npz: '\${{ steps.extract.outputs.dir }}/retinamnist.npz'}
`,
    );
    git(a, 'init', '-q', '-b', 'main');
    git(a, 'add', '.');
    git(a, 'commit', '-qm', 'first');
    const first = await reproAsync(['run', 'wf.yaml'], { cwd: a });
    expect(first.code, first.out).toBe(0);
    expect(summary(first.out)).toEqual([3, 0]);
    const fetched = server.requests.length;

    const b = join(tempDir('repro-clone-b-'), 'b');
    git(tmpdir(), 'clone', '-q', a, b);
    const second = await reproAsync(['run', 'wf.yaml', '--store', join(a, '.repro')], { cwd: b });
    expect(second.code, second.out).toBe(0);
    expect(summary(second.out), second.out).toEqual([0, 3]);
    expect(server.requests.length).toBe(fetched);

    // The store path is nowhere in what the steps are fingerprinted by.
    const record = readFileSync(join(b, 'results', 'shared-fetch', 'latest', 'run.json'), 'utf8');
    const components = (JSON.parse(record) as { steps: Array<{ fingerprintComponents: unknown }> }).steps.map((s) => JSON.stringify(s.fingerprintComponents));
    for (const c of components) expect(c).not.toContain('.repro');
  });
});
