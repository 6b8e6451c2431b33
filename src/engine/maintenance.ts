// `repro verify` (rehash everything in the store) and `repro gc` (remove what nothing references).
import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { sha256File } from '../core/hash.js';
import { Store, listFiles, removeTree, safeReaddir, type TreeManifest } from './store.js';
import { locateRun, newestRunFirst, type ArtifactRecord, type RunRecord } from '../formats/run-record.js';
import { writeJsonAtomic } from '../core/atomic.js';

export interface StoreProblem {
  kind: 'corrupted' | 'missing' | 'unexpected';
  path: string;
  detail: string;
}

export interface VerifyReport {
  objects: number;
  bytes: number;
  trees: number;
  cacheEntries: number;
  problems: StoreProblem[];
}

/** Rehashes every object and checks every tree, named file and cache entry. Never trusts the stat memo. */
export async function verifyStore(store: Store, onProgress?: (done: number, total: number) => void): Promise<VerifyReport> {
  const report: VerifyReport = { objects: 0, bytes: 0, trees: 0, cacheEntries: 0, problems: [] };
  const bad = new Set<string>();
  const objects = [...store.objectNames()];
  for (const [i, { name, path }] of objects.entries()) {
    onProgress?.(i, objects.length);
    if (!store.isHash(name) || name.endsWith('.tmp')) {
      // A leftover temporary from a crash is harmless; anything else is foreign.
      if (!name.startsWith('.')) report.problems.push({ kind: 'unexpected', path, detail: 'not named by a sha256' });
      continue;
    }
    report.objects++;
    report.bytes += statSync(path).size;
    const actual = await sha256File(path);
    if (actual !== name) {
      bad.add(name);
      report.problems.push({ kind: 'corrupted', path, detail: `content hashes to ${actual}` });
    }
  }
  const objectOk = (sha: string) => !bad.has(sha) && existsSync(store.objectPath(sha));

  // files/<sha>/<name>: hard links (or copies) of objects.
  for (const sha of safeReaddir(join(store.root, 'files'))) {
    for (const name of safeReaddir(join(store.root, 'files', sha))) {
      const path = join(store.root, 'files', sha, name);
      if (!existsSync(store.objectPath(sha))) {
        report.problems.push({ kind: 'missing', path: store.objectPath(sha), detail: `object of ${path}` });
      } else if (statSync(path).ino !== statSync(store.objectPath(sha)).ino && (await sha256File(path)) !== sha) {
        report.problems.push({ kind: 'corrupted', path, detail: 'differs from its object' });
      }
    }
  }

  // trees/<sha>: the manifest object must exist and the materialised files must match it.
  for (const sha of safeReaddir(join(store.root, 'trees'))) {
    if (sha.startsWith('.')) continue;
    report.trees++;
    const dir = store.treePath(sha);
    if (!objectOk(sha)) {
      report.problems.push({ kind: 'missing', path: store.objectPath(sha), detail: `manifest of tree ${dir}` });
      continue;
    }
    const manifest = JSON.parse(readFileSync(store.objectPath(sha), 'utf8')) as TreeManifest;
    const expected = Object.keys(manifest.entries).sort();
    const present = listFiles(dir);
    for (const p of present) if (!(p in manifest.entries)) report.problems.push({ kind: 'unexpected', path: join(dir, p), detail: 'not in the tree manifest' });
    for (const rel of expected) {
      const e = manifest.entries[rel]!;
      const path = join(dir, rel);
      if (!existsSync(path)) report.problems.push({ kind: 'missing', path, detail: `file of tree ${sha.slice(0, 12)}…` });
      else if (!objectOk(e.sha256)) report.problems.push({ kind: 'missing', path: store.objectPath(e.sha256), detail: `object of ${path}` });
      else if (statSync(path).ino !== statSync(store.objectPath(e.sha256)).ino && (await sha256File(path)) !== e.sha256) {
        report.problems.push({ kind: 'corrupted', path, detail: 'differs from its object' });
      }
    }
  }

  // Cache entries must point at artifacts that are present.
  for (const { path, entry } of store.cacheEntries()) {
    report.cacheEntries++;
    if (!entry) {
      report.problems.push({ kind: 'corrupted', path, detail: 'unreadable cache entry' });
      continue;
    }
    for (const [name, rec] of Object.entries(entry.outputs)) {
      if (rec.type === 'value') continue;
      const p = store.artifactPath(rec)!;
      if (!existsSync(p) || !existsSync(store.objectPath(rec.sha256))) {
        report.problems.push({ kind: 'missing', path: p, detail: `output \`${name}\` of ${entry.step} (cache entry ${entry.fingerprint.slice(0, 12)}…)` });
      }
    }
  }
  onProgress?.(objects.length, objects.length);
  return report;
}

export interface GcReport {
  removedObjects: number;
  removedBytes: number;
  removedTrees: number;
  removedFiles: number;
  removedTmp: number;
  keptObjects: number;
  /** Run directories removed by --keep-runs. */
  removedRuns: string[];
}

/** Run directories under the results roots whose run.json uses this store, per workflow directory. */
function storeRuns(store: Store, resultsRoots: string[]): Array<{ workflowDir: string; runs: Array<{ dir: string; rec: RunRecord }> }> {
  const out: Array<{ workflowDir: string; runs: Array<{ dir: string; rec: RunRecord }> }> = [];
  for (const root of resultsRoots) {
    for (const wf of safeReaddir(root)) {
      const runs: Array<{ dir: string; rec: RunRecord }> = [];
      for (const run of safeReaddir(join(root, wf))) {
        if (run === 'latest') continue;
        try {
          const runJson = join(root, wf, run, 'run.json');
          // A run recorded before the project moved names the store where it was then.
          const rec = locateRun(JSON.parse(readFileSync(runJson, 'utf8')) as RunRecord, runJson);
          if (rec.store && resolve(rec.store) === store.root) runs.push({ dir: join(root, wf, run), rec });
        } catch {
          /* not a run directory */
        }
      }
      out.push({ workflowDir: join(root, wf), runs });
    }
  }
  return out;
}

/** Run records found under the results roots that use this store. */
export function runRecordsFor(store: Store, resultsRoots: string[], skip: ReadonlySet<string> = new Set()): RunRecord[] {
  return storeRuns(store, resultsRoots).flatMap(({ runs }) => runs.filter(({ dir }) => !skip.has(dir)).map(({ rec }) => rec));
}

/**
 * The run directories `repro gc --keep-runs N` removes: per workflow, all but the newest N runs that
 * use this store, except a run that is referenced: the one `latest` names, one still `running`, and
 * one that produced outputs the cache still holds (its record is how they were made).
 */
export function runsToPrune(store: Store, resultsRoots: string[], keep: number): string[] {
  const producers = new Set<string>();
  for (const { entry } of store.cacheEntries()) if (entry?.runId) producers.add(entry.runId);
  const out: string[] = [];
  for (const { workflowDir, runs: all } of storeRuns(store, resultsRoots)) {
    let latest: string | null = null;
    try {
      latest = resolve(workflowDir, readlinkSync(join(workflowDir, 'latest')));
    } catch {
      /* no latest link */
    }
    const runs = all.filter(({ rec }) => rec.runId);
    runs.sort((a, b) => newestRunFirst(a.rec, b.rec));
    for (const { dir, rec } of runs.slice(keep)) {
      if (dir === latest || rec.status === 'running' || producers.has(rec.runId)) continue;
      out.push(dir);
    }
  }
  return out;
}

/**
 * Removes objects, trees and named files that no cache entry and no run record references, and
 * work directories of dead runs. Call under the store lock.
 */
export function gcStore(store: Store, options: { resultsRoots: string[]; dryRun?: boolean; pruneRuns?: string[] }): GcReport {
  const pruned = new Set(options.pruneRuns ?? []);
  if (!options.dryRun) for (const dir of pruned) removeTree(dir);
  const liveObjects = new Set<string>();
  const liveTrees = new Set<string>();
  const liveFiles = new Set<string>();
  const mark = (rec: ArtifactRecord) => {
    if (rec.type === 'file') {
      liveObjects.add(rec.sha256);
      if (rec.storePath) liveFiles.add(rec.storePath);
    } else if (rec.type === 'dir') {
      liveObjects.add(rec.sha256);
      liveTrees.add(rec.sha256);
      try {
        const m = store.readManifest(rec.sha256);
        for (const e of Object.values(m.entries)) liveObjects.add(e.sha256);
      } catch {
        /* manifest gone: verify reports it */
      }
    }
  };
  for (const { entry } of store.cacheEntries()) {
    if (!entry) continue;
    for (const rec of Object.values(entry.outputs)) mark(rec);
    if (entry.log) mark(entry.log);
  }
  for (const rec of runRecordsFor(store, options.resultsRoots, pruned)) {
    for (const s of rec.steps) for (const a of [...Object.values(s.outputs ?? {}), ...Object.values(s.inputs ?? {})]) if (a.storePath) mark(a);
  }

  const report: GcReport = { removedObjects: 0, removedBytes: 0, removedTrees: 0, removedFiles: 0, removedTmp: 0, keptObjects: 0, removedRuns: [...pruned] };
  const removed = new Set<string>();
  for (const { name, path } of store.objectNames()) {
    if (liveObjects.has(name)) {
      report.keptObjects++;
      continue;
    }
    report.removedObjects++;
    report.removedBytes += lstatSync(path).size;
    removed.add(name);
    if (!options.dryRun) rmSync(path, { force: true });
  }
  for (const sha of safeReaddir(join(store.root, 'trees'))) {
    if (liveTrees.has(sha)) {
      // A damaged live tree goes too: it is rebuilt from its objects (or its producer re-runs) when next used.
      if (!options.dryRun && store.dropDamagedTree(sha)) report.removedTrees++;
      continue;
    }
    report.removedTrees++;
    if (!options.dryRun) removeTree(store.treePath(sha));
  }
  for (const sha of safeReaddir(join(store.root, 'files'))) {
    for (const name of safeReaddir(join(store.root, 'files', sha))) {
      if (liveFiles.has(`files/${sha}/${name}`)) continue;
      report.removedFiles++;
      if (!options.dryRun) rmSync(join(store.root, 'files', sha, name), { force: true });
    }
    if (!options.dryRun && readdirSafeEmpty(join(store.root, 'files', sha))) rmSync(join(store.root, 'files', sha), { recursive: true, force: true });
  }
  for (const dead of safeReaddir(join(store.root, 'tmp'))) {
    report.removedTmp++;
    if (!options.dryRun) removeTree(join(store.root, 'tmp', dead));
  }
  if (!options.dryRun && removed.size) {
    const memoPath = join(store.root, 'verified.json');
    try {
      const memo = JSON.parse(readFileSync(memoPath, 'utf8')) as Record<string, unknown>;
      for (const sha of removed) delete memo[sha];
      writeJsonAtomic(memoPath, memo);
    } catch {
      /* no memo */
    }
  }
  return report;
}

function readdirSafeEmpty(dir: string): boolean {
  try {
    return readdirSync(dir).length === 0;
  } catch {
    return false;
  }
}
