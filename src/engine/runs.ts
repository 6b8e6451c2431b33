// Finding a run's record: what `repro compare`, `report` and `export` mean by RUN.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { locateRun, newestRunFirst, roleOf, type LoadedRun, type RunRecord } from '../formats/run-record.js';
import { ReproError } from '../core/errors.js';

function readRecord(path: string): LoadedRun {
  let record: RunRecord;
  try {
    record = JSON.parse(readFileSync(path, 'utf8')) as RunRecord;
  } catch (err) {
    throw new ReproError(`cannot read run record ${path}: ${(err as Error).message}`, 'invalid');
  }
  if (!record || typeof record !== 'object' || !Array.isArray(record.steps)) {
    throw new ReproError(`${path} is not a repro run record`, 'invalid');
  }
  // Its store and workflow where they are now, should the project have moved since the run.
  return { path: resolve(path), record: locateRun(record, path) };
}

function workflowDirs(results: string): string[] {
  if (!existsSync(results)) return [];
  return readdirSync(results, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(results, d.name, 'latest', 'run.json')))
    .map((d) => join(results, d.name));
}

/** The workflow name a YAML file declares, without loading the whole workflow. */
async function workflowName(file: string): Promise<string | null> {
  try {
    const { parse } = await import('yaml');
    const doc = parse(readFileSync(file, 'utf8')) as { name?: unknown } | null;
    return typeof doc?.name === 'string' ? doc.name : null;
  } catch {
    return null;
  }
}

/**
 * RUN may be: a run.json path; a run directory; a workflow's results directory (its `latest`);
 * a workflow file (its latest run); a run id or a workflow name under `results`. Without RUN: the
 * newest `latest` run under `results`.
 */
export async function resolveRun(arg: string | undefined, resultsDir = 'results'): Promise<LoadedRun> {
  const results = resolve(resultsDir);
  if (arg === undefined) {
    const dirs = workflowDirs(results);
    if (dirs.length === 0) {
      throw new ReproError(`no runs under ${resultsDir}/`, 'invalid', 'run a workflow first (repro run workflows/paper.yaml), or name a run: its directory, run.json, run id or workflow');
    }
    const newest = dirs
      .map((d) => join(d, 'latest', 'run.json'))
      .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0]!;
    return readRecord(newest);
  }
  if (existsSync(arg)) {
    const st = statSync(arg);
    if (st.isFile() && basename(arg) === 'run.json') return readRecord(arg);
    if (st.isDirectory()) {
      if (existsSync(join(arg, 'run.json'))) return readRecord(join(arg, 'run.json'));
      if (existsSync(join(arg, 'latest', 'run.json'))) return readRecord(join(arg, 'latest', 'run.json'));
    }
    if (st.isFile() && /\.ya?ml$/i.test(arg)) {
      const name = await workflowName(arg);
      const latest = name && join(results, name, 'latest', 'run.json');
      if (latest && existsSync(latest)) return readRecord(latest);
      throw new ReproError(`no run of ${arg} under ${resultsDir}/`, 'invalid', `run it first: repro run ${arg}`);
    }
    throw new ReproError(`${arg} is not a run (expected a run.json, a run directory or a workflow file)`, 'invalid');
  }
  if (existsSync(join(results, arg, 'latest', 'run.json'))) return readRecord(join(results, arg, 'latest', 'run.json'));
  for (const wf of workflowDirs(results)) {
    const candidate = join(wf, arg, 'run.json');
    if (existsSync(candidate)) return readRecord(candidate);
  }
  throw new ReproError(`no run '${arg}' found under ${resultsDir}/`, 'invalid', 'name a run directory, a run.json, a run id or a workflow file');
}

export interface RunSummary {
  id: string;
  /** Absolute path of run.json. */
  path: string;
  workflow: string;
  profile: string | null;
  /** The git commit of the workflow's repository when the run ended (null when not in git or not known yet). */
  commit: string | null;
  status: RunRecord['status'];
  startedAt: string;
  durationMs: number | null;
  ran: number;
  cached: number;
  failed: number;
  /** The summaries of the run's compare steps ("2 reproduced, 1 not recorded (full)"). */
  verdicts: string[];
}

/** One line of `repro runs` (and of `repro ui`'s list) from a record. */
export function summarizeRun(path: string, record: RunRecord): RunSummary {
  const count = (...st: string[]) => record.steps.filter((s) => st.includes(s.status)).length;
  return {
    id: record.runId,
    path,
    workflow: record.workflow.name,
    profile: record.profile,
    commit: record.git?.commit ?? null,
    status: record.status,
    startedAt: record.startedAt,
    durationMs: record.durationMs ?? null,
    ran: count('succeeded', 'failed', 'interrupted'),
    cached: count('cached'),
    failed: count('failed'),
    verdicts: record.steps.filter((s) => roleOf(s) === 'comparison' && s.summary).map((s) => s.summary!),
  };
}

/**
 * The record at `path` and its summary when it is a run record a list shows (steps and a run id);
 * null when it is half-written or not a record: `repro runs` and `repro ui` skip it, the ui looks again later.
 */
export function readListedRun(path: string): { record: RunRecord; summary: RunSummary } | null {
  try {
    const record = JSON.parse(readFileSync(path, 'utf8')) as RunRecord;
    return Array.isArray(record?.steps) && record.runId ? { record, summary: summarizeRun(path, record) } : null;
  } catch {
    return null;
  }
}

/** Every run record under `results` (of one workflow, when named), newest first. Unreadable ones are skipped. */
export function listRuns(resultsDir = 'results', workflow?: string): RunSummary[] {
  const results = resolve(resultsDir);
  if (!existsSync(results)) return [];
  const out: RunSummary[] = [];
  for (const wf of readdirSync(results, { withFileTypes: true })) {
    if (!wf.isDirectory() || (workflow !== undefined && wf.name !== workflow)) continue;
    for (const run of readdirSync(join(results, wf.name), { withFileTypes: true })) {
      if (!run.isDirectory()) continue; // `latest` is a link
      const listed = readListedRun(join(results, wf.name, run.name, 'run.json'));
      if (listed) out.push(listed.summary);
    }
  }
  return out.sort((a, b) => newestRunFirst({ runId: a.id, startedAt: a.startedAt }, { runId: b.id, startedAt: b.startedAt }));
}
