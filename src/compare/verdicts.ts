// From measured values to verdicts. One rule throughout, so the verdicts read the same way:
//   reproduced      the test rejects "the claim is false" at α;
//   not reproduced  the test rejects "the claim is true" at α (the data show the opposite);
//   inconclusive    neither (the interval straddles the line), or too few runs for the test to ever
//                   reach α, or a proxy/smoke run asked about the paper's absolute numbers;
//   not recorded    the paper's number is unknown (value: null).
//
// - better {a, b, min_gain}: one-sided test of the gain g = a − b (sign-flipped when lower is
//   better) against min_gain: reproduced when p(g > min_gain) < α, not reproduced when
//   p(g < min_gain) < α. For the t-test this is "the (1 − 2α) CI of g lies above / below min_gain".
// - equivalent {a, b, delta}: TOST (two one-sided tests): reproduced when both p(d > −δ) and
//   p(d < δ) are < α, i.e. the (1 − 2α) CI of d lies inside (−δ, δ); not reproduced when d is
//   significantly beyond ±δ.
// - ranking {order}: every adjacent pair as `better`. All must hold, so it is an intersection-union
//   test: each pair at α, no correction needed. "Not reproduced" when any pair is significantly
//   reversed at α/(k − 1) (Bonferroni: any one of k − 1 pairs may refute it).
// - reported value: TOST of the mean over runs against the band value ± tolerance (one-sample t).

import type { ClaimCheck, ReportedCheck, RunScale, Stats, Verdict, VerdictFile, VerdictSummary } from '../formats/verdict.js';
import { metricCatalog, type MetricDecl } from '../formats/metrics.js';
import { cohensDz, meanCI, pairedTTest, pairedTest, summarize, type TestName, type TestResult } from './stats.js';
import { DEFAULTS, type ClaimEntry, type CompareWith, type ReportedEntry } from './spec.js';
import { metricValues, type ObservationTable } from './observations.js';

/** Numbers in explanations: 3 significant digits, signs where a gain is meant. */
export function fmt(x: number, signed = false): string {
  if (!Number.isFinite(x)) return x > 0 ? '∞' : x < 0 ? '−∞' : 'n/a';
  const s = Math.abs(x) >= 1000 || x === 0 ? x.toFixed(Math.abs(x) >= 1000 ? 0 : 3) : x.toPrecision(3);
  const clean = s.includes('e') ? s : s.replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
  return (signed && x > 0 ? '+' : '') + clean.replace('-', '−');
}

export function fmtP(p: number): string {
  return p < 0.001 ? 'p < 0.001' : `p = ${p.toFixed(3)}`;
}

function finite(x: number): number | undefined {
  return Number.isFinite(x) ? x : undefined;
}

function statsOf(values: number[], extra: Partial<Stats> = {}): Stats | null {
  const s = summarize(values);
  if (!s) return null;
  const out: Stats = { ...s };
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined || (typeof v === 'number' && !Number.isFinite(v))) continue;
    (out as unknown as Record<string, unknown>)[k] = v;
  }
  return out;
}

function describeStats(s: Stats): string {
  return `${fmt(s.mean)} ± ${fmt(s.sd)} (95% CI ${fmt(s.ci95[0])} … ${fmt(s.ci95[1])}, n = ${s.n})`;
}

const scaleWords: Record<RunScale, string> = { full: 'full', proxy: 'proxy', smoke: 'smoke' };

// ——— reported numbers ———

export function checkReported(entry: ReportedEntry, table: ObservationTable, scale: RunScale, scaleNote: string): ReportedCheck {
  const values = [...metricValues(table, entry.variant, entry.metric).values()];
  const alpha = entry.alpha ?? DEFAULTS.alpha;
  const base = {
    kind: 'reported' as const,
    id: entry.id,
    metric: entry.metric,
    variant: entry.variant,
    reported: {
      value: entry.value,
      ...(entry.sd !== undefined ? { sd: entry.sd } : {}),
      ...(entry.n !== undefined ? { n: entry.n } : {}),
      source: entry.source,
      ...(entry.note !== undefined ? { note: entry.note } : {}),
    },
    ...(entry.tolerance ? { tolerance: entry.tolerance } : {}),
    required: entry.required ?? false,
    scale,
  };
  const one = values.length === 1 ? ` (one run: ${fmt(values[0]!)}; an interval needs ≥ 2)` : '';

  if (entry.value === null) {
    const measured = statsOf(values);
    const what = measured ? `measured ${describeStats(measured)}` : `measured${one || ': no runs'}`;
    return { ...base, measured, verdict: 'not recorded', explanation: `${entry.note ?? "the paper's value is not known here"}; ${what}` };
  }

  const value = entry.value;
  const tol = entry.tolerance ?? {};
  const width = Math.max(tol.absolute ?? 0, (tol.relative ?? 0) * Math.abs(value), (tol.k_sd ?? 0) * (entry.sd ?? 0));
  const [lo, hi] = [value - width, value + width];
  const band = `${fmt(value)} ± ${fmt(width)}`;

  let measured: Stats | null = null;
  let tostP = 1;
  if (values.length >= 2) {
    const above = pairedTTest(values.map((x) => x - lo), 'greater');
    const below = pairedTTest(values.map((x) => x - hi), 'less');
    tostP = Math.max(above.pValue, below.pValue);
    const s = summarize(values)!;
    measured = statsOf(values, {
      pValue: tostP,
      test: 'one-sample t (TOST against the tolerance band)',
      alternative: 'tost',
      effectSize: s.sd > 0 ? (s.mean - value) / s.sd : undefined,
      effectSizeKind: '(mean − reported) / sd',
    });
  }

  if (scale !== 'full') {
    const m = measured ? `measured ${fmt(measured.mean)}` : `measured${one || ': no runs'}`;
    return {
      ...base,
      measured,
      verdict: 'inconclusive',
      explanation: `${scaleWords[scale]} run (${scaleNote}): the paper's absolute numbers are not comparable; ${m} vs reported ${band}`,
    };
  }
  if (!measured) {
    return { ...base, measured, verdict: 'inconclusive', explanation: `too few runs${one || ': none'} to compare with reported ${band}` };
  }
  const decision = meanCI(values, 1 - 2 * alpha)!;
  const interval = `${Math.round((1 - 2 * alpha) * 100)}% CI ${fmt(decision[0])} … ${fmt(decision[1])}`;
  let verdict: Verdict;
  let why: string;
  if (decision[0] >= lo && decision[1] <= hi) {
    verdict = 'reproduced';
    why = `inside reported ${band}`;
  } else if (decision[1] < lo || decision[0] > hi) {
    verdict = 'not reproduced';
    why = `entirely outside reported ${band}`;
  } else {
    verdict = 'inconclusive';
    why = `straddles the edge of reported ${band}`;
  }
  return {
    ...base,
    measured,
    verdict,
    explanation: `measured ${describeStats(measured)}; ${interval} ${why} (TOST ${fmtP(tostP)}, α = ${alpha})`,
  };
}

// ——— claims ———

interface Paired {
  keys: string[];
  a: number[];
  b: number[];
}

function paired(table: ObservationTable, metric: string, a: string, b: string): Paired {
  const va = metricValues(table, a, metric);
  const vb = metricValues(table, b, metric);
  // The plan-time check makes the keys equal; pairing on the intersection keeps a late surprise honest.
  const keys = [...va.keys()].filter((k) => vb.has(k)).sort((x, y) => x.localeCompare(y, undefined, { numeric: true }));
  return { keys, a: keys.map((k) => va.get(k)!), b: keys.map((k) => vb.get(k)!) };
}

function tooFew(t: TestResult, alpha: number, pairBy: string): string | null {
  if (t.minPValue < alpha) return null;
  const smallest = t.minPValue >= 1 ? 'no p-value at all' : `no p below ${fmt(t.minPValue)}`;
  return `too few runs: with ${t.n} non-zero ${pairBy} pair${t.n === 1 ? '' : 's'} a one-sided ${t.test} test gives ${smallest}, and α = ${alpha}`;
}

/**
 * `relative: true`: each pair is measured in units of b's value (a/|b| against ±1), so a gain or a
 * margin is a fraction: "EMD² is at most 3 % slower than XE" is min_gain −0.03 on any machine.
 */
function inUnitsOfB(p: Paired, relative: boolean | undefined): Paired {
  if (!relative) return p;
  const keep = p.b.map((y) => y !== 0);
  const pick = <T,>(xs: T[]) => xs.filter((_, i) => keep[i]);
  return {
    keys: pick(p.keys),
    a: pick(p.a.map((x, i) => x / Math.abs(p.b[i]!))),
    b: pick(p.b.map((y) => Math.sign(y))),
  };
}

interface Directional {
  verdict: Verdict;
  stats: Stats | null;
  /** p for "a better than b by more than min_gain", and for the reverse. */
  pFor: number;
  pAgainst: number;
  tooFew: string | null;
  text: string;
}

/** "a is better than b by more than minGain" on paired runs. `refuteAlpha` may be stricter than α (ranking). */
function directional(
  p: Paired,
  names: [string, string],
  sign: 1 | -1,
  minGain: number,
  test: TestName,
  alpha: number,
  refuteAlpha: number,
  metric: string,
  pairBy: string,
): Directional {
  const gain = p.a.map((x, i) => sign * (x - p.b[i]!));
  const shifted = gain.map((g) => g - minGain);
  const forT = pairedTest(test, shifted, 'greater');
  const againstT = pairedTest(test, shifted, 'less');
  const stats = statsOf(gain, {
    effectSize: finite(cohensDz(gain)),
    effectSizeKind: "Cohen's d_z",
    pValue: forT.pValue,
    test,
    statistic: finite(forT.statistic),
    alternative: 'greater',
  });
  const [a, b] = names;
  const line = minGain === 0 ? '' : minGain > 0 ? ` (needs more than ${fmt(minGain, true)})` : ` (non-inferiority margin ${fmt(-minGain)})`;
  const gainText = stats
    ? `gain of ${a} over ${b} in ${metric} ${fmt(stats.mean, true)} ± ${fmt(stats.sd)} (95% CI ${fmt(stats.ci95[0], true)} … ${fmt(stats.ci95[1], true)})${line}`
    : `${gain.length} ${pairBy} pair${gain.length === 1 ? '' : 's'}`;
  const few = tooFew(forT, alpha, pairBy);
  if (p.keys.length === 0) {
    return { verdict: 'inconclusive', stats, pFor: 1, pAgainst: 1, tooFew: 'no paired runs', text: `no ${pairBy} has runs of both ${a} and ${b}` };
  }
  if (few) return { verdict: 'inconclusive', stats, pFor: forT.pValue, pAgainst: againstT.pValue, tooFew: few, text: `${gainText}; ${few}` };
  if (forT.pValue < alpha) {
    return {
      verdict: 'reproduced',
      stats,
      pFor: forT.pValue,
      pAgainst: againstT.pValue,
      tooFew: null,
      text: `${gainText}; one-sided ${test} ${fmtP(forT.pValue)}, below α = ${alpha}`,
    };
  }
  if (againstT.pValue < refuteAlpha) {
    return {
      verdict: 'not reproduced',
      stats,
      pFor: forT.pValue,
      pAgainst: againstT.pValue,
      tooFew: null,
      text: `${gainText}; the data go against the claim: one-sided ${test} ${fmtP(againstT.pValue)} for the reverse, below α = ${fmt(refuteAlpha)}`,
    };
  }
  return {
    verdict: 'inconclusive',
    stats,
    pFor: forT.pValue,
    pAgainst: againstT.pValue,
    tooFew: null,
    text: `${gainText}; the interval straddles the line: one-sided ${test} ${fmtP(forT.pValue)}, not below α = ${alpha}`,
  };
}

export function checkClaim(
  claim: ClaimEntry,
  table: ObservationTable,
  pairBy: string,
  scale: RunScale,
  catalog: ReadonlyMap<string, MetricDecl> = metricCatalog(),
): ClaimCheck {
  const test = claim.test ?? DEFAULTS.test;
  const alpha = claim.alpha ?? DEFAULTS.alpha;
  const direction = claim.direction ?? catalog.get(claim.metric)?.direction ?? 'higher';
  const sign: 1 | -1 = direction === 'lower' ? -1 : 1;
  const rel = claim.relation;
  const variants = rel.type === 'ranking' ? rel.order ?? [] : [rel.a!, rel.b!];

  const perVariant: Record<string, Stats> = {};
  for (const v of variants) {
    const s = statsOf([...metricValues(table, v, claim.metric).values()]);
    if (s) perVariant[v] = s;
  }
  const base = {
    kind: 'claim' as const,
    id: claim.id,
    text: claim.text,
    required: claim.required ?? true,
    metric: claim.metric,
    variants,
    perVariant,
    scale,
    alpha,
    direction,
    pairedBy: pairBy,
  };

  if (rel.type === 'better') {
    const minGain = rel.min_gain ?? 0;
    const d = directional(inUnitsOfB(paired(table, claim.metric, rel.a!, rel.b!), rel.relative), [rel.a!, rel.b!], sign, minGain, test, alpha, alpha, claim.metric, pairBy);
    const margin = rel.relative ? `${fmt(Math.abs(minGain) * 100)} % of ${rel.b}` : fmt(Math.abs(minGain));
    const relation =
      minGain < 0
        ? `${rel.a} no worse than ${rel.b} by more than ${margin}`
        : `${rel.a} better than ${rel.b}${minGain > 0 ? ` by more than ${margin}` : ''}${rel.relative ? ' (relative)' : ''}`;
    return { ...base, relation, stats: d.stats, verdict: d.verdict, explanation: d.text };
  }

  if (rel.type === 'equivalent') {
    const delta = rel.delta!;
    const p = inUnitsOfB(paired(table, claim.metric, rel.a!, rel.b!), rel.relative);
    const diff = p.a.map((x, i) => x - p.b[i]!);
    const aboveLow = pairedTest(test, diff.map((x) => x + delta), 'greater');
    const belowHigh = pairedTest(test, diff.map((x) => x - delta), 'less');
    const beyondHigh = pairedTest(test, diff.map((x) => x - delta), 'greater');
    const beyondLow = pairedTest(test, diff.map((x) => x + delta), 'less');
    const tost = Math.max(aboveLow.pValue, belowHigh.pValue);
    const stats = statsOf(diff, {
      effectSize: finite(cohensDz(diff)),
      effectSizeKind: "Cohen's d_z",
      pValue: tost,
      test,
      alternative: 'tost',
    });
    const diffText = stats
      ? `difference ${rel.a} − ${rel.b} in ${claim.metric} ${fmt(stats.mean, true)} ± ${fmt(stats.sd)} (95% CI ${fmt(stats.ci95[0], true)} … ${fmt(stats.ci95[1], true)}), margin ±${fmt(delta)}`
      : `${diff.length} ${pairBy} pairs`;
    const few = tooFew(aboveLow.minPValue > belowHigh.minPValue ? aboveLow : belowHigh, alpha, pairBy);
    let verdict: Verdict;
    let why: string;
    if (p.keys.length === 0) [verdict, why] = ['inconclusive', `no ${pairBy} has runs of both`];
    else if (few) [verdict, why] = ['inconclusive', few];
    else if (tost < alpha) [verdict, why] = ['reproduced', `TOST (${test}) ${fmtP(tost)}, below α = ${alpha}`];
    else if (beyondHigh.pValue < alpha || beyondLow.pValue < alpha)
      [verdict, why] = ['not reproduced', `the difference is beyond the margin: ${fmtP(Math.min(beyondHigh.pValue, beyondLow.pValue))}, below α = ${alpha}`];
    else [verdict, why] = ['inconclusive', `the interval straddles the margin: TOST (${test}) ${fmtP(tost)}, not below α = ${alpha}`];
    return { ...base, relation: `${rel.a} equivalent to ${rel.b} within ±${fmt(delta)}`, stats, verdict, explanation: `${diffText}; ${why}` };
  }

  // ranking
  const order = rel.order!;
  const minGain = rel.min_gain ?? 0;
  const refuteAlpha = alpha / Math.max(1, order.length - 1);
  const results = order.slice(0, -1).map((a, j) => {
    const b = order[j + 1]!;
    return { a, b, d: directional(paired(table, claim.metric, a, b), [a, b], sign, minGain, test, alpha, refuteAlpha, claim.metric, pairBy) };
  });
  const weakest = results.reduce((w, r) => (r.d.pFor > w.d.pFor ? r : w), results[0]!);
  const failed = results.find((r) => r.d.verdict === 'not reproduced');
  const unclear = results.find((r) => r.d.verdict === 'inconclusive');
  const verdict: Verdict = failed ? 'not reproduced' : unclear ? 'inconclusive' : 'reproduced';
  const pairText = results.map((r) => `${r.a} > ${r.b}: ${r.d.verdict} (${fmtP(r.d.pFor)})`).join('; ');
  const lead = failed
    ? `${failed.a} > ${failed.b} fails: ${failed.d.text}`
    : unclear
      ? `${unclear.a} > ${unclear.b} is unclear: ${unclear.d.text}`
      : `every adjacent pair holds at α = ${alpha} (intersection-union test)`;
  return {
    ...base,
    relation: `ranking ${order.join(' > ')}`,
    stats: weakest.d.stats,
    verdict,
    explanation: `${lead}. Pairs: ${pairText}`,
    pairwise: results.map((r) => ({ a: r.a, b: r.b, stats: r.d.stats, verdict: r.d.verdict })),
  };
}

// ——— the whole file ———

const VERDICTS: Verdict[] = ['reproduced', 'not reproduced', 'inconclusive', 'not recorded'];

export function summarizeVerdicts(checks: VerdictFile['checks'], scale: RunScale): VerdictSummary {
  const counts = Object.fromEntries(VERDICTS.map((v) => [v, 0])) as Record<Verdict, number>;
  const required = { ...counts };
  for (const c of checks) {
    counts[c.verdict]++;
    if (c.required) required[c.verdict]++;
  }
  const gate = required['not reproduced'] > 0 ? 'not reproduced' : required.inconclusive > 0 ? 'inconclusive' : 'pass';
  return { counts, required, gate, scale };
}

/**
 * The declarations of every metric the results hold or a check names, in catalog order then by name:
 * reports read labels, units and formats from here. An undeclared metric reads as its name.
 */
function metricsInUse(catalog: ReadonlyMap<string, MetricDecl>, table: ObservationTable, checks: VerdictFile['checks']): Record<string, MetricDecl> {
  const names = new Set<string>(checks.map((c) => c.metric));
  for (const byKey of table.values()) for (const metrics of byKey.values()) for (const name of Object.keys(metrics)) names.add(name);
  const order = [...catalog.keys()];
  const rank = (n: string) => (order.includes(n) ? order.indexOf(n) : order.length);
  const out: Record<string, MetricDecl> = {};
  for (const name of [...names].sort((x, y) => rank(x) - rank(y) || x.localeCompare(y))) {
    if (name === 'n') continue; // evaluate's example count is a size, not a metric
    Object.defineProperty(out, name, {
      value: catalog.get(name) ?? { label: name.replace(/_/g, ' '), format: 'number', origin: 'undeclared' },
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

export function buildVerdictFile(w: CompareWith, table: ObservationTable): VerdictFile {
  const scale = w.scale ?? DEFAULTS.scale;
  const scaleNote =
    w.scale_note ?? (scale === 'full' ? "the paper's protocol on the paper's data" : 'scale not declared: treated as a proxy run');
  const pairBy = w.pair_by ?? DEFAULTS.pair_by;
  const catalog = metricCatalog(w.metrics);
  const checks: VerdictFile['checks'] = [
    ...(w.reported ?? []).map((r) => checkReported(r, table, scale, scaleNote)),
    ...(w.claims ?? []).map((c) => checkClaim(c, table, pairBy, scale, catalog)),
  ];
  return { scale, scaleNote, metrics: metricsInUse(catalog, table, checks), checks, summary: summarizeVerdicts(checks, scale) };
}
