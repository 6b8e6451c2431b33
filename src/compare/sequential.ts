// `repro check --until-decided`: seeds are added in rounds until every required claim is decided or
// the budget runs out. Looking at the data after every round and stopping when a test rejects would
// inflate the error rate (with four looks at α = 0.05 each, a true null is "reproduced" about 1 time in
// 8 rather than 1 in 20), so the looks follow a group-sequential design:
//
//   Lan–DeMets alpha spending with exact boundaries. With n_max pairs at most and n_k at look k, the
//   information fraction is t_k = n_k / n_max; by look k the design has spent α(t_k) of α,
//   O'Brien–Fleming-type α(t) = 2 − 2Φ(z_{1−α/2}/√t) by default (almost nothing early), Pocock-type
//   α·ln(1 + (e − 1)t) as an option. Look k's critical value c_k is the exact one: P(no earlier crossing,
//   Z_k ≥ c_k) = α(t_k) − α(t_{k−1}) under H0, by recursive numerical integration over the looks actually
//   taken (stats.ts: sequentialBoundaries). A look tests at the nominal level 1 − Φ(c_k) with the claim's
//   own test, and the verdict at that look is the fixed rule of verdicts.ts on the repeated confidence
//   interval at that level (Jennison & Turnbull 2000, ch. 9): same rule, same words.
//   Both halves of the rule spend their own α this way: "gain > line" and "gain < δ".
//   The run stops only when every required claim is terminal under the rule (ClaimCheck.terminal): the
//   claimed benefit ruled out (U < δ), or the gain shown at least δ. The max is fixed before the first
//   look, from --max-seeds or from the time budget and measured step times, never from the outcomes.
//
// test/compare/sequential.test.ts checks the boundaries against published values and the type-I error by
// simulation on normal and skewed gains.

import { join } from 'node:path';
import { pairedTest, sequentialBoundaries, type SpendingFunction, type TestName, alphaSpent } from './stats.js';
import { ReproError } from '../core/errors.js';
import { mulberry32 } from '../core/rng.js';
import { roleOf, type RunRecord } from '../formats/run-record.js';
import type { VerdictFile } from '../formats/verdict.js';
import { isOutputRef, type ConcreteStep, type Gathered, type Plan } from '../workflow/types.js';
import { DEFAULTS, knownMetricNames, type CompareWith } from './spec.js';
import { claimsFilePath, mergeClaims, readClaimsFile } from './claims-file.js';
import { emptyNotes, loadObservations } from './observations.js';
import { buildVerdictFile, fmt, secondsPerSeed } from './verdicts.js';

export const SEQUENTIAL_DESIGN =
  "group-sequential, Lan–DeMets O'Brien–Fleming-type alpha spending, exact boundaries by recursive numerical integration over the looks taken";

/** The design in words, for the spending function chosen (`repro check --until-decided --spending`). */
export function sequentialDesign(spending: SpendingFunction = 'obrien-fleming'): string {
  return spending === 'pocock' ? SEQUENTIAL_DESIGN.replace("O'Brien–Fleming-type", 'Pocock-type') : SEQUENTIAL_DESIGN;
}

/** α spent by information fraction t (0 < t ≤ 1) under the O'Brien–Fleming-type spending function. */
export function obrienFlemingSpent(t: number, alpha: number): number {
  return alphaSpent(t, alpha, 'obrien-fleming');
}

/** The looks: n0, n0 + round, …, capped at nMax (the last look is always at nMax). */
export function plannedLooks(n0: number, round: number, nMax: number): number[] {
  const looks: number[] = [];
  for (let n = n0; n < nMax; n += Math.max(1, round)) looks.push(n);
  looks.push(nMax);
  return [...new Set(looks)].filter((n) => n >= n0);
}

/**
 * The nominal one-sided level each look tests at: 1 − Φ(c_k) for the exact boundaries at n_k / nMax.
 * The looks may stop short of nMax (a budget that ended early): the earlier looks' levels do not change.
 */
export function lookAlphas(looks: readonly number[], nMax: number, alpha: number, spending: SpendingFunction = 'obrien-fleming'): number[] {
  return sequentialBoundaries(looks.map((n) => n / nMax), alpha, spending).nominal;
}

/** Standard normals (Box–Muller) for the simulations, from core's seeded mulberry32. */
export function normalStream(seed: number): () => number {
  const uniform = mulberry32(seed);
  return () => {
    const u = Math.max(uniform(), 1e-300);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
  };
}

export interface SimulationResult {
  sequences: number;
  rejections: number;
  rate: number;
  /** Monte-Carlo standard error of the rate at α: √(α(1 − α)/sequences). */
  standardError: number;
  /** Rejections at each look. */
  byLook: number[];
}

/**
 * Type-I error of the procedure by simulation: paired gains drawn by `gain` (mean 0 under the null
 * simulated: a standard normal by default), looks at `looks`, a one-sided paired test (`test`, default
 * paired-t) at each look's nominal level; a sequence "rejects" when any look does. With `naive: true`
 * every look tests at the full α, the inflation the design prevents.
 */
export function simulateTypeIError(o: {
  looks: number[];
  alpha: number;
  sequences: number;
  seed: number;
  naive?: boolean;
  test?: TestName;
  spending?: SpendingFunction;
  gain?: (normal: () => number, uniform: () => number) => number;
}): SimulationResult {
  const nMax = o.looks[o.looks.length - 1]!;
  const alphas = o.naive ? o.looks.map(() => o.alpha) : lookAlphas(o.looks, nMax, o.alpha, o.spending);
  const normal = normalStream(o.seed);
  const uniform = mulberry32(o.seed ^ 0x9e3779b9);
  const draw = o.gain ? () => o.gain!(normal, uniform) : normal;
  const byLook = o.looks.map(() => 0);
  let rejections = 0;
  for (let s = 0; s < o.sequences; s++) {
    const gains: number[] = [];
    for (let k = 0; k < o.looks.length; k++) {
      while (gains.length < o.looks[k]!) gains.push(draw());
      if (pairedTest(o.test ?? 'paired-t', gains, 'greater').pValue < alphas[k]!) {
        rejections++;
        byLook[k]!++;
        break;
      }
    }
  }
  const rate = rejections / o.sequences;
  return { sequences: o.sequences, rejections, rate, standardError: Math.sqrt((o.alpha * (1 - o.alpha)) / o.sequences), byLook };
}

// ——— the pieces `repro check --until-decided` puts together ———

export interface SeedAxis {
  /** The compare step (concrete id) whose claims decide. */
  compare: ConcreteStep;
  /** The matrix axis pairs are formed on ('seed'). */
  pairBy: string;
  /** The param the axis reads (`matrix: {seed: ${{ params.seeds }}}`): the rounds extend it. */
  param: string;
  seeds: number[];
}

const PARAM_REF = /^\$\{\{\s*params\.([A-Za-z_][\w-]*)\s*\}\}$/;

/**
 * The seed axis that rounds extend: the compare step's pair_by axis, read by the gathered steps from
 * one param holding integer seeds. Anything else is a ReproError('invalid') with a hint.
 */
export function seedAxisOf(plan: Plan): SeedAxis {
  const compares = plan.steps.filter((s) => roleOf(s) === 'comparison');
  if (compares.length !== 1) {
    throw new ReproError(`--until-decided needs exactly one compare step (this plan has ${compares.length})`, 'invalid');
  }
  const compare = compares[0]!;
  const w = compare.with as Partial<CompareWith>;
  const pairBy = typeof w.pair_by === 'string' ? w.pair_by : DEFAULTS.pair_by;
  const hint = `give the steps a seed axis read from a param, e.g. params: {seeds: {type: array, default: [1, 2, 3, 4, 5]}} and matrix: {seed: '\${{ params.seeds }}'} (with pair_by: seed)`;
  const gathered = Array.isArray(w.results) ? (w.results as Array<Partial<Gathered<unknown>>>) : [];
  const stepIds = new Set(gathered.map((g) => plan.steps.find((s) => s.id === g.step)?.stepId).filter((s): s is string => typeof s === 'string'));
  const params = new Set<string>();
  for (const id of stepIds) {
    const raw = plan.workflow.steps[id]?.matrix?.[pairBy];
    const m = typeof raw === 'string' ? PARAM_REF.exec(raw.trim()) : null;
    if (raw === undefined) {
      throw new ReproError(`--until-decided: step '${id}' has no matrix axis '${pairBy}' to add seeds to`, 'invalid', hint);
    }
    if (!m) {
      throw new ReproError(`--until-decided: the '${pairBy}' axis of step '${id}' is written out in the workflow, so seeds cannot be added to it`, 'invalid', hint);
    }
    params.add(m[1]!);
  }
  if (params.size !== 1) {
    throw new ReproError(
      params.size === 0 ? '--until-decided: the compare step gathers no matrix step' : `--until-decided: the steps read their ${pairBy}s from different params (${[...params].join(', ')})`,
      'invalid',
      hint,
    );
  }
  const param = [...params][0]!;
  const seeds = plan.params[param];
  if (!Array.isArray(seeds) || !seeds.every((x) => Number.isInteger(x))) {
    throw new ReproError(
      `--until-decided adds integer seeds, but the '${pairBy}' axis (param '${param}') holds ${JSON.stringify(seeds)}`,
      'invalid',
      pairBy === 'fold' ? 'folds are fixed by the data: pair by seed to add runs' : hint,
    );
  }
  return { compare, pairBy, param, seeds: seeds as number[] };
}

/**
 * The compare step's inputs as a finished run stored them: its `with` with every gathered reference
 * replaced by the output's path in the store, and the claims file merged in.
 */
export function comparisonOfRun(compare: ConcreteStep, record: RunRecord, workflowDir: string): CompareWith {
  const w = compare.with as unknown as CompareWith & Record<string, unknown>;
  const resolve = (list: unknown): Gathered<string>[] | undefined => {
    if (!Array.isArray(list)) return undefined;
    return (list as Array<Gathered<unknown>>).map((g) => {
      const ref = isOutputRef(g.value) ? g.value.$ref : null;
      const step = ref ? record.steps.find((s) => s.id === ref.step) : undefined;
      const art = ref && step ? step.outputs?.[ref.output] : undefined;
      if (!art?.storePath) throw new ReproError(`the run has no stored output ${ref ? `${ref.output} of ${ref.step}` : `for ${g.step}`}`, 'step-failed');
      return { matrix: g.matrix, step: g.step, value: join(record.store, art.storePath) };
    });
  };
  const out: CompareWith = { ...w, results: resolve(w.results)!, ...(w.timings !== undefined ? { timings: resolve(w.timings) } : {}) };
  if (typeof w.claims_file !== 'string') return out;
  const file = readClaimsFile(claimsFilePath(w.claims_file, workflowDir)!);
  if (file.problems.length) throw new ReproError(file.problems.join('\n'), 'invalid');
  return mergeClaims(out, file);
}

/**
 * The verdicts at look `look` (1-based) of `looks`: every claim decided by the fixed rule at the look's
 * nominal level from the exact boundaries, with the look recorded on each claim. Reported numbers keep
 * their own α (seeds do not decide a paper's absolute numbers on a proxy run).
 */
export async function sequentialVerdicts(
  w: CompareWith,
  looks: readonly number[],
  look: number,
  spending: SpendingFunction = 'obrien-fleming',
): Promise<VerdictFile> {
  const variantKey = w.variant_key ?? DEFAULTS.variant_key;
  const pairBy = w.pair_by ?? DEFAULTS.pair_by;
  const notes = emptyNotes();
  const table = await loadObservations(w.results, w.timings, variantKey, pairBy, new Set(knownMetricNames(w)), notes);
  const nMax = looks[looks.length - 1]!;
  const fractions = looks.map((n) => n / nMax);
  // Boundaries per total α (a ranking refutes at α/(k − 1)); the looks up to this one are the ones taken.
  const cache = new Map<number, ReturnType<typeof sequentialBoundaries>>();
  const boundaries = (alpha: number) => {
    if (!cache.has(alpha)) cache.set(alpha, sequentialBoundaries(fractions, alpha, spending));
    return cache.get(alpha)!;
  };
  const levelAt = (alpha: number) => boundaries(alpha).nominal[look - 1]!;
  const designAt = (alpha: number) => ({ fractions, z: boundaries(alpha).z, nMax, looks: [...looks] });
  const file = buildVerdictFile(w, table, notes, { levelAt, designAt });
  for (const c of file.checks) {
    if (c.kind !== 'claim') continue;
    const alpha = c.alpha ?? DEFAULTS.alpha;
    const b = boundaries(alpha);
    c.sequential = {
      design: sequentialDesign(spending),
      look,
      n: looks[look - 1]!,
      nMax,
      alpha,
      z: b.z[look - 1]!,
      alphaLook: b.nominal[look - 1]!,
      alphaSpent: b.spent.slice(0, look).reduce((x, y) => x + y, 0),
    };
    c.explanation += ` [look ${look} of at most ${looks.length}, ${looks[look - 1]} of at most ${nMax} ${pairBy}s: boundary z ${fmt(b.z[look - 1]!)}, tested at nominal one-sided α ${fmt(c.sequential.alphaLook)} of ${alpha} (${sequentialDesign(spending)})]`;
  }
  return file;
}

/** Whether every required claim is terminal under the rule (more seeds could not change its verdict). */
export function decided(file: VerdictFile): boolean {
  return file.checks.every((c) => c.kind !== 'claim' || !c.required || c.terminal === true);
}

/**
 * Seconds one more seed costs, from a run record: the steps on the seed axis that ran (not cached),
 * summed and divided by the seeds they covered; undefined when every such step was cached.
 */
export function measuredSecondsPerSeed(record: RunRecord, pairBy: string): number | undefined {
  const ran = record.steps.filter((s) => s.status !== 'cached' && s.matrix && pairBy in s.matrix && typeof s.durationMs === 'number');
  const seeds = new Set(ran.map((s) => JSON.stringify(s.matrix[pairBy])));
  if (!seeds.size) return undefined;
  return ran.reduce((a, s) => a + s.durationMs!, 0) / 1000 / seeds.size;
}

/** Training seconds per seed from the histories the comparison gathers (when every step was cached). */
export async function historySecondsPerSeed(w: CompareWith): Promise<number | undefined> {
  const notes = emptyNotes();
  await loadObservations(w.results, w.timings, w.variant_key ?? DEFAULTS.variant_key, w.pair_by ?? DEFAULTS.pair_by, new Set(), notes);
  return secondsPerSeed(notes);
}
