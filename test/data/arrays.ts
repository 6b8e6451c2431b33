// .npy and .npz files written byte by byte for the dataset tests, so a test can hold any dtype,
// shape or value a hostile file might (numpy itself would refuse some of them).
import { makeZip } from './archives.js';

/** A .npy (v1.0) of a little-endian dtype: '|u1', '<i4', '<i8', '<f4'… with the raw bytes of `data`. */
export function npy(descr: string, shape: number[], data: ArrayBufferView): Buffer {
  return Buffer.concat([npyHeader(descr, shape), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}

/** The magic string and header dict of a .npy, padded as numpy pads it (to a multiple of 64 bytes). */
export function npyHeader(descr: string, shape: number[]): Buffer {
  let h = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  while ((10 + h.length + 1) % 64 !== 0) h += ' ';
  h += '\n';
  const head = Buffer.alloc(10);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(head);
  head.writeUInt16LE(h.length, 8);
  return Buffer.concat([head, Buffer.from(h, 'latin1')]);
}

/** An .npz of deflated members, named without '.npy'. */
export const npz = (members: Record<string, Buffer>): Buffer => makeZip(Object.entries(members).map(([name, body]) => ({ name: `${name}.npy`, body })));
