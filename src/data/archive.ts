// Safe extraction of tar, tar.gz and zip archives. Every entry is checked before it is written:
// absolute paths, `..` segments and links that would point outside the target are refused (the
// whole extraction fails; the step's workDir is then discarded, so nothing half-extracted survives).
import { crc32 } from 'node:zlib';
import { createWriteStream, mkdirSync, openSync, readSync, closeSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join, posix, relative } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { sha256, sha256File } from '../core/hash.js';
import { StepError } from '../core/errors.js';

export type ArchiveFormat = 'tar' | 'tar.gz' | 'zip';

export interface ExtractedFile {
  /** Relative to the extraction directory, forward slashes. */
  path: string;
  sha256: string;
  size: number;
}

/**
 * The most an archive may expand: extracted bytes per byte of archive (tar.gz and zip alike). A
 * decompression bomb passes it within seconds; a legitimate archive that compresses better raises it
 * with the extract step's `max_ratio:`.
 */
export const DEFAULT_MAX_RATIO = 1000;

const UNSAFE_HINT = 'entries with absolute paths, .., links leaving the target directory or extracted through a link are never extracted';

export interface ExtractOptions {
  format?: ArchiveFormat | 'auto';
  /** Extracted bytes per archive byte beyond which the archive is refused (default DEFAULT_MAX_RATIO). */
  maxRatio?: number;
  /** Leading path components to drop (like tar --strip-components); entries left empty are skipped. */
  strip?: number;
  progress?(fraction: number | null, message: string): void;
  signal?: AbortSignal;
}

/** By magic bytes, not by file name: fetched files are often named by their URL. */
export function detectFormat(path: string): ArchiveFormat {
  const head = Buffer.alloc(512);
  const fd = openSync(path, 'r');
  let n: number;
  try {
    n = readSync(fd, head, 0, 512, 0);
  } finally {
    closeSync(fd);
  }
  if (n >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'tar.gz';
  if (n >= 4 && head.readUInt32LE(0) === 0x04034b50) return 'zip';
  if (n >= 4 && head.readUInt32LE(0) === 0x06054b50) return 'zip'; // empty zip
  if (n >= 262 && head.toString('latin1', 257, 262) === 'ustar') return 'tar';
  throw new StepError(`${path}: not a tar, tar.gz or zip archive (unrecognised first bytes)`,
    'set format: explicitly if the archive is of one of these kinds; bzip2/xz/7z are not supported');
}

/** Why an entry may not be extracted, or null. `linkTarget` is set for symbolic links. */
export function unsafeEntry(name: string, linkTarget?: string, hardLink?: string): string | null {
  const p = name.replace(/\\/g, '/');
  if (p.startsWith('/') || /^[a-zA-Z]:/.test(p)) return 'absolute path';
  if (p.split('/').includes('..')) return "path with '..'";
  if (linkTarget !== undefined) {
    if (linkTarget.startsWith('/') || /^[a-zA-Z]:/.test(linkTarget)) return `symbolic link to an absolute path (${linkTarget})`;
    const resolved = posix.normalize(posix.join(posix.dirname(p), linkTarget));
    if (resolved === '..' || resolved.startsWith('../')) return `symbolic link pointing outside the target (${linkTarget})`;
  }
  if (hardLink !== undefined) {
    const h = hardLink.replace(/\\/g, '/');
    if (h.startsWith('/') || h.split('/').includes('..')) return `hard link pointing outside the target (${hardLink})`;
  }
  return null;
}

function stripPath(name: string, strip: number): string | null {
  const parts = name.replace(/\\/g, '/').split('/').filter((s) => s !== '' && s !== '.');
  const rest = parts.slice(strip);
  return rest.length ? rest.join('/') : null;
}

export async function extractArchive(archive: string, dest: string, opts: ExtractOptions = {}): Promise<ExtractedFile[]> {
  const format = !opts.format || opts.format === 'auto' ? detectFormat(archive) : opts.format;
  mkdirSync(dest, { recursive: true });
  if (format === 'zip') {
    return extractZip(archive, dest, opts);
  }
  await extractTar(archive, dest, format, opts);
  return hashTree(dest, opts);
}

async function extractTar(archive: string, dest: string, format: 'tar' | 'tar.gz', opts: ExtractOptions): Promise<void> {
  const tar = await import('tar');
  const refused: string[] = [];
  const size = statSync(archive).size;
  const limit = opts.maxRatio ?? DEFAULT_MAX_RATIO;
  let entries = 0;
  try {
    await tar.x({
      file: archive,
      cwd: dest,
      strip: opts.strip ?? 0,
      gzip: format === 'tar.gz' ? true : undefined,
      maxDecompressionRatio: limit,
      strict: true,
      preserveOwner: false,
      // tar would itself strip '/' and skip '..' with a warning; we refuse the archive instead.
      filter: (path, entry) => {
        const e = entry as { type?: string; linkpath?: string };
        const why = unsafeEntry(path, e.type === 'SymbolicLink' ? e.linkpath ?? '' : undefined, e.type === 'Link' ? e.linkpath ?? '' : undefined);
        const device = e.type === 'CharacterDevice' || e.type === 'BlockDevice' || e.type === 'FIFO';
        if (why || device) {
          refused.push(`${path}: ${why ?? `${e.type} entries are not extracted`}`);
          return false;
        }
        if (++entries % 500 === 0) opts.progress?.(null, `${entries} entries extracted`);
        return true;
      },
    });
  } catch (err) {
    const message = (err as { message?: string }).message ?? String(err);
    // What tar itself blocks is a refusal too, not damage: fetching the same bytes again would not help.
    const ratio = /max decompression ratio exceeded: ([0-9.]+)/.exec(message);
    if (ratio) throw expansionRefused(archive, limit, `${Number(ratio[1]).toFixed(0)} bytes per archive byte and more`);
    if (/TAR_SYMLINK_ERROR|symbolic link|escape|linkpath/i.test(message)) {
      throw new StepError(`${archive}: refused: unsafe entry (${message.replace(/^TAR_SYMLINK_ERROR: /, '')})`, UNSAFE_HINT);
    }
    throw new StepError(`${archive}: corrupt or truncated ${format} archive (${size} bytes): ${message}`,
      'fetch it again (its sha256 pins the expected bytes), or check format: matches the file');
  }
  if (refused.length) {
    const what = refused.length === 1 ? 'unsafe entry' : `${refused.length} unsafe entries:`;
    throw new StepError(`${archive}: refused: ${what} ${refused.slice(0, 5).join('; ')}`, UNSAFE_HINT);
  }
}

/** The refusal of an archive (or an .npz) that would expand past `limit` bytes per archive byte. */
export function expansionRefused(archive: string, limit: number, found: string, hint = `if you trust this archive, raise the limit with max_ratio: in the extract step (e.g. max_ratio: ${limit * 10})`): StepError {
  return new StepError(`${archive}: refused: expands past the limit of ${limit} (${found}): a decompression bomb, or an unusually compressible archive`, hint);
}

async function extractZip(archive: string, dest: string, opts: ExtractOptions): Promise<ExtractedFile[]> {
  const yauzl = await import('yauzl');
  const strip = opts.strip ?? 0;
  const files: ExtractedFile[] = [];
  const limit = opts.maxRatio ?? DEFAULT_MAX_RATIO;
  // Counted as the bytes come out, not from the sizes the archive declares (which a bomb can fake).
  const budget = Math.max(1, statSync(archive).size) * limit;
  let written = 0;
  const fail = (why: string): never => {
    throw new StepError(`${archive}: ${why}`, UNSAFE_HINT);
  };
  const zip = await new Promise<import('yauzl').ZipFile>((resolve, reject) =>
    yauzl.open(archive, { lazyEntries: true, autoClose: true, validateEntrySizes: true }, (err, z) => (err ? reject(err) : resolve(z!))),
  ).catch((err: Error) => fail(`corrupt zip archive: ${err.message}`));
  await new Promise<void>((resolve, reject) => {
    zip.on('error', (err: Error) => {
      // yauzl checks names itself and ends the archive with these messages.
      const unsafe = /^(absolute path|invalid relative path|invalid characters in fileName)/.test(err.message);
      reject(new StepError(`${archive}: ${unsafe ? `refused: unsafe entry: ${err.message}` : `corrupt zip archive: ${err.message}`}`));
    });
    zip.on('end', () => resolve());
    zip.on('entry', (entry: import('yauzl').Entry) => {
      void (async () => {
        const mode = (entry.externalFileAttributes >>> 16) & 0o170000;
        if (mode === 0o120000) fail(`refused: unsafe entry ${entry.fileName}: symbolic links in zip archives are not extracted`);
        const why = unsafeEntry(entry.fileName);
        if (why) fail(`refused: unsafe entry ${entry.fileName}: ${why}`);
        const rel = stripPath(entry.fileName, strip);
        if (rel === null || entry.fileName.endsWith('/')) {
          if (rel !== null) mkdirSync(join(dest, rel), { recursive: true });
          zip.readEntry();
          return;
        }
        opts.signal?.throwIfAborted();
        const target = join(dest, rel);
        mkdirSync(dirname(target), { recursive: true });
        const stream = await new Promise<NodeJS.ReadableStream>((res, rej) => zip.openReadStream(entry, (err, s) => (err ? rej(err) : res(s!))));
        const hash = createHash('sha256');
        let size = 0;
        let crc = 0;
        const tap = new Transform({
          transform(chunk: Buffer, _enc, cb) {
            written += chunk.length;
            if (written > budget) {
              cb(expansionRefused(archive, limit, `more than ${written} bytes from ${budget / limit} bytes`));
              return;
            }
            hash.update(chunk);
            crc = crc32(chunk, crc);
            size += chunk.length;
            cb(null, chunk);
          },
        });
        await pipeline(stream, tap, createWriteStream(target));
        // yauzl checks sizes but not CRCs.
        if (crc !== entry.crc32) throw new StepError(`${archive}: corrupt zip archive: ${entry.fileName} fails its CRC check`);
        files.push({ path: rel, sha256: hash.digest('hex'), size });
        if (files.length % 500 === 0) opts.progress?.(null, `${files.length} files extracted`);
        zip.readEntry();
      })().catch((err: unknown) => {
        zip.close();
        reject(err instanceof StepError ? err : new StepError(`${archive}: corrupt zip archive: ${(err as Error).message}`));
      });
    });
    zip.readEntry();
  });
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Every regular file under dir, hashed, sorted by path (symlinks are listed by their own entry only). */
async function hashTree(dir: string, opts: ExtractOptions): Promise<ExtractedFile[]> {
  const entries = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
  const files: ExtractedFile[] = [];
  for (const e of entries) {
    opts.signal?.throwIfAborted();
    const abs = join(e.parentPath, e.name);
    const size = statSync(abs).size;
    // Small files (face crops) in one read; large ones streamed.
    const digest = size < 8 * 1024 * 1024 ? sha256(readFileSync(abs)) : await sha256File(abs);
    files.push({ path: relative(dir, abs).split('\\').join('/'), sha256: digest, size });
    if (files.length % 500 === 0) opts.progress?.(files.length / entries.length, `hashed ${files.length}/${entries.length} files`);
  }
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
