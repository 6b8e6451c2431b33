// The Markdown twin of the HTML report, sized for a pull-request comment: the same tables, no plots.
// Numbers cite their artifact by source id (last column); the Sources table gives each id's sha256.
// Every string repro did not write goes through md() (or code(), mdUrl()): a workflow's words are
// text in a pull-request comment, never markup.

import type { ReportInput } from './input.js';
import { citation, fmt, fmtDuration, fmtP, scaleBanner } from './format.js';
import { escapeMd as md, mdCode as code, mdUrl } from '../core/markdown.js';
import { formatMetric, metricTitle } from '../formats/metrics.js';
import { backendRows, metricLayout, otherMetricsNote, recordSource, timingRows, trainingSpeedRows, variantRows, verdictRows, verdictSummary } from './model.js';

const VERDICT_ICON: Record<string, string> = {
  reproduced: '✅',
  'smaller than claimed': '📉',
  'not reproduced': '❌',
  inconclusive: '⚠️',
  'not recorded': '➖',
};

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

function ref(input: ReportInput, id: string | undefined): string {
  const s = id ? input.sources[id] : undefined;
  if (!s) return '';
  return s.href ? `[${md(s.id)}](${mdUrl(s.href)})` : md(s.id);
}

export function renderMarkdown(input: ReportInput): string {
  const banner = scaleBanner(input.scale, input.scaleNote);
  const cite = citation(input.paper);
  const runSrc = recordSource(input);
  const tag = input.scale && input.scale !== 'full' ? ` (${md(String(input.scale))} run)` : '';
  const out: string[] = [];

  out.push(`## ${md(input.title)}${tag}`);
  if (cite) out.push(`Reproducing: ${cite.url ? `[${md(cite.text)}](${mdUrl(cite.url)})` : md(cite.text)}`);
  out.push(`> **${banner.label}.** ${md(banner.text)}`);
  if (input.run) {
    const r = input.run;
    out.push(
      `Run ${code(r.runId)} · ${md(r.status)} · ${fmtDuration(r.durationMs)}` +
        (r.profile ? ` · profile ${code(r.profile)}` : '') +
        (r.git.commit ? ` · git ${code(r.git.commit.slice(0, 12))}${r.git.dirty ? ' (dirty)' : ''}` : '') +
        ` · ${ref(input, runSrc)}`,
    );
  }
  for (const d of input.datasets) {
    out.push(`Data: **${md(d.name)}**${d.description ? ` — ${md(d.description)}` : ''}; licence ${md(d.licence ?? 'not recorded')}${d.citation.length ? `. Cite: ${md(d.citation.join('; '))}` : ''}`);
  }
  if (input.warnings.length) out.push(`**Not shown:**\n${input.warnings.map((w) => `- ${md(w)}`).join('\n')}`);

  out.push(`### Claims and reported numbers${tag}`);
  const vrows = verdictRows(input);
  if (vrows.length === 0) {
    out.push('_No verdicts: the run has no compare step, or it did not finish._');
  } else {
    const sum = verdictSummary(input)!;
    out.push(
      `**${sum.counts}**${sum.gate === 'none' ? ' · no gate: no check is required' : sum.gate ? ` · gate for required claims: **${md(sum.gate)}**` : ''}`,
    );
    out.push(
      table(
        ['check', 'verdict', 'metric', 'variants', 'n', 'mean ± sd', '95% CI', 'effect', 'p', 'reported', 'source'],
        vrows.map((r) => [
          `**${md(r.id)}**${r.required ? ' (required)' : ''}<br>${md(r.text)}`,
          `${VERDICT_ICON[r.verdict] ?? ''} ${md(r.verdict)}`,
          md(metricTitle(r.metric, input.metricCatalog)),
          md(r.variants),
          r.n === null ? '–' : String(r.n),
          r.mean === null ? '–' : `${fmt(r.mean)} ± ${fmt(r.sd)}`,
          r.ci95 ? `[${fmt(r.ci95[0])}, ${fmt(r.ci95[1])}]` : '–',
          r.effectSize === null ? '–' : fmt(r.effectSize, 2),
          r.pValue === null ? '–' : fmtP(r.pValue),
          r.reported
            ? (r.reported.value === null ? `unknown${r.reported.note ? `: ${md(r.reported.note)}` : ''}` : fmt(r.reported.value)) +
              (r.reported.source ? `<br>${md(r.reported.source)}` : '')
            : '',
          ref(input, r.source),
        ]),
      ),
    );
    const notes = vrows
      .map(
        (r) =>
          `- **${md(r.id)}**: ${md(r.explanation)}` +
          r.pairwise.map((p) => `\n  - ${md(p.a)} > ${md(p.b)}: ${md(p.verdict)}${p.mean === null ? '' : ` (Δ ${fmt(p.mean)}${p.ci95 ? ` [${fmt(p.ci95[0])}, ${fmt(p.ci95[1])}]` : ''})`}`).join(''),
      )
      .join('\n');
    out.push(`<details><summary>Explanations</summary>\n\n${notes}\n\n</details>`);
  }

  const layout = metricLayout(input);
  const metrics = layout.columns;
  const rows = variantRows(input, [...metrics, ...layout.others]);
  const cat = input.metricCatalog;
  out.push(`### Metrics by variant${tag}`);
  if (rows.length === 0) {
    out.push('_No metrics: no step wrote a metrics file._');
  } else {
    out.push(`Mean ± sd over the repeats of each variant${input.variantKey ? ` (variants: matrix axis ${code(input.variantKey)})` : ''}.`);
    out.push(
      table(
        ['variant', 'n', ...metrics.map((m) => md(metricTitle(m, cat))), 'sources'],
        rows.map((r) => [
          `**${md(r.variant)}**`,
          String(r.perReplicate.length),
          ...metrics.map((m) => {
            const s = r.summaries[m];
            return s ? `${formatMetric(s.mean, m, cat)} ± ${formatMetric(s.sd, m, cat)}` : '–';
          }),
          r.perReplicate.map((p) => ref(input, p.source)).join(' '),
        ]),
      ),
    );
    if (layout.others.length) {
      out.push(`**Other metrics.** ${otherMetricsNote(layout)}`);
      out.push(
        table(
          ['metric', ...rows.map((r) => md(r.variant))],
          layout.others.map((m) => [
            md(metricTitle(m, cat)),
            ...rows.map((r) => {
              const s = r.summaries[m];
              return s ? `${formatMetric(s.mean, m, cat)} ± ${formatMetric(s.sd, m, cat)}` : '–';
            }),
          ]),
        ),
      );
    }
  }

  const brows = backendRows(input);
  if (brows.length) {
    out.push('### Backend');
    out.push(
      table(
        ['facts', 'train steps', 'ms / step'],
        brows.map((b) => [
          md(Object.entries(b.facts).map(([k, v]) => `${k}=${String(v)}`).join(', ')) || 'not recorded',
          String(b.steps.length),
          b.msPerStep ? `${fmt(b.msPerStep.mean, 1)} ± ${fmt(b.msPerStep.sd, 1)}` : '–',
        ]),
      ),
    );
  }
  if (input.environment) {
    const e = input.environment;
    out.push(
      `Machine: ${md(`${e.cpuModel} (${e.cores} cores), ${e.gpus.length ? e.gpus.map((g) => g.name).join(', ') : 'no GPU'}, ${e.os}, Node ${e.node}, repro ${e.repro}`)}. ${ref(input, runSrc)}`,
    );
  }

  if (input.program.length) {
    out.push('### Program');
    out.push(
      table(
        ['step', 'command', 'files (sha256)'],
        input.program.map((p) => [
          code(p.step),
          code(p.command.join(' ')),
          p.files.map((f) => `${md(f.path)}${f.role === 'script' ? ' (script)' : ''} ${code(`${f.sha256.slice(0, 16)}…`)}`).join('<br>') || '–',
        ]),
      ),
    );
  }

  const speed = trainingSpeedRows(input);
  const trows = timingRows(input);
  if (speed.length || trows.length) {
    out.push('### Timings');
    if (speed.length) {
      out.push(
        table(
          ['variant', 'ms / optimisation step', 'training time per run'],
          speed.map((s) => [
            md(s.variant),
            s.msPerStep ? `${fmt(s.msPerStep.mean, 1)} ± ${fmt(s.msPerStep.sd, 1)}` : '–',
            s.trainMs ? `${fmtDuration(s.trainMs.mean)} ± ${fmtDuration(s.trainMs.sd)}` : '–',
          ]),
        ),
      );
    }
    if (trows.length) {
      out.push(
        table(
          ['step kind', 'steps', 'from cache', 'total'],
          trows.map((t) => [md(t.uses), String(t.count), String(t.cached), fmtDuration(t.totalMs)]),
        ),
      );
    }
  }

  out.push('<details><summary>Sources (sha256)</summary>\n');
  out.push(
    table(
      ['id', 'artifact', 'sha256'],
      Object.values(input.sources).map((s) => [ref(input, s.id), md(s.label), code(s.sha256)]),
    ),
  );
  out.push('\n</details>');
  out.push(`<sub>Generated by ${md(input.generator)} at ${md(input.generatedAt)}. ${banner.label}. Plots are in report.html.</sub>`);
  return out.join('\n\n') + '\n';
}
