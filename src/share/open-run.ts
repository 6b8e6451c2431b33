// A run named on the command line of `repro diff` and `repro check --against`: a run in a results
// folder (its directory, run.json, id or workflow), or an archive from `repro export`, checked
// against its lock and unpacked into a temporary folder that `close` removes.
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReproError } from '../core/errors.js';
import type { RunSource } from '../compare/runs.js';
import { resolveRun } from '../engine/runs.js';
import { archiveRun } from './reproduce.js';
import { openArchive } from './archive.js';

export interface OpenedRun {
  run: RunSource;
  /** 'archive' when it came from an export archive. */
  from: 'results' | 'archive';
  close(): void;
}

/** An archive from `repro export` rather than a run of a results folder: a file with an archive's name. */
const isArchiveFile = (p: string) => /\.(tar\.gz|tgz|tar)$/i.test(p) && existsSync(p) && statSync(p).isFile();

/** Finds the run (or checks that the archive is there) without unpacking anything: to fail before work that would be wasted. */
export async function findRunOrArchive(arg: string, resultsDir = 'results'): Promise<void> {
  if (isArchiveFile(arg)) return;
  await resolveRun(arg, resultsDir);
}

export async function openRunOrArchive(arg: string, resultsDir = 'results'): Promise<OpenedRun> {
  if (!isArchiveFile(arg)) {
    return { run: await resolveRun(arg, resultsDir), from: 'results', close: () => {} };
  }
  const dir = mkdtempSync(join(tmpdir(), 'repro-open-'));
  const close = () => rmSync(dir, { recursive: true, force: true });
  try {
    let check;
    try {
      check = await openArchive(arg, dir);
    } catch (err) {
      const message = (err as Error).message;
      throw new ReproError(message.startsWith(arg) ? message : `${arg}: ${message}`, 'corrupt');
    }
    if (check.problems.length) {
      const first = check.problems.slice(0, 3).map((p) => `${p.kind}: ${p.path}`).join('; ');
      throw new ReproError(`${arg}: ${check.problems.length} problem(s) (${first}): the archive is damaged or was changed`, 'corrupt', `repro verify ${arg} lists them`);
    }
    return { run: archiveRun(dir, check.lock, check.record), from: 'archive', close };
  } catch (err) {
    close();
    throw err;
  }
}
