// Hashing: SHA-256 everywhere, streamed for files, canonical JSON for structured values.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Streams the file; never reads it whole into memory. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  // A small file in one read: a 4 MiB stream buffer per file made storing a tree of 3,000 small
  // files spend most of its time allocating and collecting buffers.
  const size = (await stat(path)).size;
  if (size <= 4 * 1024 * 1024) return hash.update(await readFile(path)).digest('hex');
  // Large chunks: per-chunk overhead dominates below ~1 MiB.
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * 1024 * 1024 })) {
    hash.update(chunk as Buffer);
  }
  return hash.digest('hex');
}

/** JSON with object keys sorted at every level, so equal values hash equally. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    // No prototype: a key named '__proto__' (a metric, a value output's field) is kept and hashed, not
    // turned into a prototype change that drops it (two values differing only there would hash alike).
    const out = Object.create(null) as Record<string, unknown>;
    for (const key of Object.keys(value as object).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}

export function sha256Json(value: unknown): string {
  return sha256(canonicalJson(value));
}
