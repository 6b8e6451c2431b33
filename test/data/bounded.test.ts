// Bounded decompression and decoding (issue 21, item 6). An .npz member is inflated into the one
// buffer its array header sizes, under the extract step's ratio limit, and never past that size;
// a large array costs about its own size. An image is refused by its header's width × height before
// a pixel is decoded. The files are made here, byte by byte where a real writer would not make them.
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { crc32, deflateSync } from 'node:zlib';
import { readNpz } from '../../src/data/npz.js';
import { DEFAULT_MAX_RATIO } from '../../src/data/archive.js';
import { MAX_IMAGE_PIXELS, transformImage } from '../../src/data/images.js';
import { datasetStep } from '../../src/steps/dataset.js';
import { npy, npyHeader, npz } from './arrays.js';
import { makeContext, stepError, type TestContext } from './helpers.js';
import { REPO_ROOT, tempDir } from '../support/index.js';
import { makeZip } from './archives.js';

let ctx: TestContext | undefined;
afterEach(() => {
  ctx?.cleanup();
  ctx = undefined;
});

describe('.npz members are inflated under a limit', () => {
  it('a member that inflates past the extract ratio limit is refused before its array is allocated', async () => {
    const dir = tempDir();
    // 100 MiB of zeros deflate to about 100 KB: more than DEFAULT_MAX_RATIO bytes out per byte in.
    const size = 100 * 1024 * 1024;
    writeFileSync(join(dir, 'bomb.npz'), npz({ x_train: npy('|u1', [size], new Uint8Array(size)) }));
    const before = process.memoryUsage().arrayBuffers;
    const err = await stepError(() => readNpz(join(dir, 'bomb.npz')));
    expect(err.message).toMatch(new RegExp(`^bomb\\.npz: refused: expands past the limit of ${DEFAULT_MAX_RATIO} \\(x_train\\.npy holds ${size + 128} bytes\\)`));
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(size / 4);
  });

  it('a member that inflates past the size its array header gives is stopped there', async () => {
    const dir = tempDir();
    // The header says 16 bytes; the member inflates to 8 MiB, and the directory agrees with the header.
    const header = npyHeader('|u1', [16]);
    const body = Buffer.concat([header, Buffer.alloc(8 * 1024 * 1024, 7)]);
    const zip = makeZip([{ name: 'x_train.npy', body }]);
    // makeZip wrote the true size; make the directory (and the local header) claim the header's.
    const cd = zip.readUInt32LE(zip.length - 22 + 16);
    zip.writeUInt32LE(header.length + 16, cd + 24);
    zip.writeUInt32LE(header.length + 16, 22);
    writeFileSync(join(dir, 'liar.npz'), zip);
    const err = await stepError(() => readNpz(join(dir, 'liar.npz')));
    expect(err.message).toBe(`liar.npz:x_train.npy: inflates past the ${header.length + 16} bytes its array header gives`);
  });

  it('a header sized beyond what the file can hold is refused without allocating it (1 GiB from 200 bytes)', async () => {
    const dir = tempDir();
    const zip = makeZip([{ name: 'y_train.npy', body: npyHeader('<f8', [1 << 27]) }]);
    const cd = zip.readUInt32LE(zip.length - 22 + 16);
    zip.writeUInt32LE(128 + 8 * (1 << 27), cd + 24);
    writeFileSync(join(dir, 'claim.npz'), zip);
    const err = await stepError(() => readNpz(join(dir, 'claim.npz')));
    expect(err.message).toMatch(/^claim\.npz: refused: expands past the limit of 1000 \(y_train\.npy holds 1073741952 bytes\)/);
  });

  it.skipIf(!existsSync('/proc/self/status'))('a 128 MiB array is read with a peak of at most 1.5× its size (VmHWM of a child process)', () => {
    const dir = tempDir();
    const size = 128 * 1024 * 1024;
    // Half-compressible bytes (values 0..15): the deflated member is about half the array.
    let state = 12345;
    const data = new Uint8Array(size);
    for (let i = 0; i < size; i++) {
      state = (state * 1103515245 + 12345) >>> 0;
      data[i] = state >>> 28;
    }
    writeFileSync(join(dir, 'big.npz'), makeZip([{ name: 'x.npy', body: npy('|u1', [size], data) }]));
    writeFileSync(join(dir, 'small.npz'), makeZip([{ name: 'x.npy', body: npy('|u1', [1 << 20], data.subarray(0, 1 << 20)) }]));
    // VmHWM, the peak RSS of this process's memory since exec (getrusage's maxRSS would count the
    // parent's, which a child inherits across fork and exec).
    const script = `
      const { readFileSync } = await import('node:fs');
      const hwm = () => Number(/VmHWM:\\s+(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
      const { readNpz } = await import(${JSON.stringify(join(REPO_ROOT, 'dist/data/npz.js'))});
      await readNpz(process.argv[2]); // warm: the code paths' own memory is not the array's
      const before = hwm();
      const m = await readNpz(process.argv[1]);
      console.log(JSON.stringify({ peak: hwm() - before, length: m.get('x').data.length }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, join(dir, 'big.npz'), join(dir, 'small.npz')], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const { peak, length } = JSON.parse(r.stdout) as { peak: number; length: number };
    expect(length).toBe(size);
    console.log(`npz: a ${size / 2 ** 20} MiB array raised the reader's peak RSS by ${(peak / 2 ** 20).toFixed(1)} MiB (${(peak / size).toFixed(2)}× its size)`);
    expect(peak).toBeLessThan(1.5 * size);
  }, 60_000);
});

/** A one-bit greyscale PNG of width × height, all black: 31 KB for 16000×16000. */
function oneBitPng(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 1; // bit depth
  ihdr[9] = 0; // greyscale
  const rows = Buffer.alloc((1 + Math.ceil(width / 8)) * height); // filter byte 0, then the bits
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(rows, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

describe('images are refused by their header before decoding', () => {
  it('a 31 KB one-bit 16000×16000 PNG is refused, naming the file and its size, without decoding it', async () => {
    const dir = tempDir();
    for (const c of ['a', 'b']) mkdirSync(join(dir, 'photos', c), { recursive: true });
    const png = oneBitPng(16000, 16000);
    expect(png.length).toBeLessThan(40_000);
    writeFileSync(join(dir, 'photos', 'a', 'huge.png'), png);
    writeFileSync(join(dir, 'photos', 'b', 'small.png'), oneBitPng(8, 8));
    ctx = makeContext({ workflowDir: dir });
    const before = process.memoryUsage().rss;
    const err = await stepError(() => datasetStep.run(ctx!, { format: 'image-folder', folder: 'photos' }));
    expect(err.message).toBe(`${join(dir, 'photos', 'a', 'huge.png')}: 16000×16000 pixels (256 megapixels) is more than the ${MAX_IMAGE_PIXELS / 1e6} megapixels an image may have`);
    expect(process.memoryUsage().rss - before).toBeLessThan(200 * 1024 * 1024);
  });

  it('an image within the bound still decodes', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'ok.png'), oneBitPng(64, 32));
    const img = await transformImage({ file: join(dir, 'ok.png') }, {}, 1, () => 0);
    expect([img.width, img.height, img.channels]).toEqual([64, 32, 1]);
  });
});

describe('IDX files are gunzipped under the same limit', () => {
  it('a gzip that expands more than DEFAULT_MAX_RATIO times is refused', async () => {
    const { gzipSync } = await import('node:zlib');
    const { readIdx } = await import('../../src/data/idx.js');
    const dir = tempDir();
    writeFileSync(join(dir, 'bomb-ubyte.gz'), gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 }));
    expect((await stepError(() => readIdx(join(dir, 'bomb-ubyte.gz')))).message).toMatch(/bomb-ubyte\.gz: refused: expands past the limit of 1000/);
  });
});
