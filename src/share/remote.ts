// Running a workflow straight from a git repository: `repro run <git-url>#<path>@<rev>`.
// The repository is cloned once into a cache, the revision is resolved once to a full commit (a
// branch or tag is pinned in repro.pins.json on first use), that commit is checked out into a
// directory of its own (one per commit, never modified afterwards), and the run records it.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, realpathSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, normalize, isAbsolute, relative, resolve } from 'node:path';
import { ReproError } from '../core/errors.js';
import { writeJsonAtomic } from '../core/atomic.js';
import { nullRecord, setOwn } from '../core/names.js';
import { isInside } from '../engine/fingerprint.js';

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

/** What a checkout gives the loader: the workflow file, the checkout's folder, and what was resolved. */
export interface RemoteCheckout {
  file: string;
  /** The plain tree of the commit: everything the workflow may read without --trust lies in it. */
  root: string;
  source: WorkflowSource;
}

export interface CheckoutOptions {
  /** The pin file (default: repro.pins.json in the current folder). */
  pins?: string;
  /** Move the pin of a branch or tag to the commit it names now (`repro pin`), instead of refusing a move. */
  updatePin?: boolean;
  /** Where the one line saying which commit runs goes (default: stderr). */
  say?: (line: string) => void;
}

// One resolution per process: `repro check --until-decided` reloads the plan each round, and every
// round must run the same commit.
const resolved = new Map<string, Promise<RemoteCheckout>>();

/**
 * Clones or updates the repository, resolves the revision to one full commit, checks that commit
 * out, and returns the workflow's local path. A branch or tag (or no revision: the default branch)
 * is pinned on first use in the pin file, and a later use that finds it moved stops with both
 * commits named (docs/engine.md, "Pins").
 */
export function checkoutRemoteWorkflow(ref: RemoteWorkflowRef, options: CheckoutOptions = {}): Promise<RemoteCheckout> {
  const key = JSON.stringify([ref.url, ref.path, ref.rev, resolve(options.pins ?? PIN_FILE), options.updatePin === true]);
  let p = resolved.get(key);
  if (!p) {
    p = checkout(ref, options);
    resolved.set(key, p);
    p.catch(() => resolved.delete(key));
  }
  return p;
}

async function checkout(ref: RemoteWorkflowRef, options: CheckoutOptions): Promise<RemoteCheckout> {
  const { simpleGit } = await import('simple-git');
  const say = options.say ?? ((line: string) => process.stderr.write(`repro: ${line}\n`));
  const pinFile = resolve(options.pins ?? PIN_FILE);
  const pinKey = `${ref.url}@${ref.rev}`;
  const key = createHash('sha256').update(ref.url).digest('hex').slice(0, 16);
  const repoDir = join(cacheRoot(), 'repos', key);
  const have = async (rev: string): Promise<string | null> => {
    try {
      return (await simpleGit(repoDir).revparse(['--verify', '--quiet', `${rev}^{commit}`])).trim() || null;
    } catch {
      return null;
    }
  };
  const pinned = FULL_COMMIT.test(ref.rev) ? undefined : readPins(pinFile).get(pinKey);
  // A full commit the cache already holds needs no network: it cannot have changed.
  const known = FULL_COMMIT.test(ref.rev) && existsSync(join(repoDir, 'HEAD')) && (await have(ref.rev)) !== null;
  if (!known) {
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
      // Offline, with a pin whose commit the cache holds: run what was pinned, and say so.
      if (!(pinned && !options.updatePin && (await have(pinned.commit)))) {
        throw new ReproError(`cannot fetch ${ref.url}: ${firstLine(err)}`, 'step-failed', 'check the URL and your network or credentials');
      }
      say(`cannot fetch ${ref.url} (${firstLine(err)}); using the commit pinned for @${ref.rev}`);
    }
  }
  const commit = await have(ref.rev);
  if (!commit) throw new ReproError(`${ref.url}: no revision '${ref.rev}'`, 'invalid', 'name a commit, tag or branch of that repository');
  const names = `${ref.url}#${ref.path}@${ref.rev}`;
  if (await namesItsCommit(repoDir, ref.rev, commit)) {
    say(`${names} is commit ${commit}`);
  } else if (pinned && pinned.commit !== commit && !options.updatePin) {
    throw new ReproError(
      `${names}: '${ref.rev}' moved since it was pinned: pinned commit ${pinned.commit} (${pinned.pinnedAt}), now ${commit}; nothing ran`,
      'invalid',
      `run the pinned code: ${ref.url}#${ref.path}@${pinned.commit}; or read the new commit, then move the pin: repro pin ${names}`,
    );
  } else {
    const moved = pinned && pinned.commit !== commit ? ` (was ${pinned.commit})` : '';
    if (!pinned || moved) {
      writePin(pinFile, pinKey, commit);
      say(`${names} is commit ${commit}: pinned in ${relativeToCwd(pinFile)}${moved}; a later move of '${ref.rev}' stops the run (repro pin moves the pin)`);
    } else {
      say(`${names} is commit ${commit} (pinned in ${relativeToCwd(pinFile)})`);
    }
  }
  const checkoutDir = join(cacheRoot(), 'checkouts', key, commit);
  // A checkout made earlier is used only if it still is exactly that commit's tree: an edit in the
  // cache would otherwise run under the commit's name. A damaged one is checked out again.
  if (existsSync(checkoutDir) && !(await checkoutMatches(repoDir, checkoutDir, commit))) {
    say(`the cached checkout of ${ref.url}@${commit.slice(0, 12)} differs from that commit; checking it out again`);
    rmSync(checkoutDir, { recursive: true, force: true });
  }
  if (!existsSync(checkoutDir)) {
    const tmp = `${checkoutDir}.${process.pid}.tmp`;
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
    renameSync(tmp, checkoutDir);
  }
  const file = join(checkoutDir, ref.path);
  if (!existsSync(file)) {
    throw new ReproError(`${ref.url}@${commit.slice(0, 12)} has no file ${ref.path}`, 'invalid');
  }
  // A symlink in the repository may point anywhere on this machine: what ran would not be the
  // commit that run.json names.
  const real = realpathSync(file);
  if (!isInside(real, realpathSync(checkoutDir))) {
    throw new ReproError(
      `${ref.url}@${commit.slice(0, 12)}: ${ref.path} is a symbolic link leaving the repository (to ${real}); refused`,
      'invalid',
      'a workflow from a git URL must be a file of that commit; name the file the link points to inside the repository',
    );
  }
  return { file, root: checkoutDir, source: { ...ref, commit } };
}

const FULL_COMMIT = /^[0-9a-f]{40}$/;

/**
 * Whether the revision names its commit by itself (a full or abbreviated commit id, not a branch or
 * tag that happens to look like one): then there is nothing to pin.
 */
async function namesItsCommit(repoDir: string, rev: string, commit: string): Promise<boolean> {
  if (!/^[0-9a-f]{7,40}$/.test(rev) || !commit.startsWith(rev)) return false;
  const { simpleGit } = await import('simple-git');
  // (for-each-ref, not show-ref --verify: simple-git does not reject a silent non-zero exit.)
  const refs = await simpleGit(repoDir).raw(['for-each-ref', '--format=%(refname)', `refs/heads/${rev}`, `refs/tags/${rev}`]);
  if (refs.trim()) return false;
  return true;
}

// ---- the pin file ------------------------------------------------------------------------------
// repro.pins.json, next to the user's project (the folder the command runs in, where results/ and
// .repro/ go): `URL@REV` → the commit it resolved to when first used. Like a lockfile, it is meant to
// be committed with the project.

export const PIN_FILE = 'repro.pins.json';
const PIN_FORMAT = 'repro-pins/1';

interface Pin {
  commit: string;
  pinnedAt: string;
}

/** The pins of a pin file (empty when there is none); keyed by the user's URLs, so a Map. */
export function readPins(file: string): Map<string, Pin> {
  const pins = new Map<string, Pin>();
  if (!existsSync(file)) return pins;
  let doc: { format?: unknown; pins?: unknown };
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ReproError(`${file}: not valid JSON (${firstLine(err)})`, 'invalid', 'repair or delete the pin file; a deleted pin is written again on the next run');
  }
  if (doc?.format !== PIN_FORMAT || !doc.pins || typeof doc.pins !== 'object') {
    throw new ReproError(`${file}: not a pin file (format ${PIN_FORMAT})`, 'invalid');
  }
  for (const [k, v] of Object.entries(doc.pins as Record<string, Pin>)) {
    if (v && typeof v.commit === 'string' && FULL_COMMIT.test(v.commit)) pins.set(k, { commit: v.commit, pinnedAt: String(v.pinnedAt ?? '') });
  }
  return pins;
}

function writePin(file: string, key: string, commit: string): void {
  const pins = readPins(file);
  pins.set(key, { commit, pinnedAt: new Date().toISOString() });
  const out = nullRecord<Pin>();
  for (const k of [...pins.keys()].sort()) setOwn(out, k, pins.get(k)!);
  try {
    writeJsonAtomic(file, { format: PIN_FORMAT, pins: out });
  } catch (err) {
    throw new ReproError(`cannot write the pin file ${file}: ${firstLine(err)}`, 'invalid', 'run from a folder you can write to, or name a commit instead of a branch or tag');
  }
}

const relativeToCwd = (file: string): string => relative(process.cwd(), file) || file;

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
