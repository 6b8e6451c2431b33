// `repro check --against BASELINE`: the drift gate. The current run's seeds are compared with a
// baseline run's (a run in a results folder, or an export archive such as the last release's) by the
// same comparison `repro reproduce` uses (src/compare/reproduction.ts): per variant and metric,
// paired by seed when both ran the same seeds, Welch-type otherwise; equivalence within each
// metric's smallest effect. The gate passes only when every metric is shown equivalent (or is
// identical): a checksum can say "changed", only this says "changed beyond what matters".
import type { LoadedRun } from '../formats/run-record.js';
import type { StepKind } from '../steps/kind.js';
import { ReproError } from '../core/errors.js';
import { measurementsOfRuns, reproductionSide } from '../compare/runs.js';
import { reproduction, type Reproduction } from '../compare/reproduction.js';
import { measurementsFrom } from './reproduce.js';
import { openRunOrArchive } from './open-run.js';

export interface DriftResult {
  baseline: { runId: string; from: 'results' | 'archive' };
  reproduction: Reproduction;
  /** True when every metric (measurements of the machine aside) is identical or equivalent. */
  pass: boolean;
  /** Metrics that keep the gate shut, in words. */
  failures: string[];
}

export async function driftAgainst(
  current: LoadedRun,
  baselineArg: string,
  o: { results?: string; kindOf: (name: string) => Pick<StepKind<any>, 'measurements'> | undefined },
): Promise<DriftResult> {
  const opened = await openRunOrArchive(baselineArg, o.results);
  try {
    const baseline = opened.run;
    const measurements = measurementsOfRuns([baseline.record], measurementsFrom(o.kindOf));
    const r = reproduction(reproductionSide(baseline), reproductionSide(current), { design: 'auto', measurements });
    const results = r.metrics.filter((m) => !m.measurement);
    if (!results.length) {
      throw new ReproError(
        `--against ${baselineArg}: the baseline and this run share no metric (variant × metric) to compare`,
        'invalid',
        'the baseline must be a run of the same workflow, with evaluate (or other `metrics`) outputs',
      );
    }
    const failures = results
      .filter((m) => m.verdict !== 'identical' && m.verdict !== 'equivalent')
      .map((m) => `${m.group} ${m.metric}: ${m.verdict === 'untested' ? 'too few seeds to test' : m.verdict === 'different' ? 'different' : 'equivalence not shown'}`);
    return { baseline: { runId: baseline.record.runId, from: opened.from }, reproduction: r, pass: failures.length === 0, failures };
  } finally {
    opened.close();
  }
}
