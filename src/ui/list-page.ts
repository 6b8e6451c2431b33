// Page 1: every run, newest first, filtered by workflow, profile, status and free text; ticked runs
// go to the compare page. A run still going shows its progress, refreshed by the page's script.
import { fmtDuration } from '../report/format.js';
import { esc, options, page, progressHref, query, runHref, shortTime, statusBadge, type PageContext } from './html.js';
import type { IndexedRun, RunIndex } from './runs.js';
import { describeProgress, runProgress } from './progress.js';

export interface ListFilter {
  workflow: string | null;
  profile: string | null;
  status: string | null;
  /** Case-insensitive text matched against id, workflow, profile, commit and verdicts. */
  text: string | null;
  /** Show every match rather than the first PAGE_SIZE. */
  all: boolean;
}

/** Rows shown before "show all": the page stays small however many runs there are. */
export const PAGE_SIZE = 200;

export function filterRuns(runs: IndexedRun[], f: ListFilter): IndexedRun[] {
  const text = f.text?.toLowerCase() ?? '';
  return runs.filter((r) => {
    const s = r.summary;
    if (f.workflow && s.workflow !== f.workflow) return false;
    if (f.profile && (s.profile ?? '(none)') !== f.profile) return false;
    if (f.status && s.status !== f.status) return false;
    if (text && ![s.id, s.workflow, s.profile ?? '', s.commit ?? '', ...s.verdicts].some((x) => x.toLowerCase().includes(text))) return false;
    return true;
  });
}

/** The step count of the newest finished run of the same workflow and profile: what a running one will likely have. */
export function expectedSteps(all: IndexedRun[], run: IndexedRun): number | null {
  const prev = all.find((r) => r !== run && r.summary.status !== 'running' && r.summary.workflow === run.summary.workflow && r.summary.profile === run.summary.profile);
  return prev ? prev.summary.ran + prev.summary.cached || null : null;
}

export function progressText(index: RunIndex, all: IndexedRun[], run: IndexedRun): string {
  try {
    return describeProgress(runProgress(index.load(run).record, run.runDir, expectedSteps(all, run)));
  } catch {
    return 'running';
  }
}

export function listPage(ctx: PageContext, index: RunIndex, f: ListFilter): string {
  const all = index.all();
  const matches = filterRuns(all, f);
  const shown = f.all ? matches : matches.slice(0, PAGE_SIZE);
  const distinct = (pick: (r: IndexedRun) => string) => [...new Set(all.map(pick))].sort();
  const parts: string[] = [];
  parts.push(`<h1>Runs</h1>`);
  parts.push(
    `<form class="filters" method="get" action="${ctx.base}">` +
      `<label>workflow<select name="workflow">${options(distinct((r) => r.summary.workflow), f.workflow, 'all')}</select></label>` +
      `<label>profile<select name="profile">${options(distinct((r) => r.summary.profile ?? '(none)'), f.profile, 'all')}</select></label>` +
      `<label>status<select name="status">${options(distinct((r) => r.summary.status), f.status, 'all')}</select></label>` +
      `<label>text<input type="search" name="q" value="${esc(f.text ?? '')}" placeholder="id, commit, verdict…"></label>` +
      `<button type="submit">Filter</button>` +
      (f.workflow || f.profile || f.status || f.text ? ` <a href="${ctx.base}">clear</a>` : '') +
      `</form>`,
  );
  parts.push(`<p class="muted" id="count">${matches.length} of ${all.length} runs${shown.length < matches.length ? `; the newest ${shown.length} shown` : ''}.</p>`);
  if (all.length === 0) parts.push(`<p>No run records under <code>${esc(index.resultsDir)}</code>. Run a workflow first: <code>repro run workflows/paper.yaml --profile smoke</code>.</p>`);
  parts.push(`<form method="get" action="${ctx.base}compare">`);
  parts.push(
    `<div class="wide"><table class="runs"><thead><tr><th></th><th>run</th><th>started (UTC)</th><th>workflow</th><th>profile</th><th>commit</th><th>status</th><th class="n">steps ran / cached</th><th class="n">duration</th><th>claim verdicts</th></tr></thead><tbody>`,
  );
  for (const r of shown) {
    const s = r.summary;
    const live =
      s.status === 'running'
        ? `<br><span class="progress" data-live="${progressHref(ctx, r.key)}">${esc(progressText(index, all, r))}</span>`
        : '';
    parts.push(
      `<tr data-run="${esc(r.key)}"><td><input type="checkbox" name="run" value="${esc(r.key)}" aria-label="compare ${esc(s.id)}"></td>` +
        `<td class="mono"><a href="${runHref(ctx, r.key)}">${esc(s.id)}</a></td><td class="mono">${esc(shortTime(s.startedAt))}</td>` +
        `<td>${esc(s.workflow)}</td><td>${esc(s.profile ?? '–')}</td><td class="mono">${esc(s.commit ? s.commit.slice(0, 10) : '–')}</td>` +
        `<td>${statusBadge(s.status)}${live}</td><td class="n">${s.ran} / ${s.cached}</td><td class="n">${esc(fmtDuration(s.durationMs))}</td>` +
        `<td>${s.verdicts.map((v) => esc(v)).join('<br>') || '<span class="muted">–</span>'}</td></tr>`,
    );
  }
  parts.push(`</tbody></table></div>`);
  if (shown.length < matches.length) {
    parts.push(
      `<p><a href="${ctx.base}${query([['workflow', f.workflow], ['profile', f.profile], ['status', f.status], ['q', f.text], ['all', '1']])}">show all ${matches.length}</a></p>`,
    );
  }
  if (all.length) parts.push(`<p><button type="submit">Compare the ticked runs</button> <span class="muted small">(two or more; the first ticked is the baseline)</span></p>`);
  parts.push(`</form>`);
  return page(ctx, 'Runs', parts.join('\n'));
}
