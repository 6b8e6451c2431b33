// Page 2: one run. Its report (report.html, rendered by src/report on demand when the run has none),
// its steps with their logs, inputs and outputs by hash, its params and its environment.
import { isAbsolute, join } from 'node:path';
import { fmtBytes, fmtDuration } from '../report/format.js';
import type { ArtifactRecord, RunRecord } from '../formats/run-record.js';
import { esc, fileHref, page, progressHref, shortTime, statusBadge, type PageContext } from './html.js';
import type { IndexedRun, RunIndex } from './runs.js';
import { progressText } from './list-page.js';

function artifactCell(ctx: PageContext, record: RunRecord, a: ArtifactRecord): string {
  const href = a.storePath ? fileHref(ctx, join(record.store, a.storePath)) : null;
  const hash = `<span class="mono" title="sha256:${esc(a.sha256)}">${esc(a.sha256.slice(0, 16))}</span>`;
  const value = a.type === 'value' ? ` = <code>${esc((JSON.stringify(a.value) ?? 'null').slice(0, 300))}</code>` : '';
  const size = a.size !== undefined ? ` <span class="muted">${esc(fmtBytes(a.size))}</span>` : '';
  return `${esc(a.type)} ${href ? `<a href="${esc(href)}">${hash}</a>` : hash}${size}${value}`;
}

function artifactTable(ctx: PageContext, record: RunRecord, title: string, arts: Record<string, ArtifactRecord>): string {
  const rows = Object.entries(arts ?? {});
  if (!rows.length) return '';
  return (
    `<h3>${esc(title)}</h3><table class="artifacts"><tbody>` +
    rows.map(([name, a]) => `<tr><td class="mono">${esc(name)}</td><td>${artifactCell(ctx, record, a)}</td></tr>`).join('') +
    `</tbody></table>`
  );
}

export function runPage(ctx: PageContext, index: RunIndex, run: IndexedRun): string {
  const { record } = index.load(run);
  const s = run.summary;
  const parts: string[] = [];
  const title = record.workflow.title ?? record.workflow.name;
  parts.push(`<h1>${esc(title)}</h1>`);
  parts.push(
    `<div class="facts"><span>run <code>${esc(record.runId)}</code></span><span>${statusBadge(record.status)}</span>` +
      `<span>workflow <code>${esc(record.workflow.name)}</code>${record.profile ? ` profile <code>${esc(record.profile)}</code>` : ''}</span>` +
      `<span>started ${esc(shortTime(record.startedAt))}</span><span>took ${esc(fmtDuration(record.durationMs))}</span>` +
      `<span>steps ${s.ran} ran, ${s.cached} cached${s.failed ? `, ${s.failed} failed` : ''}</span>` +
      (record.git?.commit ? `<span>git <code>${esc(record.git.commit.slice(0, 12))}</code>${record.git.dirty ? ' (dirty)' : ''}</span>` : '') +
      `<span>command <code>${esc((record.command ?? []).join(' '))}</code></span></div>`,
  );
  if (record.status === 'running') {
    const live = progressHref(ctx, run.key);
    parts.push(`<p class="progress" data-live="${live}" data-reload>${esc(progressText(index, index.all(), run))}</p>`);
  }
  parts.push(`<p class="small"><a href="#report">report</a> · <a href="#steps">steps</a> · <a href="#params">params</a> · <a href="#environment">environment</a></p>`);

  const reportHref = fileHref(ctx, join(run.runDir, 'report.html'));
  parts.push(`<h2 id="report">Report</h2>`);
  if (reportHref) {
    parts.push(
      `<p class="small muted">The run's report.html (rendered now from run.json and the store when the run has none yet). <a href="${esc(reportHref)}">Open it alone</a>.</p>` +
        `<iframe class="report" title="report" src="${esc(reportHref)}" sandbox="allow-same-origin"></iframe>`,
    );
  }

  parts.push(`<h2 id="steps">Steps</h2>`);
  parts.push(`<div class="wide"><table class="steps"><thead><tr><th>step</th><th>kind</th><th>status</th><th class="n">duration</th><th>summary</th><th>fingerprint</th><th>log</th></tr></thead><tbody>`);
  for (const step of record.steps) {
    const logAbs = step.logFile ? (isAbsolute(step.logFile) ? step.logFile : join(run.runDir, step.logFile)) : null;
    const logHref = logAbs ? fileHref(ctx, logAbs) : null;
    const io = artifactTable(ctx, record, 'inputs', step.inputs) + artifactTable(ctx, record, 'outputs', step.outputs);
    const facts = step.facts && Object.keys(step.facts).length ? `<p class="small">facts: ${Object.entries(step.facts).map(([k, v]) => `${esc(k)}=<b>${esc(String(v))}</b>`).join(' · ')}</p>` : '';
    parts.push(
      `<tr><td class="mono">${io || facts ? `<details><summary>${esc(step.id)}</summary>${facts}${io}</details>` : esc(step.id)}</td>` +
        `<td>${esc(step.uses)}</td><td>${statusBadge(step.status)}</td><td class="n">${esc(fmtDuration(step.durationMs))}</td>` +
        `<td>${esc(step.summary ?? step.error ?? '')}</td><td class="mono" title="${esc(step.fingerprint)}">${esc(step.fingerprint.slice(0, 12))}</td>` +
        `<td>${logHref ? `<a href="${esc(logHref)}">log</a>` : '<span class="muted">–</span>'}</td></tr>`,
    );
  }
  parts.push(`</tbody></table></div>`);

  parts.push(`<h2 id="params">Params</h2><pre>${esc(JSON.stringify(record.params, null, 2))}</pre>`);

  parts.push(`<h2 id="environment">Environment</h2>`);
  const env = record.environment;
  if (env) {
    const rows: Array<[string, string]> = [
      ['OS', `${env.os} (kernel ${env.kernel}, ${env.arch})`],
      ['CPU', `${env.cpuModel}, ${env.cores} cores`],
      ['memory', fmtBytes(env.memoryBytes)],
      ['GPU', env.gpus?.length ? env.gpus.map((g) => `${g.name}${g.memory ? ` (${g.memory})` : ''}`).join('; ') : 'none detected'],
      ['Node.js', env.node],
      ['repro', env.repro],
      ['lockfile sha256', env.lockfileSha256 ?? 'not recorded'],
      ['backends', (env.backends ?? []).map((b) => Object.entries(b).map(([k, v]) => `${k}=${v}`).join(' ')).join('; ') || '–'],
      ['Python', env.python ? `${env.python.version}${env.python.torch ? `, torch ${env.python.torch}` : ''}${env.python.device ? `, ${env.python.device}` : ''}` : '–'],
      ['packages', Object.entries(env.packages ?? {}).map(([k, v]) => `${k}@${v}`).join(', ') || '–'],
    ];
    parts.push(`<table class="env"><tbody>${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(String(v))}</td></tr>`).join('')}</tbody></table>`);
  } else parts.push(`<p class="muted">No environment recorded.</p>`);
  return page(ctx, `${record.runId} · ${record.workflow.name}`, parts.join('\n'));
}
