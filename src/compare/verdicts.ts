// From measured values to verdicts. One rule for every claim of a gain, in fixed and sequential
// checks alike, from the (1 − 2α) interval [L, U] of the gain, the line the claim tests (min_gain,
// default 0) and the smallest effect of interest δ (Lakens, Scheel & Isager 2018):
//   reproduced            L > line, U ≥ δ;
//   smaller than claimed  L > line, U < δ (a real gain below the gain worth having);
//   not reproduced        L ≤ line, U < δ;
//   inconclusive          L ≤ line, U ≥ δ (with the seeds δ would need), or too few runs for the test
//                         ever to reach α, or a proxy/smoke run asked about the paper's absolute numbers;
//   not recorded          the paper's number is unknown (value: null).
// Without a smallest effect δ is the line itself, and the rule has three outcomes: above, below, straddling.
//
// - better {a, b, min_gain}: L > line ⟺ the one-sided test of g > min_gain rejects at α; U < δ ⟺ the
//   one-sided test of g < δ rejects at α (g = a − b, sign-flipped when lower is better).
// - equivalent {a, b, delta}: TOST (two one-sided tests): reproduced when both p(d > −δ) and
//   p(d < δ) are < α, i.e. the (1 − 2α) CI of d lies inside (−δ, δ); not reproduced when d is
//   significantly beyond ±δ.
// - ranking {order}: every adjacent pair as `better`. All must hold, so it is an intersection-union
//   test: each pair at α, no correction needed. A pair refutes it at α/(k − 1) (Bonferroni: any one
//   of k − 1 pairs may refute it).
// - reported value: TOST of the mean over runs against the band value ± tolerance (one-sample t).

import { VERDICTS, type ClaimCheck, type CollapsedRun, type PowerNote, type Refutation, type ReportedCheck, type RunScale, type Stats, type Verdict, type VerdictFile, type VerdictSummary } from '../formats/verdict.js';
import { metricCatalog, undeclaredMetric, type MetricDecl } from '../formats/metrics.js';
import { setOwn } from '../core/names.js';
import { cohensDz, meanCI, normalCdf, normalQuantile, pairedTTest, pairedTest, pairsForPower, sequentialCrossing, summarize, tQuantile, zeroVariance, type TestName, type TestResult } from './stats.js';
import { DEFAULTS, smallestEffectOf, type ClaimEntry, type CompareWith, type ReportedEntry, type Tolerance } from './spec.js';
import { emptyNotes, metricValues, type ObservationTable, type RunNotes } from './observations.js';

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

/** Half the width of a reported value's band: the largest of its absolute, relative and k·sd tolerances. */
export function toleranceWidth(value: number, tol: Tolerance, sd: number | undefined): number {
  return Math.max(tol.absolute ?? 0, (tol.relative ?? 0) * Math.abs(value), (tol.k_sd ?? 0) * (sd ?? 0));
}

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
    return { ...base, measured, verdict: 'not recorded', explanation: `${entry.note ?? 'the reported value is not known here'}; ${what}` };
  }

  const value = entry.value;
  const tol = entry.tolerance ?? {};
  const width = toleranceWidth(value, tol, entry.sd);
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
      explanation: `${scaleWords[scale]} run (${scaleNote}): reported absolute numbers are not comparable; ${m} vs reported ${band}`,
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
    explanation: `measured ${describeStats(measured)}; ${interval} ${why} (TOST ${fmtP(tostP)}, α = ${fmt(alpha)})`,
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
  return `too few runs: with ${t.n} non-zero ${pairBy} pair${t.n === 1 ? '' : 's'} a one-sided ${t.test} test gives ${smallest}, and α = ${fmt(alpha)}`;
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
  /** p for "a better than b by more than min_gain", and for "the gain is below δ". */
  pFor: number;
  pAgainst: number;
  tooFew: string | null;
  text: string;
  terminal: boolean;
  zeroVariance: boolean;
  refutation?: Refutation;
  power?: PowerNote;
}

/** Facts about the run that a verdict's power figure needs. */
export interface PowerContext {
  /** Training seconds one more seed costs (every variant of the matrix trains once per seed), when measured. */
  secondsPerSeed?: number;
  /** The α a power figure is for, when not the claim's test α (a sequential look tests at less: power is for the design at the claim's α). */
  alpha?: number;
  /** A sequential run: the boundaries of the design actually used, for its power at δ. */
  design?: { fractions: number[]; z: number[]; nMax: number; looks: number[] };
}

const POWER_TARGET = 0.8;
/** Standardised effects (Cohen's d_z) a power figure names when no smallest effect is declared. */
const REFERENCE_DZ = [0.5, 1];

/**
 * Seeds (pairs) a one-sided paired t-test at α would need for 80 % power against a true gain of δ
 * (`effect` = δ − min_gain beyond the tested line), from the sd of the gains observed here, and what they
 * would cost. Never at the observed gain: that adds nothing to p (Hoenig & Heisey 2001). Without a
 * smallest effect, the seeds for d_z 0.5 and 1 instead.
 */
function powerNote(gain: readonly number[], effect: number | undefined, basis: PowerNote['basis'], alpha: number, ctx: PowerContext, tostSides = false): PowerNote | undefined {
  const n = gain.length;
  const s = summarize(gain);
  if (!s) return undefined;
  if (effect === undefined || !(effect > 0)) {
    const byEffectSize = REFERENCE_DZ.map((dz) => ({ dz, seedsNeeded: pairsForPower(dz, 1, alpha, POWER_TARGET) }));
    return { target: POWER_TARGET, basis: 'effect size d_z', sd: s.sd, n, seedsNeeded: null, byEffectSize };
  }
  if (!(s.sd > 0)) return undefined;
  // TOST at a true difference of 0 needs each one-sided test at power ≈ 0.9 for 0.8 together.
  const needed = pairsForPower(effect, s.sd, alpha, tostSides ? 0.9 : POWER_TARGET);
  const more = needed === null ? null : Math.max(0, needed - n);
  const seconds = more !== null && ctx.secondsPerSeed !== undefined ? more * ctx.secondsPerSeed : undefined;
  const d = ctx.design;
  const theta = d ? (effect * Math.sqrt(d.nMax)) / s.sd : 0;
  return {
    target: POWER_TARGET,
    basis,
    effect,
    sd: s.sd,
    n,
    seedsNeeded: needed,
    ...(more !== null ? { more } : {}),
    ...(ctx.secondsPerSeed !== undefined ? { secondsPerSeed: ctx.secondsPerSeed } : {}),
    ...(seconds !== undefined ? { seconds } : {}),
    ...(d && !tostSides
      ? {
          design: {
            power: sequentialCrossing(d.fractions, d.z, theta),
            fixedPower: 1 - normalCdf(normalQuantile(1 - alpha) - theta),
            nMax: d.nMax,
            looks: d.looks,
          },
        }
      : {}),
  };
}

/** `line`: the min_gain the claim tests against, when not 0 (the effect is then measured from it). */
export function describePower(p: PowerNote, pairBy: string, line = 0): string {
  if (p.byEffectSize) {
    const list = p.byEffectSize.map((e) => `${e.seedsNeeded ?? 'more than 100000'} for d_z ${fmt(e.dz)}`).join(', ');
    return `no smallest effect declared, so no power at it: a one-sided paired t-test needs ${list} (80 % power; d_z = gain / sd of the gains), against the ${p.n} here`;
  }
  if (p.seedsNeeded === null) {
    return p.note ?? `no ${pairBy} count within reach gives 80 % power at sd ${fmt(p.sd)}`;
  }
  const at =
    p.basis === 'smallest effect of interest'
      ? line === 0
        ? `a true gain of the smallest effect of interest ${fmt(p.effect!)}`
        : `a true gain of the smallest effect of interest ${fmt(line + p.effect!, true)} (${fmt(p.effect!)} above the line ${fmt(line, true)} the test is against)`
      : p.basis === 'equivalence margin'
        ? `a true difference of 0 (margin ${fmt(p.effect!)})`
        : `the observed gain ${fmt(p.effect!)}`;
  const cost = p.seconds !== undefined ? `, about ${fmtSeconds(p.seconds)} of training at this run's measured ${fmtSeconds(p.secondsPerSeed!)} per ${pairBy}` : '';
  const design = p.design
    ? `; the sequential design used (looks at ${p.design.looks.join(', ')} ${pairBy}s) has power ${fmt(p.design.power)} there, a fixed design of ${p.design.nMax} ${fmt(p.design.fixedPower)}`
    : '';
  return `power: ${p.seedsNeeded} ${pairBy}s would give ${Math.round(p.target * 100)} % power at ${at} (sd of the gains ${fmt(p.sd)}, paired t); ${p.more ?? 0} more than the ${p.n} here${cost}${design}`;
}

export function fmtSeconds(s: number): string {
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

interface DirectionalOptions {
  names: [string, string];
  sign: 1 | -1;
  minGain: number;
  test: TestName;
  /** The level "gain > min_gain" is tested at (a sequential look's nominal level). */
  alpha: number;
  /** The level "gain < δ" is tested at; may be stricter (ranking: any one of k − 1 pairs may refute it). */
  refuteAlpha: number;
  /** The claim's own α, for power figures. */
  claimAlpha: number;
  metric: string;
  pairBy: string;
  /** The smallest gain worth having: δ = max(min_gain, this). */
  smallestEffect?: number;
  power: PowerContext;
}

/** The flag for a zero-variance paired test: every difference the same number. */
function zeroVarianceText(gain: readonly number[], t: TestResult): string {
  return (
    `ZERO VARIANCE: all ${gain.length} differences equal ${fmt(gain[0]!, true)}, so the test has no spread to weigh them by` +
    (t.test === 'paired-t' ? ` (the t statistic is infinite and its p of ${fmt(t.pValue)} holds only if that sameness is real, not a rounding or caching artefact)` : ` (its p counts only the ${t.n} signs)`)
  );
}

/**
 * "a is better than b by more than minGain" on paired runs, decided by one rule from the (1 − 2α)
 * interval [L, U] of the gain (formats/verdict.ts: Verdict). L > line ⟺ the one-sided test of
 * "gain > min_gain" rejects at α; U < δ ⟺ the one-sided test of "gain < δ" rejects at α (for the
 * t-test these are the interval's ends; for the other tests the interval by test inversion).
 */
function directional(p: Paired, o: DirectionalOptions): Directional {
  const { names, sign, minGain, test, alpha, refuteAlpha, metric, pairBy, smallestEffect } = o;
  const gain = p.a.map((x, i) => sign * (x - p.b[i]!));
  const shifted = gain.map((g) => g - minGain);
  const forT = pairedTest(test, shifted, 'greater');
  // δ: the smallest gain worth having; without one, the claim's own line (the rule then has three outcomes).
  const delta = smallestEffect !== undefined ? Math.max(minGain, smallestEffect) : minGain;
  const againstT = pairedTest(test, gain.map((g) => g - delta), 'less');
  const beyondT = delta > minGain ? pairedTest(test, gain.map((g) => g - delta), 'greater') : forT;
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
  // The decision interval: [L, U] with L at the level of the claim's test and U at the refutation's.
  const s = summarize(gain);
  const interval: [number, number] | null = s
    ? [s.mean - tQuantile(1 - alpha, s.n - 1) * (s.sd / Math.sqrt(s.n)), s.mean + tQuantile(1 - refuteAlpha, s.n - 1) * (s.sd / Math.sqrt(s.n))]
    : null;
  const level = 1 - alpha - refuteAlpha;
  const refutation: Refutation | undefined =
    smallestEffect !== undefined && interval
      ? {
          test: `one-sided ${test}, H1: gain < ${fmt(delta, true)} (the upper half of a TOST at the smallest effect of interest)`,
          bound: delta,
          pValue: againstT.pValue,
          level,
          interval,
        }
      : undefined;
  const flat = zeroVariance(gain);
  const flag = flat ? `; ${zeroVarianceText(gain, forT)}` : '';
  const few = tooFew(forT, alpha, pairBy);
  const basis: PowerNote['basis'] = smallestEffect !== undefined ? 'smallest effect of interest' : 'effect size d_z';
  // Power at δ, measured from the tested line: a true gain of δ is δ − min_gain above it.
  const effect = smallestEffect !== undefined ? delta - minGain : undefined;
  const common = { stats, pFor: forT.pValue, pAgainst: againstT.pValue, zeroVariance: flat, ...(refutation ? { refutation } : {}) };
  if (p.keys.length === 0) {
    return { ...common, verdict: 'inconclusive', pFor: 1, pAgainst: 1, tooFew: 'no paired runs', terminal: false, text: `no ${pairBy} has runs of both ${a} and ${b}` };
  }
  const undecided = (text: string): Directional => {
    // No spread, no power figure: the sd a power figure needs was not measured.
    const power = flat ? undefined : powerNote(gain, effect, basis, o.power.alpha ?? o.claimAlpha, o.power);
    return { ...common, verdict: 'inconclusive', tooFew: few, terminal: false, text: power ? `${text}; ${describePower(power, pairBy, minGain)}${flag}` : `${text}${flag}`, ...(power ? { power } : {}) };
  };
  if (few) return undecided(`${gainText}; ${few}`);
  const pct = (x: number) => `${fmt(Math.round(x * 1000) / 10)}%`;
  const where = interval ? `the ${pct(level)} ${test === 'paired-t' ? '' : 't-'}interval of the gain ${fmt(interval[0], true)} … ${fmt(interval[1], true)}` : '';
  const above = forT.pValue < alpha;
  const below = againstT.pValue < refuteAlpha;
  const lineText = fmt(minGain, true);
  const deltaText = smallestEffect !== undefined ? `the smallest effect of interest ${fmt(delta, true)}` : `${lineText}`;
  const decide = (verdict: Verdict, terminal: boolean, text: string): Directional => ({ ...common, verdict, tooFew: null, terminal, text: `${gainText}; ${text}${flag}` });
  if (above && below) {
    return decide(
      'smaller than claimed',
      true,
      `a real gain, but smaller than ${deltaText}: ${where} lies above ${lineText} (one-sided ${test} ${fmtP(forT.pValue)}, below α = ${fmt(alpha)}) and below ${fmt(delta, true)} (${fmtP(againstT.pValue)}, below α = ${fmt(refuteAlpha)})`,
    );
  }
  if (above) {
    // Terminal once the gain is shown at least δ: more pairs could then no longer show it smaller.
    const terminal = delta === minGain || beyondT.pValue < alpha;
    const upTo = smallestEffect !== undefined ? (terminal ? `, and above ${deltaText} too (${fmtP(beyondT.pValue)})` : `, and it may reach ${deltaText} (gain < ${fmt(delta, true)} not shown, ${fmtP(againstT.pValue)})`) : '';
    return decide('reproduced', terminal, `one-sided ${test} ${fmtP(forT.pValue)}, below α = ${fmt(alpha)}: ${where} lies above ${lineText}${upTo}`);
  }
  if (below) {
    return decide(
      'not reproduced',
      true,
      smallestEffect !== undefined
        ? `the claimed benefit is ruled out: ${where} lies below ${deltaText} (one-sided ${test} ${fmtP(againstT.pValue)} for gain < ${fmt(delta, true)}, below α = ${fmt(refuteAlpha)}), and no gain above ${lineText} is shown (${fmtP(forT.pValue)})`
        : `the data go against the claim: ${where} lies below ${lineText} (one-sided ${test} ${fmtP(againstT.pValue)} for the reverse, below α = ${fmt(refuteAlpha)})`,
    );
  }
  if (smallestEffect !== undefined) {
    return undecided(
      `${gainText}; ${where} reaches below ${lineText} and up to ${deltaText}: no gain above ${lineText} shown (one-sided ${test} ${fmtP(forT.pValue)}, not below α = ${fmt(alpha)}), ` +
        `and gain < ${fmt(delta, true)} not shown either (${fmtP(againstT.pValue)})`,
    );
  }
  return undecided(`${gainText}; ${where} straddles ${lineText}: one-sided ${test} ${fmtP(forT.pValue)}, not below α = ${fmt(alpha)}`);
}

/** The claim's runs of a collapsed training, and the table its tests use under the workflow's policy. */
function collapsedRuns(
  table: ObservationTable,
  notes: RunNotes,
  variants: string[],
  policy: 'count' | 'exclude',
  pairBy: string,
): { table: ObservationTable; runs: CollapsedRun[]; text: string } {
  const runs: CollapsedRun[] = [];
  for (const v of variants) for (const [key, reasons] of notes.collapsed.get(v) ?? []) runs.push({ variant: v, key, reasons });
  if (!runs.length) return { table, runs, text: '' };
  const list = runs.map((r) => `${r.variant} ${pairBy} ${r.key} (${r.reasons.join('; ')})`).join(', ');
  if (policy === 'count') return { table, runs, text: `WARNING collapsed training counted: ${list}` };
  const drop = new Set(runs.map((r) => r.key));
  const filtered: ObservationTable = new Map();
  for (const [v, byKey] of table) filtered.set(v, new Map([...byKey].filter(([k]) => !variants.includes(v) || !drop.has(k))));
  return { table: filtered, runs, text: `collapsed training excluded with its ${pairBy} pair (collapsed: exclude): ${list}` };
}

export interface ClaimContext {
  catalog?: ReadonlyMap<string, MetricDecl>;
  notes?: RunNotes;
  collapsed?: 'count' | 'exclude';
  power?: PowerContext;
  /**
   * The level a test at total α runs at: a sequential look's nominal one-sided p from the exact
   * boundaries (sequential.ts); the identity for a fixed design.
   */
  levelAt?: (alpha: number) => number;
}

export function checkClaim(claim: ClaimEntry, allRuns: ObservationTable, pairBy: string, scale: RunScale, cx: ClaimContext = {}): ClaimCheck {
  const catalog = cx.catalog ?? metricCatalog();
  const powerCx = cx.power ?? {};
  const test = claim.test ?? DEFAULTS.test;
  const alpha = claim.alpha ?? DEFAULTS.alpha;
  const levelAt = cx.levelAt ?? ((x: number) => x);
  const direction = claim.direction ?? catalog.get(claim.metric)?.direction ?? 'higher';
  const sign: 1 | -1 = direction === 'lower' ? -1 : 1;
  const rel = claim.relation;
  const variants = rel.type === 'ranking' ? rel.order ?? [] : [rel.a!, rel.b!];
  const smallestEffect = smallestEffectOf(claim, catalog);
  const flagged = collapsedRuns(allRuns, cx.notes ?? emptyNotes(), variants, cx.collapsed ?? 'count', pairBy);
  const table = flagged.table;
  const withFlags = (explanation: string) => (flagged.text ? `${explanation}. ${flagged.text}` : explanation);

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
    ...(smallestEffect !== undefined ? { smallestEffect } : {}),
    ...(flagged.runs.length ? { collapsed: flagged.runs, collapsedPolicy: cx.collapsed ?? 'count' } : {}),
  };

  if (rel.type === 'better') {
    const minGain = rel.min_gain ?? 0;
    const d = directional(inUnitsOfB(paired(table, claim.metric, rel.a!, rel.b!), rel.relative), {
      names: [rel.a!, rel.b!],
      sign,
      minGain,
      test,
      alpha: levelAt(alpha),
      refuteAlpha: levelAt(alpha),
      claimAlpha: alpha,
      metric: claim.metric,
      pairBy,
      smallestEffect,
      power: powerCx,
    });
    const margin = rel.relative ? `${fmt(Math.abs(minGain) * 100)} % of ${rel.b}` : fmt(Math.abs(minGain));
    const relation =
      minGain < 0
        ? `${rel.a} no worse than ${rel.b} by more than ${margin}`
        : `${rel.a} better than ${rel.b}${minGain > 0 ? ` by more than ${margin}` : ''}${rel.relative ? ' (relative)' : ''}`;
    return {
      ...base,
      relation,
      stats: d.stats,
      verdict: d.verdict,
      terminal: d.terminal,
      ...(d.zeroVariance ? { zeroVariance: true } : {}),
      explanation: withFlags(d.text),
      ...(d.refutation ? { refutation: d.refutation } : {}),
      ...(d.power ? { power: d.power } : {}),
    };
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
    const level = levelAt(alpha);
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
    const few = tooFew(aboveLow.minPValue > belowHigh.minPValue ? aboveLow : belowHigh, level, pairBy);
    let verdict: Verdict;
    let why: string;
    if (p.keys.length === 0) [verdict, why] = ['inconclusive', `no ${pairBy} has runs of both`];
    else if (few) [verdict, why] = ['inconclusive', few];
    else if (tost < level) [verdict, why] = ['reproduced', `TOST (${test}) ${fmtP(tost)}, below α = ${fmt(level)}`];
    else if (beyondHigh.pValue < level || beyondLow.pValue < level)
      [verdict, why] = ['not reproduced', `the difference is beyond the margin: ${fmtP(Math.min(beyondHigh.pValue, beyondLow.pValue))}, below α = ${fmt(level)}`];
    else [verdict, why] = ['inconclusive', `the interval straddles the margin: TOST (${test}) ${fmtP(tost)}, not below α = ${fmt(level)}`];
    const flat = p.keys.length > 0 && zeroVariance(diff);
    if (flat) why += `; ${zeroVarianceText(diff, aboveLow)}`;
    // Power of the TOST at a true difference of 0, from the observed sd.
    const power = verdict === 'inconclusive' && p.keys.length ? powerNote(diff, delta, 'equivalence margin', powerCx.alpha ?? alpha, powerCx, true) : undefined;
    if (power) why += `; ${describePower(power, pairBy)}`;
    return {
      ...base,
      relation: `${rel.a} equivalent to ${rel.b} within ±${fmt(delta)}`,
      stats,
      verdict,
      terminal: verdict === 'reproduced' || verdict === 'not reproduced',
      ...(flat ? { zeroVariance: true } : {}),
      explanation: withFlags(`${diffText}; ${why}`),
      ...(power ? { power } : {}),
    };
  }

  // ranking
  const order = rel.order!;
  const minGain = rel.min_gain ?? 0;
  const refuteAlpha = alpha / Math.max(1, order.length - 1);
  const results = order.slice(0, -1).map((a, j) => {
    const b = order[j + 1]!;
    const d = directional(paired(table, claim.metric, a, b), {
      names: [a, b],
      sign,
      minGain,
      test,
      alpha: levelAt(alpha),
      refuteAlpha: levelAt(refuteAlpha),
      claimAlpha: alpha,
      metric: claim.metric,
      pairBy,
      smallestEffect,
      power: powerCx,
    });
    return { a, b, d };
  });
  const weakest = results.reduce((w, r) => (r.d.pFor > w.d.pFor ? r : w), results[0]!);
  // Any pair ruled out refutes the order; then any undecided pair leaves it open; then any pair smaller than claimed.
  const failed = results.find((r) => r.d.verdict === 'not reproduced');
  const unclear = results.find((r) => r.d.verdict === 'inconclusive');
  const small = results.find((r) => r.d.verdict === 'smaller than claimed');
  const verdict: Verdict = failed ? 'not reproduced' : unclear ? 'inconclusive' : small ? 'smaller than claimed' : 'reproduced';
  const pairText = results.map((r) => `${r.a} > ${r.b}: ${r.d.verdict} (${fmtP(r.d.pFor)})`).join('; ');
  const lead = failed
    ? `${failed.a} > ${failed.b} fails: ${failed.d.text}`
    : unclear
      ? `${unclear.a} > ${unclear.b} is unclear: ${unclear.d.text}`
      : small
        ? `${small.a} > ${small.b} is smaller than claimed: ${small.d.text}`
        : `every adjacent pair holds at α = ${fmt(levelAt(alpha))} (intersection-union test)`;
  return {
    ...base,
    relation: `ranking ${order.join(' > ')}`,
    stats: weakest.d.stats,
    verdict,
    terminal: Boolean(failed) || results.every((r) => r.d.terminal),
    ...(results.some((r) => r.d.zeroVariance) ? { zeroVariance: true } : {}),
    explanation: withFlags(`${lead}. Pairs: ${pairText}`),
    ...(failed?.d.refutation ? { refutation: failed.d.refutation } : {}),
    ...(!failed && unclear?.d.power ? { power: unclear.d.power } : {}),
    pairwise: results.map((r) => ({ a: r.a, b: r.b, stats: r.d.stats, verdict: r.d.verdict })),
  };
}

// ——— the whole file ———


export function summarizeVerdicts(checks: VerdictFile['checks'], scale: RunScale): VerdictSummary {
  const counts = Object.fromEntries(VERDICTS.map((v) => [v, 0])) as Record<Verdict, number>;
  const required = { ...counts };
  for (const c of checks) {
    counts[c.verdict]++;
    if (c.required) required[c.verdict]++;
  }
  // Smaller than claimed fails the gate as not reproduced does: a required claim asserts a gain worth
  // having, and both rule that out at α (docs/compare.md "What the gate does with each verdict").
  const gate = required['not reproduced'] + required['smaller than claimed'] > 0 ? 'not reproduced' : required.inconclusive > 0 ? 'inconclusive' : 'pass';
  return { counts, required, gate, scale };
}

/**
 * The declarations of every metric the results hold or a check names, in catalog order then by name:
 * reports read labels, units and formats from here. An undeclared metric reads as its name.
 */
function metricsInUse(catalog: ReadonlyMap<string, MetricDecl>, table: ObservationTable, checks: VerdictFile['checks']): Record<string, MetricDecl> {
  const names = new Set<string>(checks.map((c) => c.metric));
  const values = new Map<string, number[]>();
  for (const byKey of table.values()) {
    for (const metrics of byKey.values()) {
      for (const [name, v] of Object.entries(metrics)) {
        names.add(name);
        values.set(name, [...(values.get(name) ?? []), v]);
      }
    }
  }
  const order = [...catalog.keys()];
  const rank = (n: string) => (order.includes(n) ? order.indexOf(n) : order.length);
  const out: Record<string, MetricDecl> = {};
  for (const name of [...names].sort((x, y) => rank(x) - rank(y) || x.localeCompare(y))) {
    if (name === 'n') continue; // evaluate's example count is a size, not a metric
    setOwn(out, name, catalog.get(name) ?? undeclaredMetric(name, values.get(name) ?? []));
  }
  return out;
}

/**
 * Training seconds one more seed costs: every variant trains once per seed, so the sum over variants
 * of each one's mean training time per seed (from the histories' epoch seconds). Undefined unmeasured.
 */
export function secondsPerSeed(notes: RunNotes): number | undefined {
  let total = 0;
  for (const byKey of notes.trainingSeconds.values()) {
    const xs = [...byKey.values()];
    if (xs.length) total += xs.reduce((a, b) => a + b, 0) / xs.length;
  }
  return total > 0 ? total : undefined;
}

export function buildVerdictFile(
  w: CompareWith,
  table: ObservationTable,
  notes: RunNotes = emptyNotes(),
  /** A sequential look: the level each total α tests at, and the design's boundaries for power figures. */
  sequential?: { levelAt: (alpha: number) => number; designAt: (alpha: number) => NonNullable<PowerContext['design']> },
): VerdictFile {
  const scale = w.scale ?? DEFAULTS.scale;
  const scaleNote =
    w.scale_note ?? (scale === 'full' ? 'the full protocol on the full data, as the workflow declares them' : 'scale not declared: treated as a proxy run');
  const pairBy = w.pair_by ?? DEFAULTS.pair_by;
  const catalog = metricCatalog(w.metrics);
  const perSeed = secondsPerSeed(notes);
  const checks: VerdictFile['checks'] = [
    ...(w.reported ?? []).map((r) => checkReported(r, table, scale, scaleNote)),
    ...(w.claims ?? []).map((c) =>
      checkClaim(c, table, pairBy, scale, {
        catalog,
        notes,
        collapsed: w.collapsed ?? 'count',
        power: { secondsPerSeed: perSeed, ...(sequential ? { design: sequential.designAt(c.alpha ?? DEFAULTS.alpha) } : {}) },
        ...(sequential ? { levelAt: sequential.levelAt } : {}),
      }),
    ),
  ];
  return { scale, scaleNote, metrics: metricsInUse(catalog, table, checks), checks, summary: summarizeVerdicts(checks, scale) };
}
