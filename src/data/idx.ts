// The IDX format of MNIST and Fashion-MNIST (yann.lecun.com/exdb/mnist): a big-endian header
// (two zero bytes, a type code, the number of dimensions, then each dimension as uint32) and the
// raw values. Files are usually gzipped (*-ubyte.gz).
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { constants as buffer } from 'node:buffer';
import { StepError } from '../core/errors.js';
import { sha256 } from '../core/hash.js';
import { DEFAULT_MAX_RATIO, expansionRefused } from './archive.js';

export interface IdxArray {
  shape: number[];
  data: Uint8Array;
  /** SHA-256 of the decompressed IDX bytes: the same for any gzip of the same data. */
  contentSha256: string;
}

export function readIdx(path: string): IdxArray {
  let buf = readFileSync(path);
  if (buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      // The extract step's ratio policy: a gzip bomb stops at the limit instead of filling memory.
      buf = gunzipSync(buf, { maxOutputLength: Math.min(buffer.MAX_LENGTH, Math.max(1, buf.length) * DEFAULT_MAX_RATIO) });
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw expansionRefused(path, DEFAULT_MAX_RATIO, `more than ${DEFAULT_MAX_RATIO} × ${buf.length} bytes`, 'an IDX file of real images compresses far less than that');
      throw new StepError(`${path}: gzip data is corrupt: ${(err as Error).message}`);
    }
  }
  return parseIdx(buf, path);
}

export function parseIdx(buf: Buffer, name: string): IdxArray {
  if (buf.length < 4 || buf[0] !== 0 || buf[1] !== 0) throw new StepError(`${name}: not an IDX file (it must start with two zero bytes)`);
  if (buf[2] !== 0x08) throw new StepError(`${name}: IDX type 0x${buf[2]!.toString(16)} is not supported (expected 0x08, unsigned byte)`);
  const dims = buf[3]!;
  if (buf.length < 4 + 4 * dims) throw new StepError(`${name}: IDX header truncated`);
  const shape: number[] = [];
  for (let d = 0; d < dims; d++) shape.push(buf.readUInt32BE(4 + 4 * d));
  const start = 4 + 4 * dims;
  const count = shape.reduce((a, b) => a * b, 1);
  if (buf.length - start !== count) {
    throw new StepError(`${name}: shape (${shape.join(', ')}) needs ${count} bytes of data, the file has ${buf.length - start}`);
  }
  const data = new Uint8Array(count);
  data.set(buf.subarray(start));
  return { shape, data, contentSha256: sha256(buf) };
}
