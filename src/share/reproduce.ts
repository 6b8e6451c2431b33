// `repro reproduce ARCHIVE`: the answer an artifact evaluator wants. After the archive's workflow ran
// again (in another folder, with another store), every output of the original run is compared with
// the new one: bit-identical (same sha256), within the declared tolerance (JSON files and values
// whose numbers differ by no more than the tolerance, everything else equal), or differs. Numbers
// at the fields a step kind declares as measurements of the machine (StepKind.measurements: timings,
// throughput) are reported beside, never as a difference. The statistical level above this one (the
// re-run's seeds against the original's) is src/compare/reproduction.ts.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ReproError } from '../core/errors.js';
import { roleOf, type ArtifactRecord, type RunRecord, type StepRecord } from '../formats/run-record.js';
import type { ExportLock } from './archive.js';
import type { StepKind } from '../steps/kind.js';
import { measurementsOfRuns, type RunSource } from '../compare/runs.js';
import type { Reproduction } from '../compare/reproduction.js';

export type ArtifactVerdict = 'bit-identical' | 'identical except measurements' | 'within tolerance' | 'differs' | 'not compared';
export type ReproduceVerdict = 'bit-identical' | 'reproduced within tolerance' | 'differs' | 'failed';

/** A tolerance for numbers whose key is `key` (or every number, key '*'): absolute, or relative to the original. */
export interface Tolerance {
  key: string;
  absolute?: number;
  relative?: number;
}

export interface MetricComparison {
  /** Where the number is in the JSON: `accuracy`, `epochs[2].train_loss`. */
  path: string;
  original: number;
  reproduced: number;
  /** The allowed |difference| for this number (0: must be equal). */
  allowed: number;
  /** 'measurement': a field the step's kind declares a measurement of the machine (informative only). */
  verdict: 'bit-identical' | 'within tolerance' | 'differs' | 'measurement';
}

export interface ArtifactComparison {
  step: string;
  output: string;
  verdict: ArtifactVerdict;
  original: string;
  reproduced: string | null;
  /** The numbers compared, for JSON files and values that are not bit-identical. */
  metrics: MetricComparison[];
  note?: string;
}

export interface ReproduceReport {
  verdict: ReproduceVerdict;
  counts: Record<ArtifactVerdict, number>;
  artifacts: ArtifactComparison[];
  tolerances: Tolerance[];
}

/** `accuracy=0.01`, `ms_per_step=50%`, or `0.001` (every number). */
export function parseTolerance(spec: string): Tolerance | null {
  const eq = spec.lastIndexOf('=');
  const key = eq >= 0 ? spec.slice(0, eq).trim() : '*';
  const text = (eq >= 0 ? spec.slice(eq + 1) : spec).trim();
  const pct = text.endsWith('%');
  const n = Number(pct ? text.slice(0, -1) : text);
  if (!key || !text || !Number.isFinite(n) || n < 0) return null;
  return pct ? { key, relative: n / 100 } : { key, absolute: n };
}

/** A `--tolerance` value from the command line (export, reproduce): parsed, or an invalid-usage error naming it. */
export function toleranceOption(spec: string): Tolerance {
  const t = parseTolerance(spec);
  if (!t) throw new ReproError(`--tolerance ${spec}: expected KEY=NUMBER, KEY=NUMBER% or NUMBER (≥ 0)`, 'invalid');
  return t;
}

export const formatTolerance = (t: Tolerance): string =>
  `${t.key === '*' ? '' : `${t.key}=`}${t.relative !== undefined ? `${+(t.relative * 100).toPrecision(6)}%` : t.absolute}`;

function allowedFor(path: string, original: number, tolerances: Tolerance[]): number {
  const name = lastKey(path);
  // The most specific tolerance wins: by key, else the one for every number.
  const t = tolerances.filter((x) => x.key === name).at(-1) ?? tolerances.filter((x) => x.key === '*').at(-1);
  if (!t) return 0;
  return t.relative !== undefined ? t.relative * Math.abs(original) : (t.absolute ?? 0);
}

/** `measuring`: the path of the object about a measurement of the machine that holds the leaf (see leaves), or null. */
type Leaf = { path: string; value: unknown; measuring: string | null };
const MAX_LEAVES = 200_000;

/**
 * The leaves of a JSON value in a fixed order. An object whose `metric` names a measurement of the
 * machine (compare's check of a claim on ms_per_step: its statistics, verdict and explanation) is a
 * measurement as a whole: its leaves are `measuring`, named by that object's path.
 */
function leaves(v: unknown, path: string, out: Leaf[], measured: ReadonlySet<string>, measuring: string | null = null): void {
  if (out.length > MAX_LEAVES) return;
  if (Array.isArray(v)) v.forEach((x, i) => leaves(x, `${path}[${i}]`, out, measured, measuring));
  else if (v !== null && typeof v === 'object') {
    const metric = (v as Record<string, unknown>).metric;
    const inside = measuring ?? (typeof metric === 'string' && measured.has(metric) ? path || 'value' : null);
    for (const k of Object.keys(v).sort()) leaves((v as Record<string, unknown>)[k], path ? `${path}.${k}` : k, out, measured, inside);
  } else out.push({ path, value: v, measuring });
}

const lastKey = (path: string) => path.replace(/\[\d+\]/g, '').split('.').pop() ?? path;

/**
 * Compares two JSON values number by number; null when their shapes or non-numbers differ, except
 * for text inside a measurement (the verdict or explanation of a claim on a timing): listed in `measurements`.
 */
function compareJson(
  a: unknown,
  b: unknown,
  tolerances: Tolerance[],
  /** The keys this step's kind declares measurements (`ms_per_step` in a training history). */
  measured: ReadonlySet<string>,
  /** Every measurement of the run, as metric names an object may be about (compare's checks). */
  measuredMetrics: ReadonlySet<string>,
): { numbers: MetricComparison[]; measurements: string[] } | null {
  const la: Leaf[] = [];
  const lb: Leaf[] = [];
  leaves(a, '', la, measuredMetrics);
  leaves(b, '', lb, measuredMetrics);
  if (la.length !== lb.length || la.length > MAX_LEAVES) return null;
  const numbers: MetricComparison[] = [];
  /** What differs as a measurement: a key (`ms_per_step`), or the path of a whole measurement (`checks[6]`). */
  const measurements: string[] = [];
  for (let i = 0; i < la.length; i++) {
    const x = la[i]!;
    const y = lb[i]!;
    if (x.path !== y.path) return null;
    if (typeof x.value === 'number' && typeof y.value === 'number') {
      const allowed = allowedFor(x.path || 'value', x.value, tolerances);
      const d = Math.abs(x.value - y.value);
      const verdict = Object.is(x.value, y.value) ? 'bit-identical' : x.measuring !== null || measured.has(lastKey(x.path)) ? 'measurement' : d <= allowed ? 'within tolerance' : 'differs';
      numbers.push({ path: x.path || 'value', original: x.value, reproduced: y.value, allowed, verdict });
      if (verdict === 'measurement') measurements.push(x.measuring ?? lastKey(x.path));
    } else if (x.value !== y.value) {
      if (x.measuring === null) return null;
      measurements.push(x.measuring);
    }
  }
  return { numbers, measurements };
}

const MAX_JSON_BYTES = 64 * 2 ** 20;

function readJson(path: string | null): { ok: true; value: unknown } | { ok: false } {
  if (!path || !existsSync(path) || !/\.json$/i.test(path) || statSync(path).size > MAX_JSON_BYTES) return { ok: false };
  try {
    return { ok: true, value: JSON.parse(readFileSync(path, 'utf8')) };
  } catch {
    return { ok: false };
  }
}

/**
 * Every output of the original run against the reproduced run's. `archiveDir` holds the extracted
 * archive (its artifacts/), `storeRoot` the store the reproduced run wrote to.
 */
export function compareRuns(
  original: RunRecord,
  lock: ExportLock,
  archiveDir: string,
  reproduced: RunRecord,
  storeRoot: string,
  tolerances: Tolerance[],
  /** The measurement fields of a step's outputs (its kind's StepKind.measurements); none when absent. */
  measurementsOf: (step: StepRecord) => readonly string[] = () => [],
  /** The re-run trained other seeds: an output of a seed it did not run is not compared. */
  freshSeeds = false,
): ReproduceReport {
  const now = new Map(reproduced.steps.map((s) => [s.id, s]));
  const runMeasurements = measurementsOfRuns([original], measurementsOf);
  const artifacts: ArtifactComparison[] = [];
  for (const step of original.steps) {
    for (const [output, art] of Object.entries(step.outputs ?? {})) {
      const again: ArtifactRecord | undefined = now.get(step.id)?.outputs?.[output];
      const base = { step: step.id, output, original: art.sha256, reproduced: again?.sha256 ?? null, metrics: [] as MetricComparison[] };
      if (!again && freshSeeds && !now.has(step.id)) {
        artifacts.push({ ...base, verdict: 'not compared', note: 'fresh seeds: this one was not re-run' });
        continue;
      }
      if (!again) {
        artifacts.push({ ...base, verdict: 'differs', note: `the reproduced run has no output (step ${now.get(step.id)?.status ?? 'absent'})` });
        continue;
      }
      if (again.sha256 === art.sha256) {
        artifacts.push({ ...base, verdict: 'bit-identical' });
        continue;
      }
      if (roleOf(step) === 'report') {
        // A report is a document about its run (its id, times, paths): never the same twice, and not a result.
        artifacts.push({ ...base, verdict: 'not compared', note: 'a report names its own run and time' });
        continue;
      }
      const shipped = lock.steps[step.id]?.outputs[output]?.path;
      const a = art.type === 'value' ? { ok: true as const, value: art.value } : readJson(shipped ? join(archiveDir, shipped) : null);
      const b = again.type === 'value' ? { ok: true as const, value: again.value } : readJson(again.storePath ? join(storeRoot, again.storePath) : null);
      const compared = a.ok && b.ok ? compareJson(a.value, b.value, tolerances, new Set(measurementsOf(step)), runMeasurements) : null;
      const metrics = compared?.numbers;
      if (!compared || !metrics) {
        const why = art.type === 'dir' ? 'a directory: compared by hash only' : a.ok && b.ok ? 'their structure or text differs' : 'not JSON: compared by hash only';
        artifacts.push({ ...base, verdict: 'differs', note: why });
        continue;
      }
      const differs = metrics.some((m) => m.verdict === 'differs');
      const toleranced = metrics.some((m) => m.verdict === 'within tolerance');
      const verdict: ArtifactVerdict = differs ? 'differs' : toleranced ? 'within tolerance' : 'identical except measurements';
      const measuredOnly = verdict === 'identical except measurements' ? { note: `only measurements of the machine differ: ${[...new Set(compared.measurements)].join(', ')}` } : {};
      artifacts.push({ ...base, verdict, metrics, ...measuredOnly });
    }
  }
  const counts: Record<ArtifactVerdict, number> = { 'bit-identical': 0, 'identical except measurements': 0, 'within tolerance': 0, differs: 0, 'not compared': 0 };
  for (const a of artifacts) counts[a.verdict]++;
  const failed = reproduced.status !== 'succeeded';
  // 'bit-identical' is about results: outputs that differ only in measurements of the machine count as identical.
  const verdict: ReproduceVerdict = failed
    ? 'failed'
    : counts.differs > 0
      ? 'differs'
      : counts['within tolerance'] > 0
        ? 'reproduced within tolerance'
        : 'bit-identical';
  return { verdict, counts, artifacts, tolerances };
}

// ——— the levels together ———

/**
 * The measurement fields of a recorded step, from its kind (StepKind.measurements) and the `with`
 * its fingerprint recorded. `kindOf` is the registry's lookup, handed in so this module does not
 * load every kind.
 */
export function measurementsFrom(kindOf: (name: string) => Pick<StepKind<any>, 'measurements'> | undefined): (step: StepRecord) => readonly string[] {
  return (step) => {
    const w = (step.fingerprintComponents?.with ?? {}) as Record<string, unknown>;
    try {
      return kindOf(step.uses)?.measurements?.(w) ?? [];
    } catch {
      return [];
    }
  };
}

/** A run as an archive carries it: run.json, and each output at the place the lock names. */
export function archiveRun(dir: string, lock: ExportLock, record: RunRecord): RunSource {
  return {
    path: join(dir, 'run.json'),
    record,
    locate: (step, output) => {
      const rel = lock.steps[step.id]?.outputs[output]?.path;
      return rel ? join(dir, rel) : null;
    },
  };
}

/**
 * The answer of `repro reproduce`, strongest level first: bit-identical (measurements of the
 * machine aside), reproduced within the declared tolerances, reproduced statistically (every
 * metric equivalent within its smallest effect and every claim the same verdict); else not
 * reproduced, differs (values differ with too few seeds to test), inconclusive, or failed.
 */
export type OverallVerdict = 'bit-identical' | 'reproduced within tolerance' | 'reproduced statistically' | 'not reproduced' | 'differs' | 'inconclusive' | 'failed';

export function overallVerdict(artifacts: ReproduceReport, stats: Reproduction, freshSeeds: boolean): OverallVerdict {
  if (artifacts.verdict === 'failed') return 'failed';
  if (!freshSeeds && artifacts.verdict === 'bit-identical') return 'bit-identical';
  if (!freshSeeds && artifacts.verdict === 'reproduced within tolerance') return 'reproduced within tolerance';
  switch (stats.verdict) {
    case 'reproduced':
      return 'reproduced statistically';
    case 'not reproduced':
      return 'not reproduced';
    case 'inconclusive':
      return 'inconclusive';
    default:
      // Nothing to test (no metrics over seeds, no claims): the outputs' bytes are all there is.
      return 'differs';
  }
}

/** Only re-runs of the author's artifacts: ACM's "Results Reproduced" at most, never "Results Replicated". */
export const reproducedBadge = (v: OverallVerdict): boolean => v === 'bit-identical' || v === 'reproduced within tolerance' || v === 'reproduced statistically';
