// The frame every page of `repro ui` shares: head, navigation, styles, and the few helpers that put
// text from run records into HTML. Every string from a record, a workflow or a metrics file goes
// through `esc` (or `jsonScript` for chart data); nothing is ever inserted unescaped.
import { isAbsolute, relative, sep } from 'node:path';
import { escapeHtml as esc, fmt } from '../report/format.js';

export { esc };

export interface PageContext {
  /** '/<token>/': every URL of the app starts with it. */
  base: string;
  /** The folder served (its real path): only files under it can be opened. */
  root: string;
}

/** The URL of a file under the served folder, or null for one outside it. */
export function fileHref(ctx: PageContext, abs: string): string | null {
  const rel = relative(ctx.root, abs);
  if (!rel || rel.startsWith('..') || isAbsolute(rel)) return null;
  return `${ctx.base}files/${rel.split(sep).map(encodeURIComponent).join('/')}`;
}

export const CSS = `
:root { --fg:#1d2330; --muted:#5b6478; --line:#e3e6ee; --bg:#fff; --soft:#f6f7fa; --link:#1f5fbf; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; color:var(--fg); background:var(--bg); }
header.top { display:flex; gap:20px; align-items:baseline; padding:10px 24px; border-bottom:1px solid var(--line); background:var(--soft); }
header.top b { font-size:15px; } header.top a { font-weight:500; }
main { max-width: 1320px; margin: 0 auto; padding: 16px 24px 64px; }
h1 { font-size: 21px; margin: 6px 0 6px; } h2 { font-size: 17px; margin: 28px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 14px; margin: 16px 0 6px; }
a { color: var(--link); text-decoration: none; } a:hover { text-decoration: underline; }
.muted { color: var(--muted); } .small { font-size: 12px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 10px; font-size: 13px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--soft); font-weight: 600; white-space: nowrap; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code, .mono, pre { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
pre { background: var(--soft); padding: 8px 10px; border-radius: 4px; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
.wide { max-width: 100%; overflow-x: auto; }
form.filters { display:flex; flex-wrap:wrap; gap: 8px 14px; align-items: end; margin: 8px 0 12px; }
form.filters label { display:flex; flex-direction:column; font-size:12px; color:var(--muted); }
form.filters input[type=search] { min-width: 220px; }
select, input, button { font: inherit; padding: 3px 6px; }
.s, .v { display:inline-block; padding: 0 7px; border-radius: 9px; font-size: 12px; font-weight: 600; white-space: nowrap; }
.s-succeeded { background:#d9f2e1; color:#14572c; } .s-failed { background:#fbdcdc; color:#7a1616; }
.s-running { background:#dde8fb; color:#1b3f80; } .s-interrupted { background:#fff0c2; color:#6a4c00; }
.s-cached { background:#e8eaef; color:#434b5c; } .s-skipped { background:#e8eaef; color:#434b5c; }
.v-reproduced { background:#d9f2e1; color:#14572c; } .v-not-reproduced { background:#fbdcdc; color:#7a1616; }
.v-inconclusive { background:#fff0c2; color:#6a4c00; } .v-not-recorded { background:#e8eaef; color:#434b5c; }
.facts { display:flex; flex-wrap:wrap; gap: 4px 20px; color: var(--muted); font-size: 13px; }
.progress { color:#1b3f80; font-size: 12px; }
iframe.report { width: 100%; height: 820px; border: 1px solid var(--line); border-radius: 4px; }
.chart { min-height: 60px; margin: 8px 0 16px; overflow-x: auto; }
details > summary { cursor: pointer; }
.diff-none { color: var(--muted); font-style: italic; }
ul.changes { margin: 2px 0; padding-left: 18px; }
`;

/** The HTML document of one page. `charts` loads vega and vega-lite (served from the installed packages). */
export function page(ctx: PageContext, title: string, body: string, opts: { charts?: boolean } = {}): string {
  const b = ctx.base;
  const scripts = opts.charts
    ? `<script src="${b}assets/vega.min.js"></script><script src="${b}assets/vega-lite.min.js"></script>`
    : '';
  return (
    `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<meta name="referrer" content="no-referrer"><title>${esc(title)} · repro ui</title><link rel="stylesheet" href="${b}assets/ui.css">` +
    `${scripts}<script src="${b}assets/ui.js" defer></script></head>\n<body>` +
    `<header class="top"><b>repro ui</b><a href="${b}">Runs</a><a href="${b}drift">Across runs</a></header>\n<main>${body}</main></body></html>\n`
  );
}

/** Data for the page's script, inside <script type="application/json">: '<' escaped so no text ends the element. */
export function jsonScript(id: string, value: unknown): string {
  const json = JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
  return `<script type="application/json" id="${esc(id)}">${json}</script>`;
}

/** A Vega-Lite chart drawn in the browser from its spec. */
export function chart(id: string, spec: unknown): string {
  // The data's id has a prefix of its own: a heading may carry the chart's name as its anchor.
  return `<div class="chart" data-chart="${esc(id)}" data-spec="spec-${esc(id)}"></div>${jsonScript(`spec-${id}`, spec)}`;
}

export function statusBadge(status: string): string {
  return `<span class="s s-${esc(status.replace(/[^a-z-]/g, ''))}">${esc(status)}</span>`;
}

export function verdictBadge(v: string | null): string {
  if (!v) return '<span class="muted">–</span>';
  return `<span class="v v-${esc(v.replace(/\s+/g, '-').replace(/[^a-z-]/g, ''))}">${esc(v)}</span>`;
}

/** '?a=1&b=x' from pairs, each value URL-encoded. */
export function query(pairs: Array<[string, string | null | undefined]>): string {
  const q = pairs.filter(([, v]) => v !== null && v !== undefined && v !== '').map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v!)}`);
  return q.length ? `?${q.join('&')}` : '';
}

/** The URL path of a run's page: its key's two parts, each encoded. */
export function runHref(ctx: PageContext, key: string): string {
  return `${ctx.base}run/${keyPath(key)}`;
}

/** The URL the page's script polls for a running run's progress (JSON). */
export function progressHref(ctx: PageContext, key: string): string {
  return `${ctx.base}progress/${keyPath(key)}`;
}

const keyPath = (key: string) => key.split('/').map(encodeURIComponent).join('/');

/** ' [lo, hi]' after a number, muted; nothing without an interval. */
export function interval(ci: [number, number] | null): string {
  return ci ? ` <span class="muted">[${fmt(ci[0])}, ${fmt(ci[1])}]</span>` : '';
}

/** '2026-12-06 23:21:16Z' from an ISO time. */
export function shortTime(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export function options(values: string[], selected: string | null, allLabel: string): string {
  return (
    `<option value="">${esc(allLabel)}</option>` +
    values.map((v) => `<option value="${esc(v)}"${v === selected ? ' selected' : ''}>${esc(v)}</option>`).join('')
  );
}
