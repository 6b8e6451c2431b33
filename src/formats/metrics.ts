// What an `evaluate` step writes as metrics.json, and what `train` writes as history.json.
// `compare` and `report` read these. The metric catalog (below) says how each metric reads; the
// metrics-file format is documented in docs/compare.md ("Metrics").
import { roleOf, type StepRole } from './run-record.js';

/**
 * How a metric reads: its label, which way is better, its unit, how its numbers are printed, and
 * (optionally) the smallest effect of interest in its units. Any finite number in a step's metrics
 * file is a metric; the ones below come declared, a compare step may declare more (`metrics:`).
 */
export interface MetricDecl {
  label: string;
  /** Whether a larger value is better; absent: a claim on it must say (direction: higher | lower). */
  direction?: 'higher' | 'lower';
  /** Printed after the value ('ms', 'grades'); absent for unitless numbers and fractions. */
  unit?: string;
  /** 'percent': a fraction in 0..1 printed as %; 'number': `digits` decimals; 'integer': whole numbers (a mean or sd that is not whole: one decimal). */
  format: 'percent' | 'number' | 'integer';
  /** Decimals (default 3 for 'number', 1 for 'percent'). */
  digits?: number;
  /** The smallest difference worth having, in the metric's units (claims use it to refute; docs/compare.md). */
  smallest_effect?: number;
  /** 'built-in': produced by a kind (evaluate, train); 'declared': by the workflow; 'undeclared': found in a results file only. */
  origin: 'built-in' | 'declared' | 'undeclared';
}

/** What `evaluate` writes into metrics.json, in display order. */
export const METRIC_NAMES = ['accuracy', 'one_off_accuracy', 'mae', 'qwk'] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

/**
 * The metrics that read class indices as steps on a scale: meaningless for unordered classes (a dataset
 * whose manifest says `ordered: false`), so evaluate leaves them out of metrics.json there.
 */
export const ORDINAL_METRIC_NAMES: readonly string[] = ['one_off_accuracy', 'mae', 'qwk'];

/** What `train` writes per epoch into history.json and compare reads as timing metrics. */
export const TIMING_METRIC_NAMES = ['ms_per_step', 'examples_per_second'] as const;

const BUILT_IN: ReadonlyArray<[string, Omit<MetricDecl, 'origin'>]> = [
  ['accuracy', { label: 'accuracy', direction: 'higher', format: 'percent' }],
  ['one_off_accuracy', { label: 'one-off accuracy', direction: 'higher', format: 'percent' }],
  ['mae', { label: 'MAE', direction: 'lower', unit: 'class steps', format: 'number', digits: 3 }],
  ['qwk', { label: 'QWK', direction: 'higher', format: 'number', digits: 3 }],
  ['ms_per_step', { label: 'ms / step', direction: 'lower', unit: 'ms', format: 'number', digits: 1 }],
  ['examples_per_second', { label: 'examples / s', direction: 'higher', unit: 'ex/s', format: 'number', digits: 0 }],
];

/** The built-in metrics, pre-declared (a Map: metric names come from users and never meet prototypes). */
export const BUILT_IN_METRICS: ReadonlyMap<string, MetricDecl> = new Map(
  BUILT_IN.map(([name, d]) => [name, { ...d, origin: 'built-in' as const }]),
);

/** Whether a larger value is better, for each built-in metric. */
export const METRIC_DIRECTION: Readonly<Record<string, 'higher' | 'lower'>> = Object.freeze(
  Object.assign(Object.create(null) as Record<string, 'higher' | 'lower'>, Object.fromEntries(BUILT_IN.map(([n, d]) => [n, d.direction!]))),
);

/** A metric declaration as a workflow writes it (compare step, `metrics:`); every key optional. */
export type MetricDeclInput = Partial<Omit<MetricDecl, 'origin'>>;

/**
 * The metrics a comparison knows: the built-in ones, overridden and extended by the workflow's
 * declarations. A declaration of a built-in name refines it (a unit, a smallest effect).
 */
export function metricCatalog(declared?: Record<string, MetricDeclInput> | null): Map<string, MetricDecl> {
  const out = new Map(BUILT_IN_METRICS);
  if (declared && typeof declared === 'object') {
    for (const [name, d] of Object.entries(declared)) {
      const base = out.get(name);
      const decl: MetricDecl = {
        ...(base ?? { label: name.replace(/_/g, ' '), format: 'number' }),
        ...Object.fromEntries(Object.entries(d ?? {}).filter(([, v]) => v !== undefined)),
        origin: base ? base.origin : 'declared',
      };
      out.set(name, decl);
    }
  }
  return out;
}

/**
 * How a metric nobody declared reads: its name as label, printed as an integer when every value seen
 * is a whole number (a count: '50', not '50.000'), else with 3 decimals. Its direction stays unknown.
 */
export function undeclaredMetric(name: string, values: Iterable<number>): MetricDecl {
  let whole = true;
  let any = false;
  for (const v of values) {
    any = true;
    if (!Number.isInteger(v)) whole = false;
  }
  return { label: name.replace(/_/g, ' '), format: any && whole ? 'integer' : 'number', origin: 'undeclared' };
}

/** A metric's label with its unit: 'MAE (class steps)'. Unknown metrics read as their name. */
export function metricTitle(name: string, catalog: ReadonlyMap<string, MetricDecl> = BUILT_IN_METRICS): string {
  const d = catalog.get(name);
  if (!d) return name.replace(/_/g, ' ');
  return d.unit ? `${d.label} (${d.unit})` : d.label;
}

/** A value as its declaration prints it ('61.2 %', '0.437', '12'); '–' when not a finite number. */
export function formatMetric(value: number | null | undefined, name: string, catalog: ReadonlyMap<string, MetricDecl> = BUILT_IN_METRICS): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  const d = catalog.get(name);
  if (!d) return Math.abs(value) >= 1000 ? value.toFixed(0) : value.toPrecision(3);
  if (d.format === 'percent') return `${(value * 100).toFixed(d.digits ?? 1)} %`;
  // A mean or sd of counts is rarely whole: one decimal then, so 49.7 ± 1.2 does not read as 50 ± 1.
  if (d.format === 'integer') return Number.isInteger(value) ? value.toFixed(0) : value.toFixed(1);
  return value.toFixed(d.digits ?? 3);
}

/**
 * The declared metrics of a plan (or of a run record's steps): the catalog of its comparison step(s),
 * for reports that show "the metrics that exist". Reads `with.metrics` of every step whose kind's role is `comparison`.
 */
export function planMetricCatalog(steps: ReadonlyArray<{ uses: string; role?: StepRole; with?: unknown }>): Map<string, MetricDecl> {
  const declared: Record<string, MetricDeclInput> = Object.create(null) as Record<string, MetricDeclInput>;
  for (const s of steps) {
    if (roleOf(s) !== 'comparison' || !s.with || typeof s.with !== 'object') continue;
    const m = (s.with as { metrics?: unknown }).metrics;
    if (m && typeof m === 'object' && !Array.isArray(m)) Object.assign(declared, m);
  }
  return metricCatalog(declared);
}

export interface EvaluationMetrics {
  /** Fraction in 0..1 (not percent). */
  accuracy: number;
  /** Prediction within one class step of the truth, 0..1; absent for unordered classes (evaluate v3). */
  one_off_accuracy?: number;
  /** Mean absolute error in class steps; absent for unordered classes. */
  mae?: number;
  /** Quadratic-weighted Cohen's kappa; absent for unordered classes. */
  qwk?: number;
  /** confusion[true][predicted] counts. */
  confusion: number[][];
  per_class_recall: number[];
  n: number;
  split: string;
  classes: string[];
  /** Constant predictions on this split (src/ml/health.ts); absent in files written before evaluate v2. */
  health?: { collapsed: boolean; reasons: string[] };
  /** Any further metric (e.g. timing) by name. */
  [extra: string]: unknown;
}

export interface EpochRecord {
  epoch: number;
  train_loss: number;
  val?: Partial<Record<MetricName, number>>;
  examples_per_second: number;
  /** Mean wall time of one optimisation step, for the overhead claim (C5). */
  ms_per_step: number;
  seconds: number;
}

export interface TrainingHistory {
  loss: string;
  epochs: EpochRecord[];
  best_epoch: number;
  /** Ground-distance matrix per epoch, for the learned-D variant. */
  ground_distance?: number[][][];
  facts: Record<string, string | number | boolean | null>;
  /** Non-finite loss, never above the majority class on validation (src/ml/health.ts); absent before train v3. */
  health?: { collapsed: boolean; reasons: string[] };
}

/** predictions.json of an `evaluate` step (either engine), one entry per image of the split, in order. */
export interface PredictionsFile {
  split: string;
  classes: string[];
  labels: number[];
  predicted: number[];
  /** Class probabilities per image (averaged with the mirror image when evaluated with `mirror`). */
  probabilities?: number[][];
  /** Loss `reg`: the regressed position z_0 per image, as [z_0] (no probabilities). */
  outputs?: number[][];
}
