// Finding a run's record and what its compare steps decided, and diffing two runs: the metric
// means per variant and the fingerprint components that differ per step.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { CliError, ExitCode } from '../cli/exit-codes.js';
import { METRIC_NAMES } from '../formats/metrics.js';
import type { RunRecord, StepRecord } from '../formats/run-record.js';
import type { Verdict, VerdictFile } from '../formats/verdict.js';
import { variantName } from './spec.js';

export interface LoadedRun {
  /** Absolute path of run.json. */
  path: string;
  record: RunRecord;
}

function readRecord(path: string): LoadedRun {
  let record: RunRecord;
  try {
    record = JSON.parse(readFileSync(path, 'utf8')) as RunRecord;
  } catch (err) {
    throw new CliError(`cannot read run record ${path}: ${(err as Error).message}`, ExitCode.INVALID);
  }
  if (!record || typeof record !== 'object' || !Array.isArray(record.steps)) {
    throw new CliError(`${path} is not a repro run record`, ExitCode.INVALID);
  }
  return { path: resolve(path), record };
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
      throw new CliError(`no runs under ${resultsDir}/`, ExitCode.INVALID, 'run a workflow first: repro run FILE (or name a run: repro compare RUN)');
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
      throw new CliError(`no run of ${arg} under ${resultsDir}/`, ExitCode.INVALID, `run it first: repro run ${arg}`);
    }
    throw new CliError(`${arg} is not a run (expected a run.json, a run directory or a workflow file)`, ExitCode.INVALID);
  }
  if (existsSync(join(results, arg, 'latest', 'run.json'))) return readRecord(join(results, arg, 'latest', 'run.json'));
  // A run id: under any workflow's directory, with or without a `latest` link.
  const all = existsSync(results) ? readdirSync(results, { withFileTypes: true }).filter((d) => d.isDirectory()) : [];
  for (const wf of all) {
    const candidate = join(results, wf.name, arg, 'run.json');
    if (existsSync(candidate)) return readRecord(candidate);
  }
  throw new CliError(`no run '${arg}' found under ${resultsDir}/`, ExitCode.INVALID, 'name a run directory, a run.json, a run id or a workflow file');
}

function storeFile(run: LoadedRun, step: StepRecord, output: string): string | null {
  const art = step.outputs?.[output];
  if (!art?.storePath) return null;
  const path = join(run.record.store ?? dirname(run.path), art.storePath);
  if (!existsSync(path)) {
    throw new CliError(
      `the ${output} output of ${step.id} is missing from the store (${path})`,
      ExitCode.CORRUPT,
      'run `repro verify`; re-running the workflow recreates it',
    );
  }
  return path;
}

export interface RunVerdicts {
  step: string;
  file: VerdictFile;
}

/** The verdict files of every compare step of the run that produced one. */
export function runVerdicts(run: LoadedRun): RunVerdicts[] {
  const out: RunVerdicts[] = [];
  for (const step of run.record.steps) {
    if (step.uses !== 'compare') continue;
    const path = storeFile(run, step, 'verdicts');
    if (!path) continue;
    out.push({ step: step.id, file: JSON.parse(readFileSync(path, 'utf8')) as VerdictFile });
  }
  return out;
}

/** Compare steps of the run that did not produce verdicts, and why (failed, skipped, interrupted). */
export function missingVerdicts(run: LoadedRun): string[] {
  return run.record.steps
    .filter((s) => s.uses === 'compare' && !s.outputs?.verdicts?.storePath)
    .map((s) => `${s.id}: ${s.status}${s.error ? ` (${s.error})` : ''}`);
}

// ——— run-to-run ———

/** Axes that pair runs (seeds, folds) rather than distinguish variants: metric means average over them. */
const REPLICATE_AXES = new Set(['seed', 'fold']);

function groupLabel(step: StepRecord): string {
  const axes = Object.entries(step.matrix ?? {}).filter(([k]) => !REPLICATE_AXES.has(k));
  return axes.length ? `${step.stepId} ${axes.map(([k, v]) => `${k}=${variantName(v)}`).join(',')}` : step.stepId;
}

/** group → metric → values over seeds/folds, from every step output named `metrics`. */
export function runMetrics(run: LoadedRun): Map<string, Map<string, number[]>> {
  const out = new Map<string, Map<string, number[]>>();
  for (const step of run.record.steps) {
    const path = step.outputs?.metrics?.type === 'file' ? storeFile(run, step, 'metrics') : null;
    if (!path) continue;
    let metrics: Record<string, unknown>;
    try {
      metrics = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    } catch {
      continue;
    }
    const label = groupLabel(step);
    const group = out.get(label) ?? new Map<string, number[]>();
    out.set(label, group);
    for (const [name, v] of Object.entries(metrics)) {
      if (typeof v !== 'number' || !Number.isFinite(v) || name === 'n') continue;
      group.set(name, [...(group.get(name) ?? []), v]);
    }
  }
  return out;
}

export interface MetricDelta {
  group: string;
  metric: string;
  a: { mean: number; n: number } | null;
  b: { mean: number; n: number } | null;
  delta: number | null;
}

export interface StepDiff {
  step: string;
  /** 'same' fingerprint, 'changed' (with what), or present in one run only. */
  status: 'same' | 'changed' | 'only in A' | 'only in B';
  changes: string[];
}

export interface VerdictChange {
  id: string;
  a: Verdict | null;
  b: Verdict | null;
}

export interface RunDiff {
  a: { runId: string; path: string; scale?: string };
  b: { runId: string; path: string; scale?: string };
  params: string[];
  metrics: MetricDelta[];
  steps: StepDiff[];
  verdicts: VerdictChange[];
}

const avg = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

function metricOrder(name: string): number {
  const i = (METRIC_NAMES as readonly string[]).indexOf(name);
  return i < 0 ? METRIC_NAMES.length : i;
}

export async function diffRuns(a: LoadedRun, b: LoadedRun): Promise<RunDiff> {
  const { diffComponents, diffParams } = await import('../engine/fingerprint.js');
  const ma = runMetrics(a);
  const mb = runMetrics(b);
  const metrics: MetricDelta[] = [];
  for (const group of [...new Set([...ma.keys(), ...mb.keys()])].sort()) {
    const ga = ma.get(group) ?? new Map<string, number[]>();
    const gb = mb.get(group) ?? new Map<string, number[]>();
    const names = [...new Set([...ga.keys(), ...gb.keys()])].sort((x, y) => metricOrder(x) - metricOrder(y) || x.localeCompare(y));
    for (const metric of names) {
      const va = ga.get(metric);
      const vb = gb.get(metric);
      const sa = va ? { mean: avg(va), n: va.length } : null;
      const sb = vb ? { mean: avg(vb), n: vb.length } : null;
      metrics.push({ group, metric, a: sa, b: sb, delta: sa && sb ? sb.mean - sa.mean : null });
    }
  }

  const stepsA = new Map(a.record.steps.map((s) => [s.id, s]));
  const stepsB = new Map(b.record.steps.map((s) => [s.id, s]));
  const steps: StepDiff[] = [];
  for (const id of [...new Set([...stepsA.keys(), ...stepsB.keys()])]) {
    const sa = stepsA.get(id);
    const sb = stepsB.get(id);
    if (!sa) steps.push({ step: id, status: 'only in B', changes: [] });
    else if (!sb) steps.push({ step: id, status: 'only in A', changes: [] });
    else if (sa.fingerprint === sb.fingerprint) steps.push({ step: id, status: 'same', changes: [] });
    else {
      let changes: string[];
      try {
        changes = diffComponents(sa.fingerprintComponents as never, sb.fingerprintComponents as never);
      } catch {
        changes = ['fingerprint components differ'];
      }
      steps.push({ step: id, status: 'changed', changes });
    }
  }

  const verdictsOf = (run: LoadedRun) =>
    new Map(runVerdicts(run).flatMap((v) => v.file.checks.map((c) => [c.id, c.verdict] as const)));
  const va = verdictsOf(a);
  const vb = verdictsOf(b);
  const verdicts = [...new Set([...va.keys(), ...vb.keys()])]
    .map((id) => ({ id, a: va.get(id) ?? null, b: vb.get(id) ?? null }))
    .filter((v) => v.a !== v.b);

  const scaleOf = (run: LoadedRun) => runVerdicts(run)[0]?.file.scale ?? run.record.scale;
  return {
    a: { runId: a.record.runId, path: a.path, ...(scaleOf(a) ? { scale: scaleOf(a) } : {}) },
    b: { runId: b.record.runId, path: b.path, ...(scaleOf(b) ? { scale: scaleOf(b) } : {}) },
    params: diffParams(a.record.params ?? {}, b.record.params ?? {}),
    metrics,
    steps,
    verdicts,
  };
}
