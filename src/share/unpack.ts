// The first half of `repro reproduce ARCHIVE`: open the archive, check every hash and path of its
// lock, and unpack its project into a folder of its own under the current one. What the archive
// names never chooses where anything goes: the default folder is a sanitised name, and the workflow
// and every file of the lock must lie inside the archive (openArchive). Running it is the caller's
// job, through the same trust decision as a git URL's workflow (src/workflow/trust.ts).
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ReproError } from '../core/errors.js';
import type { RunRecord } from '../formats/run-record.js';
import { openArchive, type ExportLock } from './archive.js';

export interface UnpackedArchive {
  /** The extracted archive (artifacts/, run.json, …): the caller removes it. */
  extracted: string;
  lock: ExportLock;
  project: NonNullable<ExportLock['project']>;
  original: RunRecord;
  /** The folder the project was copied into, where it runs. */
  dir: string;
  /** The workflow file inside `dir`. */
  workflowFile: string;
}

/** Longest default folder name: room for `<workflow>-<run-id>`, far below any file system's limit. */
const MAX_FOLDER_NAME = 96;

/**
 * A folder name made of `text` that stays where it is put: no separator, no `..`, no leading dot, only letters, digits, `.`, `_`, `-`, at most MAX_FOLDER_NAME characters.
 */
export function safeFolderName(text: string, fallback = 'reproduction'): string {
  const name = text
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/\.{2,}/g, '.')
    .replace(/^[._-]+/, '')
    .slice(0, MAX_FOLDER_NAME)
    .replace(/[._-]+$/, '');
  return name || fallback;
}

/**
 * Opens and checks the archive (a damaged one: 'corrupt', nothing unpacked) and copies its project
 * into `dir` (default: ./<workflow>-<run-id>, sanitised), which must be new or empty.
 */
export async function unpackArchive(
  archive: string,
  options: { dir?: string; /** Called on the checked archive before its project is copied (a signature check): throw to stop. */ accept?: (extracted: string) => void } = {},
): Promise<UnpackedArchive> {
  if (!existsSync(archive)) throw new ReproError(`no such archive: ${archive}`, 'invalid');
  const extracted = mkdtempSync(join(tmpdir(), 'repro-reproduce-'));
  try {
    let check;
    try {
      check = await openArchive(archive, extracted);
    } catch (err) {
      throw new ReproError(`${archive}: ${(err as Error).message}`, 'corrupt', 'nothing ran');
    }
    const { lock, record: original, problems } = check;
    if (problems.length) {
      for (const p of problems) process.stderr.write(`${p.kind}: ${p.path}  (${p.detail})\n`);
      throw new ReproError(`${archive}: ${problems.length} problem(s): the archive is damaged or was changed`, 'corrupt', 'nothing ran; ask for the archive again');
    }
    options.accept?.(extracted);
    const project = lock.project;
    if (!project) {
      throw new ReproError(`${archive} carries no project/ (written by an older repro): it can be checked (repro verify), not re-run`, 'invalid');
    }
    const dir = resolve(options.dir ?? safeFolderName(`${String(lock.run.workflow)}-${String(lock.run.id)}`));
    if (existsSync(dir) && readdirSync(dir).length > 0) {
      throw new ReproError(`${dir} exists and is not empty`, 'invalid', 'pass --dir NEW_FOLDER');
    }
    cpSync(join(extracted, 'project'), dir, { recursive: true });
    // openArchive checked that the workflow lies inside project/, so it lies inside dir.
    return { extracted, lock, project, original, dir, workflowFile: join(dir, project.workflow) };
  } catch (err) {
    rmSync(extracted, { recursive: true, force: true });
    throw err;
  }
}
