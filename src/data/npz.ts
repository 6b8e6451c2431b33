// NumPy's .npz: a ZIP archive of .npy members (stored or deflated). Read by walking the ZIP central
// directory and inflating each member with zlib, which is all an npz needs; CRCs are checked, so a
// corrupt member is an error rather than silent garbage. General archives go through extract.ts.
import { readFileSync } from 'node:fs';
import { inflateRawSync, crc32 } from 'node:zlib';
import { basename } from 'node:path';
import { parseNpy, type NpyArray } from './npy.js';
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
export function readNpz(path: string): Map<string, NpyArray> {
  const zip = readFileSync(path);
  const label = basename(path);
  const out = new Map<string, NpyArray>();
  for (const m of zipMembers(zip, label)) {
    if (!m.name.endsWith('.npy')) continue;
    out.set(m.name.slice(0, -4), parseNpy(memberBytes(zip, m, label), `${label}:${m.name}`));
  }
  return out;
}

function corrupt(label: string, why: string): never {
  throw new StepError(`${label}: not a valid .npz (ZIP) file: ${why}`, 'the file may be truncated or corrupt; fetch it again and check its sha256');
}

function zipMembers(zip: Buffer, label: string): ZipMember[] {
  // The end-of-central-directory record is the last 22 bytes, unless an archive comment follows it.
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === EOCD_SIG) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) corrupt(label, 'no end-of-central-directory record');
  const entries = zip.readUInt16LE(eocd + 10);
  const cdOffset = zip.readUInt32LE(eocd + 16);
  if (cdOffset === U32_MAX) corrupt(label, 'ZIP64 archives over 4 GiB are not supported');
  const members: ZipMember[] = [];
  let p = cdOffset;
  for (let k = 0; k < entries; k++) {
    if (p + 46 > zip.length || zip.readUInt32LE(p) !== CDH_SIG) corrupt(label, `central directory entry ${k} is damaged`);
    const nameLen = zip.readUInt16LE(p + 28);
    const extraLen = zip.readUInt16LE(p + 30);
    const commentLen = zip.readUInt16LE(p + 32);
    const m: ZipMember = {
      method: zip.readUInt16LE(p + 10),
      crc: zip.readUInt32LE(p + 16),
      compressedSize: zip.readUInt32LE(p + 20),
      size: zip.readUInt32LE(p + 24),
      localOffset: zip.readUInt32LE(p + 42),
      name: zip.toString('utf8', p + 46, p + 46 + nameLen),
    };
    readZip64Extra(zip.subarray(p + 46 + nameLen, p + 46 + nameLen + extraLen), m);
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
        const v = Number(extra.readBigUInt64LE(r));
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

function memberBytes(zip: Buffer, m: ZipMember, label: string): Buffer {
  const lh = m.localOffset;
  if (lh + 30 > zip.length || zip.readUInt32LE(lh) !== LFH_SIG) corrupt(label, `local header of ${m.name} is damaged`);
  const start = lh + 30 + zip.readUInt16LE(lh + 26) + zip.readUInt16LE(lh + 28);
  const end = start + m.compressedSize;
  if (end > zip.length) corrupt(label, `${m.name} runs past the end of the file (truncated download?)`);
  const stored = zip.subarray(start, end);
  let data: Buffer;
  if (m.method === 0) data = stored;
  else if (m.method === 8) {
    try {
      data = inflateRawSync(stored);
    } catch (err) {
      return corrupt(label, `${m.name} does not inflate: ${(err as Error).message}`);
    }
  } else return corrupt(label, `${m.name} uses compression method ${m.method} (expected stored or deflate)`);
  if (data.length !== m.size) corrupt(label, `${m.name} is ${data.length} bytes, the directory says ${m.size}`);
  if (crc32(data) !== m.crc) corrupt(label, `${m.name} fails its CRC check`);
  return data;
}
