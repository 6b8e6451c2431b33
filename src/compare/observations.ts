// Reads what the compare step was handed — evaluate's metrics.json and train's history.json per
// variant and seed — into one table: variant → pairing key (seed or fold) → metric → value.

import { readFile } from 'node:fs/promises';
import type { Gathered } from '../workflow/types.js';
import type { TrainingHistory } from '../formats/metrics.js';
import { TIMING_METRICS, pairKey, variantName } from './spec.js';
import { StepError } from '../core/errors.js';
import { nullRecord } from '../core/names.js';
import { depthProblem } from '../formats/json.js';

export type ObservationTable = Map<string, Map<string, Record<string, number>>>;

/**
 * What the results say about each run besides its metrics: why a training is flagged as collapsed
 * (evaluate's and train's `health`), and how long it trained (the sum of its epochs' seconds, from the
 * histories), for the cost of more seeds. variant → pairing key → …
 */
export interface RunNotes {
  collapsed: Map<string, Map<string, string[]>>;
  trainingSeconds: Map<string, Map<string, number>>;
}

export function emptyNotes(): RunNotes {
  return { collapsed: new Map(), trainingSeconds: new Map() };
}

function note<T>(m: Map<string, Map<string, T>>, variant: string): Map<string, T> {
  let byKey = m.get(variant);
  if (!byKey) m.set(variant, (byKey = new Map()));
  return byKey;
}

function healthReasons(file: Record<string, unknown>): string[] {
  const h = file.health as { collapsed?: unknown; reasons?: unknown } | undefined;
  if (!h || typeof h !== 'object' || h.collapsed !== true) return [];
  return Array.isArray(h.reasons) ? h.reasons.filter((r): r is string => typeof r === 'string') : ['flagged as collapsed'];
}

async function readJson(where: string, value: unknown): Promise<Record<string, unknown>> {
  // A value output arrives as the JSON itself; a file output as its absolute path in the store.
  if (value && typeof value === 'object') return value as Record<string, unknown>;
  if (typeof value !== 'string') throw new StepError(`${where}: expected a file path or a JSON value, got ${JSON.stringify(value)}`);
  let text: string;
  try {
    text = await readFile(value, 'utf8');
  } catch (err) {
    throw new StepError(`${where}: cannot read ${value}: ${(err as Error).message}`);
  }
  const deep = depthProblem(text);
  if (deep !== null) throw new StepError(`${where}: ${value} ${deep}`, 'a metrics file is one JSON object of numbers (docs/compare.md, "Metrics")');
  try {
    const parsed: unknown = JSON.parse(text);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
    return parsed as Record<string, unknown>;
  } catch (err) {
    throw new StepError(`${where}: ${value} is not a metrics JSON object (${(err as Error).message})`);
  }
}

/** A value as an error shows it: Infinity and NaN by name (JSON would print null), anything else as JSON, cut short. */
function shownValue(v: unknown): string {
  if (typeof v === 'number') return String(v);
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}

/**
 * A timing metric of a training history: the mean over epochs, leaving out the first when there
 * are several (it includes kernel compilation and warm-up, which the paper's "overhead" is not about).
 */
export function timingFromHistory(history: Partial<TrainingHistory>, metric: string): number | undefined {
  const epochs = Array.isArray(history.epochs) ? history.epochs : [];
  const values = epochs
    .map((e) => (e as unknown as Record<string, unknown>)[metric])
    .filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const used = values.length > 1 ? values.slice(1) : values;
  if (used.length === 0) return undefined;
  return used.reduce((a, b) => a + b, 0) / used.length;
}

function cell(table: ObservationTable, variant: string, key: string): Record<string, number> {
  const byKey = note(table, variant);
  let metrics = byKey.get(key);
  if (!metrics) byKey.set(key, (metrics = nullRecord<number>())); // metric names are the user's
  return metrics;
}

export async function loadObservations(
  results: Array<Gathered<unknown>>,
  timings: Array<Gathered<unknown>> | undefined,
  variantKey: string,
  pairBy: string,
  /** Declared metrics (built-in and the workflow's): a declared key holding a non-number fails the step. */
  declared: ReadonlySet<string> = new Set(),
  /** Filled with the collapse flags and training times of the runs, when given. */
  notes: RunNotes = emptyNotes(),
): Promise<ObservationTable> {
  const table: ObservationTable = new Map();
  const flag = (variant: string, key: string, reasons: string[]) => {
    if (!reasons.length) return;
    const byKey = note(notes.collapsed, variant);
    byKey.set(key, [...new Set([...(byKey.get(key) ?? []), ...reasons])]);
  };
  for (const g of results) {
    const metrics = await readJson(g.step, g.value);
    const [variant, key] = [variantName(g.matrix[variantKey]), pairKey(g.matrix[pairBy])];
    flag(variant, key, healthReasons(metrics));
    const target = cell(table, variant, key);
    for (const [name, v] of Object.entries(metrics)) {
      if (typeof v === 'number' && Number.isFinite(v)) target[name] = v;
      else if (declared.has(name)) {
        const file = typeof g.value === 'string' ? g.value : 'its metrics value';
        throw new StepError(
          `${g.step}: ${file}: metric '${name}' is ${shownValue(v)}, not a finite number`,
          `a metrics file holds numbers for its metrics (docs/compare.md, "Metrics"); leave the key out when there is no value`,
        );
      }
    }
  }
  for (const g of timings ?? []) {
    const history = (await readJson(g.step, g.value)) as Partial<TrainingHistory>;
    const [variant, key] = [variantName(g.matrix[variantKey]), pairKey(g.matrix[pairBy])];
    flag(variant, key, healthReasons(history as Record<string, unknown>));
    const seconds = (Array.isArray(history.epochs) ? history.epochs : []).reduce((a, e) => a + (Number.isFinite(e?.seconds) ? e.seconds : 0), 0);
    if (seconds > 0) note(notes.trainingSeconds, variant).set(key, seconds);
    const target = cell(table, variant, key);
    for (const metric of TIMING_METRICS) {
      const v = timingFromHistory(history, metric);
      if (v !== undefined) target[metric] = v;
    }
  }
  return table;
}

/** The values of one metric for one variant, by pairing key; a run missing the metric is an error. */
export function metricValues(table: ObservationTable, variant: string, metric: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const [key, metrics] of table.get(variant) ?? []) {
    const v = metrics[metric];
    if (v === undefined) {
      throw new StepError(
        `the run of variant '${variant}' with key ${key} has no numeric '${metric}'`,
        `metrics present: ${Object.keys(metrics).join(', ') || 'none'}`,
      );
    }
    out.set(key, v);
  }
  return out;
}
