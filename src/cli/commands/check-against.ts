// The --against option of `repro check`: the drift gate's wiring (the comparison is src/share/drift.ts).
import type { LoadedRun } from '../../formats/run-record.js';
import type { DriftResult } from '../../share/drift.js';

/** Before the run: a baseline that cannot be found is an error now, not after the trainings. */
export async function findBaseline(baseline: string, opts: { results?: string }): Promise<void> {
  const { findRunOrArchive } = await import('../../share/open-run.js');
  await findRunOrArchive(baseline, opts.results);
}

export async function againstBaseline(run: LoadedRun, baseline: string, opts: { results?: string }): Promise<DriftResult> {
  const { driftAgainst } = await import('../../share/drift.js');
  const { getStepKind } = await import('../../steps/registry.js');
  return driftAgainst(run, baseline, { results: opts.results, kindOf: getStepKind });
}

export function renderDrift(d: DriftResult): string {
  const r = d.reproduction;
  const level = `${Math.round((1 - 2 * r.alpha) * 100)}%`;
  const lines = [``, `drift against baseline run ${d.baseline.runId}${d.baseline.from === 'archive' ? ' (archive)' : ''} (${r.design === 'paired' ? 'same seeds: paired' : 'other seeds: Welch'}; ${level} interval of Δ within ± the smallest effect):`];
  for (const m of r.metrics.filter((x) => !x.measurement)) {
    const ci = m.interval ? ` [${m.interval[0].toPrecision(3)}, ${m.interval[1].toPrecision(3)}]` : '';
    lines.push(`  ${m.verdict.padEnd(12)} ${m.group} ${m.metric}: Δ ${m.delta.toPrecision(3)}${ci}, δ ±${m.smallestEffect.toPrecision(3)}`);
  }
  lines.push(d.pass ? 'drift gate: pass (every metric equivalent to the baseline)' : `drift gate: FAIL (exit 3): ${d.failures.length} metric(s) not shown equivalent`, '');
  return lines.join('\n');
}
