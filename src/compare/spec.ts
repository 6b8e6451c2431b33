// What a `compare` step's `with` holds — the paper's reported numbers and its claims — its JSON
// Schema (structure only), and the plan-time semantic checks (names that must exist, pairing that
// must match, tolerances that must make sense). The schema stays permissive on purpose: the checks
// here give the precise message at the precise node (`path` under `with`).

import type { ClassOrder, Gathered } from '../workflow/types.js';
import type { RunScale } from '../formats/verdict.js';
import { METRIC_NAMES, ORDINAL_METRIC_NAMES, TIMING_METRIC_NAMES, metricCatalog, type MetricDeclInput } from '../formats/metrics.js';
import { didYouMean } from '../workflow/suggest.js';

export type { TestName } from './stats.js';
import type { TestName } from './stats.js';

export interface Tolerance {
  absolute?: number;
  relative?: number;
  k_sd?: number;
}

export interface ReportedEntry {
  id: string;
  metric: string;
  variant: string;
  /** The paper's number, in the units of metrics.json (fractions, not percent); null when unknown. */
  value: number | null;
  sd?: number;
  n?: number;
  source: { paper: string; version?: string; table?: string; row?: string; column?: string; [k: string]: unknown };
  tolerance?: Tolerance;
  note?: string;
  required?: boolean;
  alpha?: number;
}

export interface Relation {
  type: 'better' | 'equivalent' | 'ranking';
  a?: string;
  b?: string;
  min_gain?: number;
  delta?: number;
  order?: string[];
  /** Gains and margins as fractions of b's value instead of metric units (better, equivalent). */
  relative?: boolean;
}

export interface ClaimEntry {
  id: string;
  text: string;
  metric: string;
  direction?: 'higher' | 'lower';
  relation: Relation;
  test?: TestName;
  alpha?: number;
  required?: boolean;
  /**
   * The smallest gain worth having, in the metric's units: a number, or {metric: number} naming the
   * claim's metric. Default: the metric's declared smallest_effect. With it, a 'better' claim can be
   * refuted (the gain is shown smaller than this) and an undecided one gets a power figure.
   */
  smallest_effect?: number | Record<string, number>;
}

export interface CompareWith {
  results: Array<Gathered<string>>;
  timings?: Array<Gathered<string>>;
  variant_key?: string;
  pair_by?: string;
  scale?: RunScale;
  scale_note?: string;
  reported?: ReportedEntry[];
  claims?: ClaimEntry[];
  /** A YAML file (relative to the workflow) with more `reported:` and `claims:` entries. */
  claims_file?: string;
  /** The workflow's own metrics (label, direction, unit, format), declared once; built-ins come declared. */
  metrics?: Record<string, MetricDeclInput>;
  /** What claims do with a collapsed training (constant predictions, non-finite loss, never above the majority class). */
  collapsed?: 'count' | 'exclude';
}

export const DEFAULTS = {
  variant_key: 'variant',
  pair_by: 'seed',
  // A run that does not say what it is is treated as a stand-in: it can never mark a paper's absolute number reproduced.
  scale: 'proxy' as RunScale,
  // Exact under "the variants are interchangeable" at every n, look and α (docs/compare.md "Which paired test").
  test: 'sign-flip' as TestName,
  alpha: 0.05,
};

/** Metrics read from train histories (`timings`), not from evaluate's metrics.json. */
export const TIMING_METRICS = TIMING_METRIC_NAMES;

/** Metrics that are fractions in 0..1 in metrics.json; papers print them in percent. */
const FRACTION_METRICS = new Set(['accuracy', 'one_off_accuracy']);

const gatheredSchema = {
  type: 'array',
  description:
    'Every instance of a matrix step, gathered by a reference from this step (which has no matrix): ' +
    "`${{ steps.evaluate.outputs.metrics }}`. Each entry is {matrix, step, value}; value is the output's absolute path.",
  items: { type: 'object' },
};

export const compareWithSchema = {
  type: 'object',
  description: "Compares a run's results with the paper: its reported numbers and its claims.",
  required: ['results'],
  additionalProperties: false,
  properties: {
    results: {
      ...gatheredSchema,
      description: "evaluate's `metrics` outputs (metrics.json per variant and seed). " + gatheredSchema.description,
    },
    timings: {
      ...gatheredSchema,
      description:
        "train's `history` outputs, for timing claims (metrics ms_per_step, examples_per_second: the mean over epochs, " +
        'the first epoch left out when there are several, as it includes warm-up). ' +
        gatheredSchema.description,
    },
    variant_key: {
      type: 'string',
      default: DEFAULTS.variant_key,
      description: "The matrix axis that names the variants. An object value is named by its `name` field.",
    },
    pair_by: {
      type: 'string',
      default: DEFAULTS.pair_by,
      description: "The matrix axis that pairs runs across variants for the paired tests: 'seed', or 'fold' for cross-validation.",
      examples: ['seed', 'fold'],
    },
    scale: {
      enum: ['full', 'proxy', 'smoke'],
      default: DEFAULTS.scale,
      description:
        "'full': the original protocol on the original data (a paper's, or your own experiment's). 'proxy': a stand-in dataset, CPU, or fewer epochs. 'smoke': a tiny run " +
        "that only shows the pipeline works. Only a full run can mark a reported number reproduced; claims are checked at every scale, labelled.",
    },
    scale_note: {
      type: 'string',
      description:
        "What protocol and data this run used, printed with every verdict: for a proxy or smoke run how it differs from the full one " +
        "('RetinaMNIST stands in for Adience; 20 epochs on CPU'; required), for a full run what it is ('our protocol on our 2024 survey data').",
    },
    metrics: {
      type: 'object',
      description:
        "The workflow's metrics, declared once: any finite number in a results file is a metric, and a declared one " +
        'can be the subject of a claim or a reported number, checked for typos at plan time. ' +
        `Built-in (declared already): ${METRIC_NAMES.join(', ')}, ${TIMING_METRIC_NAMES.join(', ')}; a declaration of one of them refines it.`,
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        properties: {
          label: { type: 'string', description: "How tables and plots name it ('log loss')." },
          direction: { enum: ['higher', 'lower'], description: 'Whether a larger value is better.' },
          unit: { type: 'string', description: "Printed after the label ('nats', 'ms'); none for fractions and unitless numbers." },
          format: { enum: ['percent', 'number', 'integer'], description: "'percent': a fraction in 0..1 printed as %; 'number' (default); 'integer'." },
          digits: { type: 'integer', minimum: 0, maximum: 12, description: 'Decimals printed (default 3; 1 for percent).' },
          smallest_effect: {
            type: 'number',
            description: 'The smallest difference worth having, in the metric\'s units: the default smallest_effect of every claim on it.',
          },
        },
      },
      examples: [{ log_loss: { label: 'log loss', direction: 'lower', unit: 'nats', digits: 4, smallest_effect: 0.01 } }],
    },
    collapsed: {
      enum: ['count', 'exclude'],
      default: 'count',
      description:
        "What claims do with a training flagged as collapsed (constant predictions, non-finite loss, never beat the majority class on validation): " +
        "'count' keeps it, with a warning on every claim it enters; 'exclude' drops its pair (every variant at that seed) from the paired tests, said in the verdict.",
    },
    claims_file: {
      type: 'string',
      description:
        'A YAML file beside the workflow (path relative to it) holding `reported:` and/or `claims:` entries, as here; ' +
        'they are added after the inline ones. Its content enters the fingerprint.',
      examples: ['paper-claims.yaml'],
    },
    reported: {
      type: 'array',
      description: 'Numbers the paper reports, one per metric and variant, each with its source and a tolerance.',
      items: {
        type: 'object',
        required: ['id', 'metric', 'variant', 'value'],
        additionalProperties: false,
        properties: {
          id: { type: 'string', description: "A short unique id ('adience-xe-accuracy')." },
          metric: { type: 'string', description: `A metric of the results files (built-in: ${METRIC_NAMES.join(', ')}; or one declared under metrics:) or a timing metric.` },
          variant: { type: 'string', description: 'The variant this number is for (a value of the variant axis).' },
          value: {
            type: ['number', 'null'],
            description: "The paper's number in the units of metrics.json (0.507, not 50.7 %). null when it is not known: the verdict is then 'not recorded'.",
          },
          sd: { type: 'number', description: "The paper's standard deviation, when it gives one (needed by a k_sd tolerance)." },
          n: { type: 'integer', description: 'How many runs or folds the paper averaged, when known.' },
          source: {
            type: 'object',
            description: 'Where the number is printed. Required: a reported value without a source is an error.',
            properties: {
              paper: { type: 'string', description: "e.g. 'arXiv:1611.05916'." },
              version: { type: 'string', description: "e.g. 'v4'." },
              table: { type: 'string' },
              row: { type: 'string' },
              column: { type: 'string' },
            },
          },
          tolerance: {
            type: 'object',
            description:
              'How far the measured mean may be from the value: absolute (metric units), relative (fraction of the value) or k_sd (multiples of the reported sd). ' +
              'Required unless value is null. Several → the widest applies.',
            additionalProperties: false,
            properties: {
              absolute: { type: 'number' },
              relative: { type: 'number' },
              k_sd: { type: 'number' },
            },
          },
          note: { type: 'string', description: 'Anything a reader needs (why the value is unknown, which protocol the paper used).' },
          required: { type: 'boolean', default: false, description: 'Whether `repro check` gates on this number.' },
          alpha: { type: 'number', default: DEFAULTS.alpha, description: 'Significance level of the equivalence test against the tolerance band.' },
        },
      },
    },
    claims: {
      type: 'array',
      description: "The paper's claims, each turned into a paired statistical test across seeds (or folds).",
      items: {
        type: 'object',
        required: ['id', 'text', 'metric', 'relation'],
        additionalProperties: false,
        properties: {
          id: { type: 'string', description: "A short unique id ('C1')." },
          text: { type: 'string', description: 'The claim in words, as the paper makes it.' },
          metric: { type: 'string', description: 'The metric the claim is about.' },
          direction: {
            enum: ['higher', 'lower'],
            description: 'Whether a higher value is better. Default: the metric\'s own (accuracy higher, mae lower, ms_per_step lower).',
          },
          relation: {
            type: 'object',
            required: ['type'],
            additionalProperties: false,
            description:
              "better {a, b, min_gain?}: a beats b (by more than min_gain, in metric units; a negative min_gain is a non-inferiority margin). " +
              'equivalent {a, b, delta}: a and b differ by less than delta. ranking {order}: each variant beats the next.',
            properties: {
              type: { enum: ['better', 'equivalent', 'ranking'] },
              a: { type: 'string' },
              b: { type: 'string' },
              min_gain: { type: 'number', default: 0 },
              delta: { type: 'number' },
              relative: {
                type: 'boolean',
                default: false,
                description: 'Measure the gain (better) or difference (equivalent) as a fraction of b\'s value, per pair: min_gain −0.03 means "at most 3 % worse than b" on any hardware.',
              },
              order: { type: 'array', items: { type: 'string' } },
            },
          },
          test: {
            enum: ['sign-flip', 'paired-t', 'wilcoxon', 'sign'],
            default: DEFAULTS.test,
            description:
              'The paired test: sign-flip (default: permutation test of the mean gain, exact under "the variants are interchangeable" at any n; ' +
              'needs 5 pairs for α = 0.05), paired-t (means, normal gains), wilcoxon (signed ranks, exact for ≤ 50 pairs), sign (signs only).',
          },
          alpha: { type: 'number', default: DEFAULTS.alpha, description: 'Significance level (one-sided for better/ranking; each side of the TOST for equivalent).' },
          required: { type: 'boolean', default: true, description: 'Whether `repro check` gates on this claim.' },
          smallest_effect: {
            type: ['number', 'object'],
            description:
              "The smallest gain worth having, in the metric's units (a number, or {METRIC: number} naming the claim's metric). " +
              "With it a 'better' claim whose gain is shown smaller is 'smaller than claimed' (a real gain) or 'not reproduced' (none shown), " +
              "and an undecided claim gets the seeds it would need for 80 % power at it. Default: the metric's declared smallest_effect.",
          },
        },
      },
    },
  },
} as const;

/** A variant's display name: a string value itself, an object by its `name`. */
export function variantName(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value && typeof value === 'object' && typeof (value as { name?: unknown }).name === 'string') {
    return (value as { name: string }).name;
  }
  return JSON.stringify(value);
}

export function pairKey(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export interface Issue {
  path: string;
  message: string;
  hint?: string;
}

/** The variants a gathered input covers and, per variant, its pairing keys. */
export type Coverage = Map<string, string[]>;

/**
 * Reads the variant and pairing key of each gathered entry. Problems (not gathered, missing axis,
 * two entries for one variant and key) become issues at `where`.
 */
export function coverage(
  gathered: unknown,
  where: 'results' | 'timings',
  variantKey: string,
  pairBy: string,
  issues: Issue[],
): Coverage | null {
  if (!Array.isArray(gathered) || gathered.some((g) => !g || typeof g !== 'object' || !('matrix' in g))) {
    issues.push({
      path: where,
      message:
        `'${where}' must gather every instance of a matrix step: reference the step's output ` +
        '(e.g. ${{ steps.evaluate.outputs.metrics }}) from a compare step that has no matrix',
    });
    return null;
  }
  const cov: Coverage = new Map();
  const seen = new Set<string>();
  for (const g of gathered as Array<Gathered<unknown>>) {
    const axes = Object.keys(g.matrix);
    if (!(variantKey in g.matrix)) {
      issues.push({
        path: 'variant_key',
        message:
          `${where} come from '${g.step}', whose matrix has no axis '${variantKey}'${didYouMean(variantKey, axes)} (axes: ${axes.join(', ') || 'none'})` +
          (variantKey === DEFAULTS.variant_key && axes.some((a) => a !== pairBy) ? `; name the axis that tells variants apart with variant_key: (e.g. variant_key: ${axes.find((a) => a !== pairBy)})` : ''),
      });
      return null;
    }
    if (!(pairBy in g.matrix)) {
      issues.push({
        path: 'pair_by',
        message: `${where} come from '${g.step}', whose matrix has no axis '${pairBy}' to pair runs by${didYouMean(pairBy, axes)} (axes: ${axes.join(', ')})`,
      });
      return null;
    }
    const v = variantName(g.matrix[variantKey]);
    const k = pairKey(g.matrix[pairBy]);
    const id = `${v}\u0000${k}`;
    if (seen.has(id)) {
      const others = axes.filter((a) => a !== variantKey && a !== pairBy);
      issues.push({
        path: where,
        message:
          `${where} hold several runs of variant '${v}' with ${pairBy} ${k}` +
          (others.length ? ` (they differ in ${others.map((a) => `'${a}'`).join(', ')})` : '') +
          `: pair_by must name the one axis besides '${variantKey}'`,
      });
      return null;
    }
    seen.add(id);
    const keys = cov.get(v) ?? [];
    keys.push(k);
    cov.set(v, keys);
  }
  return cov;
}

/**
 * smallest_effect of a claim: a number > 0, or {METRIC: number > 0} naming the claim's own metric;
 * only a 'better' or 'ranking' claim has a gain to compare it with.
 */
function checkSmallestEffect(c: Partial<ClaimEntry>, at: string, issues: Issue[]): void {
  const se = c.smallest_effect;
  if (se === undefined) return;
  const path = `${at}/smallest_effect`;
  const bad = (v: unknown, p: string) =>
    issues.push({ path: p, message: `smallest_effect must be a number > 0 in the units of ${typeof c.metric === 'string' ? c.metric : 'the metric'} (got ${JSON.stringify(v)})` });
  if (c.relation && typeof c.relation === 'object' && c.relation.type === 'equivalent') {
    issues.push({ path, message: "an 'equivalent' claim has its margin already (delta); smallest_effect belongs to 'better' and 'ranking' claims" });
    return;
  }
  if (c.relation && typeof c.relation === 'object' && isNum(c.relation.min_gain) && c.relation.min_gain < 0) {
    issues.push({ path, message: 'a non-inferiority claim (min_gain < 0) has its margin already; smallest_effect belongs to claims of a gain' });
    return;
  }
  if (se !== null && typeof se === 'object' && !Array.isArray(se)) {
    for (const [metric, v] of Object.entries(se)) {
      if (metric !== c.metric) {
        issues.push({
          path: `${path}/${metric}`,
          message: `smallest_effect is given for metric '${metric}', but this claim tests '${String(c.metric)}': name the claim's metric (or write the number alone)`,
        });
      } else if (!(isNum(v) && v > 0)) bad(v, `${path}/${metric}`);
    }
    return;
  }
  if (!(isNum(se) && se > 0)) bad(se, path);
}

/** A claim's smallest effect of interest, in metric units: its own, else its metric's declared one. */
export function smallestEffectOf(c: ClaimEntry, catalog: ReadonlyMap<string, { smallest_effect?: number }>): number | undefined {
  const se = c.smallest_effect;
  if (typeof se === 'number') return se;
  if (se && typeof se === 'object' && typeof se[c.metric] === 'number') return se[c.metric];
  return catalog.get(c.metric)?.smallest_effect;
}

function isNum(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}

/**
 * The metric names a comparison may use: the built-in ones (pre-declared: what evaluate writes, and
 * the timing metrics when train histories are gathered) and the workflow's own declarations.
 */
export function knownMetricNames(w: Partial<CompareWith>): string[] {
  const declared = w.metrics && typeof w.metrics === 'object' && !Array.isArray(w.metrics) ? Object.keys(w.metrics) : [];
  return [...new Set([...METRIC_NAMES, ...(w.timings !== undefined ? TIMING_METRICS : []), ...declared])];
}

/**
 * Plan-time semantic checks of a compare step's `with`. Tolerates malformed input (the schema reports that).
 * `classOrder` (the planner's) tells which results come from classes without an order.
 */
export function checkCompareWith(w: Partial<CompareWith> & Record<string, unknown>, classOrder?: (ref: unknown) => ClassOrder | undefined): Issue[] {
  const issues: Issue[] = [];
  const variantKey = typeof w.variant_key === 'string' ? w.variant_key : DEFAULTS.variant_key;
  const pairBy = typeof w.pair_by === 'string' ? w.pair_by : DEFAULTS.pair_by;
  if (w.pair_by !== undefined && w.pair_by === variantKey) {
    issues.push({ path: 'pair_by', message: `pair_by and variant_key are both '${variantKey}': pairs need another axis (seed or fold)` });
  }
  const results = coverage(w.results, 'results', variantKey, pairBy, issues);
  const timings = w.timings === undefined ? null : coverage(w.timings, 'timings', variantKey, pairBy, issues);

  const scale = w.scale ?? DEFAULTS.scale;
  if (scale !== 'full' && w.scale !== undefined && !(typeof w.scale_note === 'string' && w.scale_note.trim())) {
    issues.push({ path: 'scale', message: `a ${scale} run needs a scale_note saying how it differs from the full protocol (dataset, device, epochs)` });
  }

  const declared = w.metrics && typeof w.metrics === 'object' && !Array.isArray(w.metrics) ? w.metrics : undefined;
  const catalog = metricCatalog(declared);
  for (const [name, d] of Object.entries(declared ?? {})) {
    if (d && typeof d === 'object' && d.smallest_effect !== undefined && !(isNum(d.smallest_effect) && d.smallest_effect > 0)) {
      issues.push({ path: `metrics/${name}/smallest_effect`, message: `smallest_effect must be a number > 0 in ${name}'s units (got ${JSON.stringify(d.smallest_effect)})` });
    }
  }

  const metricSources = (metric: string): Coverage | null | undefined =>
    (TIMING_METRICS as readonly string[]).includes(metric) ? timings : results;
  const knownMetrics = knownMetricNames(w);

  // A metric name must be produced; returns the coverage holding it (null: cannot tell, already reported).
  const checkMetric = (metric: unknown, path: string): Coverage | null => {
    if (typeof metric !== 'string') return null;
    if ((TIMING_METRICS as readonly string[]).includes(metric) && w.timings === undefined) {
      issues.push({ path, message: `metric '${metric}' comes from training histories: add timings: \${{ steps.train.outputs.history }}` });
      return null;
    }
    if (!knownMetrics.includes(metric)) {
      // A near miss is a typo: suggest the known name, not declaring the typo as a new metric.
      const near = didYouMean(metric, knownMetrics);
      issues.push({
        path,
        message:
          // Not "no step produces": at plan time repro knows built-in and declared metrics only, not what a script writes.
          `unknown metric '${metric}'${near} (built-in and declared metrics: ${knownMetrics.join(', ') || 'none'})` +
          (near ? '' : `; a metric that your own step writes is declared once under metrics: (e.g. metrics: {${metric}: {direction: higher}})`),
      });
      return null;
    }
    return metricSources(metric) ?? null;
  };

  const checkVariant = (name: unknown, cov: Coverage | null, path: string): boolean => {
    if (typeof name !== 'string' || !cov) return false;
    if (!cov.has(name)) {
      const known = [...cov.keys()];
      issues.push({
        path,
        message: `no step produces variant '${name}'${didYouMean(name, known)} (${variantKey} values: ${known.join(', ') || 'none'})`,
      });
      return false;
    }
    return true;
  };

  // Per variant, the dataset step whose classes have no order: its results hold no ordinal metric.
  const unordered = new Map<string, string>();
  if (results && classOrder) {
    for (const g of w.results as Array<Gathered<unknown>>) {
      const order = classOrder(g.value);
      if (order && !order.ordered) unordered.set(variantName(g.matrix[variantKey]), order.step);
    }
  }
  const checkOrdinal = (metric: unknown, variants: string[], path: string, use: string) => {
    if (typeof metric !== 'string' || !ORDINAL_METRIC_NAMES.includes(metric)) return;
    const step = variants.map((v) => unordered.get(v)).find((s) => s !== undefined);
    if (step === undefined) return;
    issues.push({
      path,
      message: `metric '${metric}' exists only for ordered classes, and dataset step '${step}' does not declare its classes ordered, so evaluate does not write it`,
      hint: `declare ordered: true in step '${step}' if its classes are ordered (grades, age groups), or ${use} a metric that exists, e.g. accuracy`,
    });
  };

  const ids = new Map<string, string>();
  const checkId = (id: unknown, path: string) => {
    if (typeof id !== 'string') return;
    const first = ids.get(id);
    if (first) issues.push({ path, message: `id '${id}' is used twice (first at ${first})` });
    else ids.set(id, path);
  };

  const checkAlpha = (alpha: unknown, path: string) => {
    if (alpha !== undefined && !(isNum(alpha) && alpha > 0 && alpha < 0.5)) {
      issues.push({ path, message: `alpha must be between 0 and 0.5 (got ${JSON.stringify(alpha)})` });
    }
  };

  (Array.isArray(w.reported) ? w.reported : []).forEach((r: Partial<ReportedEntry>, i) => {
    if (!r || typeof r !== 'object') return;
    const at = `reported/${i}`;
    checkId(r.id, `${at}/id`);
    const cov = checkMetric(r.metric, `${at}/metric`);
    if (checkVariant(r.variant, cov, `${at}/variant`)) checkOrdinal(r.metric, [r.variant!], `${at}/metric`, 'compare');
    checkAlpha(r.alpha, `${at}/alpha`);
    const src = r.source as Record<string, unknown> | undefined;
    if (!src || typeof src !== 'object' || Object.keys(src).length === 0) {
      issues.push({ path: at, message: `reported '${r.id ?? i}' has no source: say where the paper prints it (source: {paper, version, table, row, column})` });
    } else if (typeof src.paper !== 'string' || !src.paper) {
      issues.push({ path: `${at}/source`, message: "source needs 'paper' (e.g. 'arXiv:1611.05916')" });
    }
    if (r.value === null) {
      if (r.required === true) {
        issues.push({ path: `${at}/required`, message: 'a reported value that is not known (null) cannot be required: there is nothing to reproduce' });
      }
      return;
    }
    if (!isNum(r.value)) return; // the schema reports a wrong type
    if (typeof r.metric === 'string' && FRACTION_METRICS.has(r.metric) && (r.value > 1 || r.value < 0)) {
      issues.push({
        path: `${at}/value`,
        message: `${r.metric} is a fraction in 0..1 in metrics.json: write ${(r.value / 100).toString()} for ${r.value} %`,
      });
    }
    const tol = r.tolerance as Tolerance | undefined;
    if (!tol || typeof tol !== 'object' || Object.keys(tol).length === 0) {
      issues.push({ path: at, message: `reported '${r.id ?? i}' has a value but no tolerance: add tolerance: {absolute | relative | k_sd}` });
      return;
    }
    for (const key of ['absolute', 'relative', 'k_sd'] as const) {
      const t = tol[key];
      if (t !== undefined && !(isNum(t) && t >= 0)) {
        issues.push({ path: `${at}/tolerance/${key}`, message: `tolerance ${key} must be a number ≥ 0 (got ${JSON.stringify(t)})` });
      }
    }
    if (tol.k_sd !== undefined && !isNum(r.sd)) {
      issues.push({ path: `${at}/tolerance/k_sd`, message: 'a k_sd tolerance needs the reported sd: add sd, or use absolute/relative' });
    }
    if (isNum(r.sd) && r.sd < 0) issues.push({ path: `${at}/sd`, message: 'sd must be ≥ 0' });
  });

  (Array.isArray(w.claims) ? w.claims : []).forEach((c: Partial<ClaimEntry>, i) => {
    if (!c || typeof c !== 'object') return;
    const at = `claims/${i}`;
    checkId(c.id, `${at}/id`);
    const cov = checkMetric(c.metric, `${at}/metric`);
    checkAlpha(c.alpha, `${at}/alpha`);
    if (typeof c.metric === 'string' && c.direction === undefined && !catalog.get(c.metric)?.direction && knownMetrics.includes(c.metric)) {
      issues.push({ path: `${at}/metric`, message: `metric '${c.metric}' has no default direction: add direction: higher | lower (here or in its metrics: declaration)` });
    }
    checkSmallestEffect(c, at, issues);
    const rel = c.relation;
    if (!rel || typeof rel !== 'object') return;
    const rat = `${at}/relation`;
    let variants: Array<{ name: string; path: string }> = [];
    if (rel.type === 'better' || rel.type === 'equivalent') {
      for (const side of ['a', 'b'] as const) {
        if (typeof rel[side] !== 'string') issues.push({ path: rat, message: `a '${rel.type}' relation needs '${side}' (a variant)` });
        else variants.push({ name: rel[side]!, path: `${rat}/${side}` });
      }
      if (rel.a !== undefined && rel.a === rel.b) issues.push({ path: `${rat}/b`, message: `a and b are both '${rel.a}': compare two different variants` });
      if (rel.type === 'equivalent') {
        if (rel.delta === undefined) issues.push({ path: rat, message: "an 'equivalent' relation needs delta (the largest difference that counts as equal, in metric units)" });
        else if (!(isNum(rel.delta) && rel.delta > 0)) issues.push({ path: `${rat}/delta`, message: `delta must be a number > 0 (got ${JSON.stringify(rel.delta)})` });
      }
      if (rel.min_gain !== undefined && !isNum(rel.min_gain)) issues.push({ path: `${rat}/min_gain`, message: 'min_gain must be a number' });
      if (rel.type === 'equivalent' && rel.min_gain !== undefined) issues.push({ path: `${rat}/min_gain`, message: "min_gain belongs to 'better'; an equivalence uses delta" });
      if (rel.type === 'better' && rel.delta !== undefined) issues.push({ path: `${rat}/delta`, message: "delta belongs to 'equivalent'; 'better' uses min_gain" });
    } else if (rel.type === 'ranking') {
      if (!Array.isArray(rel.order) || rel.order.length < 2) {
        issues.push({ path: Array.isArray(rel.order) ? `${rat}/order` : rat, message: 'a ranking needs order: [best, …, worst] with at least two variants' });
      } else {
        variants = rel.order.map((name, j) => ({ name, path: `${rat}/order/${j}` }));
        const dup = rel.order.find((v, j) => rel.order!.indexOf(v) !== j);
        if (dup !== undefined) issues.push({ path: `${rat}/order`, message: `'${dup}' appears twice in the ranking` });
      }
      if (rel.min_gain !== undefined && !isNum(rel.min_gain)) issues.push({ path: `${rat}/min_gain`, message: 'min_gain must be a number' });
    } else {
      return; // unknown type: the schema's enum reports it
    }
    const known = variants.filter((v) => checkVariant(v.name, cov, v.path));
    checkOrdinal(c.metric, known.map((v) => v.name), `${at}/metric`, 'claim');
    // A paired test needs the same pairing keys for every variant it compares.
    if (cov && known.length >= 2) {
      const ref = known[0]!;
      const refKeys = [...cov.get(ref.name)!].sort();
      for (const v of known.slice(1)) {
        const keys = [...cov.get(v.name)!].sort();
        if (keys.join('\u0000') !== refKeys.join('\u0000')) {
          const only = (xs: string[], ys: string[]) => xs.filter((x) => !ys.includes(x));
          const missingHere = only(refKeys, keys);
          const extraHere = only(keys, refKeys);
          issues.push({
            path: v.path,
            message:
              `${pairBy}s differ between '${ref.name}' (${refKeys.join(', ')}) and '${v.name}' (${keys.join(', ')})` +
              `${missingHere.length ? `: '${v.name}' lacks ${missingHere.join(', ')}` : ''}` +
              `${extraHere.length ? `${missingHere.length ? ';' : ':'} only '${v.name}' has ${extraHere.join(', ')}` : ''}` +
              ` — a paired test needs the same ${pairBy}s for every variant`,
          });
        }
      }
    }
  });

  return issues;
}
