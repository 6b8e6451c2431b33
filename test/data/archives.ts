// Hand-built archives for the extract tests. Written byte by byte on purpose: real tar/zip writers
// refuse to produce the malicious entries (../, absolute paths, escaping links) we must refuse.
import { deflateRawSync, crc32, gzipSync } from 'node:zlib';

export interface TarEntry {
  name: string;
  body?: Buffer | string;
  /** '0' file, '2' symlink, '1' hard link, '5' directory. */
  type?: '0' | '1' | '2' | '5';
  link?: string;
}

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

export function makeTar(entries: TarEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const body = Buffer.from(e.body ?? '');
    const h = Buffer.alloc(512);
    h.write(e.name, 0, 100, 'utf8');
    h.write(octal(e.type === '5' ? 0o755 : 0o644, 8), 100);
    h.write(octal(0, 8), 108);
    h.write(octal(0, 8), 116);
    h.write(octal(e.type === '0' || !e.type ? body.length : 0, 12), 124);
    h.write(octal(1_700_000_000, 12), 136);
    h.write('        ', 148); // checksum field counts as spaces while summing
    h.write(e.type ?? '0', 156);
    if (e.link) h.write(e.link, 157, 100, 'utf8');
    h.write('ustar\0', 257);
    h.write('00', 263);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(octal(sum, 7) + ' ', 148);
    blocks.push(h);
    if (!e.type || e.type === '0') {
      blocks.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
    }
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

export const makeTarGz = (entries: TarEntry[]): Buffer => gzipSync(makeTar(entries));

/** A zip of deflated members; `mode` sets Unix permission bits (0o120777 marks a symlink). */
export function makeZip(entries: Array<{ name: string; body: Buffer | string; mode?: number }>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const data = Buffer.from(e.body);
    const comp = deflateRawSync(data);
    const name = Buffer.from(e.name);
    const lfh = Buffer.alloc(30);
    lfh.writeUInt32LE(0x04034b50, 0);
    lfh.writeUInt16LE(20, 4);
    lfh.writeUInt16LE(0x800, 6); // UTF-8 names
    lfh.writeUInt16LE(8, 8);
    lfh.writeUInt32LE(crc32(data), 14);
    lfh.writeUInt32LE(comp.length, 18);
    lfh.writeUInt32LE(data.length, 22);
    lfh.writeUInt16LE(name.length, 26);
    const cdh = Buffer.alloc(46);
    cdh.writeUInt32LE(0x02014b50, 0);
    cdh.writeUInt16LE((3 << 8) | 20, 4); // made by Unix, so the mode bits count
    cdh.writeUInt16LE(20, 6);
    cdh.writeUInt16LE(0x800, 8);
    cdh.writeUInt16LE(8, 10);
    cdh.writeUInt32LE(crc32(data), 16);
    cdh.writeUInt32LE(comp.length, 20);
    cdh.writeUInt32LE(data.length, 24);
    cdh.writeUInt16LE(name.length, 28);
    cdh.writeUInt32LE(((e.mode ?? 0o100644) << 16) >>> 0, 38);
    cdh.writeUInt32LE(offset, 42);
    locals.push(lfh, name, comp);
    centrals.push(cdh, name);
    offset += lfh.length + name.length + comp.length;
  }
  const cd = Buffer.concat(centrals);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(entries.length, 8);
  eocd.writeUInt16LE(entries.length, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, eocd]);
}
