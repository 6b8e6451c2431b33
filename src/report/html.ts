// The HTML report: one self-contained file (inline CSS, inline SVG plots, no scripts, no network).

import type { ReportInput, Source } from './input.js';
import {
  citation,
  escapeHtml as esc,
  fmt,
  fmtBytes,
  fmtDuration,
  fmtP,
  scaleBanner,
  linkable,
} from './format.js';
import { formatMetric, metricTitle } from '../formats/metrics.js';
import { backendRows, metricLayout, otherMetricsNote, recordSource, timingRows, trainingSpeedRows, variantRows, verdictRows, verdictSummary } from './model.js';
import { renderPlots, type Plot } from './plots.js';

const CSS = `
:root { --fg:#1d2330; --muted:#5b6478; --line:#e3e6ee; --bg:#fff; --soft:#f6f7fa; --link:#1f5fbf; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; color:var(--fg); background:var(--bg); }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 64px; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 36px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 20px 0 6px; }
.cite { color: var(--muted); margin: 0 0 14px; } .muted { color: var(--muted); }
a { color: var(--link); text-decoration: none; } a:hover { text-decoration: underline; }
a.num { color: inherit; border-bottom: 1px dotted #9aa3b5; }
.banner { border-radius: 6px; padding: 10px 14px; margin: 12px 0 6px; border: 1px solid; }
.banner b { margin-right: 6px; }
.scale-proxy { background:#fff7e0; border-color:#f0c64a; } .scale-smoke { background:#eef0f4; border-color:#b8bfcc; }
.scale-full { background:#e8f6ec; border-color:#6cc08b; } .scale-unknown { background:#eef0f4; border-color:#b8bfcc; }
.scale-tag { font-size: 11px; font-weight: 600; text-transform: uppercase; letter-spacing: .04em; padding: 1px 6px; border-radius: 4px; background:#f0c64a; color:#3d2f00; margin-left: 8px; vertical-align: middle; }
.facts { display:flex; flex-wrap:wrap; gap: 6px 22px; color: var(--muted); font-size: 13px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 10px; font-size: 13px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--soft); font-weight: 600; white-space: nowrap; }
th.n { text-align: right; }
table.verdicts { table-layout: fixed; }
table.verdicts td { overflow-wrap: anywhere; } table.verdicts td.n { overflow-wrap: normal; white-space: normal; } table.verdicts td.n a.num { white-space: nowrap; }
col.c-check { width: 31%; } col.c-verdict { width: 11.5%; } col.c-what { width: 11.5%; } col.c-measured { width: 14%; }
col.c-p { width: 6.5%; } col.c-reported { width: 6.5%; } col.c-short { width: 19%; }
table.verdicts .claim { font-size: 12.5px; }
details.why { margin: 2px 0 0; } details.why p { margin: 4px 0; font-size: 12.5px; }
.wide { max-width: 100%; overflow-x: auto; }
td.sha { word-break: break-all; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.v { display:inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; white-space: nowrap; }
.v-reproduced { background:#d9f2e1; color:#14572c; } .v-not-reproduced { background:#fbdcdc; color:#7a1616; }
.v-inconclusive { background:#fff0c2; color:#6a4c00; } .v-smaller-than-claimed { background:#f6dcf0; color:#6b1a5a; } .v-not-recorded { background:#e8eaef; color:#434b5c; }
figure { margin: 14px 0 26px; } figure svg { max-width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: 12.5px; margin-top: 4px; }
details { margin: 6px 0; } summary { cursor: pointer; color: var(--link); }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
.warn { background:#fff4f4; border:1px solid #f1b4b4; padding: 8px 12px; border-radius: 6px; }
ul.pairwise { margin: 4px 0 0; padding-left: 16px; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; }
`;

/** A number linked to its artifact: the artifact's own file when reachable, else its entry under Sources. */
function num(input: ReportInput, text: string, sourceId: string | undefined): string {
  const s: Source | undefined = sourceId ? input.sources[sourceId] : undefined;
  if (!s) return esc(text);
  const href = linkable(s.href) ?? `#src-${s.id}`;
  return `<a class="num" href="${esc(href)}" title="${esc(`${s.label} · sha256:${s.sha256}`)}">${esc(text)}</a>`;
}

function verdictBadge(v: string): string {
  return `<span class="v v-${v.replace(/\s+/g, '-')}">${esc(v)}</span>`;
}

function slug(s: string): string {
  return s.replace(/[^A-Za-z0-9_-]+/g, '-');
}

/** The report; `plots` when they are known already (renderedPlots of an identical run's report), else rendered. */
export async function renderHtml(input: ReportInput, plots?: Plot[]): Promise<string> {
  plots ??= await renderPlots(input);
  const banner = scaleBanner(input.scale, input.scaleNote);
  const scaleClass = `scale-${input.scale ?? 'unknown'}`;
  const tag = input.scale && input.scale !== 'full' ? `<span class="scale-tag">${esc(input.scale)}</span>` : '';
  const cite = citation(input.paper);
  const runSrc = recordSource(input);
  const parts: string[] = [];

  parts.push(`<h1>${esc(input.title)}${tag}</h1>`);
  parts.push(
    cite
      ? `<p class="cite">Reproducing: ${cite.url ? `<a href="${esc(cite.url)}">${esc(cite.text)}</a>` : esc(cite.text)}</p>`
      : `<p class="cite">The workflow names no paper.</p>`,
  );
  parts.push(`<div class="banner ${scaleClass}" data-scale="${esc(input.scale ?? 'unknown')}"><b>${esc(banner.label)}.</b>${esc(banner.text)}</div>`);
  if (input.run) {
    const r = input.run;
    parts.push(
      `<div class="facts"><span>run <code>${esc(r.runId)}</code></span><span>status ${num(input, r.status, runSrc)}</span>` +
        `<span>workflow <code>${esc(r.workflow.name)}</code>${r.profile ? ` profile <code>${esc(r.profile)}</code>` : ''}</span>` +
        `<span>started ${esc(r.startedAt)}</span><span>took ${num(input, fmtDuration(r.durationMs), runSrc)}</span>` +
        (r.git.commit ? `<span>git <code>${esc(r.git.commit.slice(0, 12))}</code>${r.git.dirty ? ' (dirty)' : ''}</span>` : '') +
        `</div>`,
    );
  }
  // The data, in the words of its manifest: what it is, its licence, how to cite it.
  for (const d of input.datasets) {
    const shape = [d.classes !== null ? `${d.classes} ${d.ordered ? 'ordered ' : d.ordered === false ? 'unordered ' : ''}classes` : '', d.splits ?? ''].filter(Boolean).join('; ');
    parts.push(
      `<p class="data">Data: <b>${esc(d.name)}</b>${d.description ? ` — ${esc(d.description)}` : ''}${shape ? ` (${esc(shape)})` : ''}; licence ${esc(d.licence ?? 'not recorded')}` +
        (d.citation.length ? `<br><span class="muted">Cite: ${d.citation.map(esc).join('; ')}</span>` : '') +
        `</p>`,
    );
  }
  if (input.warnings.length) {
    parts.push(`<div class="warn"><b>Not shown:</b><ul>${input.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul></div>`);
  }

  // Verdicts.
  parts.push(`<h2 id="verdicts">Claims and reported numbers${tag}</h2>`);
  const vrows = verdictRows(input);
  if (vrows.length === 0) {
    parts.push(`<p class="muted">No verdicts: the run has no compare step, or it did not finish.</p>`);
  } else {
    const sum = verdictSummary(input)!;
    parts.push(
      `<p><b>${esc(sum.counts)}</b>${
        sum.gate === 'none'
          ? ' · no gate: no check is required, so <code>repro check</code> passes whatever the verdicts'
          : sum.gate
            ? ` · gate for required claims: ${sum.gate === 'pass' ? '<span class="v v-reproduced">pass</span>' : verdictBadge(sum.gate)}`
            : ''
      }</p>`,
    );
    if (input.scale !== 'full') {
      parts.push(
        `<p class="muted">${esc(banner.label)}: these verdicts test the claims in this run's setting; ${input.paper ? "the paper's" : 'reported'} absolute numbers are never marked reproduced from it.</p>`,
      );
    }
    // At a glance: the verdict, the numbers and one plain sentence; the explanation (the test, its
    // interval and p-values, each pair of a ranking) one click away, so the table fits the page.
    parts.push(
      `<table class="verdicts"><colgroup><col class="c-check"><col class="c-verdict"><col class="c-what"><col class="c-measured"><col class="c-p"><col class="c-reported"><col class="c-short"></colgroup>` +
        `<thead><tr><th>check</th><th>verdict</th><th>metric · variants</th><th class="n">measured (n)<br>mean ± sd, 95% CI</th><th class="n">p</th><th class="n">reported</th><th>in short</th></tr></thead><tbody>`,
    );
    for (const r of vrows) {
      const reported = r.reported
        ? r.reported.value === null
          ? `<span class="muted">unknown</span>`
          : num(input, `${fmt(r.reported.value)}${r.reported.sd !== null ? ` ± ${fmt(r.reported.sd)}` : ''}`, r.source)
        : '';
      const measured =
        r.mean === null
          ? '–'
          : `${num(input, `${fmt(r.mean)} ± ${fmt(r.sd)}`, r.source)} <span class="muted">(${r.n ?? '–'})</span>` +
            (r.ci95 ? `<br>${num(input, `[${fmt(r.ci95[0])}, ${fmt(r.ci95[1])}]`, r.source)}` : '');
      const details = [
        esc(r.explanation),
        r.test ? `Test: ${esc(r.test)}.` : '',
        r.effectSize === null ? '' : `Effect size ${num(input, fmt(r.effectSize, 2), r.source)}.`,
        r.reported?.source ? `Reported in: ${esc(r.reported.source)}.` : '',
        r.reported?.note ? `Note: ${esc(r.reported.note)}` : '',
      ].filter(Boolean);
      parts.push(
        `<tr data-check="${esc(r.id)}"><td><b>${esc(r.id)}</b>${r.required ? ' <span class="muted">(required)</span>' : ''}<br><span class="muted claim">${esc(r.text)}</span></td>` +
          `<td>${verdictBadge(r.verdict)}</td><td>${esc(metricTitle(r.metric, input.metricCatalog))}<br><span class="muted">${esc(r.pair)}</span></td>` +
          `<td class="n">${measured}</td>` +
          `<td class="n">${r.pValue === null ? '–' : num(input, fmtP(r.pValue), r.source)}</td>` +
          `<td class="n">${reported}</td>` +
          `<td><span class="short">${esc(r.inShort)}</span><details class="why"><summary>why</summary>${details.map((d) => `<p>${d}</p>`).join('')}${pairwiseList(input, r)}</details></td></tr>`,
      );
    }
    parts.push(`</tbody></table>`);
  }

  // Metrics per variant: the metrics the runs wrote, labelled and formatted as declared.
  const layout = metricLayout(input);
  const metrics = layout.columns;
  const rows = variantRows(input, [...metrics, ...layout.others]);
  const cat = input.metricCatalog;
  parts.push(`<h2 id="metrics">Metrics by variant${tag}</h2>`);
  if (rows.length === 0) {
    parts.push(`<p class="muted">No metrics: no step wrote a metrics file.</p>`);
  } else {
    parts.push(
      `<p class="muted">Mean ± sample sd over the repeats of each variant (n)${input.variantKey ? `; variants are the values of the matrix axis <code>${esc(input.variantKey)}</code>` : ''}. Open a variant below for each run's numbers; each links to its metrics file.</p>`,
    );
    parts.push(`<div class="wide"><table class="metrics"><thead><tr><th>variant</th><th class="n">n</th>${metrics.map((m) => `<th class="n">${esc(metricTitle(m, cat))}</th>`).join('')}</tr></thead><tbody>`);
    for (const r of rows) {
      const anchor = `variant-${slug(r.variant)}`;
      parts.push(
        `<tr><td><b>${esc(r.variant)}</b></td><td class="n">${r.perReplicate.length}</td>` +
          metrics.map((m) => {
            const s = r.summaries[m];
            const f = (v: number) => formatMetric(v, m, cat);
            return `<td class="n">${s ? `<a class="num" href="#${anchor}" title="${esc(`95% CI ${s.ci95 ? `[${f(s.ci95[0])}, ${f(s.ci95[1])}]` : 'n/a (n = 1)'}`)}">${f(s.mean)} ± ${f(s.sd)}</a>` : '–'}</td>`;
          }).join('') +
          `</tr>`,
      );
    }
    parts.push(`</tbody></table></div>`);
    for (const r of rows) {
      parts.push(
        `<details id="variant-${slug(r.variant)}"><summary>${esc(r.variant)}: ${r.perReplicate.length} runs</summary>` +
          `<div class="wide"><table><thead><tr><th>run</th>${metrics.map((m) => `<th class="n">${esc(metricTitle(m, cat))}</th>`).join('')}<th>artifact</th></tr></thead><tbody>` +
          r.perReplicate
            .map(
              (p) =>
                `<tr><td>${esc(p.replicate)}</td>${metrics.map((m) => `<td class="n">${p.values[m] === null || p.values[m] === undefined ? '–' : num(input, formatMetric(p.values[m], m, cat), p.source)}</td>`).join('')}` +
                `<td class="mono">${sourceCell(input, p.source)}</td></tr>`,
            )
            .join('') +
          `</tbody></table></div></details>`,
      );
    }
    if (layout.others.length) {
      parts.push(`<h3>Other metrics</h3><p class="muted">${otherMetricsNote(layout)}</p>`);
      parts.push(`<div class="wide"><table><thead><tr><th>metric</th>${rows.map((r) => `<th class="n">${esc(r.variant)}</th>`).join('')}</tr></thead><tbody>`);
      for (const m of layout.others) {
        const f = (v: number) => formatMetric(v, m, cat);
        const cells = rows.map((r) => {
          const x = r.summaries[m];
          return `<td class="n">${x ? `${f(x.mean)} ± ${f(x.sd)}` : '–'}</td>`;
        });
        parts.push(`<tr><td>${esc(metricTitle(m, cat))}</td>${cells.join('')}</tr>`);
      }
      parts.push(`</tbody></table></div>`);
    }
  }

  // Plots.
  parts.push(`<h2 id="plots">Plots${tag}</h2>`);
  if (plots.length === 0) parts.push(`<p class="muted">Nothing to plot: no training histories and no metrics.</p>`);
  for (const p of plots) parts.push(figure(input, p));

  // Environment and backend.
  parts.push(`<h2 id="environment">Environment and backend</h2>`);
  const brows = backendRows(input);
  if (brows.length) {
    parts.push(`<h3>What the training steps ran on</h3><table><thead><tr><th>facts</th><th class="n">train steps</th><th class="n">ms / step (mean ± sd over epochs)</th></tr></thead><tbody>`);
    for (const b of brows) {
      const facts = Object.entries(b.facts).map(([k, v]) => `${esc(k)}=<b>${esc(String(v))}</b>`).join(' · ');
      parts.push(
        `<tr><td>${facts || '<span class="muted">no facts recorded</span>'}</td><td class="n">${num(input, String(b.steps.length), b.sources[0])}</td>` +
          `<td class="n">${b.msPerStep ? num(input, `${fmt(b.msPerStep.mean, 1)} ± ${fmt(b.msPerStep.sd, 1)}`, b.sources[0]) : '–'}</td></tr>`,
      );
    }
    parts.push(`</tbody></table>`);
  }
  const env = input.environment;
  if (env) {
    const gpu = env.gpus.length ? env.gpus.map((g) => `${g.name}${g.memory ? ` (${g.memory})` : ''}${g.driver ? `, driver ${g.driver}` : ''}`).join('; ') : 'none detected';
    const items: Array<[string, string]> = [
      ['OS', `${env.os} (kernel ${env.kernel}, ${env.arch})`],
      ['CPU', `${env.cpuModel}, ${env.cores} cores`],
      ['memory', fmtBytes(env.memoryBytes)],
      ['GPU', gpu],
      ['Node.js', env.node],
      ['repro', env.repro],
      ['lockfile sha256', env.lockfileSha256 ?? 'not recorded'],
      ['packages (installed)', Object.entries(env.packages).map(([k, v]) => `${k}@${v}`).join(', ') || '–'],
    ];
    if (env.packagesAbsent?.length) items.push(['not installed (optional)', env.packagesAbsent.join(', ')]);
    if (env.python) items.push(['Python', `${env.python.version}${env.python.torch ? `, torch ${env.python.torch}` : ''}${env.python.device ? `, ${env.python.device}` : ''}`]);
    parts.push(`<h3>Machine</h3><table class="env"><tbody>${items.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${num(input, v, runSrc)}</td></tr>`).join('')}</tbody></table>`);
  } else {
    parts.push(`<p class="muted">Machine facts come from the run record, which this report was made without (mid-run); the training steps' own facts are above.</p>`);
  }

  // The program: what the run steps executed, by hash.
  if (input.program.length) {
    parts.push(`<h2 id="program">Program</h2><p class="muted">The commands of the <code>run</code> steps, and the files each read (its scripts first), by sha256.</p>`);
    parts.push(`<div class="wide"><table class="program"><thead><tr><th>step</th><th>command</th><th>file</th><th>sha256</th></tr></thead><tbody>`);
    for (const p of input.program) {
      const files = p.files.length ? p.files : [null];
      files.forEach((f, i) => {
        parts.push(
          `<tr>${i === 0 ? `<td rowspan="${files.length}" class="mono">${esc(p.step)}</td><td rowspan="${files.length}" class="mono">${esc(p.command.join(' '))}</td>` : ''}` +
            (f ? `<td class="mono">${esc(f.path)}${f.role === 'script' ? ' <span class="muted">(script)</span>' : ''}</td><td class="mono sha">${esc(f.sha256)}</td>` : `<td class="muted" colspan="2">no files recorded</td>`) +
            `</tr>`,
        );
      });
    }
    parts.push(`</tbody></table></div>`);
  }

  // Timings.
  parts.push(`<h2 id="timings">Timings</h2>`);
  const speed = trainingSpeedRows(input);
  if (speed.length) {
    parts.push(`<table><thead><tr><th>variant</th><th class="n">ms / optimisation step</th><th class="n">training time per run</th></tr></thead><tbody>`);
    for (const s of speed) {
      parts.push(
        `<tr><td>${esc(s.variant)}</td><td class="n">${s.msPerStep ? num(input, `${fmt(s.msPerStep.mean, 1)} ± ${fmt(s.msPerStep.sd, 1)}`, s.sources[0]) : '–'}</td>` +
          `<td class="n">${s.trainMs ? num(input, `${fmtDuration(s.trainMs.mean)} ± ${fmtDuration(s.trainMs.sd)}`, runSrc) : '–'}</td></tr>`,
      );
    }
    parts.push(`</tbody></table>`);
  }
  const trows = timingRows(input);
  if (trows.length) {
    parts.push(`<table><thead><tr><th>step kind</th><th class="n">steps</th><th class="n">from cache</th><th class="n">total</th><th class="n">longest</th></tr></thead><tbody>`);
    for (const t of trows) {
      parts.push(
        `<tr><td>${esc(t.uses)}</td><td class="n">${t.count}</td><td class="n">${t.cached}</td><td class="n">${num(input, fmtDuration(t.totalMs), runSrc)}</td><td class="n">${num(input, fmtDuration(t.maxMs), runSrc)}</td></tr>`,
      );
    }
    parts.push(`</tbody></table>`);
    parts.push(
      `<details><summary>Every step</summary><table><thead><tr><th>step</th><th>kind</th><th>status</th><th class="n">duration</th></tr></thead><tbody>` +
        input.steps.map((s) => `<tr><td class="mono">${esc(s.step)}</td><td>${esc(s.uses)}</td><td>${esc(s.status)}</td><td class="n">${num(input, fmtDuration(s.durationMs), runSrc)}</td></tr>`).join('') +
        `</tbody></table></details>`,
    );
  }

  // Sources.
  parts.push(`<h2 id="sources">Sources</h2><p class="muted">Every number above links to one of these artifacts; each is identified by its sha256.</p>`);
  const nSources = Object.keys(input.sources).length;
  // A long list stays folded; a link to one of its rows unfolds it (fragment navigation opens <details>).
  parts.push(`<details class="sources"${nSources <= 12 ? ' open' : ''}><summary>${nSources} artifacts</summary>`);
  parts.push(`<table class="sources"><thead><tr><th>id</th><th>artifact</th><th>sha256</th></tr></thead><tbody>`);
  for (const s of Object.values(input.sources)) {
    parts.push(
      `<tr id="src-${esc(s.id)}"><td>${esc(s.id)}</td><td>${linkable(s.href) ? `<a href="${esc(linkable(s.href)!)}">${esc(s.label)}</a>` : esc(s.label)}${s.storePath ? `<br><span class="mono muted">${esc(s.storePath)}</span>` : ''}</td><td class="mono sha">${esc(s.sha256)}</td></tr>`,
    );
  }
  parts.push(`</tbody></table></details>`);
  parts.push(`<footer>Generated by ${esc(input.generator)} at ${esc(input.generatedAt)}. ${esc(banner.label)}.</footer>`);

  return (
    `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<meta name="generator" content="${esc(input.generator)}"><meta name="repro-scale" content="${esc(input.scale ?? 'unknown')}">` +
    `<title>${esc(input.title)}${input.scale && input.scale !== 'full' ? ` [${esc(input.scale)}]` : ''}</title><style>${CSS}</style></head>\n` +
    `<body><main>\n${parts.join('\n')}\n</main></body></html>\n`
  );
}

function pairwiseList(input: ReportInput, r: { pairwise: Array<{ a: string; b: string; verdict: string; mean: number | null; ci95: [number, number] | null }>; source: string }): string {
  if (!r.pairwise.length) return '';
  return (
    `<ul class="pairwise">` +
    r.pairwise
      .map((p) => `<li>${esc(p.a)} &gt; ${esc(p.b)}: ${verdictBadge(p.verdict)} ${p.mean === null ? '' : num(input, `Δ ${fmt(p.mean)}${p.ci95 ? ` [${fmt(p.ci95[0])}, ${fmt(p.ci95[1])}]` : ''}`, r.source)}</li>`)
      .join('') +
    `</ul>`
  );
}

function sourceCell(input: ReportInput, id: string): string {
  const s = input.sources[id];
  if (!s) return '';
  return `<a href="${esc(linkable(s.href) ?? `#src-${s.id}`)}" title="${esc(s.label)}">${esc(s.id)} · ${esc(s.sha256.slice(0, 12))}</a>`;
}

const FIGURE =
  /<figure class="plot" data-plot="([^"]*)"><h3>([\s\S]*?)<\/h3>(<svg[\s\S]*?<\/svg>)<figcaption>([\s\S]*?)(?: <details>[\s\S]*?<\/details>)?<\/figcaption><\/figure>/g;
const unescapeHtml = (s: string) =>
  s.replace(/&(amp|lt|gt|quot|#39);/g, (_m, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[e]!);

/**
 * The plots of a report this module wrote, as `figure` wrote them: rendering them is most of a report's
 * cost, and a run whose steps all have the fingerprints of an earlier run's has the same plots.
 */
export function renderedPlots(html: string): Plot[] {
  return [...html.matchAll(FIGURE)].map((m) => ({ id: unescapeHtml(m[1]!) as Plot['id'], title: unescapeHtml(m[2]!), svg: m[3]!, caption: unescapeHtml(m[4]!) }));
}

function figure(input: ReportInput, p: Plot): string {
  // The histories behind a plot, listed under it.
  const from =
    p.id === 'per-seed' || p.id === 'confusion'
      ? input.evaluations.map((e) => e.source)
      : p.id === 'learning-curves'
        ? input.trainings.map((t) => t.source)
        : input.trainings.filter((t) => `ground-distance-${t.variant}` === p.id).map((t) => t.source).slice(0, 1);
  const links = from.map((id) => sourceCell(input, id)).join(', ');
  return (
    `<figure class="plot" data-plot="${esc(p.id)}"><h3>${esc(p.title)}</h3>${p.svg}` +
    `<figcaption>${esc(p.caption)}${links ? ` <details><summary>data</summary><span class="mono">${links}</span></details>` : ''}</figcaption></figure>`
  );
}
