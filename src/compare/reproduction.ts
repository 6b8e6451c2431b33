// The statistical level of a reproduction: a re-run's seeds against the original run's, per variant
// and metric, and each claim's verdict on the re-run beside the original's. `repro reproduce` uses it
// when the outputs are not bit-identical (another CPU, a GPU, another engine) or when it ran fresh
// seeds; `repro check --against` uses it as a drift gate; `repro diff` for its metric intervals.
//
// Per variant and metric, the difference Δ = reproduced − original is tested for equivalence within
// the metric's smallest effect δ (two one-sided tests, Schuirmann 1987): the (1 − 2α) interval of Δ
//   inside (−δ, δ)              equivalent
//   entirely beyond −δ or +δ    different (shown to differ by more than the smallest effect)
//   otherwise                   inconclusive
// The same seeds re-run are paired by seed (a paired t interval of the per-seed differences); fresh
// seeds are independent samples (Welch's interval, Welch–Satterthwaite degrees of freedom).

import type { Verdict, VerdictFile } from '../formats/verdict.js';
import { mean, sd, tCdf, tQuantile, welch } from './stats.js';
import { DEFAULTS } from './spec.js';
import { fmt } from './verdicts.js';

/** group (step and variant) → metric → replicate key (`seed=1,fold=0`) → value: the samples of one run (runs.ts runSamples). */
export type RunSamples = Map<string, Map<string, Map<string, number>>>;

export type SampleVerdict = 'identical' | 'equivalent' | 'different' | 'inconclusive' | 'untested';
export type SampleDesign = 'paired' | 'welch';

/** Where δ came from: the workflow's metric declaration, the smallest of its claims' on that metric, or the default. */
export type EffectSource = 'metric' | 'claim' | 'default';

/** Where a metric declares no smallest effect: half the sd of the original's seeds, at least this fraction of its mean. */
export const DEFAULT_EFFECT_SD = 0.5;
export const DEFAULT_EFFECT_RELATIVE = 0.001;

interface Side {
  n: number;
  mean: number;
  sd: number | null;
}

export interface SampleComparison {
  group: string;
  metric: string;
  design: SampleDesign;
  original: Side;
  reproduced: Side;
  /** reproduced − original: the mean of the per-seed differences (paired) or the difference of the means. */
  delta: number;
  /** The (1 − 2α) interval of delta; null with too few values for one. */
  interval: [number, number] | null;
  level: number;
  smallestEffect: number;
  effectSource: EffectSource;
  /** TOST p: the larger of the two one-sided p-values against −δ and +δ; null without a test. */
  pValue: number | null;
  verdict: SampleVerdict;
  /** A measurement of the machine (ms_per_step…): shown, never part of the verdict. */
  measurement: boolean;
}

export interface SampleOptions {
  alpha?: number;
  /** 'auto': paired when both runs have the same replicate keys (the same seeds), else Welch. */
  design?: SampleDesign | 'auto';
  /** δ per metric as the workflow declares it (see smallestEffects). */
  effects?: ReadonlyMap<string, { value: number; source: EffectSource }>;
  /** Metrics that measure the machine. */
  measurements?: ReadonlySet<string>;
}

/**
 * The smallest effect of each metric the compare steps know: the workflow's metric declaration
 * (`metrics: {accuracy: {smallest_effect: 0.02}}`) first, else the smallest δ of the claims on it.
 */
export function smallestEffects(files: readonly VerdictFile[]): Map<string, { value: number; source: EffectSource }> {
  const out = new Map<string, { value: number; source: EffectSource }>();
  for (const f of files) {
    for (const [name, decl] of Object.entries(f.metrics ?? {})) {
      if (typeof decl.smallest_effect === 'number' && decl.smallest_effect > 0) out.set(name, { value: decl.smallest_effect, source: 'metric' });
    }
  }
  for (const f of files) {
    for (const c of f.checks) {
      if (c.kind !== 'claim' || typeof c.smallestEffect !== 'number' || !(c.smallestEffect > 0)) continue;
      const had = out.get(c.metric);
      if (had?.source === 'metric') continue;
      if (!had || c.smallestEffect < had.value) out.set(c.metric, { value: c.smallestEffect, source: 'claim' });
    }
  }
  return out;
}

function side(xs: readonly number[]): Side {
  return { n: xs.length, mean: mean(xs), sd: xs.length >= 2 ? sd(xs) : null };
}

/** The TOST decision from Δ's estimate, standard error and degrees of freedom. */
function decide(delta: number, se: number, df: number, effect: number, alpha: number): { interval: [number, number]; pValue: number; verdict: SampleVerdict } {
  if (se === 0) {
    // No spread: the interval is the point.
    const inside = Math.abs(delta) < effect;
    return { interval: [delta, delta], pValue: inside ? 0 : 1, verdict: delta === 0 ? 'identical' : inside ? 'equivalent' : 'different' };
  }
  const half = tQuantile(1 - alpha, df) * se;
  const interval: [number, number] = [delta - half, delta + half];
  const pAbove = 1 - tCdf((delta + effect) / se, df); // H0: Δ ≤ −δ
  const pBelow = tCdf((delta - effect) / se, df); // H0: Δ ≥ +δ
  const pValue = Math.max(pAbove, pBelow);
  const verdict: SampleVerdict =
    interval[0] > -effect && interval[1] < effect ? 'equivalent' : interval[0] >= effect || interval[1] <= -effect ? 'different' : 'inconclusive';
  return { interval, pValue, verdict };
}

/** One metric of one variant: the original's values against the re-run's, by replicate key. */
export function compareSample(
  original: ReadonlyMap<string, number>,
  reproduced: ReadonlyMap<string, number>,
  effect: { value: number; source: EffectSource } | undefined,
  o: { alpha: number; design: SampleDesign },
): Omit<SampleComparison, 'group' | 'metric' | 'measurement'> {
  const a = [...original.values()];
  const b = [...reproduced.values()];
  const level = 1 - 2 * o.alpha;
  const origin = side(a);
  const delta0 = effect ?? { value: Math.max(DEFAULT_EFFECT_SD * (origin.sd ?? 0), DEFAULT_EFFECT_RELATIVE * Math.abs(origin.mean)), source: 'default' as const };
  const base = { design: o.design, original: origin, reproduced: side(b), level, smallestEffect: delta0.value, effectSource: delta0.source };
  const identical = a.length === b.length && [...original].every(([k, v]) => Object.is(reproduced.get(k), v));
  if (identical) return { ...base, delta: 0, interval: [0, 0], pValue: a.length ? 0 : null, verdict: a.length ? 'identical' : 'untested' };

  if (o.design === 'paired') {
    const d = [...original].filter(([k]) => reproduced.has(k)).map(([k, v]) => reproduced.get(k)! - v);
    const delta = mean(d);
    if (d.length < 2) return { ...base, delta, interval: null, pValue: null, verdict: 'untested' };
    const r = decide(delta, sd(d) / Math.sqrt(d.length), d.length - 1, delta0.value, o.alpha);
    return { ...base, delta, ...r };
  }
  const delta = base.reproduced.mean - origin.mean;
  if (a.length < 2 || b.length < 2) return { ...base, delta, interval: null, pValue: null, verdict: 'untested' };
  const { se, df } = welch(a, b);
  return { ...base, delta, ...decide(delta, se, df, delta0.value, o.alpha) };
}

/** Every variant × metric both runs measured. */
export function compareSamples(original: RunSamples, reproduced: RunSamples, opts: SampleOptions = {}): SampleComparison[] {
  const alpha = opts.alpha ?? DEFAULTS.alpha;
  const out: SampleComparison[] = [];
  for (const [group, metrics] of original) {
    const again = reproduced.get(group);
    if (!again) continue;
    for (const [metric, values] of metrics) {
      const other = again.get(metric);
      if (!other) continue;
      const sameKeys = values.size === other.size && [...values.keys()].every((k) => other.has(k));
      const design = !opts.design || opts.design === 'auto' ? (sameKeys ? 'paired' : 'welch') : opts.design;
      out.push({
        group,
        metric,
        measurement: opts.measurements?.has(metric) ?? false,
        ...compareSample(values, other, opts.effects?.get(metric), { alpha, design }),
      });
    }
  }
  return out;
}

// ——— claims ———

/** 'same' verdict; 'changed' between two decided verdicts; 'undecided' when either side is inconclusive. */
export type ClaimAgreement = 'same' | 'changed' | 'undecided';

export interface ClaimReproduction {
  id: string;
  /** Whether `repro check` gates on it. */
  required: boolean;
  original: Verdict | null;
  reproduced: Verdict | null;
  agreement: ClaimAgreement;
  /** A claim on a measurement of the machine (C5: ms per step): shown, never part of the verdict. */
  measurement: boolean;
}

/** Each check of the original's compare steps beside the same check on the re-run. */
export function compareClaims(original: readonly VerdictFile[], reproduced: readonly VerdictFile[], measurements: ReadonlySet<string> = new Set()): ClaimReproduction[] {
  const index = (files: readonly VerdictFile[]) => new Map(files.flatMap((f) => f.checks.map((c) => [c.id, c] as const)));
  const a = index(original);
  const b = index(reproduced);
  return [...new Set([...a.keys(), ...b.keys()])].map((id) => {
    const x = a.get(id)?.verdict ?? null;
    const y = b.get(id)?.verdict ?? null;
    const agreement: ClaimAgreement = x === y ? 'same' : x === 'inconclusive' || y === 'inconclusive' ? 'undecided' : 'changed';
    const metric = (a.get(id) ?? b.get(id))!.metric;
    return { id, required: Boolean(a.get(id)?.required ?? b.get(id)?.required), original: x, reproduced: y, agreement, measurement: measurements.has(metric) };
  });
}

// ——— the verdict ———

/**
 * reproduced      every metric equivalent (or identical) and every claim the same verdict
 * not reproduced  a metric shown different beyond its smallest effect, or a claim decided the other way
 * differs         a metric differs where there are too few seeds for any test (one run a side)
 * inconclusive    otherwise: an interval straddles ±δ, or a claim is inconclusive on one side only
 * no evidence     nothing to compare (no metrics, no claims)
 */
export type ReproductionVerdict = 'reproduced' | 'not reproduced' | 'differs' | 'inconclusive' | 'no evidence';

export interface Reproduction {
  verdict: ReproductionVerdict;
  design: SampleDesign | 'none';
  alpha: number;
  metrics: SampleComparison[];
  claims: ClaimReproduction[];
  /** One line per reason the verdict is not 'reproduced'. */
  reasons: string[];
}

export function reproduction(
  original: { samples: RunSamples; verdicts: readonly VerdictFile[] },
  reproduced: { samples: RunSamples; verdicts: readonly VerdictFile[] },
  opts: Omit<SampleOptions, 'effects'> = {},
): Reproduction {
  const alpha = opts.alpha ?? DEFAULTS.alpha;
  const metrics = compareSamples(original.samples, reproduced.samples, { ...opts, alpha, effects: smallestEffects(original.verdicts) });
  const claims = compareClaims(original.verdicts, reproduced.verdicts, opts.measurements);
  const results = metrics.filter((m) => !m.measurement);
  const decisive = claims.filter((c) => !c.measurement);
  const reasons: string[] = [];
  const where = (m: SampleComparison) => `${m.group} ${m.metric}`;
  for (const m of results.filter((x) => x.verdict === 'different')) reasons.push(`${where(m)} differs beyond its smallest effect ±${fmt(m.smallestEffect)}`);
  for (const c of decisive.filter((x) => x.agreement === 'changed')) reasons.push(`claim ${c.id}: ${c.original ?? 'absent'} → ${c.reproduced ?? 'absent'}`);
  const notReproduced = reasons.length > 0;
  for (const m of results.filter((x) => x.verdict === 'untested')) reasons.push(`${where(m)}: values differ, too few seeds to test (n = ${m.original.n}, ${m.reproduced.n})`);
  const untested = reasons.length > 0 && !notReproduced;
  for (const m of results.filter((x) => x.verdict === 'inconclusive')) reasons.push(`${where(m)}: equivalence within ±${fmt(m.smallestEffect)} not shown`);
  for (const c of decisive.filter((x) => x.agreement === 'undecided')) reasons.push(`claim ${c.id}: ${c.original ?? 'absent'} → ${c.reproduced ?? 'absent'}`);
  const verdict: ReproductionVerdict = notReproduced
    ? 'not reproduced'
    : untested
      ? 'differs'
      : reasons.length
        ? 'inconclusive'
        : results.length + decisive.length === 0
          ? 'no evidence'
          : 'reproduced';
  const designs = new Set(results.map((m) => m.design));
  return { verdict, design: designs.size === 1 ? [...designs][0]! : designs.size ? 'welch' : 'none', alpha, metrics, claims, reasons };
}
