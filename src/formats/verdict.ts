// What a `compare` step writes as verdicts.json; `repro check` gates on it, `report` renders it.

import type { MetricDecl } from './metrics.js';

/**
 * From the (1 − 2α) interval [L, U] of a claimed gain, the line the claim tests (min_gain, 0 by default)
 * and the smallest effect of interest δ (Lakens, Scheel & Isager 2018):
 *   reproduced           L > line, U ≥ δ: a gain, and one that may be as large as the claim needs;
 *   smaller than claimed L > line, U < δ: a real gain, shown smaller than the smallest effect worth having;
 *   not reproduced       L ≤ line, U < δ (or an absolute number outside its band): the claimed benefit is ruled out;
 *   inconclusive         L ≤ line, U ≥ δ: the data cannot tell (with the seeds δ would need);
 *   not recorded         the paper's value is unknown.
 * docs/compare.md "How a verdict is decided" says what each means for a paper's claim.
 */
export type Verdict = 'reproduced' | 'smaller than claimed' | 'not reproduced' | 'inconclusive' | 'not recorded';

/** Every verdict, in the order tables and counts list them. */
export const VERDICTS: readonly Verdict[] = ['reproduced', 'smaller than claimed', 'not reproduced', 'inconclusive', 'not recorded'];

export interface Stats {
  n: number;
  mean: number;
  sd: number;
  ci95: [number, number];
  effectSize?: number;
  pValue?: number;
  test?: string;
  /** What effectSize measures: "Cohen's d_z" for paired differences, "(mean − reported) / sd" for a reported value. */
  effectSizeKind?: string;
  /** The test statistic: t, W+ (Wilcoxon) or the number of positive differences (sign test). */
  statistic?: number;
  /** The alternative pValue belongs to ('greater' for a one-sided claim, 'tost' for an equivalence). */
  alternative?: string;
}

/** The scale of the run a verdict comes from; stated on every check so no line can be read without it. */
export type RunScale = 'full' | 'proxy' | 'smoke';

export interface ReportedCheck {
  kind: 'reported';
  id: string;
  metric: string;
  variant: string;
  reported: { value: number | null; sd?: number; n?: number; source: Record<string, unknown>; note?: string };
  tolerance?: { absolute?: number; relative?: number; k_sd?: number };
  measured: Stats | null;
  verdict: Verdict;
  explanation: string;
  /** Whether `repro check` gates on this entry (default false: reported numbers inform, claims gate). */
  required?: boolean;
  scale?: RunScale;
}

export interface ClaimCheck {
  kind: 'claim';
  id: string;
  text: string;
  required: boolean;
  relation: string;
  metric: string;
  variants: string[];
  stats: Stats | null;
  perVariant: Record<string, Stats>;
  verdict: Verdict;
  explanation: string;
  scale?: RunScale;
  alpha?: number;
  direction?: 'higher' | 'lower';
  /** The matrix axis pairs were formed on ('seed' or 'fold'). */
  pairedBy?: string;
  /** The smallest gain worth having, in the metric's units (the claim's own, or its metric's declared one). */
  smallestEffect?: number;
  /** The test against the smallest effect of interest that can refute the claim (better, ranking). */
  refutation?: Refutation;
  /** For an undecided claim: the seeds a paired test would need for 80 % power at δ, and their cost. */
  power?: PowerNote;
  /**
   * Whether more pairs could no longer change the verdict under the rule: the claimed benefit is ruled
   * out (U < δ), or the gain is shown at least δ (L > δ; without a smallest effect, L > the line).
   * `repro check --until-decided` stops only when every required claim is terminal.
   */
  terminal?: boolean;
  /** Set when every paired difference is the same number: the test had no spread to weigh them by. */
  zeroVariance?: boolean;
  /** Trainings of the claim's variants flagged as collapsed, and what the tests did with them. */
  collapsed?: CollapsedRun[];
  collapsedPolicy?: 'count' | 'exclude';
  /** Set by `repro check --until-decided`: the look this verdict comes from and the α it spent. */
  sequential?: SequentialLook;
  /** For a ranking: each adjacent pair of the order, checked as "a better than b". */
  pairwise?: Array<{ a: string; b: string; stats: Stats | null; verdict: Verdict }>;
}

export interface Refutation {
  /** In words: 'one-sided paired-t, H1: gain < +0.02 (non-inferiority bound …)'. */
  test: string;
  /** The line the gain is tested against: max(min_gain, smallest effect of interest). */
  bound: number;
  pValue: number;
  /** The (1 − 2α) t-interval of the gain, and its level. */
  interval: [number, number];
  level: number;
}

export interface PowerNote {
  /** 0.8 */
  target: number;
  /**
   * What the power is computed at, fixed before the run: the smallest effect of interest, an
   * equivalence margin, or (no smallest effect declared) standardised effects d_z 0.5 and 1.
   * 'observed gain' is only in files written before compare v4.
   */
  basis: 'smallest effect of interest' | 'observed gain' | 'equivalence margin' | 'effect size d_z';
  /** The true gain the power is computed at, beyond the tested line (δ − min_gain), in metric units. */
  effect?: number;
  /** Without a smallest effect: the pairs a one-sided paired t-test needs for 80 % power at d_z 0.5 and 1. */
  byEffectSize?: Array<{ dz: number; seedsNeeded: number | null }>;
  /** Sequential runs: the power at δ of the design actually used (its looks and boundaries), and of a fixed design of its largest size. */
  design?: { power: number; fixedPower: number; nMax: number; looks: number[] };
  /** The sd of the paired gains observed here. */
  sd: number;
  /** Pairs (seeds or folds) in this run. */
  n: number;
  /** Pairs a paired t-test needs for the target power; null when none within reach (or no effect to aim at). */
  seedsNeeded: number | null;
  more?: number;
  secondsPerSeed?: number;
  /** Training time of the additional seeds at this run's measured times (every variant, one at a time). */
  seconds?: number;
  note?: string;
}

export interface CollapsedRun {
  variant: string;
  /** The pairing key (seed or fold). */
  key: string;
  reasons: string[];
}

export interface SequentialLook {
  /** "group-sequential, Lan–DeMets O'Brien–Fleming spending, exact boundaries …". */
  design: string;
  /** The critical value of Z this look rejects beyond (exact recursive integration); its nominal one-sided p is alphaLook. */
  z?: number;
  look: number;
  /** Pairs at this look, and at most. */
  n: number;
  nMax: number;
  /** The nominal one-sided p this look rejects below (1 − Φ(z)), and the α spent by the boundaries so far. */
  alphaLook: number;
  alphaSpent: number;
  alpha: number;
}

/** Counts of verdicts, and what `repro check` concludes from the required ones. */
export interface VerdictSummary {
  counts: Record<Verdict, number>;
  required: Record<Verdict, number>;
  /**
   * 'pass': every required check reproduced; 'not reproduced' when a required check is not reproduced
   * or smaller than claimed (the claimed benefit is ruled out either way); otherwise 'inconclusive'.
   */
  gate: 'pass' | 'not reproduced' | 'inconclusive';
  scale: RunScale;
}

export interface VerdictFile {
  scale: RunScale;
  scaleNote: string;
  /**
   * How each metric of the checks and of the results reads (label, direction, unit, format,
   * smallest_effect): the built-in declarations and the workflow's, for reports. Absent in files
   * written before compare v3.
   */
  metrics?: Record<string, MetricDecl>;
  checks: Array<ReportedCheck | ClaimCheck>;
  summary?: VerdictSummary;
}
