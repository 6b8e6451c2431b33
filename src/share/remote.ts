// Running a workflow straight from a git repository: `repro run <git-url>#<path>@<rev>`.
// The repository is cloned once into a cache, the pinned revision is checked out into a directory
// of its own (one per commit, never modified afterwards), and the run records the resolved commit.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, normalize, isAbsolute } from 'node:path';
import { ReproError } from '../core/errors.js';

export interface RemoteWorkflowRef {
  url: string;
  path: string;
  /** What the user asked for: a commit, tag or branch ('HEAD' when none was given). */
  rev: string;
}

export interface WorkflowSource extends RemoteWorkflowRef {
  /** The full commit the revision resolved to. */
  commit: string;
}

const REMOTE = /^(?:https?:\/\/|ssh:\/\/|git:\/\/|file:\/\/|git@[^:]+:)/;

/** `URL#path@rev` for a URL scheme git understands; null for a plain local file. */
export function parseRemoteWorkflow(arg: string): RemoteWorkflowRef | null {
  if (!REMOTE.test(arg)) return null;
  const hash = arg.lastIndexOf('#');
  if (hash < 0) {
    throw new ReproError(`${arg}: a remote workflow is written <git-url>#<path>@<rev>`, 'invalid', 'e.g. https://github.com/org/repo.git#workflows/paper.yaml@v1.0');
  }
  const url = arg.slice(0, hash);
  const rest = arg.slice(hash + 1);
  const at = rest.lastIndexOf('@');
  const path = at >= 0 ? rest.slice(0, at) : rest;
  const rev = at >= 0 ? rest.slice(at + 1) : 'HEAD';
  if (!path || isAbsolute(path) || normalize(path).startsWith('..')) {
    throw new ReproError(`${arg}: the workflow path after '#' must be relative to the repository root`, 'invalid');
  }
  if (!rev || rev.startsWith('-')) throw new ReproError(`${arg}: bad revision '${rev}' after '@'`, 'invalid');
  return { url, path: normalize(path), rev };
}

/** Where clones and checkouts are cached: $REPRO_CACHE, else ~/.cache/repro. */
export function cacheRoot(): string {
  return process.env.REPRO_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'repro');
}

/** Clones or updates the repository, checks out the revision, and returns the workflow's local path. */
export async function checkoutRemoteWorkflow(ref: RemoteWorkflowRef): Promise<{ file: string; source: WorkflowSource }> {
  const { simpleGit } = await import('simple-git');
  const key = createHash('sha256').update(ref.url).digest('hex').slice(0, 16);
  const repoDir = join(cacheRoot(), 'repos', key);
  try {
    if (!existsSync(join(repoDir, 'HEAD'))) {
      const tmp = `${repoDir}.${process.pid}.tmp`;
      rmSync(tmp, { recursive: true, force: true });
      mkdirSync(tmp, { recursive: true });
      await simpleGit().clone(ref.url, tmp, ['--bare', '--quiet']);
      renameSync(tmp, repoDir);
    } else {
      await simpleGit(repoDir).fetch(['--quiet', '--tags', '--force', ref.url, '+refs/heads/*:refs/heads/*']);
    }
  } catch (err) {
    throw new ReproError(`cannot fetch ${ref.url}: ${firstLine(err)}`, 'step-failed', 'check the URL and your network or credentials');
  }
  const git = simpleGit(repoDir);
  let commit: string;
  try {
    commit = (await git.revparse([`${ref.rev}^{commit}`])).trim();
  } catch {
    throw new ReproError(`${ref.url}: no revision '${ref.rev}'`, 'invalid', 'name a commit, tag or branch of that repository');
  }
  const checkout = join(cacheRoot(), 'checkouts', key, commit);
  // A checkout made earlier is used only if it still is exactly that commit's tree: an edit in the
  // cache would otherwise run under the commit's name. A damaged one is checked out again.
  if (existsSync(checkout) && !(await checkoutMatches(repoDir, checkout, commit))) {
    process.stderr.write(`repro: the cached checkout of ${ref.url}@${commit.slice(0, 12)} differs from that commit; checking it out again\n`);
    rmSync(checkout, { recursive: true, force: true });
  }
  if (!existsSync(checkout)) {
    const tmp = `${checkout}.${process.pid}.tmp`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    // A plain tree of that commit (no .git): the checkout is data, keyed by its commit.
    // Its own index file, so two checkouts at once never share the bare repository's index.
    const index = `${tmp}.index`;
    try {
      await simpleGit(repoDir)
        .env({ PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', GIT_INDEX_FILE: index })
        .raw(['--work-tree', tmp, 'checkout', '--force', commit, '--', '.']);
    } finally {
      rmSync(index, { force: true });
    }
    renameSync(tmp, checkout);
  }
  const file = join(checkout, ref.path);
  if (!existsSync(file)) {
    throw new ReproError(`${ref.url}@${commit.slice(0, 12)} has no file ${ref.path}`, 'invalid');
  }
  return { file, source: { ...ref, commit } };
}

/**
 * Whether the directory holds exactly the files of `commit`, byte for byte (git's own comparison: the
 * commit's tree is read into a scratch index, every file is rehashed, and any difference or extra
 * file counts).
 */
async function checkoutMatches(repoDir: string, dir: string, commit: string): Promise<boolean> {
  const { simpleGit } = await import('simple-git');
  const index = `${dir}.${process.pid}.verify-index`;
  const git = simpleGit(repoDir).env({ PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', GIT_INDEX_FILE: index });
  try {
    await git.raw(['--work-tree', dir, 'read-tree', commit]);
    // A fresh index has no stat data, so every file is hashed; then any change shows as a difference.
    await git.raw(['--work-tree', dir, 'update-index', '-q', '--refresh']).catch(() => undefined);
    const changed = await git.raw(['--work-tree', dir, 'diff-files', '--name-only']);
    const extra = await git.raw(['--work-tree', dir, 'ls-files', '--others']);
    return changed.trim() === '' && extra.trim() === '';
  } catch {
    return false;
  } finally {
    rmSync(index, { force: true });
  }
}

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n').find((l) => l.trim()) ?? 'unknown error';
}
