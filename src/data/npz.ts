// NumPy's .npz: a ZIP archive of .npy members (stored or deflated). Read by walking the ZIP central
// directory and inflating each member with zlib, which is all an npz needs; CRCs are checked, so a
// corrupt member is an error rather than silent garbage. General archives go through extract.ts.
//
// Nothing is sized by what the archive merely claims. A member is streamed from the file through
// zlib; its array header (the first bytes out) gives the size of the one buffer its data is written
// into, after that size passes the extract step's ratio policy (DEFAULT_MAX_RATIO bytes out per
// byte of the file); a member that inflates past its header's size is stopped there. So a 1 MB
// member cannot inflate to 1 GiB, and a large array costs its own size plus zlib's small chunks.
import { closeSync, createReadStream, fstatSync, openSync, readSync } from 'node:fs';
import { createInflateRaw, crc32 } from 'node:zlib';
import { basename } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { npyData, parseNpyHeader, type NpyArray, type NpyHeader } from './npy.js';
import { DEFAULT_MAX_RATIO, expansionRefused } from './archive.js';
import { StepError } from '../core/errors.js';

const EOCD_SIG = 0x06054b50;
const CDH_SIG = 0x02014b50;
const LFH_SIG = 0x04034b50;
const U32_MAX = 0xffffffff;

interface ZipMember {
  name: string;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

/** Reads every member of an .npz file; keys are member names without '.npy' ('train_images'). */
export async function readNpz(path: string, maxRatio = DEFAULT_MAX_RATIO): Promise<Map<string, NpyArray>> {
  const label = basename(path);
  const out = new Map<string, NpyArray>();
  const fd = openSync(path, 'r');
  let members: ZipMember[];
  let fileSize: number;
  try {
    fileSize = fstatSync(fd).size;
    members = zipMembers(fd, fileSize, label);
  } finally {
    closeSync(fd);
  }
  // The extract step's policy: bytes out, over the whole archive, per byte of the archive.
  const budget = { left: Math.max(1, fileSize) * maxRatio, limit: maxRatio };
  for (const m of members) {
    if (!m.name.endsWith('.npy')) continue;
    out.set(m.name.slice(0, -4), await readMember(path, fileSize, m, label, budget));
  }
  return out;
}

function corrupt(label: string, why: string): never {
  throw new StepError(`${label}: not a valid .npz (ZIP) file: ${why}`, 'the file may be truncated or corrupt; fetch it again and check its sha256');
}

function readAt(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  const n = readSync(fd, buf, 0, length, position);
  return buf.subarray(0, n);
}

function zipMembers(fd: number, size: number, label: string): ZipMember[] {
  // The end-of-central-directory record is the last 22 bytes, unless an archive comment follows it.
  const tailStart = Math.max(0, size - 22 - 0xffff);
  const tail = readAt(fd, tailStart, size - tailStart);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD_SIG) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) corrupt(label, 'no end-of-central-directory record');
  const entries = tail.readUInt16LE(eocd + 10);
  const cdSize = tail.readUInt32LE(eocd + 12);
  const cdOffset = tail.readUInt32LE(eocd + 16);
  if (cdOffset === U32_MAX) corrupt(label, 'ZIP64 archives over 4 GiB are not supported');
  if (cdOffset + cdSize > size) corrupt(label, 'the central directory runs past the end of the file (truncated download?)');
  const cd = readAt(fd, cdOffset, cdSize);
  const members: ZipMember[] = [];
  let p = 0;
  for (let k = 0; k < entries; k++) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== CDH_SIG) corrupt(label, `central directory entry ${k} is damaged`);
    const nameLen = cd.readUInt16LE(p + 28);
    const extraLen = cd.readUInt16LE(p + 30);
    const commentLen = cd.readUInt16LE(p + 32);
    const m: ZipMember = {
      method: cd.readUInt16LE(p + 10),
      crc: cd.readUInt32LE(p + 16),
      compressedSize: cd.readUInt32LE(p + 20),
      size: cd.readUInt32LE(p + 24),
      localOffset: cd.readUInt32LE(p + 42),
      name: cd.toString('utf8', p + 46, p + 46 + nameLen),
    };
    readZip64Extra(cd.subarray(p + 46 + nameLen, p + 46 + nameLen + extraLen), m);
    members.push(m);
    p += 46 + nameLen + extraLen + commentLen;
  }
  return members;
}

/** numpy writes members with force_zip64: sizes/offsets of 0xFFFFFFFF live in extra field 0x0001. */
function readZip64Extra(extra: Buffer, m: ZipMember): void {
  let q = 0;
  while (q + 4 <= extra.length) {
    const id = extra.readUInt16LE(q);
    const len = extra.readUInt16LE(q + 2);
    if (id === 0x0001) {
      let r = q + 4;
      const next = (): number => {
        const v = r + 8 <= extra.length ? Number(extra.readBigUInt64LE(r)) : U32_MAX;
        r += 8;
        return v;
      };
      if (m.size === U32_MAX) m.size = next();
      if (m.compressedSize === U32_MAX) m.compressedSize = next();
      if (m.localOffset === U32_MAX) m.localOffset = next();
    }
    q += 4 + len;
  }
}

/** One member, streamed from the file (through zlib when deflated) into a buffer its array header sizes. */
async function readMember(path: string, fileSize: number, m: ZipMember, label: string, budget: { left: number; limit: number }): Promise<NpyArray> {
  const fd = openSync(path, 'r');
  let start: number;
  try {
    const lh = readAt(fd, m.localOffset, 30);
    if (lh.length < 30 || lh.readUInt32LE(0) !== LFH_SIG) corrupt(label, `local header of ${m.name} is damaged`);
    start = m.localOffset + 30 + lh.readUInt16LE(26) + lh.readUInt16LE(28);
  } finally {
    closeSync(fd);
  }
  if (start + m.compressedSize > fileSize) corrupt(label, `${m.name} runs past the end of the file (truncated download?)`);
  if (m.method !== 0 && m.method !== 8) corrupt(label, `${m.name} uses compression method ${m.method} (expected stored or deflate)`);
  const sink = new ArraySink(`${label}:${m.name}`, (h) => {
    const total = h.dataStart + h.dataBytes;
    if (total !== m.size) corrupt(label, `${m.name}'s array header gives ${total} bytes, the directory says ${m.size}`);
    if (total > budget.left) {
      throw expansionRefused(label, budget.limit, `${m.name} holds ${total} bytes`,
        `an .npz is read under the extract step's limit (${budget.limit} bytes out per byte of the file); numpy.savez_compressed of real data stays far below it`);
    }
    budget.left -= total;
  });
  const source = m.compressedSize === 0 ? Readable.from([]) : createReadStream(path, { start, end: start + m.compressedSize - 1, highWaterMark: 1 << 20 });
  try {
    await (m.method === 8 ? pipeline(source, createInflateRaw(), sink) : pipeline(source, sink));
  } catch (err) {
    if (err instanceof StepError) throw err;
    corrupt(label, `${m.name} does not inflate: ${(err as Error).message}`);
  }
  const array = sink.array();
  if (sink.written !== m.size) corrupt(label, `${m.name} is ${sink.written} bytes, the directory says ${m.size}`);
  if (sink.crc !== m.crc) corrupt(label, `${m.name} fails its CRC check`);
  return array;
}

/**
 * Takes a member's bytes as they come out: first the .npy header (kept until it parses), then the
 * data, copied into the one aligned buffer the header sized. Bytes past that size stop the stream.
 */
class ArraySink extends Writable {
  written = 0;
  crc = 0;
  private head: Buffer[] = [];
  private header: NpyHeader | null = null;
  private data: Uint8Array | null = null;
  private filled = 0;

  constructor(
    private readonly name: string,
    private readonly admit: (h: NpyHeader) => void,
  ) {
    super();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    try {
      this.take(chunk);
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  private take(chunk: Buffer): void {
    this.written += chunk.length;
    this.crc = crc32(chunk, this.crc);
    if (!this.header) {
      this.head.push(chunk);
      const start = Buffer.concat(this.head);
      const h = parseNpyHeader(start, this.name);
      if (!h) return;
      this.admit(h);
      this.header = h;
      this.head = [];
      this.data = new Uint8Array(h.dataBytes);
      chunk = start.subarray(h.dataStart);
    }
    if (this.filled + chunk.length > this.data!.length) {
      throw new StepError(`${this.name}: inflates past the ${this.header.dataStart + this.header.dataBytes} bytes its array header gives`,
        'the file is corrupt or built to exhaust memory; fetch it again and check its sha256');
    }
    this.data!.set(chunk, this.filled);
    this.filled += chunk.length;
  }

  array(): NpyArray {
    const h = this.header;
    if (!h) throw new StepError(`${this.name}: not a valid .npy file: header truncated`);
    if (this.filled !== h.dataBytes) {
      throw new StepError(`${this.name}: not a valid .npy file: shape (${h.shape.join(', ')}) of ${h.dtype} needs ${h.dataBytes} data bytes but the member has ${this.filled}`);
    }
    return { dtype: h.dtype, shape: h.shape, data: npyData(h.dtype, this.data!) };
  }
}
