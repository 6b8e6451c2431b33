// What a `compare` step writes as verdicts.json; `repro check` gates on it, `report` renders it.

export type Verdict = 'reproduced' | 'not reproduced' | 'inconclusive' | 'not recorded';

export interface Stats {
  n: number;
  mean: number;
  sd: number;
  ci95: [number, number];
  effectSize?: number;
  pValue?: number;
  test?: string;
}

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
}

export interface VerdictFile {
  scale: 'full' | 'proxy' | 'smoke';
  scaleNote: string;
  checks: Array<ReportedCheck | ClaimCheck>;
}
