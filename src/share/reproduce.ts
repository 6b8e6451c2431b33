// `repro reproduce ARCHIVE`: the answer an artifact evaluator wants. After the archive's workflow ran
// again (in another folder, with another store), every output of the original run is compared with
// the new one: bit-identical (same sha256), within the declared tolerance (JSON files and values
// whose numbers differ by no more than the tolerance, everything else equal), or differs.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ReproError } from '../core/errors.js';
import { roleOf, type ArtifactRecord, type RunRecord } from '../formats/run-record.js';
import type { ExportLock } from './archive.js';

export type ArtifactVerdict = 'bit-identical' | 'within tolerance' | 'differs' | 'not compared';
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
  verdict: 'bit-identical' | 'within tolerance' | 'differs';
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
  const name = path.replace(/\[\d+\]/g, '').split('.').pop() ?? path;
  // The most specific tolerance wins: by key, else the one for every number.
  const t = tolerances.filter((x) => x.key === name).at(-1) ?? tolerances.filter((x) => x.key === '*').at(-1);
  if (!t) return 0;
  return t.relative !== undefined ? t.relative * Math.abs(original) : (t.absolute ?? 0);
}

type Leaf = { path: string; value: unknown };
const MAX_LEAVES = 200_000;

function leaves(v: unknown, path: string, out: Leaf[]): void {
  if (out.length > MAX_LEAVES) return;
  if (Array.isArray(v)) v.forEach((x, i) => leaves(x, `${path}[${i}]`, out));
  else if (v !== null && typeof v === 'object') for (const k of Object.keys(v).sort()) leaves((v as Record<string, unknown>)[k], path ? `${path}.${k}` : k, out);
  else out.push({ path, value: v });
}

/** Compares two JSON values number by number; null when their shapes or non-numbers differ. */
function compareJson(a: unknown, b: unknown, tolerances: Tolerance[]): MetricComparison[] | null {
  const la: Leaf[] = [];
  const lb: Leaf[] = [];
  leaves(a, '', la);
  leaves(b, '', lb);
  if (la.length !== lb.length || la.length > MAX_LEAVES) return null;
  const out: MetricComparison[] = [];
  for (let i = 0; i < la.length; i++) {
    const x = la[i]!;
    const y = lb[i]!;
    if (x.path !== y.path) return null;
    if (typeof x.value === 'number' && typeof y.value === 'number') {
      const allowed = allowedFor(x.path || 'value', x.value, tolerances);
      const d = Math.abs(x.value - y.value);
      const verdict = Object.is(x.value, y.value) ? 'bit-identical' : d <= allowed ? 'within tolerance' : 'differs';
      out.push({ path: x.path || 'value', original: x.value, reproduced: y.value, allowed, verdict });
    } else if (x.value !== y.value) return null;
  }
  return out;
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
): ReproduceReport {
  const now = new Map(reproduced.steps.map((s) => [s.id, s]));
  const artifacts: ArtifactComparison[] = [];
  for (const step of original.steps) {
    for (const [output, art] of Object.entries(step.outputs ?? {})) {
      const again: ArtifactRecord | undefined = now.get(step.id)?.outputs?.[output];
      const base = { step: step.id, output, original: art.sha256, reproduced: again?.sha256 ?? null, metrics: [] as MetricComparison[] };
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
      const metrics = a.ok && b.ok ? compareJson(a.value, b.value, tolerances) : null;
      if (!metrics) {
        const why = art.type === 'dir' ? 'a directory: compared by hash only' : a.ok && b.ok ? 'their structure or text differs' : 'not JSON: compared by hash only';
        artifacts.push({ ...base, verdict: 'differs', note: why });
        continue;
      }
      const differs = metrics.some((m) => m.verdict === 'differs');
      artifacts.push({ ...base, verdict: differs ? 'differs' : 'within tolerance', metrics });
    }
  }
  const counts: Record<ArtifactVerdict, number> = { 'bit-identical': 0, 'within tolerance': 0, differs: 0, 'not compared': 0 };
  for (const a of artifacts) counts[a.verdict]++;
  const failed = reproduced.status !== 'succeeded';
  const verdict: ReproduceVerdict = failed
    ? 'failed'
    : counts.differs > 0
      ? 'differs'
      : counts['within tolerance'] > 0
        ? 'reproduced within tolerance'
        : 'bit-identical';
  return { verdict, counts, artifacts, tolerances };
}
