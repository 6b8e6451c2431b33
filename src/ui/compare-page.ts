// Page 3: two or more runs side by side, the first as the baseline. What differs comes from
// diffRuns (src/compare/runs.ts, the same diff as `repro diff A B`) with the engine's fingerprint
// diff: params, steps, environment, execution facts, and the metrics whose samples differ (with the
// equivalence verdict `repro diff` prints); only differences are listed. Then each run's metric means with their t intervals and each
// difference from the baseline with its Welch interval, the claim verdicts side by side, and the
// learning curves of all runs overlaid (the report's own spec, one colour per run and variant).
import { diffRuns, groupMetrics, measurementsOfRuns, metricOrder, type RunDiff } from '../compare/runs.js';
import { fmt as fmtSigned } from '../compare/verdicts.js';
import { stepList } from '../compare/diff-text.js';
import { meanCI, mean } from '../compare/stats.js';
import { differenceCI } from '../compare/aggregate.js';
import { diffComponents, diffParams, type FingerprintComponents } from '../engine/fingerprint.js';
import { fmt } from '../report/format.js';
import { loadRunReport, type ReportInput } from '../report/input.js';
import { learningCurvesSpec } from '../report/plots.js';
import { metricTitle, type MetricDecl } from '../formats/metrics.js';
import type { LoadedRun, StepRecord } from '../formats/run-record.js';
import type { Verdict } from '../formats/verdict.js';
import { chart, esc, interval, page, runHref, verdictBadge, type PageContext } from './html.js';
import type { IndexedRun, RunIndex } from './runs.js';

const FINGERPRINTS = {
  // run.json keeps the components as plain JSON; they are the engine's FingerprintComponents.
  components: (a: Record<string, unknown>, b: Record<string, unknown>) => diffComponents(a as unknown as FingerprintComponents, b as unknown as FingerprintComponents),
  params: diffParams,
};

function diffSection(ctx: PageContext, label: (key: string) => string, base: IndexedRun, other: IndexedRun, d: RunDiff): string {
  const changed = d.steps.filter((s) => s.status !== 'same');
  const items: string[] = [];
  for (const p of d.params) items.push(`<li class="param">${esc(p)}</li>`);
  // Steps whose fingerprints changed for the same reason are listed once, with how many steps share it.
  const byReason = new Map<string, string[]>();
  for (const s of changed) {
    const reason = s.status === 'changed' ? s.changes.join('; ') || 'fingerprint changed' : s.status;
    byReason.set(reason, [...(byReason.get(reason) ?? []), s.step]);
  }
  for (const [reason, steps] of byReason) {
    items.push(
      `<li class="step"><code>${esc(steps[0]!)}</code>${steps.length > 1 ? ` and ${steps.length - 1} more step${steps.length > 2 ? 's' : ''}` : ''}: ${esc(reason)}</li>`,
    );
  }
  for (const e of d.environment) items.push(`<li class="env">environment: ${esc(e)}</li>`);
  for (const f of d.facts) items.push(`<li class="fact">${esc(f.change)} <span class="muted">(${esc(stepList(f.steps))})</span></li>`);
  for (const m of d.samples.filter((x) => x.verdict !== 'identical')) {
    const ci = m.interval ? ` [${fmtSigned(m.interval[0], true)}, ${fmtSigned(m.interval[1], true)}]` : '';
    const word = m.measurement
      ? 'a measurement of the machine (informative)'
      : m.verdict === 'untested'
        ? 'untested (too few values for an interval)'
        : `${m.verdict} within ±${fmtSigned(m.smallestEffect)} (${m.effectSource === 'default' ? 'default δ' : `δ from the ${m.effectSource}`})`;
    items.push(
      `<li class="sample">${esc(m.group)} ${esc(metricTitle(m.metric))}: ${fmtSigned(m.original.mean)} → ${fmtSigned(m.reproduced.mean)}, Δ ${fmtSigned(m.delta, true)}` +
        `<span class="muted">${ci} (${Math.round(m.level * 100)}%, n ${m.original.n}/${m.reproduced.n}, ${m.design === 'paired' ? 'paired by seed' : 'Welch'})</span>: <b>${esc(word)}</b></li>`,
    );
  }
  for (const v of d.verdicts) items.push(`<li class="verdict">claim <code>${esc(v.id)}</code>: ${verdictBadge(v.a)} → ${verdictBadge(v.b)}</li>`);
  return (
    `<h3><a href="${runHref(ctx, base.key)}">${esc(label(base.key))}</a> → <a href="${runHref(ctx, other.key)}">${esc(label(other.key))}</a></h3>` +
    (items.length ? `<ul class="changes" data-diff="${esc(other.key)}">${items.join('')}</ul>` : `<p class="diff-none" data-diff="${esc(other.key)}">Nothing differs in params, inputs, code, packages, engine, environment or metrics.</p>`)
  );
}

/**
 * @param measuredIn the metrics a step's kind declares as measurements of the machine (ms_per_step…):
 *   shown as informative in the diff, as `repro diff` does (handed in: the step kinds are the CLI's to wire).
 */
export function comparePage(ctx: PageContext, index: RunIndex, keys: string[], measuredIn: (step: StepRecord) => readonly string[] = () => []): string {
  const runs = keys.map((k) => index.get(k)).filter((r): r is IndexedRun => r !== undefined);
  if (runs.length < 2) {
    return page(ctx, 'Compare', `<h1>Compare runs</h1><p>Tick two or more runs on the <a href="${ctx.base}">list</a> to compare them.${keys.length > runs.length ? ` (${keys.length - runs.length} of the runs asked for are not here.)` : ''}</p>`);
  }
  const loaded: LoadedRun[] = runs.map((r) => index.load(r));
  // Runs are called by their id; a letter in front keeps several from one second apart readable.
  const letter = (i: number) => String.fromCharCode(65 + (i % 26));
  const label = (key: string) => {
    const i = runs.findIndex((r) => r.key === key);
    return `${letter(i)} ${runs[i]!.summary.id}`;
  };
  const parts: string[] = [];
  parts.push(`<h1>Compare ${runs.length} runs</h1>`);
  parts.push(
    `<table class="which"><thead><tr><th></th><th>run</th><th>workflow</th><th>profile</th><th>commit</th><th>status</th></tr></thead><tbody>` +
      runs
        .map(
          (r, i) =>
            `<tr><td><b>${letter(i)}</b>${i === 0 ? ' <span class="muted small">baseline</span>' : ''}</td><td class="mono"><a href="${runHref(ctx, r.key)}">${esc(r.summary.id)}</a></td>` +
            `<td>${esc(r.summary.workflow)}</td><td>${esc(r.summary.profile ?? '–')}</td><td class="mono">${esc(r.summary.commit?.slice(0, 10) ?? '–')}</td><td>${esc(r.summary.status)}</td></tr>`,
        )
        .join('') +
      `</tbody></table>`,
  );

  parts.push(`<h2 id="differences">What differs</h2><p class="muted small">Each run against the baseline: params, the fingerprint components (inputs, code, packages, engine, backend, device) of every step that changed, the machine's environment, the execution facts the steps recorded, and every metric whose seeds differ (run − baseline, paired by seed when both ran the same seeds, with the equivalence verdict of <code>repro diff</code>).</p>`);
  for (let i = 1; i < runs.length; i++) {
    let d: RunDiff;
    try {
      const measurements = measurementsOfRuns([loaded[0]!.record, loaded[i]!.record], measuredIn);
      d = diffRuns(loaded[0]!, loaded[i]!, FINGERPRINTS, { measurements });
    } catch (err) {
      parts.push(`<p class="muted">${esc(label(runs[i]!.key))}: cannot diff (${esc((err as Error).message)})</p>`);
      continue;
    }
    parts.push(diffSection(ctx, label, runs[0]!, runs[i]!, d));
  }

  // Metrics: each run's mean and interval, and the difference from the baseline.
  const perRun = runs.map((r) => groupMetrics(index.metricSteps(r)));
  const groups = [...new Set(perRun.flatMap((m) => [...m.keys()]))].sort();
  parts.push(`<h2 id="metrics">Metrics</h2>`);
  if (groups.length === 0) parts.push(`<p class="muted">None of these runs has metrics in the store.</p>`);
  else {
    parts.push(
      `<p class="muted small">Mean over seeds and folds with its Student-t 95% interval (n in parentheses); Δ is the run minus the baseline with Welch's 95% interval (seeds of two runs are independent samples).</p>`,
    );
    const head = runs.map((_, i) => `<th class="n">${letter(i)}</th>`).join('') + runs.slice(1).map((_, i) => `<th class="n">Δ ${letter(i + 1)} − A</th>`).join('');
    parts.push(`<div class="wide"><table class="metrics"><thead><tr><th>variant</th><th>metric</th>${head}</tr></thead><tbody>`);
    for (const group of groups) {
      const metrics = [...new Set(perRun.flatMap((m) => [...(m.get(group)?.keys() ?? [])]))].sort((x, y) => metricOrder(x) - metricOrder(y) || x.localeCompare(y));
      for (const metric of metrics) {
        const values = perRun.map((m) => m.get(group)?.get(metric) ?? null);
        const cells = values.map((v) => (v ? `<td class="n">${fmt(mean(v))}${interval(meanCI(v))} <span class="muted">(${v.length})</span></td>` : `<td class="n muted">–</td>`));
        const deltas = values.slice(1).map((v) => {
          const a = values[0];
          if (!a || !v) return `<td class="n muted">–</td>`;
          const d = differenceCI(a, v);
          return `<td class="n">${d.delta > 0 ? '+' : ''}${fmt(d.delta)}${interval(d.ci95)}</td>`;
        });
        parts.push(`<tr><td>${esc(group)}</td><td>${esc(metricTitle(metric))}</td>${cells.join('')}${deltas.join('')}</tr>`);
      }
    }
    parts.push(`</tbody></table></div>`);
  }

  // Claim verdicts side by side.
  const verdicts = runs.map((run) => {
    const m = new Map<string, { verdict: Verdict; text: string }>();
    for (const v of index.verdicts(run)) for (const c of v.file.checks) m.set(c.id, { verdict: c.verdict, text: c.kind === 'claim' ? c.text : `reported ${c.metric} of ${c.variant}` });
    return m;
  });
  const ids = [...new Set(verdicts.flatMap((m) => [...m.keys()]))];
  parts.push(`<h2 id="verdicts">Claim verdicts</h2>`);
  if (ids.length === 0) parts.push(`<p class="muted">None of these runs has verdicts.</p>`);
  else {
    parts.push(`<table class="verdicts"><thead><tr><th>check</th>${runs.map((_, i) => `<th>${letter(i)}</th>`).join('')}</tr></thead><tbody>`);
    for (const id of ids) {
      const text = verdicts.map((m) => m.get(id)?.text).find(Boolean) ?? '';
      parts.push(`<tr><td><code>${esc(id)}</code> <span class="muted small">${esc(text)}</span></td>${verdicts.map((m) => `<td>${verdictBadge(m.get(id)?.verdict ?? null)}</td>`).join('')}</tr>`);
    }
    parts.push(`</tbody></table>`);
  }

  // Learning curves: every run's trainings in one input, each variant named with its run's letter.
  parts.push(`<h2 id="curves">Learning curves</h2>`);
  const trainings: ReportInput['trainings'] = [];
  const datasets: ReportInput['datasets'] = [];
  const catalog = new Map<string, MetricDecl>();
  const notes: string[] = [];
  loaded.forEach((run, i) => {
    try {
      const input = loadRunReport(run.record, run.path, { outDir: runs[i]!.runDir, generator: 'repro ui' });
      for (const t of input.trainings) trainings.push({ ...t, variant: `${letter(i)} ${t.variant}` });
      for (const [k, v] of input.metricCatalog) catalog.set(k, v);
      datasets.push(...input.datasets);
    } catch (err) {
      notes.push(`${label(runs[i]!.key)}: ${(err as Error).message}`);
    }
  });
  const variants = [...new Set(trainings.map((t) => t.variant))];
  const spec = trainings.length ? learningCurvesSpec({ trainings, metricCatalog: catalog, datasets } as unknown as ReportInput, variants) : null;
  if (spec) {
    parts.push(`<p class="muted small">Mean over seeds per epoch, ± one standard deviation as a band; the letter names the run.</p>`);
    parts.push(chart('curves', spec));
  } else parts.push(`<p class="muted">No training histories in these runs.</p>`);
  for (const n of notes) parts.push(`<p class="muted small">${esc(n)}</p>`);
  return page(ctx, 'Compare', parts.join('\n'), { charts: Boolean(spec) });
}
