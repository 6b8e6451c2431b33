import { describe, expect, it, afterEach } from 'vitest';
import { createHash } from 'node:crypto';
import { writeFileSync, readFileSync, existsSync, readlinkSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { extractStep } from '../../src/steps/extract.js';
import { makeContext, stepError, type TestContext } from './helpers.js';
import { tempDir } from '../support/index.js';
import { makeTar, makeTarGz, makeZip } from './archives.js';

let ctx: TestContext | undefined;
afterEach(() => {
  ctx?.cleanup();
  ctx = undefined;
});

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

function archiveFile(name: string, bytes: Buffer): string {
  const dir = tempDir('repro-data-');
  writeFileSync(join(dir, name), bytes);
  return join(dir, name);
}

/** Nothing may appear outside the extraction target: neither in the parent of workDir nor in the archive's folder. */
function assertNoEscape(archive: string) {
  expect(existsSync(join(dirname(archive), 'evil.txt'))).toBe(false);
  expect(existsSync('/tmp/repro-evil-absolute.txt')).toBe(false);
  expect(existsSync(join(dirname(ctx!.workDir), 'evil.txt'))).toBe(false);
}

describe('extract step', () => {
  it('extracts tar.gz (format detected by magic bytes), strips components, lists files with sha256', async () => {
    ctx = makeContext();
    const archive = archiveFile('download', makeTarGz([
      { name: 'aligned/', type: '5' },
      { name: 'aligned/u1/a.jpg', body: 'AAA' },
      { name: 'aligned/u2/b.jpg', body: 'BB' },
      { name: 'aligned/u2/link.jpg', type: '2', link: 'b.jpg' },
    ]));
    const result = await extractStep.run(ctx, { archive, strip: 1 });
    const dir = (result.outputs.dir as { path: string }).path;
    expect(readFileSync(join(dir, 'u1/a.jpg'), 'utf8')).toBe('AAA');
    expect(readlinkSync(join(dir, 'u2/link.jpg'))).toBe('b.jpg');
    expect(result.outputs.files).toEqual({
      type: 'value',
      value: [
        { path: 'u1/a.jpg', sha256: sha('AAA'), size: 3 },
        { path: 'u2/b.jpg', sha256: sha('BB'), size: 2 },
      ],
    });
  });

  it('extracts plain tar and zip', async () => {
    ctx = makeContext();
    const tar = await extractStep.run(ctx, { archive: archiveFile('a.tar', makeTar([{ name: 'x/y.txt', body: 'hello' }])), format: 'tar' });
    expect((tar.outputs.files as { value: unknown }).value).toEqual([{ path: 'x/y.txt', sha256: sha('hello'), size: 5 }]);
    ctx.cleanup();
    ctx = makeContext();
    const zip = await extractStep.run(ctx, { archive: archiveFile('a.zip', makeZip([{ name: 'd/', body: '' }, { name: 'd/z.txt', body: 'zipped' }])) });
    expect((zip.outputs.files as { value: unknown }).value).toEqual([{ path: 'd/z.txt', sha256: sha('zipped'), size: 6 }]);
    expect(readFileSync(join((zip.outputs.dir as { path: string }).path, 'd/z.txt'), 'utf8')).toBe('zipped');
  });

  for (const [label, entry, why] of [
    ['a ../ entry', { name: '../evil.txt', body: 'x' }, /\.\.\/evil\.txt: path with '\.\.'/],
    ['a nested ../ entry', { name: 'ok/../../evil.txt', body: 'x' }, /path with '\.\.'/],
    ['an absolute entry', { name: '/tmp/repro-evil-absolute.txt', body: 'x' }, /absolute path/],
    ['a symlink escaping the target', { name: 'up', type: '2', link: '../..' }, /symbolic link pointing outside/],
    ['a symlink to an absolute path', { name: 'etc', type: '2', link: '/etc' }, /symbolic link to an absolute path/],
    ['a hard link escaping the target', { name: 'h', type: '1', link: '../evil.txt' }, /hard link pointing outside/],
  ] as const) {
    it(`refuses a tar with ${label}`, async () => {
      ctx = makeContext();
      const archive = archiveFile('t.tar.gz', makeTarGz([{ name: 'fine.txt', body: 'ok' }, entry]));
      const err = await stepError(() => extractStep.run(ctx!, { archive }));
      expect(err.message).toMatch(/refused: unsafe entry/);
      expect(err.message).toMatch(why);
      assertNoEscape(archive);
    });
  }

  it('refuses a zip with ../ or absolute entries, or a symlink', async () => {
    for (const [name, mode, why] of [
      ['../evil.txt', undefined, /invalid relative path/],
      ['/tmp/repro-evil-absolute.txt', undefined, /absolute path/],
      ['link', 0o120777, /symbolic links in zip archives/],
    ] as const) {
      ctx = makeContext();
      const archive = archiveFile('z.zip', makeZip([{ name: 'fine.txt', body: 'ok' }, { name, body: '../../etc/passwd', mode }]));
      const err = await stepError(() => extractStep.run(ctx!, { archive }));
      expect(err.message).toMatch(why);
      assertNoEscape(archive);
      ctx.cleanup();
    }
    ctx = undefined;
  });

  it('a corrupt or truncated archive is a clear error', async () => {
    const good = makeTarGz([{ name: 'a.txt', body: 'x'.repeat(100_000) }]);
    for (const [name, bytes, why] of [
      ['trunc.tar.gz', good.subarray(0, good.length / 2), /corrupt or truncated tar\.gz archive/],
      ['junk.tar.gz', Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.alloc(100, 7)]), /corrupt or truncated tar\.gz archive/],
      ['trunc.zip', makeZip([{ name: 'a.txt', body: 'hello' }]).subarray(0, 40), /not a tar, tar\.gz or zip|corrupt zip archive/],
      ['text.txt', Buffer.from('just some text, not an archive at all'), /not a tar, tar\.gz or zip archive/],
    ] as const) {
      ctx = makeContext();
      const err = await stepError(() => extractStep.run(ctx!, { archive: archiveFile(name, bytes) }));
      expect(err.message).toMatch(why);
      ctx.cleanup();
    }
    ctx = undefined;
  });

  it('a zip whose data fails its CRC is a clear error', async () => {
    ctx = makeContext();
    const zip = makeZip([{ name: 'a.txt', body: 'hello hello hello' }]);
    const cdOffset = zip.readUInt32LE(zip.length - 22 + 16);
    zip.writeUInt32LE((zip.readUInt32LE(cdOffset + 16) ^ 1) >>> 0, cdOffset + 16);
    zip.writeUInt32LE((zip.readUInt32LE(14) ^ 1) >>> 0, 14);
    const err = await stepError(() => extractStep.run(ctx!, { archive: archiveFile('c.zip', zip) }));
    expect(err.message).toMatch(/corrupt zip archive: a\.txt fails its CRC check/);
  });

  it('inputPaths names a local archive', () => {
    const archive = archiveFile('a.tar', makeTar([{ name: 'x', body: 'y' }]));
    expect(extractStep.inputPaths!({ archive: 'a.tar' }, dirname(archive))).toEqual([archive]);
    expect(readdirSync(dirname(archive))).toEqual(['a.tar']);
  });
});
