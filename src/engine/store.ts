// The content-addressed artifact store (default `.repro/` in the working directory).
//
//   objects/ab/<sha256>      every file's bytes, named by its hash, read-only; tree manifests too
//   files/<sha256>/<name>    a file output under its own name (a hard link to the object), so a
//                            step reading it sees 'data.npz', not a bare hash
//   trees/<sha256>/…         a directory output, materialised read-only (hard links to objects);
//                            <sha256> is the hash of its manifest (relative path → sha256, size)
//   cache/ab/<fp>.json       cache entry: step fingerprint → its outputs
//   history/<workflow>.json  per step id, the fingerprint components of its last run (for `why`)
//   scratch/<key>/           checkpoints kept between attempts of one step; removed on success
//   tmp/<run-id>/            work directories of running steps; a dead run's are removed
//   verified.json            stat memo of hashed objects (see verifyObject)
//   lock                     held by the process writing the store (src/engine/lock.ts)
//
// Nothing is visible under its final name before it is complete: files are hashed where the
// step wrote them (inside tmp/, same filesystem) and renamed in; trees are built under a
// temporary name and renamed; JSON goes through writeJsonAtomic.
import {
  chmodSync,
  closeSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  copyFileSync,
  type Stats,
  fsyncSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import { sha256, sha256File, canonicalJson } from '../core/hash.js';
import { writeJsonAtomic, tempPathFor } from '../core/atomic.js';
import type { ArtifactRecord } from '../formats/run-record.js';
import type { StepOutput } from '../steps/kind.js';
import type { ExecutionFacts } from '../core/facts.js';
import { StepError } from '../core/errors.js';
import { nullRecord, toNullRecord } from '../core/names.js';

export const TREE_FORMAT = 'repro-tree/1';
export const CACHE_FORMAT = 'repro-cache/1';

export interface TreeManifest {
  format: typeof TREE_FORMAT;
  /** Relative path ('/'-separated) → content. */
  entries: Record<string, { sha256: string; size: number }>;
  /** Empty directories, so they survive the round trip. */
  dirs: string[];
}

export interface CacheEntry {
  format: typeof CACHE_FORMAT;
  fingerprint: string;
  /** The concrete step id that produced it (informative: equal fingerprints share an entry). */
  step: string;
  uses: string;
  outputs: Record<string, ArtifactRecord>;
  facts?: ExecutionFacts;
  summary?: string;
  durationMs: number;
  createdAt: string;
  /** The run that produced it, and that run's log of the step (stored, so a cached step still has its log). */
  runId?: string;
  log?: ArtifactRecord;
}

/** Raised when a stored object's bytes no longer match its name. */
export class CorruptObjectError extends Error {
  constructor(
    public readonly sha: string,
    public readonly path: string,
    public readonly problem: string,
  ) {
    super(`store object ${path} is ${problem}`);
    this.name = 'CorruptObjectError';
  }
}

type Memo = Record<string, [size: number, ino: number, mtimeMs: number, ctimeMs: number]>;

const SHA_RE = /^[0-9a-f]{64}$/;

export class Store {
  readonly root: string;
  private memo: Memo | null = null;
  private memoDirty = false;
  /** Objects already verified by this process: no second stat. */
  private readonly verifiedHere = new Set<string>();

  constructor(root: string) {
    this.root = resolve(root);
  }

  objectPath(sha: string): string {
    return join(this.root, 'objects', sha.slice(0, 2), sha);
  }
  treePath(sha: string): string {
    return join(this.root, 'trees', sha);
  }
  cachePath(fingerprint: string): string {
    return join(this.root, 'cache', fingerprint.slice(0, 2), `${fingerprint}.json`);
  }
  tmpDir(runId: string): string {
    return join(this.root, 'tmp', runId);
  }
  scratchDir(stepId: string, fingerprint: string): string {
    return join(this.root, 'scratch', sha256(`${stepId}\0${fingerprint}`).slice(0, 32));
  }
  /** One history per workflow and profile: `repro why` compares with the last run under the same profile. */
  historyPath(workflow: string, profile: string | null = null): string {
    const safe = (x: string) => x.replace(/[^A-Za-z0-9._-]/g, '_');
    return join(this.root, 'history', `${safe(workflow)}${profile ? `@${safe(profile)}` : ''}.json`);
  }

  /** Absolute path a step receives for an artifact (file/dir); null for a value. */
  artifactPath(rec: ArtifactRecord): string | null {
    return rec.storePath ? join(this.root, rec.storePath) : null;
  }

  // ---- writing ---------------------------------------------------------------------------

  /** Moves the outputs a step wrote in workDir into the store. */
  async putOutputs(outputs: Record<string, StepOutput>, workDir: string): Promise<Record<string, ArtifactRecord>> {
    const out = nullRecord<ArtifactRecord>(); // output names are the user's
    for (const [name, o] of Object.entries(outputs)) {
      if (o.type === 'value') {
        const text = canonicalJson(o.value ?? null);
        out[name] = { type: 'value', sha256: sha256(text), value: JSON.parse(text) };
        continue;
      }
      const abs = resolve(workDir, o.path);
      const rel = relative(resolve(workDir), abs);
      if (rel.startsWith('..') || resolve(workDir, rel) !== abs || rel === '') {
        throw new StepError(`output \`${name}\` (${o.path}) is outside the step's work directory`);
      }
      let st: Stats;
      try {
        st = lstatSync(abs);
      } catch {
        throw new StepError(`output \`${name}\`: ${o.path} was not written by the step`);
      }
      if (o.type === 'file') {
        if (!st.isFile()) throw new StepError(`output \`${name}\`: ${o.path} is not a regular file`);
        out[name] = await this.putFile(abs, basename(abs));
      } else {
        if (!st.isDirectory()) throw new StepError(`output \`${name}\`: ${o.path} is not a directory`);
        out[name] = await this.putDir(abs);
      }
    }
    return out;
  }

  /** Stores a file by moving it (it must live on the store's filesystem, e.g. in tmp/); returns its record. */
  async putFile(src: string, name: string): Promise<ArtifactRecord> {
    const sha = await this.storeObject(src);
    const size = statSync(this.objectPath(sha)).size;
    const named = join(this.root, 'files', sha, name);
    let namedIno: number | null = null;
    try {
      namedIno = statSync(named).ino;
    } catch {
      /* not there yet */
    }
    if (namedIno !== statSync(this.objectPath(sha)).ino) {
      // Absent, or left over from an object that was found corrupted and replaced.
      rmSync(named, { force: true });
      mkdirSync(dirname(named), { recursive: true });
      linkOrCopy(this.objectPath(sha), named);
    }
    this.remember(sha);
    return { type: 'file', sha256: sha, size, storePath: relative(this.root, named).split(sep).join('/') };
  }

  /** Hashes `src` and moves it to objects/ (or drops it if an intact copy is there). */
  private async storeObject(src: string): Promise<string> {
    const sha = await sha256File(src);
    const obj = this.objectPath(sha);
    if (existsSync(obj)) {
      try {
        await this.verifyObject(sha);
        rmSync(src, { force: true });
        return sha;
      } catch (err) {
        if (!(err instanceof CorruptObjectError)) throw err;
        rmSync(obj, { force: true }); // replaced by the good copy below
      }
    }
    mkdirSync(dirname(obj), { recursive: true });
    chmodSync(src, 0o444);
    try {
      renameSync(src, obj);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
      const tmp = tempPathFor(obj);
      copyFileSync(src, tmp);
      chmodSync(tmp, 0o444);
      renameSync(tmp, obj);
      rmSync(src, { force: true });
    }
    this.remember(sha);
    return sha;
  }

  private putBytes(data: string): string {
    const sha = sha256(data);
    const obj = this.objectPath(sha);
    if (!existsSync(obj)) {
      mkdirSync(dirname(obj), { recursive: true });
      const tmp = tempPathFor(obj);
      const fd = openSync(tmp, 'w', 0o444);
      try {
        writeSync(fd, data);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, obj);
    }
    this.remember(sha);
    return sha;
  }

  /** Stores a directory as a tree: its files become objects, its manifest an object, and it is materialised under trees/. */
  async putDir(src: string): Promise<ArtifactRecord> {
    const manifest: TreeManifest = { format: TREE_FORMAT, entries: nullRecord(), dirs: [] };
    let total = 0;
    const walk = async (dir: string, prefix: string): Promise<void> => {
      const names = readdirSync(dir).sort();
      if (names.length === 0 && prefix) manifest.dirs.push(prefix.slice(0, -1));
      for (const n of names) {
        const abs = join(dir, n);
        const st = lstatSync(abs);
        if (st.isDirectory()) await walk(abs, `${prefix}${n}/`);
        else if (st.isFile()) {
          const sha = await this.storeObject(abs);
          manifest.entries[prefix + n] = { sha256: sha, size: st.size };
          total += st.size;
        } else {
          throw new StepError(`output directory ${src} holds ${prefix + n}, which is not a regular file or directory (links are not stored)`);
        }
      }
    };
    await walk(src, '');
    const treeSha = this.putBytes(canonicalJson(manifest));
    await this.healTree(treeSha, manifest);
    rmSync(src, { recursive: true, force: true });
    return { type: 'dir', sha256: treeSha, size: total, storePath: `trees/${treeSha}` };
  }

  readManifest(treeSha: string): TreeManifest {
    const m = JSON.parse(readFileSync(this.objectPath(treeSha), 'utf8')) as TreeManifest;
    return { ...m, entries: toNullRecord(m.entries) }; // file names are the user's
  }

  /** Builds trees/<sha> from objects, under a temporary name, then renames it in and makes it read-only. */
  materialiseTree(treeSha: string, manifest: TreeManifest = this.readManifest(treeSha)): void {
    const final = this.treePath(treeSha);
    if (existsSync(final)) return;
    this.buildTree(treeSha, manifest);
  }

  /**
   * After a step stored a directory: its tree is built, or, when one is there already, checked against
   * the manifest and rebuilt if it was damaged (a byte changed, a file added or removed): the re-run
   * of the producer is what heals a tree.
   */
  private async healTree(treeSha: string, manifest: TreeManifest): Promise<void> {
    if (existsSync(this.treePath(treeSha))) {
      if (!(await this.treeProblem(treeSha, manifest))) return;
      removeTree(this.treePath(treeSha));
    }
    this.buildTree(treeSha, manifest);
  }

  private buildTree(treeSha: string, manifest: TreeManifest): void {
    const final = this.treePath(treeSha);
    const tmp = join(this.root, 'trees', `.tmp-${treeSha.slice(0, 12)}-${process.pid}-${randomBytes(3).toString('hex')}`);
    mkdirSync(tmp, { recursive: true });
    for (const d of manifest.dirs) mkdirSync(join(tmp, d), { recursive: true });
    for (const [rel, e] of Object.entries(manifest.entries)) {
      const dest = join(tmp, rel);
      mkdirSync(dirname(dest), { recursive: true });
      linkOrCopy(this.objectPath(e.sha256), dest);
    }
    try {
      renameSync(tmp, final);
    } catch (err) {
      removeTree(tmp);
      if (existsSync(final)) return;
      throw err;
    }
    setTreeReadOnly(final);
  }

  // ---- cache -----------------------------------------------------------------------------

  readCacheEntry(fingerprint: string): CacheEntry | null {
    try {
      const e = JSON.parse(readFileSync(this.cachePath(fingerprint), 'utf8')) as CacheEntry;
      return e.format === CACHE_FORMAT && e.fingerprint === fingerprint ? { ...e, outputs: toNullRecord(e.outputs) } : null;
    } catch {
      return null;
    }
  }

  writeCacheEntry(entry: CacheEntry): void {
    writeJsonAtomic(this.cachePath(entry.fingerprint), entry);
  }

  *cacheEntries(): Generator<{ path: string; entry: CacheEntry | null }> {
    const dir = join(this.root, 'cache');
    for (const sub of safeReaddir(dir)) {
      for (const f of safeReaddir(join(dir, sub))) {
        if (!f.endsWith('.json')) continue;
        const path = join(dir, sub, f);
        let entry: CacheEntry | null = null;
        try {
          entry = JSON.parse(readFileSync(path, 'utf8')) as CacheEntry;
        } catch {
          entry = null;
        }
        yield { path, entry };
      }
    }
  }

  // ---- reading and verifying -------------------------------------------------------------

  /**
   * Checks an object before its bytes are used. The full SHA-256 is computed the first time, and
   * again whenever the file's stat signature (size, inode, mtime, ctime) differs from the one
   * recorded when it was last hashed: any write to the file, even by root through a read-only
   * mode, changes mtime or ctime. So a re-run costs a stat per object, and a modified object is
   * always rehashed. Silent media corruption is what `repro verify` (always rehashing) is for.
   */
  async verifyObject(sha: string): Promise<void> {
    if (this.verifiedHere.has(sha)) return;
    const path = this.objectPath(sha);
    let st: Stats;
    try {
      st = statSync(path);
    } catch {
      throw new CorruptObjectError(sha, path, 'missing');
    }
    const memo = this.loadMemo()[sha];
    if (!(memo && memo[0] === st.size && memo[1] === st.ino && memo[2] === st.mtimeMs && memo[3] === st.ctimeMs)) {
      const actual = await sha256File(path);
      if (actual !== sha) throw new CorruptObjectError(sha, path, `corrupted (its content hashes to ${actual.slice(0, 12)}…)`);
      this.remember(sha, st);
    }
    this.verifiedHere.add(sha);
  }

  /** Verifies an artifact (file: object + named link; dir: manifest, objects, materialised tree) before a step reads it. */
  async verifyArtifact(rec: ArtifactRecord): Promise<void> {
    if (rec.type === 'value') return;
    const key = `${rec.type}:${rec.storePath}`;
    if (this.verifiedHere.has(key)) return;
    if (rec.type === 'file') {
      await this.verifyObject(rec.sha256);
      await this.checkLinkedCopy(join(this.root, rec.storePath!), rec.sha256, true);
    } else {
      await this.verifyObject(rec.sha256);
      const manifest = this.readManifest(rec.sha256);
      for (const e of Object.values(manifest.entries)) await this.verifyObject(e.sha256);
      const tree = this.treePath(rec.sha256);
      if (!existsSync(tree)) this.materialiseTree(rec.sha256, manifest);
      const problem = await this.treeProblem(rec.sha256, manifest);
      // Named by the tree's own hash, so discarding it removes the whole damaged tree (rebuilt from its objects).
      if (problem) throw new CorruptObjectError(rec.sha256, tree, problem);
    }
    this.verifiedHere.add(key);
  }

  /** Why the materialised tree differs from its manifest (a file added, missing or changed), or null when it does not. */
  private async treeProblem(treeSha: string, manifest: TreeManifest): Promise<string | null> {
    const tree = this.treePath(treeSha);
    const present = listFiles(tree);
    const expected = Object.keys(manifest.entries).sort();
    if (present.join('\n') !== expected.join('\n')) return 'altered (its files differ from its manifest)';
    for (const [rel, e] of Object.entries(manifest.entries)) {
      try {
        await this.checkLinkedCopy(join(tree, rel), e.sha256, false);
      } catch (err) {
        if (err instanceof CorruptObjectError) return `altered (${rel} is ${err.problem})`;
        throw err;
      }
    }
    return null;
  }

  /**
   * Removes a materialised tree whose files are not exactly its objects (same names, same inodes), so
   * it is rebuilt from them when next used; a copy on another filesystem is removed too (rebuilt the
   * same way). Returns whether it removed the tree. Cheap: a stat per file, no hashing (for gc).
   */
  dropDamagedTree(treeSha: string): boolean {
    const tree = this.treePath(treeSha);
    if (!existsSync(tree)) return false;
    let intact: boolean;
    try {
      const manifest = this.readManifest(treeSha);
      const expected = Object.keys(manifest.entries).sort();
      intact =
        listFiles(tree).join('\n') === expected.join('\n') &&
        expected.every((rel) => statSync(join(tree, rel)).ino === statSync(this.objectPath(manifest.entries[rel]!.sha256)).ino);
    } catch {
      intact = false; // a manifest or object gone: verify reports it
    }
    if (!intact) removeTree(tree);
    return !intact;
  }

  /** A materialised copy is fine when it is the object's own inode (a hard link), else it is hashed. */
  private async checkLinkedCopy(path: string, sha: string, relink: boolean): Promise<void> {
    let st: Stats;
    try {
      st = statSync(path);
    } catch {
      if (!relink) throw new CorruptObjectError(sha, path, 'missing');
      mkdirSync(dirname(path), { recursive: true });
      linkOrCopy(this.objectPath(sha), path);
      return;
    }
    if (st.ino === statSync(this.objectPath(sha)).ino) return;
    const actual = await sha256File(path);
    if (actual !== sha) throw new CorruptObjectError(sha, path, `corrupted (its content hashes to ${actual.slice(0, 12)}…)`);
  }

  /** Cheap check for a cache hit: every output still present and intact (memo-verified). Returns the problem, or null. */
  async checkOutputs(outputs: Record<string, ArtifactRecord>): Promise<string | null> {
    for (const [name, rec] of Object.entries(outputs)) {
      try {
        await this.verifyArtifact(rec);
      } catch (err) {
        if (err instanceof CorruptObjectError) {
          // A corrupted object is garbage: drop it so the re-run stores a good one.
          if (err.problem !== 'missing') this.discard(err.sha, err.path);
          return `cached output \`${name}\` is ${err.problem} in the store`;
        }
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return `cached output \`${name}\` is missing from the store`;
        throw err;
      }
    }
    return null;
  }

  private discard(sha: string, path: string): void {
    if (path.startsWith(join(this.root, 'trees'))) removeTree(this.treePath(sha));
    else {
      rmSync(path, { force: true });
      // Its named links share the corrupted inode.
      rmSync(join(this.root, 'files', sha), { recursive: true, force: true });
    }
    if (this.memo) delete this.memo[sha];
  }

  private loadMemo(): Memo {
    if (this.memo) return this.memo;
    try {
      this.memo = JSON.parse(readFileSync(join(this.root, 'verified.json'), 'utf8')) as Memo;
    } catch {
      this.memo = {};
    }
    return this.memo;
  }

  private remember(sha: string, st?: Stats): void {
    let s = st;
    if (!s) {
      try {
        s = statSync(this.objectPath(sha));
      } catch {
        return;
      }
    }
    this.loadMemo()[sha] = [s.size, s.ino, s.mtimeMs, s.ctimeMs];
    this.memoDirty = true;
    this.verifiedHere.add(sha);
  }

  /** Persists the stat memo (call once at the end of a run, under the lock). */
  saveMemo(): void {
    if (!this.memoDirty || !this.memo) return;
    // Making a hard link changes only the inode's ctime: refresh that, for objects verified in
    // this process. A changed size or mtime (a step wrote into its input) keeps the old signature,
    // so the next read rehashes and catches it.
    for (const sha of Object.keys(this.memo)) {
      if (!this.verifiedHere.has(sha)) continue;
      const m = this.memo[sha]!;
      try {
        const s = statSync(this.objectPath(sha));
        if (s.size === m[0] && s.ino === m[1] && s.mtimeMs === m[2]) m[3] = s.ctimeMs;
      } catch {
        delete this.memo[sha];
      }
    }
    writeJsonAtomic(join(this.root, 'verified.json'), this.memo);
    this.memoDirty = false;
  }

  /** Every object name in objects/ (names that are not hashes are reported by verify). */
  *objectNames(): Generator<{ name: string; path: string }> {
    const dir = join(this.root, 'objects');
    for (const sub of safeReaddir(dir)) {
      for (const name of safeReaddir(join(dir, sub))) yield { name, path: join(dir, sub, name) };
    }
  }

  isHash(name: string): boolean {
    return SHA_RE.test(name);
  }
}

function linkOrCopy(src: string, dest: string): void {
  try {
    linkSync(src, dest);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'EMLINK' && code !== 'ENOTSUP') throw err;
    const tmp = tempPathFor(dest);
    copyFileSync(src, tmp);
    chmodSync(tmp, 0o444);
    renameSync(tmp, dest);
  }
}

export function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Relative paths ('/'-separated, sorted) of the regular files under dir. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, prefix: string) => {
    for (const ent of readdirSync(d, { withFileTypes: true })) {
      if (ent.isDirectory()) walk(join(d, ent.name), `${prefix}${ent.name}/`);
      else out.push(prefix + ent.name);
    }
  };
  walk(dir, '');
  return out.sort();
}

function setTreeReadOnly(dir: string): void {
  for (const ent of readdirSync(dir, { withFileTypes: true })) {
    if (ent.isDirectory()) setTreeReadOnly(join(dir, ent.name));
  }
  chmodSync(dir, 0o555);
}

/** Removes a directory made read-only by the store. */
export function removeTree(dir: string): void {
  if (!existsSync(dir)) return;
  const writable = (d: string) => {
    try {
      chmodSync(d, 0o755);
    } catch {
      return;
    }
    for (const ent of readdirSync(d, { withFileTypes: true })) if (ent.isDirectory()) writable(join(d, ent.name));
  };
  writable(dir);
  rmSync(dir, { recursive: true, force: true });
}

/** Hashes a local input (file, or directory as a tree manifest) without storing it. */
export async function hashInputPath(path: string): Promise<{ type: 'file' | 'dir'; sha256: string; size: number }> {
  const st = statSync(path);
  if (st.isFile()) return { type: 'file', sha256: await sha256File(path), size: st.size };
  if (!st.isDirectory()) throw new StepError(`input ${path} is not a file or directory`);
  const manifest: TreeManifest = { format: TREE_FORMAT, entries: nullRecord(), dirs: [] };
  let total = 0;
  const walk = async (dir: string, prefix: string) => {
    const names = readdirSync(dir).sort();
    if (names.length === 0 && prefix) manifest.dirs.push(prefix.slice(0, -1));
    for (const n of names) {
      const abs = join(dir, n);
      const s = statSync(abs);
      if (s.isDirectory()) await walk(abs, `${prefix}${n}/`);
      else if (s.isFile()) {
        manifest.entries[prefix + n] = { sha256: await sha256File(abs), size: s.size };
        total += s.size;
      }
    }
  };
  await walk(path, '');
  return { type: 'dir', sha256: sha256(canonicalJson(manifest)), size: total };
}
