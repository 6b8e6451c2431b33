// The Markdown twin of the HTML report, sized for a pull-request comment: the same tables, no plots.
// Numbers cite their artifact by source id (last column); the Sources table gives each id's sha256.

import type { ReportInput } from './input.js';
import { citation, escapeMd as md, fmt, fmtDuration, fmtP, scaleBanner } from './format.js';
import { formatMetric, metricTitle } from '../formats/metrics.js';
import { backendRows, recordSource, reportMetrics, timingRows, trainingSpeedRows, variantRows, verdictRows, verdictSummary } from './model.js';

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
  return s.href ? `[${s.id}](${s.href})` : s.id;
}

export function renderMarkdown(input: ReportInput): string {
  const banner = scaleBanner(input.scale, input.scaleNote);
  const cite = citation(input.paper);
  const runSrc = recordSource(input);
  const tag = input.scale && input.scale !== 'full' ? ` (${input.scale} run)` : '';
  const out: string[] = [];

  out.push(`## ${input.title}${tag}`);
  if (cite) out.push(`Reproducing: ${cite.url ? `[${cite.text}](${cite.url})` : cite.text}`);
  out.push(`> **${banner.label}.** ${banner.text}`);
  if (input.run) {
    const r = input.run;
    out.push(
      `Run \`${r.runId}\` · ${r.status} · ${fmtDuration(r.durationMs)}` +
        (r.profile ? ` · profile \`${r.profile}\`` : '') +
        (r.git.commit ? ` · git \`${r.git.commit.slice(0, 12)}\`${r.git.dirty ? ' (dirty)' : ''}` : '') +
        ` · ${ref(input, runSrc)}`,
    );
  }
  for (const d of input.datasets) {
    out.push(`Data: **${md(d.name)}**${d.description ? ` — ${md(d.description)}` : ''}; licence ${md(d.licence ?? 'not recorded')}${d.citation.length ? `. Cite: ${md(d.citation.join('; '))}` : ''}`);
  }
  if (input.warnings.length) out.push(`**Not shown:**\n${input.warnings.map((w) => `- ${w}`).join('\n')}`);

  out.push(`### Claims and reported numbers${tag}`);
  const vrows = verdictRows(input);
  if (vrows.length === 0) {
    out.push('_No verdicts: the run has no compare step, or it did not finish._');
  } else {
    const sum = verdictSummary(input)!;
    out.push(
      `**${sum.counts}**${sum.gate === 'none' ? ' · no gate: no check is required' : sum.gate ? ` · gate for required claims: **${sum.gate}**` : ''}`,
    );
    out.push(
      table(
        ['check', 'verdict', 'metric', 'variants', 'n', 'mean ± sd', '95% CI', 'effect', 'p', 'reported', 'source'],
        vrows.map((r) => [
          `**${md(r.id)}**${r.required ? ' (required)' : ''}<br>${md(r.text)}`,
          `${VERDICT_ICON[r.verdict] ?? ''} ${r.verdict}`,
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
          `- **${md(r.id)}**: ${r.explanation}` +
          r.pairwise.map((p) => `\n  - ${p.a} > ${p.b}: ${p.verdict}${p.mean === null ? '' : ` (Δ ${fmt(p.mean)}${p.ci95 ? ` [${fmt(p.ci95[0])}, ${fmt(p.ci95[1])}]` : ''})`}`).join(''),
      )
      .join('\n');
    out.push(`<details><summary>Explanations</summary>\n\n${notes}\n\n</details>`);
  }

  const rows = variantRows(input);
  const metrics = reportMetrics(input);
  const cat = input.metricCatalog;
  out.push(`### Metrics by variant${tag}`);
  if (rows.length === 0) {
    out.push('_No metrics: no step wrote a metrics file._');
  } else {
    out.push(`Mean ± sd over the repeats of each variant${input.variantKey ? ` (variants: matrix axis \`${input.variantKey}\`)` : ''}.`);
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
  }

  const brows = backendRows(input);
  if (brows.length) {
    out.push('### Backend');
    out.push(
      table(
        ['facts', 'train steps', 'ms / step'],
        brows.map((b) => [
          Object.entries(b.facts).map(([k, v]) => `${k}=${String(v)}`).join(', ') || 'not recorded',
          String(b.steps.length),
          b.msPerStep ? `${fmt(b.msPerStep.mean, 1)} ± ${fmt(b.msPerStep.sd, 1)}` : '–',
        ]),
      ),
    );
  }
  if (input.environment) {
    const e = input.environment;
    out.push(
      `Machine: ${e.cpuModel} (${e.cores} cores), ${e.gpus.length ? e.gpus.map((g) => g.name).join(', ') : 'no GPU'}, ${e.os}, Node ${e.node}, repro ${e.repro}. ${ref(input, runSrc)}`,
    );
  }

  if (input.program.length) {
    out.push('### Program');
    out.push(
      table(
        ['step', 'command', 'files (sha256)'],
        input.program.map((p) => [
          `\`${md(p.step)}\``,
          `\`${md(p.command.join(' '))}\``,
          p.files.map((f) => `${md(f.path)}${f.role === 'script' ? ' (script)' : ''} \`${f.sha256.slice(0, 16)}…\``).join('<br>') || '–',
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
      Object.values(input.sources).map((s) => [s.href ? `[${s.id}](${s.href})` : s.id, md(s.label), `\`${s.sha256}\``]),
    ),
  );
  out.push('\n</details>');
  out.push(`<sub>Generated by ${input.generator} at ${input.generatedAt}. ${banner.label}. Plots are in report.html.</sub>`);
  return out.join('\n\n') + '\n';
}
