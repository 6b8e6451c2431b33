// The tables of a report, computed once from the ReportInput; the HTML and Markdown renderers only
// lay them out. Each row names the source id its numbers came from.

import type { ClaimCheck, ReportedCheck, Verdict } from '../formats/verdict.js';
import type { ReportInput } from './input.js';
import { runSourceId, variantOrder } from './input.js';
import { summarize, type Summary } from './stats.js';
import { reportedSource } from './format.js';
import { nullRecord, own, toNullRecord } from '../core/names.js';

export interface VerdictRow {
  id: string;
  kind: 'claim' | 'reported';
  text: string;
  verdict: Verdict;
  required: boolean | null;
  metric: string;
  /** The variants with the relation: 'emd2 vs xe (emd2 better than xe)'. */
  variants: string;
  /** The variants alone: 'emd2 vs xe'. */
  pair: string;
  n: number | null;
  mean: number | null;
  sd: number | null;
  ci95: [number, number] | null;
  effectSize: number | null;
  pValue: number | null;
  test: string | null;
  /** Reported value for `reported` checks: a number, or null with the note saying why. */
  reported: { value: number | null; sd: number | null; note: string | null; source: string | null } | null;
  explanation: string;
  /** What the verdict means, in one plain sentence (the explanation gives the numbers behind it). */
  inShort: string;
  /** For a ranking claim: each adjacent pair, checked as "a better than b". */
  pairwise: Array<{ a: string; b: string; verdict: Verdict; mean: number | null; ci95: [number, number] | null }>;
  source: string;
}

export function verdictRows(input: ReportInput): VerdictRow[] {
  if (!input.verdicts) return [];
  const source = input.verdicts.source;
  const scale = input.verdicts.file.scale;
  return input.verdicts.file.checks.map((c) => {
    if (c.kind === 'claim') {
      const k = c as ClaimCheck;
      return {
        id: k.id,
        kind: 'claim',
        text: k.text,
        verdict: k.verdict,
        required: k.required,
        metric: k.metric,
        variants: `${k.variants.join(' vs ')}${k.relation ? ` (${k.relation})` : ''}`,
        pair: k.variants.join(' vs '),
        n: k.stats?.n ?? null,
        mean: k.stats?.mean ?? null,
        sd: k.stats?.sd ?? null,
        ci95: k.stats?.ci95 ?? null,
        effectSize: k.stats?.effectSize ?? null,
        pValue: k.stats?.pValue ?? null,
        test: k.stats?.test ?? null,
        reported: null,
        explanation: k.explanation,
        // Zero variance stays in sight: behind "why" its p would read as evidence about a spread never measured.
        inShort: `${inShort('claim', k.verdict, k.relation, k.explanation, k.scale ?? scale)}${k.zeroVariance ? ' Zero variance: every paired difference is the same number, so p measures no spread.' : ''}`,
        pairwise: (k.pairwise ?? []).map((p) => ({ a: p.a, b: p.b, verdict: p.verdict, mean: p.stats?.mean ?? null, ci95: p.stats?.ci95 ?? null })),
        source,
      };
    }
    const r = c as ReportedCheck;
    return {
      id: r.id,
      kind: 'reported',
      text: `reported ${r.metric} of ${r.variant}`,
      verdict: r.verdict,
      required: r.required ?? null,
      metric: r.metric,
      variants: r.variant,
      pair: r.variant,
      n: r.measured?.n ?? null,
      mean: r.measured?.mean ?? null,
      sd: r.measured?.sd ?? null,
      ci95: r.measured?.ci95 ?? null,
      effectSize: r.measured?.effectSize ?? null,
      pValue: r.measured?.pValue ?? null,
      test: r.measured?.test ?? null,
      reported: { value: r.reported.value, sd: r.reported.sd ?? null, note: r.reported.note ?? null, source: reportedSource(r.reported.source) },
      explanation: r.explanation,
      inShort: inShort('reported', r.verdict, null, r.explanation, r.scale ?? scale),
      pairwise: [],
      source,
    };
  });
}

/**
 * One sentence a reader takes in at a glance: what the verdict says about the claim or the number,
 * without the statistics (docs/compare.md "How a verdict is decided" gives the rule behind each).
 */
export function inShort(kind: 'claim' | 'reported', verdict: Verdict, relation: string | null, explanation: string, scale: string | undefined): string {
  const tooFew = /too few/i.test(explanation);
  if (kind === 'reported') {
    switch (verdict) {
      case 'reproduced':
        return 'The measured mean lies within the tolerance of the reported value.';
      case 'not reproduced':
        return 'The measured mean lies outside the tolerance of the reported value.';
      case 'not recorded':
        return 'No reported value to compare with; the measured numbers are shown.';
      default:
        if (scale && scale !== 'full') return `A ${scale} run cannot confirm a reported absolute number; it is shown for context.`;
        return tooFew ? 'Not decided: too few runs to test against the tolerance.' : 'Not decided: the interval is wider than the tolerance band; more runs may decide it.';
    }
  }
  const claim = relation ? ` (${relation})` : '';
  switch (verdict) {
    case 'reproduced':
      return `The runs support the claim${claim}.`;
    case 'smaller than claimed':
      return `A gain is shown, but it is smaller than the smallest gain worth having${claim}.`;
    case 'not reproduced':
      return `The runs go against the claim${claim}.`;
    case 'not recorded':
      return 'Nothing to compare with.';
    default:
      return tooFew ? 'Not decided: too few runs for the test ever to reach its level.' : 'Not decided: the interval allows both answers; more seeds may decide it.';
  }
}

function requiredCount(file: VerdictFileLike): number {
  if (file.summary?.required) return Object.values(file.summary.required).reduce((a, b) => a + b, 0);
  return file.checks.filter((c) => c.required === true).length;
}
type VerdictFileLike = { summary?: { required?: Record<string, number> }; checks: Array<{ required?: boolean | null }> };

/** "3 reproduced, 1 inconclusive; gate: inconclusive", from the verdict file's summary (or counted here). */
export function verdictSummary(input: ReportInput): { counts: string; gate: string | null } | null {
  if (!input.verdicts) return null;
  const file = input.verdicts.file;
  const counts = new Map<string, number>();
  for (const c of file.checks) counts.set(c.verdict, (counts.get(c.verdict) ?? 0) + 1);
  const order = ['reproduced', 'smaller than claimed', 'not reproduced', 'inconclusive', 'not recorded'];
  return {
    counts: order.filter((v) => counts.get(v)).map((v) => `${counts.get(v)} ${v}`).join(', ') || 'no checks',
    // `repro check` gates only on required checks: with none, there is no gate (not a "pass").
    gate: requiredCount(file) === 0 ? 'none' : (file.summary?.gate ?? null),
  };
}

/** Numbers in a metrics file that are not metrics: the size of the evaluated split. */
const NOT_METRICS = new Set(['n']);

/**
 * The metrics a report shows: every finite number the evaluations hold (a metric no run wrote gets no
 * column), declared ones first in the catalog's order, then the others as they first appear.
 */
export function reportMetrics(input: ReportInput): string[] {
  const found = new Map<string, number>(); // name → order of first appearance (a file may hold thousands)
  for (const e of input.evaluations) {
    for (const [k, v] of Object.entries(e.metrics)) {
      if (typeof v === 'number' && Number.isFinite(v) && !NOT_METRICS.has(k) && !found.has(k)) found.set(k, found.size);
    }
  }
  // verdicts.json's catalog lists undeclared metrics too (sorted by name): they keep the files' order.
  const declared = [...input.metricCatalog].filter(([, d]) => d.origin !== 'undeclared').map(([name]) => name);
  const order = new Map(declared.map((m, i) => [m, i]));
  const rank = (m: string) => order.get(m) ?? order.size + found.get(m)!;
  return [...found.keys()].sort((a, b) => rank(a) - rank(b));
}

/** The most metrics the by-variant table has a column for; declared metrics always get one. */
export const MAX_METRIC_COLUMNS = 12;
/** The most further metrics listed one per row below that table; the rest are counted, not shown. */
export const MAX_OTHER_METRICS = 100;

/** Which metrics a report shows where: a column each, a row each below, or only counted. */
export interface MetricLayout {
  columns: string[];
  others: string[];
  /** How many metrics the runs wrote that neither shows (they stay in the metrics files). */
  left: number;
}

/**
 * A metrics file may hold thousands of numbers: the declared metrics (built-in or the workflow's)
 * get columns, filled up to MAX_METRIC_COLUMNS with the others in order; the next MAX_OTHER_METRICS
 * get a row each; the rest are counted.
 */
export function metricLayout(input: ReportInput): MetricLayout {
  const all = reportMetrics(input);
  if (all.length <= MAX_METRIC_COLUMNS) return { columns: all, others: [], left: 0 };
  // verdicts.json lists every metric it saw, the undeclared ones too: a declaration earns a column.
  const isDeclared = (m: string) => (input.metricCatalog.get(m)?.origin ?? 'undeclared') !== 'undeclared';
  const declared = all.filter(isDeclared);
  const rest = all.filter((m) => !isDeclared(m));
  const fill = Math.max(0, MAX_METRIC_COLUMNS - declared.length);
  const columns = [...declared, ...rest.slice(0, fill)];
  const others = rest.slice(fill, fill + MAX_OTHER_METRICS);
  return { columns, others, left: rest.length - fill - others.length };
}

/** What the "other metrics" table says about itself: how many it lists and how many it leaves out. */
export function otherMetricsNote(layout: MetricLayout): string {
  const shown = layout.columns.length + layout.others.length;
  return `The runs wrote ${shown + layout.left} metrics: the table above has ${layout.columns.length}, this one the next ${layout.others.length}` +
    (layout.left ? `; ${layout.left} more are left out (they are in the metrics files)` : '') + '. Mean ± sd over the repeats of each variant.';
}

export interface VariantRow {
  variant: string;
  /** Summary per metric over the variant's seeds/folds. */
  summaries: Record<string, Summary | null>;
  perReplicate: Array<{ replicate: string; step: string; values: Record<string, number | null>; source: string }>;
}

/** The variants' summaries of `metrics` (default: every metric the runs wrote). */
export function variantRows(input: ReportInput, metrics: string[] = reportMetrics(input)): VariantRow[] {
  return variantOrder(input)
    .map((variant) => {
      const entries = input.evaluations
        .filter((e) => e.variant === variant)
        .sort((a, b) => a.replicate.localeCompare(b.replicate, undefined, { numeric: true }));
      const summaries = nullRecord<Summary | null>(); // metric names are the user's
      for (const m of metrics) {
        summaries[m] = summarize(entries.map((e) => own(e.metrics, m)).filter((v): v is number => typeof v === 'number'));
      }
      return {
        variant,
        summaries,
        perReplicate: entries.map((e) => ({
          replicate: e.replicate,
          step: e.step,
          values: toNullRecord(metrics.map((m) => [m, typeof own(e.metrics, m) === 'number' ? own<number>(e.metrics, m)! : null] as const)),
          source: e.source,
        })),
      };
    })
    .filter((r) => r.perReplicate.length > 0);
}

export interface BackendRow {
  /** engine / backend / device / threads, as recorded. */
  facts: Record<string, string | number | boolean | null>;
  steps: string[];
  /** Mean ms per optimisation step over these steps' epochs. */
  msPerStep: Summary | null;
  sources: string[];
}

const FACT_ORDER = ['engine', 'backend', 'device', 'threads'];

/** What actually ran, grouped: nine train steps on tfjs/wasm/cpu are one row, not nine. */
export function backendRows(input: ReportInput): BackendRow[] {
  const groups = new Map<string, BackendRow>();
  for (const t of input.trainings) {
    const facts = Object.fromEntries(
      Object.entries(t.facts).sort(([a], [b]) => (FACT_ORDER.indexOf(a) + 1 || 99) - (FACT_ORDER.indexOf(b) + 1 || 99)),
    );
    const key = JSON.stringify(facts);
    const g = groups.get(key) ?? { facts, steps: [], msPerStep: null, sources: [] };
    g.steps.push(t.step);
    g.sources.push(t.source);
    groups.set(key, g);
  }
  for (const g of groups.values()) {
    const ms = input.trainings
      .filter((t) => g.steps.includes(t.step))
      .flatMap((t) => (t.history.epochs ?? []).map((e) => e.ms_per_step))
      .filter((v) => typeof v === 'number');
    g.msPerStep = summarize(ms);
  }
  return [...groups.values()];
}

export interface TimingRow {
  uses: string;
  count: number;
  cached: number;
  totalMs: number;
  maxMs: number;
}

/** Time per step kind, in the order kinds first ran. */
export function timingRows(input: ReportInput): TimingRow[] {
  const rows = new Map<string, TimingRow>();
  for (const s of input.steps) {
    const r = rows.get(s.uses) ?? { uses: s.uses, count: 0, cached: 0, totalMs: 0, maxMs: 0 };
    r.count++;
    if (s.status === 'cached') r.cached++;
    r.totalMs += s.durationMs ?? 0;
    r.maxMs = Math.max(r.maxMs, s.durationMs ?? 0);
    rows.set(s.uses, r);
  }
  return [...rows.values()];
}

/** Per-variant training time and speed, from the histories (what C5 talks about). */
export function trainingSpeedRows(input: ReportInput): Array<{ variant: string; msPerStep: Summary | null; trainMs: Summary | null; sources: string[] }> {
  return variantOrder(input)
    .map((variant) => {
      const ts = input.trainings.filter((t) => t.variant === variant);
      return {
        variant,
        msPerStep: summarize(ts.map((t) => mean((t.history.epochs ?? []).map((e) => e.ms_per_step)))),
        trainMs: summarize(ts.map((t) => t.durationMs).filter((v): v is number => typeof v === 'number')),
        sources: ts.map((t) => t.source),
      };
    })
    .filter((r) => r.sources.length > 0);
}

function mean(xs: number[]): number {
  const ok = xs.filter((x) => Number.isFinite(x));
  return ok.length ? ok.reduce((a, b) => a + b, 0) / ok.length : Number.NaN;
}

/** The source id for facts taken from the run record (environment, timings), if there is one. */
export function recordSource(input: ReportInput): string | undefined {
  return runSourceId(input);
}
