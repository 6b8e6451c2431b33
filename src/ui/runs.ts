// What `repro ui` knows of the runs under its folder: an index of every run record, kept fresh by
// re-reading only the run.json files whose size or modification time changed since the last look
// (a run in progress rewrites its record as steps end). A URL names a run by `<workflow>/<run-id>`
// and is looked up here: request paths are never joined onto the file system.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { locateRun, newestRunFirst, type LoadedRun, type RunRecord } from '../formats/run-record.js';
import { readListedRun, type RunSummary } from '../engine/runs.js';
import { canonicalJson, sha256 } from '../core/hash.js';
import { metricSteps, runVerdicts, type MetricStep, type RunVerdicts } from '../compare/runs.js';

export interface IndexedRun {
  /** `<workflow folder>/<run id>`: how URLs name the run. */
  key: string;
  summary: RunSummary;
  runDir: string;
  /**
   * The fingerprint of everything but the seed: workflow text, profile, params less seeds, Node,
   * lockfile, repro and the backends used. Runs that share it are repeats of one experiment.
   */
  poolKey: string;
  mtimeMs: number;
  size: number;
}

/** Params that only choose seeds: left out of the pool key. */
const SEED_PARAM = /^(seed|seeds|random_seed)$/i;

export function poolKeyOf(record: RunRecord): string {
  const params = Object.entries(record.params ?? {}).filter(([k]) => !SEED_PARAM.test(k));
  const env = record.environment;
  return sha256(
    canonicalJson({
      workflow: record.workflow?.sha256 ?? null,
      profile: record.profile ?? null,
      params: Object.fromEntries(params),
      node: env?.node ?? null,
      lockfile: env?.lockfileSha256 ?? null,
      repro: env?.repro ?? null,
      backends: env?.backends ?? [],
    }),
  ).slice(0, 16);
}

export class RunIndex {
  private readonly runs = new Map<string, IndexedRun>();
  /** Per run key: its metric steps and verdicts, read once per record version. */
  private readonly resultCache = new Map<string, { mtimeMs: number; steps: MetricStep[]; verdicts: RunVerdicts[] }>();
  private readonly memos = new Map<string, unknown>();

  /** @param root the folder served: run records are in its results/ when it has one, else in root itself. */
  constructor(readonly root: string) {}

  /** Looked up on every refresh: `repro ui` may start before the first run creates results/. */
  get resultsDir(): string {
    const results = join(this.root, 'results');
    return existsSync(results) ? results : this.root;
  }

  /** Looks at the folder again: new, changed and removed runs. Cheap when nothing changed (one stat per run). */
  refresh(): void {
    const seen = new Set<string>();
    const resultsDir = this.resultsDir;
    const wfs = existsSync(resultsDir) ? readdirSync(resultsDir, { withFileTypes: true }) : [];
    for (const wf of wfs) {
      if (!wf.isDirectory()) continue;
      const wfDir = join(resultsDir, wf.name);
      let entries;
      try {
        entries = readdirSync(wfDir, { withFileTypes: true });
      } catch {
        continue;
      }
      for (const run of entries) {
        if (!run.isDirectory()) continue; // `latest` is a link
        const runDir = join(wfDir, run.name);
        const path = join(runDir, 'run.json');
        let st;
        try {
          st = statSync(path);
        } catch {
          continue;
        }
        const key = `${wf.name}/${run.name}`;
        seen.add(key);
        const known = this.runs.get(key);
        if (known && known.mtimeMs === st.mtimeMs && known.size === st.size) continue;
        const listed = readListedRun(path); // null: looked at again next time
        if (!listed) continue;
        try {
          this.runs.set(key, { key, summary: listed.summary, runDir, poolKey: poolKeyOf(listed.record), mtimeMs: st.mtimeMs, size: st.size });
        } catch {
          /* a record too deep to hash: left out as one that is not a record */
        }
      }
    }
    for (const key of this.runs.keys()) if (!seen.has(key)) this.runs.delete(key);
  }

  /** Every run, newest first (by start time, as `repro runs`). */
  all(): IndexedRun[] {
    const at = (r: IndexedRun) => ({ runId: r.summary.id, startedAt: r.summary.startedAt });
    return [...this.runs.values()].sort((a, b) => newestRunFirst(at(a), at(b)) || a.key.localeCompare(b.key));
  }

  get(key: string): IndexedRun | undefined {
    return this.runs.get(key);
  }

  /** The full record, read now (the index keeps only summaries), its store and workflow found where they are now (a moved project). */
  load(run: IndexedRun): LoadedRun {
    const path = run.summary.path;
    return { path, record: locateRun(JSON.parse(readFileSync(path, 'utf8')) as RunRecord, path) };
  }

  /** The run's metric steps (compare/runs.ts), cached until its record changes; [] when the store lost them. */
  metricSteps(run: IndexedRun): MetricStep[] {
    return this.results(run).steps;
  }

  /** The run's verdict files (compare/runs.ts), cached until its record changes; [] when there are none. */
  verdicts(run: IndexedRun): RunVerdicts[] {
    return this.results(run).verdicts;
  }

  /** Metric steps and verdicts of this version of the run's record, read with one parse of run.json. */
  results(run: IndexedRun): { steps: MetricStep[]; verdicts: RunVerdicts[] } {
    const hit = this.resultCache.get(run.key);
    if (hit && hit.mtimeMs === run.mtimeMs) return hit;
    let loaded: LoadedRun | null = null;
    try {
      loaded = this.load(run);
    } catch {
      /* removed or half-written: nothing to show yet */
    }
    // A file the store lost (gc) leaves that part empty, not the page broken.
    const attempt = <T>(read: (r: LoadedRun) => T[]): T[] => {
      try {
        return loaded ? read(loaded) : [];
      } catch {
        return [];
      }
    };
    const value = { mtimeMs: run.mtimeMs, steps: attempt(metricSteps), verdicts: attempt(runVerdicts) };
    this.resultCache.set(run.key, value);
    return value;
  }

  /**
   * A value computed once per key (the key names the record versions it depends on, so a changed
   * run means a new key): the bootstrap intervals of a pool are not drawn again on every view.
   */
  memo<T>(key: string, compute: () => T): T {
    if (this.memos.has(key)) return this.memos.get(key) as T;
    const value = compute();
    if (this.memos.size >= 1000) this.memos.delete(this.memos.keys().next().value!);
    this.memos.set(key, value);
    return value;
  }

  /**
   * Reads every run's metric steps and verdicts ahead of the first page that needs them (the
   * across-runs page reads them all), a few runs per turn of the event loop so requests still
   * answer meanwhile. Resolves when done.
   */
  warm(batch = 25): Promise<void> {
    const runs = this.all();
    return new Promise((done) => {
      let i = 0;
      const step = () => {
        for (const end = Math.min(i + batch, runs.length); i < end; i++) if (this.runs.has(runs[i]!.key)) this.results(this.runs.get(runs[i]!.key)!);
        if (i < runs.length) setImmediate(step);
        else done();
      };
      setImmediate(step);
    });
  }
}
