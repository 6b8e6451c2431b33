// Everything a finished run gets next to its run.json: report.html, report.md, checklist.yaml,
// checklist.md and ro-crate-metadata.json. `repro report` and the end of `repro run` both call
// writeRunReport; the `report` step renders through the same renderers from what it is given.

import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { userInfo } from 'node:os';
import type { RunRecord } from '../formats/run-record.js';
import { RUN_RECORD_FORMAT, locateRun } from '../formats/run-record.js';
import { writeFileAtomic } from '../core/atomic.js';
import { sha256, sha256File } from '../core/hash.js';
import { loadRunReport, type ReportInput } from './input.js';
import { renderHtml, renderedPlots } from './html.js';
import { renderMarkdown } from './markdown.js';
import type { Plot } from './plots.js';
import { buildChecklist, checklistMarkdown, type Checklist } from './checklist.js';
import { buildRunCrate } from './rocrate.js';

export { renderHtml } from './html.js';
export { renderMarkdown } from './markdown.js';
export { loadRunReport, type ReportInput } from './input.js';
export { buildChecklist, checklistMarkdown } from './checklist.js';
export { buildRunCrate, checkRunCrate } from './rocrate.js';

export const REPORT_FILES = ['report.html', 'report.md', 'checklist.yaml', 'checklist.md', 'ro-crate-metadata.json'] as const;

/**
 * A run that cannot be reported: missing or unreadable run.json (user error), or an artifact that
 * changed or is missing from the store (corrupt).
 */
export class ReportError extends Error {
  constructor(
    message: string,
    public readonly kind: 'invalid' | 'corrupt',
    public readonly hint?: string,
  ) {
    super(message);
    this.name = 'ReportError';
  }
}

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string; license?: string };
export const GENERATOR = `repro ${pkg.version}`;

export interface WriteReportOptions {
  /** Where to write the files (default: the run directory). */
  outDir?: string;
  /** DOI of an archived copy of the run, for the checklist and the Available badge. */
  doi?: string | null;
  /**
   * A previous run directory whose report's plots may be reused because every step of this run has
   * the same fingerprint there (a fully cached re-run): rendering the plots is most of the cost. The
   * rest is rendered for this run, which it names.
   */
  reuseRenderedFrom?: string | null;
  now?: Date;
}

export interface WrittenReport {
  outDir: string;
  files: Record<(typeof REPORT_FILES)[number], string>;
  input: ReportInput;
  checklist: Checklist;
}

/**
 * Reads and sanity-checks run.json; `path` is a run directory or the run.json itself. The record's
 * store and workflow file are where they are now (locateRun), should the project have moved.
 */
export function readRunRecord(path: string): { record: RunRecord; runJson: string; runDir: string } {
  const runJson = existsSync(path) && statSync(path).isDirectory() ? join(path, 'run.json') : path;
  if (!existsSync(runJson)) {
    throw new ReportError(`${runJson}: no run record here`, 'invalid', 'Give a run directory (results/<workflow>/<run-id>) or its run.json.');
  }
  let record: RunRecord;
  try {
    record = JSON.parse(readFileSync(runJson, 'utf8')) as RunRecord;
  } catch (err) {
    throw new ReportError(`${runJson}: not valid JSON (${(err as Error).message})`, 'invalid');
  }
  if (record?.format !== RUN_RECORD_FORMAT || !Array.isArray(record.steps)) {
    throw new ReportError(`${runJson}: not a repro run record (expected format "${RUN_RECORD_FORMAT}", found ${JSON.stringify(record?.format)})`, 'invalid');
  }
  return { record: locateRun(record, runJson), runJson: resolve(runJson), runDir: resolve(dirname(runJson)) };
}

function agent(): { id: string; name: string } {
  const id = process.env.REPRO_AGENT_ID;
  const name = process.env.REPRO_AGENT_NAME;
  let account = 'unknown';
  try {
    account = userInfo().username;
  } catch {
    // No passwd entry (some containers): keep 'unknown'.
  }
  return { id: id && /^https?:\/\//.test(id) ? id : '#agent', name: name ?? `${account} (local account)` };
}

export async function writeRunReport(runDirOrJson: string, opts: WriteReportOptions = {}): Promise<WrittenReport> {
  const { record, runJson, runDir } = readRunRecord(runDirOrJson);
  const outDir = resolve(opts.outDir ?? runDir);
  refuseMissingObjects(record);
  mkdirSync(outDir, { recursive: true });

  let input: ReportInput;
  try {
    input = loadRunReport(record, runJson, { outDir, generator: GENERATOR, now: opts.now });
  } catch (err) {
    const e = err as Error & { corrupt?: boolean };
    if (e.name === 'ArtifactError') {
      throw new ReportError(e.message, e.corrupt ? 'corrupt' : 'invalid', e.corrupt ? 'Run `repro verify` to check the store.' : undefined);
    }
    throw err;
  }

  const html = await renderHtml(input, opts.reuseRenderedFrom ? plotsOf(join(opts.reuseRenderedFrom, 'report.html')) : undefined);
  const markdown = renderMarkdown(input);
  const checklist = buildChecklist(record, input, { doi: opts.doi ?? null, codeLicense: pkg.license ?? 'not stated', outputs: [...REPORT_FILES] });
  const YAML = await import('yaml');
  const checklistYaml =
    `# Artifact checklist and badge self-assessment, filled from run ${record.runId} by ${GENERATOR}.\n` + YAML.stringify(checklist, { lineWidth: 0 });

  const files = Object.fromEntries(REPORT_FILES.map((f) => [f, join(outDir, f)])) as WrittenReport['files'];
  const written: Array<{ path: string; name: string; encodingFormat: string; sha256?: string; size?: number }> = [];
  const put = (name: string, content: string, title: string, format: string) => {
    writeFileAtomic(join(outDir, name), content);
    written.push({ path: name, name: title, encodingFormat: format, sha256: sha256(content), size: Buffer.byteLength(content) });
  };
  put('report.html', html, 'Report (HTML)', 'text/html');
  put('report.md', markdown, 'Report (Markdown)', 'text/markdown');
  put('checklist.yaml', checklistYaml, 'Artifact checklist and badge self-assessment', 'application/yaml');
  put('checklist.md', checklistMarkdown(checklist), 'Artifact checklist (Markdown)', 'text/markdown');

  // The crate's root is outDir: it carries run.json and the workflow file, so it stands on its own.
  if (resolve(join(outDir, 'run.json')) !== runJson) copyAtomic(runJson, join(outDir, 'run.json'));
  const runBytes = readFileSync(join(outDir, 'run.json'));
  written.push({ path: 'run.json', name: 'Run record', encodingFormat: 'application/json', sha256: sha256(runBytes), size: runBytes.length });
  let workflowInCrate: string | null = null;
  if (existsSync(record.workflow.file) && (await sha256File(record.workflow.file)) === record.workflow.sha256) {
    workflowInCrate = `workflow/${basename(record.workflow.file)}`;
    copyAtomic(record.workflow.file, join(outDir, workflowInCrate));
  }
  const crate = buildRunCrate(record, {
    workflowInCrate,
    files: written,
    agent: agent(),
    repro: { version: pkg.version, license: pkg.license ?? 'not stated' },
    datasets: input.datasets,
  });
  writeFileAtomic(files['ro-crate-metadata.json'], JSON.stringify(crate, null, 2) + '\n');
  return { outDir, files, input, checklist };
}

/**
 * A report of a run whose store lacks an object it recorded would be poorer than the one it replaces
 * (a gc, a store that did not move with the project): refuse, and name what is missing and where.
 */
function refuseMissingObjects(record: RunRecord): void {
  const missing: string[] = [];
  for (const step of record.steps) {
    if (step.status !== 'succeeded' && step.status !== 'cached') continue;
    for (const [name, art] of Object.entries(step.outputs ?? {})) {
      if (art.storePath && !existsSync(join(record.store, art.storePath))) missing.push(`output ${name} of ${step.id} (${art.storePath})`);
    }
  }
  if (missing.length === 0) return;
  const shown = missing.slice(0, 5).join('; ') + (missing.length > 5 ? `; and ${missing.length - 5} more` : '');
  throw new ReportError(
    `cannot report run ${record.runId}: ${missing.length} object${missing.length === 1 ? '' : 's'} it recorded ${missing.length === 1 ? 'is' : 'are'} missing from the store ${record.store}: ${shown}`,
    'corrupt',
    'No report was written; an existing one is left as it was. Run the workflow again to restore the objects, or `repro verify` to check the store.',
  );
}

/** The rendered plots of an earlier report, or undefined (render them) when it has none that parse. */
function plotsOf(reportHtml: string): Plot[] | undefined {
  if (!existsSync(reportHtml)) return undefined;
  const html = readFileSync(reportHtml, 'utf8');
  const plots = renderedPlots(html);
  // Every figure parsed, or none reused: a report must never lose a plot to a format it misread.
  return plots.length > 0 && plots.length === html.split('<figure class="plot"').length - 1 ? plots : undefined;
}

function copyAtomic(from: string, to: string): void {
  mkdirSync(dirname(to), { recursive: true });
  writeFileAtomic(to, readFileSync(from));
}
