import { describe, expect, it, beforeAll, afterAll, afterEach } from 'vitest';
import { randomBytes, createHash } from 'node:crypto';
import { readFileSync, writeFileSync, readdirSync, existsSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fetchStep } from '../../src/steps/fetch.js';
import { makeContext, stepError, type TestContext } from './helpers.js';
import { tempDir } from '../support/index.js';
import { startServer, refusedUrl, type TestServer } from './http-server.js';

const body = randomBytes(300_000);
const sha = createHash('sha256').update(body).digest('hex');
const other = randomBytes(1000);

let server: TestServer;
let ctx: TestContext | undefined;

beforeAll(async () => {
  server = await startServer({
    '/data.bin': { body },
    '/wrong.bin': { body: other },
    '/drop.bin': { body, dropAfter: { bytes: 100_000, times: 2 } },
    '/busy.bin': { body, failFirst: 2 },
    '/secret.bin': { body, basicAuth: 'alice:s3cr3t-Pa55' },
    '/norange.bin': { body, noRange: true, dropAfter: { bytes: 50_000, times: 1 } },
    '/dead.bin': { body, dropAfter: { bytes: 0, times: 1000 } },
  });
});
afterAll(() => server.close());
afterEach(() => {
  ctx?.cleanup();
  ctx = undefined;
  delete process.env.TEST_FETCH_USER;
  delete process.env.TEST_FETCH_PASSWORD;
});

/** Every file under dir, for asserting what a step left behind. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)));
}

describe('fetch step over HTTP on 127.0.0.1', () => {
  it('downloads, verifies and stores the file', async () => {
    ctx = makeContext();
    const result = await fetchStep.run(ctx, { sources: [`${server.url}/data.bin`], sha256: sha });
    expect(result.outputs.path).toEqual({ type: 'file', path: join(ctx.workDir, 'data.bin') });
    expect(readFileSync(join(ctx.workDir, 'data.bin')).equals(body)).toBe(true);
    expect(filesUnder(ctx.workDir)).toEqual(['data.bin']);
    expect(ctx.progressLines.at(-1)).toMatch(/^1 0\.3\/0\.3 MB, [\d.]+ MB\/s, ETA 0s$/);
  });

  it('falls through mirrors: a 404 and a refused connection, then a working one', async () => {
    ctx = makeContext();
    const refused = await refusedUrl();
    const t0 = Date.now();
    const result = await fetchStep.run(ctx, {
      sources: [`${server.url}/gone.bin`, `${refused}/data.bin`, `${server.url}/data.bin`],
      sha256: sha,
      filename: 'x.bin',
    });
    expect(Date.now() - t0).toBeLessThan(5000); // unreachable means no retries and no backoff
    expect(result.summary).toContain(`${server.url}/data.bin`);
    expect(ctx.logs.join('\n')).toMatch(/gone\.bin: HTTP 404/);
    expect(ctx.logs.join('\n')).toMatch(/unreachable \(ECONNREFUSED/);
    expect(statSync(join(ctx.workDir, 'x.bin')).size).toBe(body.length);
  });

  it('an unknown host fails fast and falls through to the local copy', async () => {
    const dir = tempDir('repro-data-');
    writeFileSync(join(dir, 'copy.bin'), body);
    ctx = makeContext({ workflowDir: dir });
    const t0 = Date.now();
    await fetchStep.run(ctx, { sources: ['https://no-such-host.invalid/data.bin', 'copy.bin'], sha256: sha, retries: 3 });
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(readFileSync(join(ctx.workDir, 'data.bin')).equals(body)).toBe(true);
  });

  it('a checksum mismatch names source, expected and actual hash, and stores nothing', async () => {
    ctx = makeContext();
    const actual = createHash('sha256').update(other).digest('hex');
    const err = await stepError(() => fetchStep.run(ctx!, { sources: [`${server.url}/wrong.bin`], sha256: sha }));
    expect(err.message).toContain(`${server.url}/wrong.bin`);
    expect(err.message).toContain(`expected sha256 ${sha}`);
    expect(err.message).toContain(`got ${actual}`);
    expect(filesUnder(ctx.workDir)).toEqual([]);
    expect(filesUnder(ctx.scratchDir)).toEqual([]);
  });

  it('a mismatching local file is not copied', async () => {
    const dir = tempDir('repro-data-');
    writeFileSync(join(dir, 'copy.bin'), other);
    ctx = makeContext({ workflowDir: dir });
    const err = await stepError(() => fetchStep.run(ctx!, { sources: [`file://${join(dir, 'copy.bin')}`], sha256: sha }));
    expect(err.message).toMatch(/checksum mismatch/);
    expect(filesUnder(ctx.workDir)).toEqual([]);
  });

  it('resumes with an HTTP Range request after the connection drops mid-body', async () => {
    ctx = makeContext();
    const before = server.requests.length;
    await fetchStep.run(ctx, { sources: [`${server.url}/drop.bin`], sha256: sha, retries: 2 });
    const ranges = server.requests.slice(before).map((r) => r.range);
    expect(ranges[0]).toBeUndefined();
    expect(ranges).toContain('bytes=100000-');
    expect(readFileSync(join(ctx.workDir, 'drop.bin')).equals(body)).toBe(true);
    expect(ctx.logs.join('\n')).toMatch(/resuming at byte 100000/);
  });

  it('a download that keeps dying without progress ends in a clear error after the retries, nothing stored', async () => {
    ctx = makeContext();
    const err = await stepError(() => fetchStep.run(ctx!, { sources: [`${server.url}/dead.bin`], sha256: sha, retries: 1 }));
    expect(err.message).toMatch(/dead\.bin: .*(closed|socket|terminated).*gave up after 1 retries/i);
    expect(filesUnder(ctx.workDir)).toEqual([]);
  });

  it('a server that ignores Range restarts the download from zero and still verifies', async () => {
    ctx = makeContext();
    await fetchStep.run(ctx, { sources: [`${server.url}/norange.bin`], sha256: sha });
    expect(readFileSync(join(ctx.workDir, 'norange.bin')).equals(body)).toBe(true);
  });

  it('resumes a partial download left in scratchDir by a killed attempt', async () => {
    const scratch = tempDir('repro-data-');
    writeFileSync(join(scratch, `${sha}.part`), body.subarray(0, 123_456));
    ctx = makeContext({ scratchDir: scratch });
    const before = server.requests.length;
    await fetchStep.run(ctx, { sources: [`${server.url}/data.bin`], sha256: sha });
    expect(server.requests.slice(before).map((r) => r.range)).toEqual(['bytes=123456-']);
    expect(readFileSync(join(ctx.workDir, 'data.bin')).equals(body)).toBe(true);
  });

  it('a corrupt partial from a killed attempt is detected and downloaded again', async () => {
    const scratch = tempDir('repro-data-');
    writeFileSync(join(scratch, `${sha}.part`), randomBytes(1000));
    ctx = makeContext({ scratchDir: scratch });
    await fetchStep.run(ctx, { sources: [`${server.url}/data.bin`], sha256: sha });
    expect(readFileSync(join(ctx.workDir, 'data.bin')).equals(body)).toBe(true);
    expect(ctx.logs.join('\n')).toMatch(/did not verify; starting .* again from zero/);
  });

  it('retries 503 with backoff', async () => {
    ctx = makeContext();
    await fetchStep.run(ctx, { sources: [`${server.url}/busy.bin`], sha256: sha, retries: 3 });
    expect(ctx.logs.filter((l) => /HTTP 503; retry/.test(l))).toHaveLength(2);
  });

  it('gives up after the retries and says so (exit-1 class StepError)', async () => {
    ctx = makeContext();
    const refused = await refusedUrl();
    const err = await stepError(() => fetchStep.run(ctx!, { sources: [`${refused}/a.bin`, `${server.url}/gone.bin`], sha256: sha }));
    expect(err.message).toMatch(/could not fetch from any of 2 sources/);
    expect(err.message).toMatch(/a\.bin: unreachable/);
    expect(err.message).toMatch(/gone\.bin: HTTP 404/);
  });

  it('401 without credentials hints at the variables to set', async () => {
    ctx = makeContext();
    const err = await stepError(() =>
      fetchStep.run(ctx!, { sources: [`${server.url}/secret.bin`], sha256: sha, auth: { user: '$TEST_FETCH_USER', password: '$TEST_FETCH_PASSWORD' } }));
    expect(err.message).toMatch(/HTTP 401/);
    expect(err.hint).toMatch(/set the environment variables TEST_FETCH_USER and TEST_FETCH_PASSWORD/);
  });

  it('401 with wrong credentials says they were refused, without printing them', async () => {
    process.env.TEST_FETCH_USER = 'alice';
    process.env.TEST_FETCH_PASSWORD = 'wrong-Pa55';
    ctx = makeContext();
    const err = await stepError(() =>
      fetchStep.run(ctx!, { sources: [`${server.url}/secret.bin`], sha256: sha, auth: { user: '$TEST_FETCH_USER', password: '$TEST_FETCH_PASSWORD' } }));
    expect(err.hint).toMatch(/\$TEST_FETCH_USER \/ \$TEST_FETCH_PASSWORD were refused/);
    expect(`${err.message}\n${err.hint}`).not.toContain('wrong-Pa55');
  });

  it('basic auth from environment variables; the values appear in nothing the step writes', async () => {
    process.env.TEST_FETCH_USER = 'alice';
    process.env.TEST_FETCH_PASSWORD = 's3cr3t-Pa55';
    ctx = makeContext();
    const w = { sources: [`${server.url}/secret.bin`], sha256: sha, auth: { user: '$TEST_FETCH_USER', password: 'TEST_FETCH_PASSWORD' } };
    const result = await fetchStep.run(ctx, w);
    expect(readFileSync(join(ctx.workDir, 'secret.bin')).equals(body)).toBe(true);
    // The credentials went through ctx.secret (so the engine can mask them)…
    expect(ctx.secrets).toEqual(['alice', 's3cr3t-Pa55']);
    // …and are nowhere in what the step returns, logs, reports as progress, or writes.
    const written = [
      JSON.stringify(result),
      JSON.stringify(w),
      ...ctx.logs,
      ...ctx.progressLines,
      ...filesUnder(ctx.workDir).filter((f) => f !== 'secret.bin').map((f) => readFileSync(join(ctx!.workDir, f), 'latin1')),
      ...filesUnder(ctx.scratchDir).map((f) => f + readFileSync(join(ctx!.scratchDir, f), 'latin1')),
    ].join('\n');
    for (const secret of ['s3cr3t-Pa55', Buffer.from('alice:s3cr3t-Pa55').toString('base64')]) {
      expect(written).not.toContain(secret);
    }
  });

  it('never sends credentials to another host after a redirect', async () => {
    const elsewhere = await startServer({ '/data.bin': { body } });
    const redirecting = await startServer({ '/r.bin': { body, redirect: `${elsewhere.url}/data.bin` } });
    try {
      process.env.TEST_FETCH_USER = 'alice';
      process.env.TEST_FETCH_PASSWORD = 's3cr3t-Pa55';
      ctx = makeContext();
      await fetchStep.run(ctx, { sources: [`${redirecting.url}/r.bin`], sha256: sha, auth: { user: '$TEST_FETCH_USER', password: '$TEST_FETCH_PASSWORD' } });
      expect(redirecting.requests[0]!.authorization).toMatch(/^Basic /);
      expect(elsewhere.requests[0]!.authorization).toBeUndefined();
    } finally {
      await elsewhere.close();
      await redirecting.close();
    }
  });

  it('inputPaths lists the local sources so that editing them changes the fingerprint', () => {
    const dir = tempDir('repro-data-');
    writeFileSync(join(dir, 'copy.bin'), body);
    expect(fetchStep.inputPaths!({ sources: ['https://example.org/x', 'copy.bin', 'absent.bin'], sha256: sha }, dir)).toEqual([join(dir, 'copy.bin')]);
  });

  it('check() refuses credentials written into a URL', () => {
    expect(fetchStep.check!({ sources: ['https://u:p@example.org/x'], sha256: sha }, { steps: [] })).toEqual([
      { path: 'sources/0', message: expect.stringMatching(/credentials in a URL/) },
    ]);
  });
});
