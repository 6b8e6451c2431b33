// Page 4: across runs. One metric of one variant over every run of a workflow in time or commit
// order, each run's mean with its t interval, against the reported value and its tolerance as a band:
// drift at a glance. With a results registry (`--registry`), its accepted submissions are drawn
// beside the local runs, and the others listed apart. Then the seeds of runs that share the fingerprint of everything but the seed, pooled:
// mean ± t interval, IQM with a stratified bootstrap interval (strata: folds), and the probability
// that one variant beats another (src/compare/aggregate.ts).
import { mean, meanCI } from '../compare/stats.js';
import { pooledSummary, probabilityOfImprovementCI } from '../compare/aggregate.js';
import { toleranceWidth } from '../compare/verdicts.js';
import { metricOrder, type MetricStep } from '../compare/runs.js';
import { fmt } from '../report/format.js';
import { METRIC_DIRECTION, metricTitle } from '../formats/metrics.js';
import type { ReportedCheck } from '../formats/verdict.js';
import { chart, esc, interval, options, page, runHref, shortTime, type PageContext } from './html.js';
import type { IndexedRun, RunIndex } from './runs.js';
import { runIdTime, type RegistryEntry, type RegistryView } from './registry.js';

export interface DriftQuery {
  workflow: string | null;
  group: string | null;
  metric: string | null;
  /** The two variants (groups) of the probability of improvement: P(a better than b). */
  a: string | null;
  b: string | null;
  /** The x axis: 'time' (each run's start) or 'commit' (commits in the order first run). */
  order: 'time' | 'commit';
}

/** The workflow the page shows: the one asked for when it has runs, else the newest run's. */
export function driftWorkflow(index: RunIndex, asked: string | null): string | null {
  const all = index.all();
  return asked && all.some((r) => r.summary.workflow === asked) ? asked : (all[0]?.summary.workflow ?? null);
}

/** Whether a check about `variant` is about this group ('evaluate variant=xe' has the axis value xe). */
function groupHasVariant(group: string, variant: string): boolean {
  const axes = group.slice(group.indexOf(' ') + 1);
  return axes.split(',').some((kv) => kv.slice(kv.indexOf('=') + 1) === variant);
}

interface DriftPoint {
  run: IndexedRun;
  values: number[];
  reported: { value: number; lo: number; hi: number; verdict: string } | null;
}

/** One point of the chart: a local run's or an accepted registry submission's values of the metric. */
interface DriftRow {
  source: 'local' | 'registry';
  time: string | null;
  run: string;
  commit: string;
  n: number;
  mean: number;
  lo: number;
  hi: number;
  reported?: number;
  bandLo?: number;
  bandHi?: number;
}

const NO_COMMIT = 'no commit';

function driftRow(source: DriftRow['source'], time: string | null, run: string, commit: string | null, values: number[]): DriftRow {
  const ci = meanCI(values);
  const m = mean(values);
  return { source, time, run, commit: commit?.slice(0, 10) ?? NO_COMMIT, n: values.length, mean: m, lo: ci?.[0] ?? m, hi: ci?.[1] ?? m };
}

export function driftPage(ctx: PageContext, index: RunIndex, q: DriftQuery, registry: RegistryView | null = null): string {
  const all = index.all();
  const workflows = [...new Set(all.map((r) => r.summary.workflow))].sort();
  const workflow = driftWorkflow(index, q.workflow);
  // Oldest first: the x axis is time.
  const runs = all.filter((r) => r.summary.workflow === workflow).reverse();
  const steps = new Map<IndexedRun, MetricStep[]>(runs.map((r) => [r, index.metricSteps(r)]));
  const accepted = registry?.read?.entries.filter((e) => e.status === 'accepted' && e.variants) ?? [];
  const groups = [...new Set([...[...steps.values()].flatMap((s) => s.map((m) => m.group)), ...accepted.flatMap((e) => Object.keys(e.variants!))])].sort();
  const group = q.group && groups.includes(q.group) ? q.group : (groups[0] ?? null);
  const metrics = [
    ...new Set([
      ...[...steps.values()].flatMap((s) => s.filter((m) => m.group === group).flatMap((m) => [...m.metrics.keys()])),
      ...accepted.flatMap((e) => (group !== null && Object.hasOwn(e.variants!, group) ? Object.keys(e.variants![group]!) : [])),
    ]),
  ].sort((x, y) => metricOrder(x) - metricOrder(y) || x.localeCompare(y));
  const metric = q.metric && metrics.includes(q.metric) ? q.metric : (metrics[0] ?? null);
  const order = q.order === 'commit' ? 'commit' : 'time';

  const parts: string[] = [];
  parts.push(`<h1>Across runs</h1>`);
  parts.push(
    `<form class="filters" method="get" action="${ctx.base}drift">` +
      `<label>workflow<select name="workflow">${options(workflows, workflow, '–')}</select></label>` +
      `<label>variant<select name="group">${options(groups, group, '–')}</select></label>` +
      `<label>metric<select name="metric">${options(metrics, metric, '–')}</select></label>` +
      `<label>order<select name="order">${(['time', 'commit'] as const).map((o) => `<option value="${o}"${o === order ? ' selected' : ''}>${o === 'time' ? 'time' : 'git commit'}</option>`).join('')}</select></label>` +
      `<button type="submit">Show</button></form>`,
  );
  if (!workflow || !group || !metric) {
    parts.push(`<p class="muted">No run${workflow ? ` of ${esc(workflow)}` : ''} has metrics in the store yet.</p>`);
    if (registry) parts.push(registrySection(registry, [], group, metric));
    return page(ctx, 'Across runs', parts.join('\n'));
  }

  // Drift: each run's values of the metric for the group, and the reported value it was checked against.
  const points: DriftPoint[] = [];
  for (const run of runs) {
    const values = steps.get(run)!.filter((m) => m.group === group && m.metrics.has(metric)).map((m) => m.metrics.get(metric)!);
    if (!values.length) continue;
    let reported: DriftPoint['reported'] = null;
    for (const v of index.verdicts(run)) {
      for (const c of v.file.checks) {
        if (c.kind !== 'reported' || c.metric !== metric || !groupHasVariant(group, c.variant)) continue;
        const r = c as ReportedCheck;
        if (r.reported.value === null) continue;
        const w = toleranceWidth(r.reported.value, r.tolerance ?? {}, r.reported.sd);
        reported = { value: r.reported.value, lo: r.reported.value - w, hi: r.reported.value + w, verdict: r.verdict };
      }
    }
    points.push({ run, values, reported });
  }
  const rows: DriftRow[] = points.map((p) => ({
    ...driftRow('local', p.run.summary.startedAt, p.run.summary.id, p.run.summary.commit ?? null, p.values),
    ...(p.reported ? { reported: p.reported.value, bandLo: p.reported.lo, bandHi: p.reported.hi } : {}),
  }));
  // The registry's accepted submissions that have this metric of this variant, at their run's start
  // time: a local run's own when it was published from here, else the second its id begins with.
  const started = new Map(runs.map((r) => [r.summary.id, r.summary.startedAt]));
  const drawn: Array<{ entry: RegistryEntry; row: DriftRow }> = [];
  for (const entry of accepted) {
    const values = Object.hasOwn(entry.variants!, group) && Object.hasOwn(entry.variants![group]!, metric) ? entry.variants![group]![metric]! : [];
    if (!values.length) continue;
    drawn.push({ entry, row: driftRow('registry', (entry.run && started.get(entry.run)) || runIdTime(entry.run), entry.run ?? entry.id, entry.commit, values) });
  }
  const chartRows = [...rows, ...drawn.map((d) => d.row)].filter((r) => order === 'commit' || r.time !== null);
  const title = metricTitle(metric);
  const nReg = drawn.length ? ` and ${drawn.length} registry submission${drawn.length === 1 ? '' : 's'}` : '';
  parts.push(`<h2 id="drift">${esc(title)} of ${esc(group)} over ${points.length} run${points.length === 1 ? '' : 's'}${nReg}</h2>`);
  parts.push(driftChart(chartRows, order, title));
  parts.push(
    `<p class="muted small">Blue: each run's mean over its seeds and folds with the Student-t 95% interval (cut at the plot's edge when wider). Green: the reported value (dashed) and its tolerance band, as the run's claims file set them.` +
      (drawn.length ? ` Orange diamonds: the registry's accepted submissions (signed by a key it holds), at their run's start time or commit.` : '') +
      (order === 'commit' ? ` Commits in the order they were first run; the runs of one commit side by side, oldest first.` : '') +
      `</p>`,
  );
  parts.push(
    `<details><summary>the numbers</summary><table class="drift"><thead><tr><th>run</th><th>started</th><th>commit</th><th class="n">n</th><th class="n">mean [95% CI]</th><th class="n">reported ± tolerance</th><th>verdict</th></tr></thead><tbody>` +
      points
        .map((p, i) => {
          const r = rows[i]!;
          return (
            `<tr><td class="mono"><a href="${runHref(ctx, p.run.key)}">${esc(r.run)}</a></td><td class="mono">${esc(shortTime(r.time ?? ''))}</td><td class="mono">${esc(r.commit)}</td>` +
            `<td class="n">${r.n}</td><td class="n">${fmt(r.mean)}${interval(meanCI(p.values))}</td>` +
            `<td class="n">${p.reported ? `${fmt(p.reported.value)} ± ${fmt(p.reported.hi - p.reported.value)}` : '–'}</td><td>${esc(p.reported?.verdict ?? '')}</td></tr>`
          );
        })
        .reverse()
        .join('') +
      `</tbody></table></details>`,
  );
  if (registry) parts.push(registrySection(registry, drawn, group, metric));

  parts.push(pooledSection(ctx, index, runs, steps, metric, groups, { ...q, workflow, group, metric }));
  return page(ctx, 'Across runs', parts.join('\n'), { charts: true });
}

/** The drift chart: local runs in blue over the reported band in green, registry submissions in orange. */
function driftChart(rows: DriftRow[], order: 'time' | 'commit', title: string): string {
  // Commits in the order first run (by the earliest start among their runs and submissions).
  const firstSeen = new Map<string, string>();
  for (const r of rows) {
    const t = r.time ?? '\uffff';
    if (!firstSeen.has(r.commit) || t < firstSeen.get(r.commit)!) firstSeen.set(r.commit, t);
  }
  const commits = [...firstSeen].sort(([ca, a], [cb, b]) => (ca === NO_COMMIT ? 1 : cb === NO_COMMIT ? -1 : a < b ? -1 : a > b ? 1 : 0)).map(([c]) => c);
  const values = rows.map((r, i) => ({ ...r, slot: `${r.time ?? ''}|${i}` }));
  const x =
    order === 'time'
      ? { field: 'time', type: 'temporal', title: 'run started (UTC)', scale: { padding: 24 } }
      : { field: 'commit', type: 'ordinal', sort: commits, title: 'git commit (in the order first run)', axis: { labelAngle: 0 } };
  // In commit order the runs of one commit stand side by side, oldest first.
  const offset = order === 'commit' ? { xOffset: { field: 'slot', type: 'ordinal', sort: 'ascending' } } : {};
  // The axis spans the means and the reported bands: an interval from two seeds can be ten times
  // wider than the drift it sits in; it is clipped at the plot's edge rather than flattening it.
  const seen = rows.flatMap((r) => [r.mean, ...(r.reported !== undefined ? [r.bandLo!, r.bandHi!] : [])]);
  const [min, max] = [Math.min(...seen), Math.max(...seen)];
  const pad = max > min ? (max - min) * 0.25 : Math.max(Math.abs(max) * 0.1, 0.05);
  const y = { type: 'quantitative', title, scale: { zero: false, domain: [min - pad, max + pad] } };
  const local = { filter: "datum.source === 'local'" };
  const reg = { filter: "datum.source === 'registry'" };
  const band =
    order === 'time'
      ? [
          { transform: [{ filter: 'isValid(datum.reported)' }], mark: { type: 'area', clip: true, opacity: 0.18, color: '#2e9d5b', interpolate: 'step-after' }, encoding: { x, y: { field: 'bandLo', ...y }, y2: { field: 'bandHi' } } },
          { transform: [{ filter: 'isValid(datum.reported)' }], mark: { type: 'line', clip: true, color: '#2e9d5b', strokeDash: [4, 3], interpolate: 'step-after' }, encoding: { x, y: { field: 'reported', ...y } } },
        ]
      : [
          { transform: [{ filter: 'isValid(datum.reported)' }], mark: { type: 'bar', clip: true, opacity: 0.18, color: '#2e9d5b' }, encoding: { x, y: { field: 'bandLo', ...y }, y2: { field: 'bandHi' } } },
          { transform: [{ filter: 'isValid(datum.reported)' }], mark: { type: 'tick', clip: true, color: '#2e9d5b', strokeDash: [4, 3] }, encoding: { x, y: { field: 'reported', ...y } } },
        ];
  const tooltip = [{ field: 'source' }, { field: 'run' }, { field: 'commit' }, { field: 'n' }, { field: 'mean', format: '.4f' }, { field: 'lo', format: '.4f' }, { field: 'hi', format: '.4f' }];
  const dots = (filter: object, color: string, shape: string) => [
    { transform: [filter], mark: { type: 'rule', clip: true, color }, encoding: { x, ...offset, y: { field: 'lo', ...y }, y2: { field: 'hi' } } },
    { transform: [filter], mark: { type: 'point', clip: true, filled: true, size: 50, color, shape }, encoding: { x, ...offset, y: { field: 'mean', ...y }, tooltip } },
  ];
  return chart('drift', {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: 900,
    height: 280,
    data: { values },
    layer: [...band, ...dots(local, '#1f5fbf', 'circle'), ...dots(reg, '#d9822b', 'diamond')],
    config: { font: 'system-ui, sans-serif', view: { stroke: '#ddd' } },
  });
}

/** The registry's submissions of this workflow: those drawn, and those not drawn with the reason. */
function registrySection(registry: RegistryView, drawn: Array<{ entry: RegistryEntry; row: DriftRow }>, group: string | null, metric: string | null): string {
  const parts: string[] = [`<h2 id="registry">Registry submissions</h2>`];
  if (registry.error !== undefined) {
    parts.push(`<p>Could not read the registry <span class="mono">${esc(registry.url)}</span>: ${esc(registry.error)}</p>`);
    return parts.join('\n');
  }
  const { entries, problems } = registry.read;
  const count = (s: RegistryEntry['status']) => entries.filter((e) => e.status === s).length;
  parts.push(
    `<p class="muted small">From <span class="mono">${esc(registry.url)}</span>: ${count('accepted')} accepted (signed by a key the registry holds), ${count('unverified')} unverified, ${count('rejected')} rejected. ` +
      `Only accepted submissions are drawn; ${drawn.length} of them ha${drawn.length === 1 ? 's' : 've'} ${esc(metric ?? 'the metric')} of ${esc(group ?? 'the variant')}.</p>`,
  );
  if (drawn.length) {
    parts.push(
      `<table class="registry"><thead><tr><th>submission</th><th>run</th><th>commit</th><th>profile</th><th>machine (CPU · GPU · engine)</th><th>signed by</th><th class="n">n</th><th class="n">mean [95% CI]</th></tr></thead><tbody>` +
        drawn
          .map(
            ({ entry: e, row: r }) =>
              `<tr data-source="registry"><td class="mono">${esc(e.id)}</td><td class="mono">${esc(e.run ?? '')}</td><td class="mono">${esc(r.commit)}</td><td>${esc(e.profile ?? '(default)')}</td>` +
              `<td>${esc(e.machine ?? '')}</td><td>${esc(e.signer ?? '')}</td><td class="n">${r.n}</td><td class="n">${fmt(r.mean)}${r.n > 1 ? interval([r.lo, r.hi]) : ''}</td></tr>`,
          )
          .join('') +
        `</tbody></table>`,
    );
  }
  const apart = entries.filter((e) => e.status !== 'accepted');
  if (apart.length) {
    parts.push(
      `<h3>Not drawn</h3><table class="registry-apart"><thead><tr><th>file</th><th>status</th><th>reason</th></tr></thead><tbody>` +
        apart.map((e) => `<tr data-status="${e.status}"><td class="mono">${esc(e.file)}</td><td>${e.status}</td><td>${esc(e.reason ?? '')}</td></tr>`).join('') +
        `</tbody></table>`,
    );
  }
  if (problems.length) parts.push(`<ul class="muted small">${problems.map((p) => `<li>${esc(p)}</li>`).join('')}</ul>`);
  return parts.join('\n');
}

/** Seeds pooled over runs with one fingerprint of everything but the seed; a step result counted once. */
function pooledSection(ctx: PageContext, index: RunIndex, runs: IndexedRun[], steps: Map<IndexedRun, MetricStep[]>, metric: string, groups: string[], q: DriftQuery): string {
  const pools = new Map<string, IndexedRun[]>();
  for (const r of runs) if (steps.get(r)!.length) pools.set(r.poolKey, [...(pools.get(r.poolKey) ?? []), r]);
  const a = q.a && groups.includes(q.a) ? q.a : (groups[0] ?? null);
  const b = q.b && groups.includes(q.b) ? q.b : (groups.find((g) => g !== a) ?? null);
  const higher = METRIC_DIRECTION[metric] !== 'lower';
  const parts: string[] = [];
  parts.push(`<h2 id="pooled">Seeds pooled across runs</h2>`);
  parts.push(
    `<p class="muted small">Runs whose workflow, profile, params other than the seeds, Node, lockfile, repro and backends all agree are repeats of one experiment: their seeds are pooled. ` +
      `A step result that several runs share (the same fingerprint, from the cache) counts once. IQM: the mean of the middle half (rliable); its interval and P(improvement) come from ${'2,000'} stratified bootstrap resamples (strata: folds), seeded so the page is stable.</p>`,
  );
  parts.push(
    `<form class="filters" method="get" action="${ctx.base}drift">` +
      (['workflow', 'group', 'metric', 'order'] as const).map((k) => `<input type="hidden" name="${k}" value="${esc(q[k] ?? '')}">`).join('') +
      `<label>P(a better than b): a<select name="a">${options(groups, a, '–')}</select></label><label>b<select name="b">${options(groups, b, '–')}</select></label><button type="submit">Show</button></form>`,
  );
  parts.push(
    `<div class="wide"><table class="pooled"><thead><tr><th>experiment (pool)</th><th>runs</th><th>variant</th><th class="n">seeds</th><th class="n">mean [95% CI]</th><th class="n">IQM [95% bootstrap CI]</th></tr></thead><tbody>`,
  );
  const poi: string[] = [];
  for (const [key, members] of [...pools].reverse()) {
    const seen = new Set<string>();
    // group → fold → values
    const byGroup = new Map<string, Map<string, number[]>>();
    for (const r of members) {
      for (const m of steps.get(r)!) {
        const id = m.step.fingerprint || `${r.key}/${m.step.id}`;
        if (seen.has(id) || !m.metrics.has(metric)) continue;
        seen.add(id);
        const stratum = String(m.step.matrix?.fold ?? '');
        const g = byGroup.get(m.group) ?? new Map<string, number[]>();
        byGroup.set(m.group, g);
        const values = g.get(stratum) ?? [];
        g.set(stratum, values);
        values.push(m.metrics.get(metric)!);
      }
    }
    const names = [...byGroup.keys()].sort();
    const runLinks = members.map((r) => `<a class="mono" href="${runHref(ctx, r.key)}">${esc(r.summary.id)}</a>`).join('<br>');
    // Bootstrap intervals are drawn once per pool, metric and version of its records.
    const version = members.map((r) => `${r.key}@${r.mtimeMs}`).join(',');
    const summaries = index.memo(`pooled|${metric}|${version}`, () => new Map(names.map((g) => [g, pooledSummary([...byGroup.get(g)!.values()])])));
    names.forEach((g, i) => {
      const s = summaries.get(g);
      if (!s) return;
      parts.push(
        `<tr data-pool="${esc(key)}">${i === 0 ? `<td class="mono" rowspan="${names.length}">${esc(key)}<br><span class="muted">${esc(members[0]!.summary.profile ?? '')}</span></td><td rowspan="${names.length}">${runLinks}</td>` : ''}` +
          `<td>${esc(g)}</td><td class="n">${s.n}</td><td class="n">${fmt(s.mean)}${interval(s.ci95)}</td><td class="n">${fmt(s.iqm)}${interval(s.iqmCi95)}</td></tr>`,
      );
    });
    if (a && b && byGroup.has(a) && byGroup.has(b)) {
      const strata = [...new Set([...byGroup.get(a)!.keys(), ...byGroup.get(b)!.keys()])].map((s) => ({ x: byGroup.get(a)!.get(s) ?? [], y: byGroup.get(b)!.get(s) ?? [] }));
      const p = index.memo(`poi|${metric}|${a}|${b}|${version}`, () => probabilityOfImprovementCI(strata, higher));
      poi.push(`<li data-pool="${esc(key)}"><span class="mono">${esc(key)}</span>: P(${esc(a)} better than ${esc(b)}) = <b>${fmt(p.p, 2)}</b>${interval(p.ci95)}</li>`);
    }
  }
  parts.push(`</tbody></table></div>`);
  parts.push(
    `<h3>Probability of improvement on ${esc(metricTitle(metric))} (${higher ? 'higher' : 'lower'} is better)</h3>` +
      (poi.length ? `<ul class="poi">${poi.join('')}</ul>` : `<p class="muted">No pool has both variants.</p>`),
  );
  return parts.join('\n');
}
