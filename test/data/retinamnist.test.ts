import { describe, expect, it, afterEach } from 'vitest';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { deflateRawSync, crc32 } from 'node:zlib';
import { readNpz } from '../../src/data/npz.js';
import { parseNpy } from '../../src/data/npy.js';
import { readDataset, readSplit } from '../../src/data/tensors.js';
import { datasetStep } from '../../src/steps/dataset.js';
import { makeContext, stepError, type TestContext } from './helpers.js';
import { tempDir } from '../support/index.js';

const NPZ = new URL('../../artifacts/retinamnist/retinamnist.npz', import.meta.url).pathname;

function npyBytes(header: string, data: Uint8Array): Uint8Array {
  // v1.0: magic, version, uint16 header length, header padded with spaces to a multiple of 64, '\n'.
  let h = header;
  while ((10 + h.length + 1) % 64 !== 0) h += ' ';
  h += '\n';
  const out = Buffer.alloc(10 + h.length + data.length);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(out);
  out.writeUInt16LE(h.length, 8);
  out.write(h, 10, 'latin1');
  Buffer.from(data).copy(out, 10 + h.length);
  return out;
}

describe('NPY reader', () => {
  it('reads uint8, float32 and int64 arrays in C order', () => {
    const u8 = parseNpy(npyBytes("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3), }", new Uint8Array([1, 2, 3, 4, 5, 6])));
    expect(u8.shape).toEqual([2, 3]);
    expect([...u8.data]).toEqual([1, 2, 3, 4, 5, 6]);
    const f = parseNpy(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", new Uint8Array(new Float32Array([0.5, -2]).buffer)));
    expect(f.dtype).toBe('float32');
    expect([...f.data]).toEqual([0.5, -2]);
    const i8 = parseNpy(npyBytes("{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(new BigInt64Array([4n]).buffer)));
    expect(i8.data[0]).toBe(4n);
  });

  it('rejects a corrupt header with a clear message', async () => {
    const good = npyBytes("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3), }", new Uint8Array(6));
    const noShape = npyBytes("{'descr': '|u1', 'fortran_order': False, }", new Uint8Array(6));
    expect((await stepError(() => parseNpy(noShape, 'x.npy'))).message).toMatch(/x\.npy: not a valid \.npy file: header has no 'shape'/);
    const badMagic = Uint8Array.from(good);
    badMagic[1] = 0;
    expect((await stepError(() => parseNpy(badMagic, 'x.npy'))).message).toMatch(/magic/);
    const longHeader = Buffer.from(good);
    longHeader.writeUInt16LE(60000, 8);
    expect((await stepError(() => parseNpy(longHeader, 'x.npy'))).message).toMatch(/runs past the end/);
    const truncated = good.subarray(0, good.length - 2);
    expect((await stepError(() => parseNpy(truncated, 'x.npy'))).message).toMatch(/needs 6 data bytes but the file has 4/);
    const fortran = npyBytes("{'descr': '|u1', 'fortran_order': True, 'shape': (2, 3), }", new Uint8Array(6));
    expect((await stepError(() => parseNpy(fortran, 'x.npy'))).message).toMatch(/Fortran/);
  });
});

describe('NPZ reader', () => {
  it('detects a corrupt member through its CRC', async () => {
    const dir = tempDir('repro-data-');
    const npy = npyBytes("{'descr': '|u1', 'fortran_order': False, 'shape': (4,), }", new Uint8Array([9, 8, 7, 6]));
    const zip = storedZip('a.npy', Buffer.from(npy));
    writeFileSync(join(dir, 'ok.npz'), zip);
    expect([...(await readNpz(join(dir, 'ok.npz'))).get('a')!.data]).toEqual([9, 8, 7, 6]);
    const bad = Buffer.from(zip);
    const cdOffset = bad.readUInt32LE(bad.length - 22 + 16);
    bad.writeUInt32LE(bad.readUInt32LE(cdOffset + 16) ^ 1, cdOffset + 16); // the CRC the directory promises
    writeFileSync(join(dir, 'bad.npz'), bad);
    expect((await stepError(() => readNpz(join(dir, 'bad.npz')))).message).toMatch(/bad\.npz: .*a\.npy fails its CRC check/);
    writeFileSync(join(dir, 'trunc.npz'), zip.subarray(0, 40));
    expect((await stepError(() => readNpz(join(dir, 'trunc.npz')))).message).toMatch(/not a valid \.npz/);
  });
});

/** A one-member ZIP (deflated) built by hand, so the test does not depend on a zip writer. */
function storedZip(name: string, data: Buffer): Buffer {
  const comp = deflateRawSync(data);
  const n = Buffer.from(name);
  const lfh = Buffer.alloc(30);
  lfh.writeUInt32LE(0x04034b50, 0);
  lfh.writeUInt16LE(20, 4);
  lfh.writeUInt16LE(8, 8);
  lfh.writeUInt32LE(crc32(data), 14);
  lfh.writeUInt32LE(comp.length, 18);
  lfh.writeUInt32LE(data.length, 22);
  lfh.writeUInt16LE(n.length, 26);
  const cdh = Buffer.alloc(46);
  cdh.writeUInt32LE(0x02014b50, 0);
  cdh.writeUInt16LE(20, 4);
  cdh.writeUInt16LE(20, 6);
  cdh.writeUInt16LE(8, 10);
  cdh.writeUInt32LE(crc32(data), 16);
  cdh.writeUInt32LE(comp.length, 20);
  cdh.writeUInt32LE(data.length, 24);
  cdh.writeUInt16LE(n.length, 28);
  cdh.writeUInt32LE(0, 42);
  const cdOffset = lfh.length + n.length + comp.length;
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(1, 8);
  eocd.writeUInt16LE(1, 10);
  eocd.writeUInt32LE(cdh.length + n.length, 12);
  eocd.writeUInt32LE(cdOffset, 16);
  return Buffer.concat([lfh, n, comp, cdh, n, eocd]);
}

describe('RetinaMNIST (embedded)', () => {
  let ctx: TestContext | undefined;
  afterEach(() => ctx?.cleanup());

  it('reads the official split from the npz: 1080/120/400 with the published label counts', async () => {
    const members = await readNpz(NPZ);
    expect([...members.keys()].sort()).toEqual(['test_images', 'test_labels', 'train_images', 'train_labels', 'val_images', 'val_labels']);
    expect(members.get('train_images')!.shape).toEqual([1080, 28, 28, 3]);
  });

  it('the dataset step writes a repro-tensors/1 directory the trainer can read', async () => {
    ctx = makeContext();
    const result = await datasetStep.run(ctx, { name: 'retinamnist', npz: NPZ });
    const out = result.outputs.dataset;
    expect(out?.type).toBe('dir');
    const dir = (out as { path: string }).path;
    const { manifest, splits } = readDataset(dir);
    expect(manifest.format).toBe('repro-tensors/1');
    expect(manifest.classes).toEqual(['grade 0', 'grade 1', 'grade 2', 'grade 3', 'grade 4']);
    expect(manifest.ordered).toBe(true);
    expect(manifest.positions).toEqual([0, 1, 2, 3, 4]);
    expect(manifest.splits.train!.classCounts).toEqual([486, 128, 206, 194, 66]);
    expect(manifest.splits.val!.classCounts).toEqual([54, 12, 28, 20, 6]);
    expect(manifest.splits.test!.classCounts).toEqual([174, 46, 92, 68, 20]);
    expect(manifest.sources[0]).toMatchObject({ sha256: '254915f5f0a2074665c4676356824cf4ef4a3bcab233894b4bafcaf48962bd69', licence: 'CC BY 4.0' });
    expect(splits.train!.shape).toEqual([1080, 28, 28, 3]);
    expect(splits.val!.labels.length).toBe(120);
    expect(splits.test!.images.length).toBe(400 * 28 * 28 * 3);
    // Same pixels as the npz member (no reordering on the way).
    expect(Buffer.from(splits.test!.images as Uint8Array).equals(Buffer.from((await readNpz(NPZ)).get('test_images')!.data as Uint8Array))).toBe(true);
    const one = readSplit(dir, 'val');
    expect(one.dtype).toBe('uint8');
    expect(result.summary).toBe('train 1080 val 120 test 400');
  });

  it('a truncated split file is a clear error, not garbage tensors', async () => {
    ctx = makeContext();
    const result = await datasetStep.run(ctx, { name: 'retinamnist', npz: NPZ });
    const dir = (result.outputs.dataset as { path: string }).path;
    const f = join(dir, 'val.labels.bin');
    writeFileSync(f, readFileSync(f).subarray(0, 10));
    expect((await stepError(() => readSplit(dir, 'val'))).message).toMatch(/expected 480 bytes .* found 10 bytes/);
    expect((await stepError(() => readSplit(dir, 'nope'))).message).toMatch(/no split 'nope'/);
  });

  it('a missing npz names the path', async () => {
    ctx = makeContext();
    expect((await stepError(() => datasetStep.run(ctx!, { name: 'retinamnist', npz: 'nowhere.npz' }))).message).toMatch(/nowhere\.npz does not exist/);
    expect(existsSync(join(ctx.workDir, 'dataset', 'manifest.json'))).toBe(false);
  });
});
