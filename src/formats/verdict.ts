// What a `compare` step writes as verdicts.json; `repro check` gates on it, `report` renders it.

import type { MetricDecl } from './metrics.js';

export type Verdict = 'reproduced' | 'not reproduced' | 'inconclusive' | 'not recorded';

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
  /** For a ranking: each adjacent pair of the order, checked as "a better than b". */
  pairwise?: Array<{ a: string; b: string; stats: Stats | null; verdict: Verdict }>;
}

/** Counts of verdicts, and what `repro check` concludes from the required ones. */
export interface VerdictSummary {
  counts: Record<Verdict, number>;
  required: Record<Verdict, number>;
  /** 'pass': every required check reproduced; otherwise the worst required verdict. */
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
