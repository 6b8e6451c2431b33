// The `report` step: renders report.html and report.md mid-run from the verdicts, the evaluate
// metrics and the train histories it is handed, through the same renderers as `repro report`.
// There is no run record yet, so machine facts come from the histories' own facts; the full
// report (checklist, RO-Crate) is written after the run by writeRunReport.
//
//   - id: report
//     uses: report
//     with:
//       verdicts: ${{ steps.compare.outputs.verdicts }}
//       metrics: ${{ steps.evaluate.outputs.metrics }}      # gathered over the matrix
//       histories: ${{ steps.train.outputs.history }}       # gathered over the matrix
//       title: Squared EMD on RetinaMNIST                     # optional
//       paper: { title: ..., authors: [...], arxiv: 1611.05916 }  # optional, for the citation

import { join } from 'node:path';
import type { StepKind } from './kind.js';
import type { Gathered, PaperRef } from '../workflow/types.js';
import type { EvaluationMetrics, TrainingHistory } from '../formats/metrics.js';
import type { VerdictFile } from '../formats/verdict.js';
import type { ReportInput } from '../report/input.js';
import { StepError } from '../core/errors.js';
import { didYouMean } from '../workflow/suggest.js';
import { writeFileSync } from 'node:fs';
import { sha256 } from '../core/hash.js';

export interface ReportWith {
  verdicts?: string | null;
  metrics?: Array<Gathered<string>>;
  histories?: Array<Gathered<string>>;
  title?: string;
  paper?: PaperRef;
  /** The matrix axis whose values are the variants (as compare's variant_key); default: variant, loss, or the one axis besides seed/fold. */
  variant_key?: string;
}

const gatheredSchema = {
  type: 'array',
  items: {
    type: 'object',
    required: ['matrix', 'value'],
    properties: { matrix: { type: 'object' }, step: { type: 'string' }, value: { type: 'string' } },
  },
};

export const reportStep: StepKind<ReportWith> = {
  name: 'report',
  role: 'report',
  // 2: the backend table leaves out what each training chose (select_by, α): one row per backend.
  // 3: variants follow variant_key, columns are the metrics that exist, plot and table fixes (issues 14, 16).
  // 4: report.md escapes the workflow's strings (no markup from a workflow), and metrics past 12 columns
  //    go to a bounded "other metrics" table (issue 21).
  version: '4',
  description: 'Render the HTML and Markdown report (verdicts, metrics per variant, plots, backend, timings) from the run so far.',
  withSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      verdicts: { type: ['string', 'null'], description: "The compare step's verdicts.json." },
      metrics: { ...gatheredSchema, description: "Every evaluate instance's metrics.json (gathered over the matrix)." },
      histories: { ...gatheredSchema, description: "Every train instance's history.json (gathered over the matrix)." },
      title: { type: 'string' },
      variant_key: { type: 'string', description: "The matrix axis that names the variants, as the compare step's variant_key." },
      paper: {
        type: 'object',
        properties: {
          title: { type: 'string' },
          authors: { type: 'array', items: { type: 'string' } },
          arxiv: { type: 'string' },
          version: { type: 'string' },
          doi: { type: 'string' },
          year: { type: 'integer' },
          url: { type: 'string' },
        },
      },
    },
  },
  outputs: ['html', 'markdown'],
  check(w) {
    const problems: Array<{ path: string; message: string }> = [];
    if (!w.verdicts && !(w.metrics?.length) && !(w.histories?.length)) {
      problems.push({ path: '', message: 'a report needs at least one of verdicts, metrics or histories' });
    }
    // A misspelt variant_key would otherwise pool every variant into one row; compare checks its own the same way.
    const key = w.variant_key;
    const gathered = [...(Array.isArray(w.metrics) ? w.metrics : []), ...(Array.isArray(w.histories) ? w.histories : [])];
    const lacking = key === undefined ? undefined : gathered.find((g) => g && typeof g === 'object' && g.matrix && !Object.hasOwn(g.matrix, key));
    if (key !== undefined && lacking) {
      const axes = Object.keys(lacking.matrix);
      problems.push({
        path: 'variant_key',
        message: `'${lacking.step}' has no matrix axis '${key}'${didYouMean(key, axes)} (axes: ${axes.join(', ') || 'none'})`,
      });
    }
    return problems;
  },
  async run(ctx, w) {
    const { readJsonArtifact, SourceBook, variantOf, replicateOf, resolveVariantKey, reportCatalog, ArtifactError } = await import('../report/input.js');
    const { renderHtml, renderMarkdown, GENERATOR } = await import('../report/index.js');
    const book = new SourceBook();
    // Mid-run, artifacts live in the store and the report will too, at a path not known yet:
    // numbers cite artifacts by sha256 (listed under Sources), not by relative link.
    const load = <T>(path: string, name: string, prefix: string, label: string) => {
      try {
        const got = readJsonArtifact<T>(path, name);
        return { value: got.value, id: book.add(prefix, { label, sha256: sha256(got.bytes) }) };
      } catch (err) {
        if (err instanceof ArtifactError || (err as NodeJS.ErrnoException).code === 'ENOENT') {
          throw new StepError(`report: cannot read ${label}: ${(err as Error).message}`);
        }
        throw err;
      }
    };

    const verdicts = w.verdicts ? load<VerdictFile>(w.verdicts, 'verdicts.json', 'v', 'verdicts') : null;
    const key = resolveVariantKey(w.variant_key, [...(w.metrics ?? []), ...(w.histories ?? [])].map((g) => g.matrix));
    const evaluations = (w.metrics ?? []).map((g) => {
      const step = g.step ?? `evaluate[${replicateOf(g.matrix, key)}]`;
      const got = load<EvaluationMetrics>(g.value, 'metrics.json', 'm', `metrics of ${step}`);
      return { variant: variantOf(g.matrix, key), replicate: replicateOf(g.matrix, key), step, metrics: got.value, source: got.id };
    });
    const trainings = (w.histories ?? []).map((g) => {
      const step = g.step ?? `train[${replicateOf(g.matrix, key)}]`;
      const got = load<TrainingHistory>(g.value, 'history.json', 'h', `history of ${step}`);
      return {
        variant: variantOf(g.matrix, key, got.value.loss),
        replicate: replicateOf(g.matrix, key),
        step,
        history: got.value,
        source: got.id,
        facts: got.value.facts ?? {},
        durationMs: sumSeconds(got.value),
      };
    });
    const scale = verdicts?.value.scale ?? null;
    const input: ReportInput = {
      title: w.title ?? (w.paper?.title ? `Reproduction of “${w.paper.title}”` : 'Run report'),
      variantKey: key,
      metricCatalog: reportCatalog([], verdicts?.value ?? null, evaluations),
      program: [],
      datasets: [],
      paper: w.paper ?? null,
      scale,
      scaleNote: verdicts?.value.scaleNote ?? null,
      run: null,
      verdicts: verdicts ? { file: verdicts.value, source: verdicts.id } : null,
      evaluations,
      trainings,
      environment: null,
      steps: [],
      sources: book.sources,
      warnings: [],
      generatedAt: new Date().toISOString(),
      generator: GENERATOR,
    };
    ctx.progress(null, 'rendering plots');
    const html = await renderHtml(input);
    const markdown = renderMarkdown(input);
    writeFileSync(join(ctx.workDir, 'report.html'), html);
    writeFileSync(join(ctx.workDir, 'report.md'), markdown);
    const claims = verdicts?.value.checks.length ?? 0;
    return {
      outputs: { html: { type: 'file', path: 'report.html' }, markdown: { type: 'file', path: 'report.md' } },
      summary: `${evaluations.length} evaluations, ${trainings.length} histories, ${claims} checks${scale ? ` (${scale})` : ''}`,
    };
  },
};

/** Training time from the history's per-epoch seconds: the only timing a mid-run report has. */
function sumSeconds(h: TrainingHistory): number | null {
  const s = (h.epochs ?? []).map((e) => e.seconds).filter((x) => typeof x === 'number' && Number.isFinite(x));
  return s.length ? s.reduce((a, b) => a + b, 0) * 1000 : null;
}
