// `extract`: unpack a tar, tar.gz or zip archive (usually a fetch output) into a directory,
// refusing unsafe entries, and record every extracted file with its hash.
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import type { StepKind, StepOutput } from './kind.js';
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { StepError } from '../core/errors.js';

export interface ExtractWith {
  archive: string;
  format?: 'auto' | 'tar' | 'tar.gz' | 'zip';
  strip?: number;
  /** Extracted bytes per archive byte beyond which the archive is refused (src/data/archive.ts). */
  max_ratio?: number;
}

/** Above this many files the list is written to files.json instead of being an inline value. */
export const INLINE_FILE_LIST_MAX = 2000;

export const extractStep: StepKind<ExtractWith> = {
  name: 'extract',
  role: 'data',
  version: '1',
  description: 'Extract a tar, tar.gz or zip archive safely (no absolute paths, no .., no links leaving the target) and list its files with SHA-256.',
  withSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['archive'],
    properties: {
      archive: { type: 'string', description: 'The archive file: usually ${{ steps.<fetch>.outputs.path }}, or a path relative to the workflow.' },
      format: { enum: ['auto', 'tar', 'tar.gz', 'zip'], description: 'Archive format; auto (default) reads the first bytes.' },
      strip: { type: 'integer', minimum: 0, description: 'Leading path components to drop from every entry (like tar --strip-components).' },
      max_ratio: {
        type: 'number',
        exclusiveMinimum: 0,
        description:
          'Most bytes the archive may expand to per archive byte (default 1000, tar.gz and zip alike); beyond it the archive is refused as a decompression bomb. Raise it for a legitimate, highly compressible archive.',
      },
    },
  },
  outputs: ['dir', 'files'],
  inputPaths(w, workflowDir) {
    if (typeof w.archive !== 'string') return [];
    const p = isAbsolute(w.archive) ? w.archive : resolve(workflowDir, w.archive);
    return existsSync(p) ? [p] : [];
  },
  async run(ctx, w) {
    const { extractArchive } = await import('../data/archive.js');
    const archive = isAbsolute(w.archive) ? w.archive : resolve(ctx.workflowDir, w.archive);
    if (!existsSync(archive)) throw new StepError(`archive ${w.archive} does not exist`);
    const dir = join(ctx.workDir, 'dir');
    const files = await extractArchive(archive, dir, {
      format: w.format ?? 'auto',
      strip: w.strip ?? 0,
      ...(w.max_ratio !== undefined && { maxRatio: w.max_ratio }),
      signal: ctx.signal,
      progress: (f, m) => ctx.progress(f, m),
    });
    const bytes = files.reduce((a, f) => a + f.size, 0);
    ctx.log(`extracted ${files.length} files, ${bytes} bytes`);
    let list: StepOutput;
    if (files.length <= INLINE_FILE_LIST_MAX) list = { type: 'value', value: files };
    else {
      const manifest = join(ctx.workDir, 'files.json');
      writeFileSync(manifest, JSON.stringify(files) + '\n');
      list = { type: 'file', path: manifest };
    }
    return {
      outputs: { dir: { type: 'dir', path: dir }, files: list },
      summary: `${files.length} files, ${(bytes / 1e6).toFixed(1)} MB`,
    };
  },
};
