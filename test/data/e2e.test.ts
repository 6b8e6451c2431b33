// The data steps through the real CLI and engine: `repro run` on a workflow that fetches a tar.gz
// with basic auth from a 127.0.0.1 server (after a refused mirror), extracts it, loads RetinaMNIST
// from it and preprocesses it. Then the credentials must be absent from run.json, logs and store.
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { makeTarGz } from './archives.js';
import { startServer, refusedUrl, type TestServer } from './http-server.js';
import { tempDir } from '../support/index.js';
import { reproAsync } from '../support/index.js';

const NPZ = resolve('artifacts/retinamnist/retinamnist.npz');
const USER = 'e2e-user-7f3a';
const PASSWORD = 'e2e-Pa55word-c91d';

let server: TestServer;
let tgz: Buffer;
beforeAll(async () => {
  tgz = makeTarGz([{ name: 'medmnist/retinamnist.npz', body: readFileSync(NPZ) }]);
  server = await startServer({ '/r.tgz': { body: tgz, basicAuth: `${USER}:${PASSWORD}` } });
});
afterAll(() => server.close());

/** Async spawn: the HTTP server lives in this process, so it must not be blocked. */
function allFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

async function workflow(sha: string, onlyFetch = false): Promise<string> {
  const dir = tempDir('repro-data-e2e-');
  const rest = onlyFetch ? '' : `  extract:
    uses: extract
    with: {archive: '\${{ steps.fetch.outputs.path }}', strip: 1}
  dataset:
    uses: dataset
    with: {name: retinamnist, npz: '\${{ steps.extract.outputs.dir }}/retinamnist.npz'}
  preprocess:
    uses: preprocess
    with: {dataset: '\${{ steps.dataset.outputs.dataset }}', normalize: auto}
`;
  writeFileSync(join(dir, 'wf.yaml'), `name: data-e2e
steps:
  fetch:
    uses: fetch
    with:
      sources: ['${await refusedUrl()}/r.tgz', '${server.url}/r.tgz']
      sha256: ${sha}
      auth: {user: $E2E_USER, password: $E2E_PASSWORD}
${rest}`);
  return dir;
}

describe('data steps under repro run', () => {
  it('fetch (auth, mirror) → extract → dataset → preprocess; credentials recorded nowhere', async () => {
    const sha = createHash('sha256').update(tgz).digest('hex');
    const dir = await workflow(sha);
    const r = await reproAsync(['run', 'wf.yaml', '--verbose'], { cwd: dir, env: { E2E_USER: USER, E2E_PASSWORD: PASSWORD } });
    expect(r.out).not.toContain(PASSWORD);
    expect(r.code, r.out).toBe(0);
    const records = allFiles(join(dir, 'results')).filter((f) => f.endsWith('run.json'));
    expect(records).toHaveLength(1);
    const base64 = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
    for (const f of allFiles(dir)) {
      const text = readFileSync(f, 'latin1');
      expect(text.includes(PASSWORD), f).toBe(false);
      expect(text.includes(base64), f).toBe(false);
    }
    // The auth header was really sent (so the test proves the masking, not the absence of use).
    expect(server.requests.some((q) => q.authorization === `Basic ${base64}`)).toBe(true);
    const manifests = allFiles(dir).filter((f) => f.endsWith('manifest.json')).map((f) => JSON.parse(readFileSync(f, 'utf8')));
    expect(manifests.some((m) => m.normalization && m.splits.train.classCounts.join() === '486,128,206,194,66')).toBe(true);
  });

  it('a wrong checksum fails the run with exit 1, names both hashes, and stores nothing', async () => {
    const wrong = 'f'.repeat(64);
    // Only the fetch step: the engine's handling of steps skipped after a failure is tested elsewhere.
    const dir = await workflow(wrong, true);
    const r = await reproAsync(['run', 'wf.yaml'], { cwd: dir, env: { E2E_USER: USER, E2E_PASSWORD: PASSWORD } });
    expect(r.code, r.out).toBe(1);
    expect(r.out).toContain(`expected sha256 ${wrong}`);
    expect(r.out).toContain(createHash('sha256').update(tgz).digest('hex'));
    expect(r.out).not.toMatch(/\n\s+at .*\.js:\d+:\d+/);
    // No stored object holds the downloaded bytes.
    const stored = existsSync(join(dir, '.repro')) ? allFiles(join(dir, '.repro')) : [];
    expect(stored.filter((f) => readFileSync(f).equals(tgz))).toEqual([]);
  });

  it('a 401 fails with exit 1 and a hint naming the variables', async () => {
    const dir = await workflow(createHash('sha256').update(tgz).digest('hex'), true);
    const r = await reproAsync(['run', 'wf.yaml'], { cwd: dir, env: { E2E_USER: USER, E2E_PASSWORD: 'not-it-93k' } });
    expect(r.code, r.out).toBe(1);
    expect(r.out).toMatch(/HTTP 401/);
    expect(r.out).toMatch(/E2E_USER.*E2E_PASSWORD/);
    expect(r.out).not.toContain('not-it-93k');
  });
});
