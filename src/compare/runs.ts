// Finding a run's record and what its compare steps decided, and diffing two runs: the metric
// means per variant and the fingerprint components that differ per step.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { METRIC_NAMES } from '../formats/metrics.js';
import { roleOf, type LoadedRun, type StepRecord } from '../formats/run-record.js';
import type { Verdict, VerdictFile } from '../formats/verdict.js';
import { variantName } from './spec.js';
import { ReproError } from '../core/errors.js';
import { environmentChanges, factChanges, type FactChange } from './differences.js';
import { compareSamples, smallestEffects, type RunSamples, type SampleComparison } from './reproduction.js';

/**
 * How two runs' fingerprints differ, handed in by the caller (the engine's diffComponents and
 * diffParams): the engine computes fingerprints, compare only reports what changed.
 */
export interface FingerprintDiff {
  components(a: Record<string, unknown>, b: Record<string, unknown>): string[];
  params(a: Record<string, unknown>, b: Record<string, unknown>): string[];
}

/**
 * A run to read: a record in a results folder (its outputs in the store), or one unpacked from an
 * export archive, whose `locate` says where each output lies (the archive's artifacts/).
 */
export interface RunSource extends LoadedRun {
  locate?(step: StepRecord, output: string): string | null;
}

function storeFile(run: RunSource, step: StepRecord, output: string): string | null {
  const art = step.outputs?.[output];
  if (!art?.storePath) return null;
  if (run.locate) {
    const path = run.locate(step, output);
    if (!path || !existsSync(path)) throw new ReproError(`the ${output} output of ${step.id} is not in the archive`, 'corrupt', 'it was larger than the export limit, or the archive is damaged: run `repro verify` on it');
    return path;
  }
  const path = join(run.record.store ?? dirname(run.path), art.storePath);
  if (!existsSync(path)) {
    throw new ReproError(
      `the ${output} output of ${step.id} is missing from the store (${path})`,
      'corrupt',
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
export function runVerdicts(run: RunSource): RunVerdicts[] {
  const out: RunVerdicts[] = [];
  for (const step of run.record.steps) {
    if (roleOf(step) !== 'comparison') continue;
    const path = storeFile(run, step, 'verdicts');
    if (!path) continue;
    out.push({ step: step.id, file: JSON.parse(readFileSync(path, 'utf8')) as VerdictFile });
  }
  return out;
}

/**
 * Where the run's steps actually ran ('engine=tfjs backend=wasm device=cpu'), from the facts each
 * step recorded: shown beside the scale, since a CPU run of a GPU protocol is itself a proxy.
 */
export function runHardware(run: LoadedRun): string[] {
  const seen = new Set<string>();
  for (const step of run.record.steps) {
    if (!step.facts || !Object.keys(step.facts).length) continue;
    seen.add(
      Object.entries(step.facts)
        .filter(([k]) => ['engine', 'backend', 'device', 'gpu'].includes(k))
        .map(([k, v]) => `${k}=${v}`)
        .join(' '),
    );
  }
  return [...seen].filter(Boolean).sort();
}

/** Compare steps of the run that did not produce verdicts, and why (failed, skipped, interrupted). */
export function missingVerdicts(run: LoadedRun): string[] {
  return run.record.steps
    .filter((s) => roleOf(s) === 'comparison' && !s.outputs?.verdicts?.storePath)
    .map((s) => `${s.id}: ${s.status}${s.error ? ` (${s.error})` : ''}`);
}

// ——— run-to-run ———

/** Axes that pair runs (seeds, folds) rather than distinguish variants: metric means average over them. */
export const REPLICATE_AXES: ReadonlySet<string> = new Set(['seed', 'fold']);

function groupLabel(step: StepRecord): string {
  const axes = Object.entries(step.matrix ?? {}).filter(([k]) => !REPLICATE_AXES.has(k));
  return axes.length ? `${step.stepId} ${axes.map(([k, v]) => `${k}=${variantName(v)}`).join(',')}` : step.stepId;
}

/** One step's metrics file: its group (step and variant axes), its matrix, and its numeric metrics. */
export interface MetricStep {
  group: string;
  step: StepRecord;
  metrics: Map<string, number>;
}

/** Every step output named `metrics` of the run, read from the store; unreadable files are skipped. */
export function metricSteps(run: RunSource): MetricStep[] {
  const out: MetricStep[] = [];
  for (const step of run.record.steps) {
    const path = step.outputs?.metrics?.type === 'file' ? storeFile(run, step, 'metrics') : null;
    if (!path) continue;
    let metrics: Record<string, unknown>;
    try {
      metrics = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    } catch {
      continue;
    }
    const values = new Map<string, number>();
    for (const [name, v] of Object.entries(metrics)) {
      if (typeof v !== 'number' || !Number.isFinite(v) || name === 'n') continue;
      values.set(name, v);
    }
    out.push({ group: groupLabel(step), step, metrics: values });
  }
  return out;
}

/** The pairing key of a step's replicate: its seed/fold values ('seed=1,fold=0'), '' when it has none. */
export function replicateKey(step: StepRecord): string {
  return Object.entries(step.matrix ?? {})
    .filter(([k]) => REPLICATE_AXES.has(k))
    .map(([k, v]) => `${k}=${variantName(v)}`)
    .join(',');
}

/** One side of a reproduction (reproduction.ts): a run's samples and its verdict files. */
export function reproductionSide(run: RunSource): { samples: RunSamples; verdicts: VerdictFile[] } {
  return { samples: runSamples(run), verdicts: runVerdicts(run).map((v) => v.file) };
}

/** group → metric → replicate key → value, from every step output named `metrics`: the samples a run has. */
export function runSamples(run: RunSource): RunSamples {
  const out: RunSamples = new Map();
  for (const { group: label, step, metrics } of metricSteps(run)) {
    const group = out.get(label) ?? new Map<string, Map<string, number>>();
    out.set(label, group);
    for (const [name, v] of metrics) {
      const values = group.get(name) ?? new Map<string, number>();
      group.set(name, values);
      values.set(replicateKey(step), v);
    }
  }
  return out;
}

const valuesOf = (s: RunSamples) => new Map([...s].map(([group, m]) => [group, new Map([...m].map(([name, byKey]) => [name, [...byKey.values()]]))]));

/** group → metric → values over seeds/folds, from every step output named `metrics`. */
export function runMetrics(run: RunSource): Map<string, Map<string, number[]>> {
  return groupMetrics(metricSteps(run));
}

/** group → metric → values, from metric steps (of one run, or pooled from several). */
export function groupMetrics(steps: readonly MetricStep[]): Map<string, Map<string, number[]>> {
  const out = new Map<string, Map<string, number[]>>();
  for (const { group: label, metrics } of steps) {
    const group = out.get(label) ?? new Map<string, number[]>();
    out.set(label, group);
    for (const [name, v] of metrics) group.set(name, [...(group.get(name) ?? []), v]);
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
  /** Machine, OS, CPU model and features, Node, packages, GPUs, Python and torch: what differs (differences.ts). */
  environment: string[];
  /** Execution facts that differ per step (engine, backend, device, threads, interpreter, packages), grouped by change. */
  facts: FactChange[];
  /** Every variant × metric of both runs, B against A: the difference with its interval and an equivalence verdict. */
  samples: SampleComparison[];
}

export interface DiffOptions {
  /** Metrics that measure the machine (the kinds' measurements): shown, marked informative. */
  measurements?: ReadonlySet<string>;
}

/**
 * The names that measure the machine in any step of these runs: DiffOptions.measurements and
 * reproduction's. `measuredIn` gives a step's (share/reproduce.ts measurementsFrom: its kind's
 * StepKind.measurements), handed in so compare does not load the step kinds.
 */
export function measurementsOfRuns(records: readonly { steps: readonly StepRecord[] }[], measuredIn: (step: StepRecord) => readonly string[]): Set<string> {
  return new Set(records.flatMap((r) => r.steps.flatMap((s) => [...measuredIn(s)])));
}

const avg = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

export function metricOrder(name: string): number {
  const i = (METRIC_NAMES as readonly string[]).indexOf(name);
  return i < 0 ? METRIC_NAMES.length : i;
}

export function diffRuns(a: RunSource, b: RunSource, fingerprints: FingerprintDiff, opts: DiffOptions = {}): RunDiff {
  const sa = runSamples(a);
  const sb = runSamples(b);
  const ma = valuesOf(sa);
  const mb = valuesOf(sb);
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
        changes = fingerprints.components(sa.fingerprintComponents, sb.fingerprintComponents);
      } catch {
        changes = ['fingerprint components differ'];
      }
      steps.push({ step: id, status: 'changed', changes });
    }
  }

  // Each run's verdict files are read from the store once: the verdicts, the scale and δ all come from them.
  const filesA = runVerdicts(a).map((v) => v.file);
  const filesB = runVerdicts(b).map((v) => v.file);
  const verdictsOf = (files: readonly VerdictFile[]) => new Map(files.flatMap((f) => f.checks.map((c) => [c.id, c.verdict] as const)));
  const va = verdictsOf(filesA);
  const vb = verdictsOf(filesB);
  const verdicts = [...new Set([...va.keys(), ...vb.keys()])]
    .map((id) => ({ id, a: va.get(id) ?? null, b: vb.get(id) ?? null }))
    .filter((v) => v.a !== v.b);

  const scaleA = filesA[0]?.scale ?? a.record.scale;
  const scaleB = filesB[0]?.scale ?? b.record.scale;
  return {
    a: { runId: a.record.runId, path: a.path, ...(scaleA ? { scale: scaleA } : {}) },
    b: { runId: b.record.runId, path: b.path, ...(scaleB ? { scale: scaleB } : {}) },
    params: fingerprints.params(a.record.params ?? {}, b.record.params ?? {}),
    metrics,
    steps,
    verdicts,
    environment: environmentChanges(a.record.environment, b.record.environment),
    facts: factChanges(a.record.steps, b.record.steps),
    samples: compareSamples(sa, sb, { effects: smallestEffects(filesA), ...(opts.measurements ? { measurements: opts.measurements } : {}) }),
  };
}
