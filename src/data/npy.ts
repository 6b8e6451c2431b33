import { StepError } from '../core/errors.js';
// NumPy's .npy format (v1.0, v2.0, v3.0): a magic string, a little header dict in Python literal
// syntax, then the raw array. Spec: numpy/lib/format.py. Only what datasets need: C order,
// little-endian or byte-sized dtypes.

export type NpyDtype = 'uint8' | 'int8' | 'int32' | 'int64' | 'float32' | 'float64';
export type NpyData = Uint8Array | Int8Array | Int32Array | BigInt64Array | Float32Array | Float64Array;

export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  data: NpyData;
}

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

// descr → our dtype. '|' is "not applicable" (one byte), '<' little-endian; '=' native means
// little-endian on every machine Node runs on that matters here.
const DESCR: Record<string, { dtype: NpyDtype; bytes: number }> = {
  '|u1': { dtype: 'uint8', bytes: 1 },
  '<u1': { dtype: 'uint8', bytes: 1 },
  '|b1': { dtype: 'uint8', bytes: 1 },
  '|i1': { dtype: 'int8', bytes: 1 },
  '<i4': { dtype: 'int32', bytes: 4 },
  '<i8': { dtype: 'int64', bytes: 8 },
  '<f4': { dtype: 'float32', bytes: 4 },
  '<f8': { dtype: 'float64', bytes: 8 },
};

/** What the start of a .npy says: the dtype, the shape, where the data starts and how many bytes it has. */
export interface NpyHeader {
  dtype: NpyDtype;
  shape: number[];
  dataStart: number;
  dataBytes: number;
}

/** The longest header accepted: numpy writes well under 1 KiB; a longer one is not an array a dataset holds. */
const MAX_HEADER = 1 << 20;

function invalid(name: string) {
  return (why: string): never => {
    throw new StepError(`${name}: not a valid .npy file: ${why}`, 'the file may be truncated or corrupt; fetch it again and check its sha256');
  };
}

/**
 * Parses the magic string and header dict at the start of `bytes` (which may hold more, or, while
 * a member is still being inflated, less): null when more bytes are needed to tell. The data size
 * it returns is checked arithmetic, not yet allocated: callers compare it with what they have.
 */
export function parseNpyHeader(bytes: Buffer, name: string): NpyHeader | null {
  const bad = invalid(name);
  if (!bytes.subarray(0, 6).equals(MAGIC.subarray(0, Math.min(6, bytes.length)))) bad('missing the \\x93NUMPY magic string');
  if (bytes.length < 10) return null;
  const major = bytes[6]!;
  let headerLen: number;
  let headerStart: number;
  if (major === 1) {
    headerLen = bytes.readUInt16LE(8);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) return null;
    headerLen = bytes.readUInt32LE(8);
    headerStart = 12;
  } else {
    return bad(`unsupported format version ${major}.${bytes[7]} (expected 1.0, 2.0 or 3.0)`);
  }
  if (headerLen > MAX_HEADER) bad(`header length ${headerLen} is over ${MAX_HEADER} bytes`);
  const dataStart = headerStart + headerLen;
  if (dataStart > bytes.length) return null;
  const header = bytes.subarray(headerStart, dataStart).toString(major === 3 ? 'utf8' : 'latin1');
  const fields = parseHeaderDict(header, bad);
  const descr = DESCR[fields.descr];
  if (!descr) return bad(`dtype '${fields.descr}' is not supported (expected one of ${Object.keys(DESCR).join(', ')})`);
  if (fields.fortran) bad('Fortran-order arrays are not supported (expected fortran_order: False)');
  const dataBytes = fields.shape.reduce((a, b) => a * b, descr.bytes);
  if (!Number.isSafeInteger(dataBytes)) bad(`shape (${fields.shape.join(', ')}) is too large to hold`);
  return { dtype: descr.dtype, shape: fields.shape, dataStart, dataBytes };
}

/** The typed array of `dtype` over `raw`, which starts at offset 0 of its buffer (typed arrays need aligned offsets). */
export function npyData(dtype: NpyDtype, raw: Uint8Array): NpyData {
  return dtype === 'uint8' ? raw
    : dtype === 'int8' ? new Int8Array(raw.buffer, raw.byteOffset, raw.byteLength)
    : dtype === 'int32' ? new Int32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4)
    : dtype === 'int64' ? new BigInt64Array(raw.buffer, raw.byteOffset, raw.byteLength / 8)
    : dtype === 'float32' ? new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4)
    : new Float64Array(raw.buffer, raw.byteOffset, raw.byteLength / 8);
}

/** Parses a whole .npy file held in memory. `name` only labels error messages. */
export function parseNpy(buf: Uint8Array, name = 'array.npy'): NpyArray {
  const bytes = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const bad = invalid(name);
  const h = parseNpyHeader(bytes, name) ?? bad(bytes.length < 12 ? 'header truncated' : `header runs past the end of the file (${bytes.length} bytes)`);
  const have = bytes.length - h.dataStart;
  if (have !== h.dataBytes) {
    bad(`shape (${h.shape.join(', ')}) of ${h.dtype} needs ${h.dataBytes} data bytes but the file has ${have}`);
  }
  // Copy into a fresh, aligned buffer: typed arrays need offsets that are multiples of the element size.
  const raw = new Uint8Array(h.dataBytes);
  raw.set(bytes.subarray(h.dataStart));
  return { dtype: h.dtype, shape: h.shape, data: npyData(h.dtype, raw) };
}

/**
 * The header is a Python dict literal such as
 * {'descr': '|u1', 'fortran_order': False, 'shape': (1080, 28, 28, 3), }
 * Parsed with three anchored patterns rather than eval-like tricks: anything else is an error.
 */
function parseHeaderDict(header: string, bad: (why: string) => never): { descr: string; fortran: boolean; shape: number[] } {
  const text = header.trim();
  if (!text.startsWith('{') || !text.endsWith('}')) bad(`header is not a dict: ${JSON.stringify(text.slice(0, 60))}`);
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]+)['"]/.exec(text)?.[1];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined) bad("header has no 'descr' entry");
  if (fortran === undefined) bad("header has no 'fortran_order' entry");
  if (shapeText === undefined) bad("header has no 'shape' entry");
  const shape = shapeText!
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      if (!/^\d+L?$/.test(s)) bad(`shape entry '${s}' is not a non-negative integer`);
      return Number.parseInt(s, 10);
    });
  return { descr: descr!, fortran: fortran === 'True', shape };
}

/** Integer labels of any stored integer dtype as int32 class indices (RetinaMNIST stores (N, 1) uint8). */
export function toInt32Labels(arr: NpyArray, name: string): Int32Array {
  const n = arr.shape[0] ?? 0;
  const per = arr.shape.slice(1).reduce((a, b) => a * b, 1);
  if (per !== 1) throw new StepError(`${name}: expected one label per row, got shape (${arr.shape.join(', ')})`);
  if (arr.dtype === 'float32' || arr.dtype === 'float64') throw new StepError(`${name}: labels must be integers, got ${arr.dtype}`);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = arr.data[i]!;
    // An int64 of 2^32+1 would wrap to 1 in an Int32Array: a class index is never negative or that large.
    if (v < 0 || v > 0x7fffffff) throw new StepError(`${name}[${i}] is ${String(v)}, not a class index`);
    out[i] = Number(v);
  }
  return out;
}
