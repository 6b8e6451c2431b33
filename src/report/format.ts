// How numbers and text look in every report format, decided once.

import type { Scale } from './input.js';

/** Three decimals for metrics in 0..1 and errors in class steps; more only for tiny values. */
export function fmt(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  if (v !== 0 && Math.abs(v) < 1e-3) return v.toExponential(1);
  return v.toFixed(digits);
}

export function fmtP(p: number | null | undefined): string {
  if (p === null || p === undefined || !Number.isFinite(p)) return '–';
  if (p < 0.001) return '< 0.001';
  return p.toFixed(3);
}

export function fmtDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s - m * 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function fmtBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** The sentence every output carries about what kind of run this was. */
export function scaleBanner(scale: Scale | null, note: string | null): { label: string; text: string } {
  switch (scale) {
    case 'full':
      return { label: 'Full-scale run', text: note ?? 'The original protocol on its own data.' };
    case 'proxy':
      return {
        label: 'Proxy run',
        text:
          note ??
          'A stand-in run (other data, model or budget than the original experiment): it tests the claims in a smaller setting and never reproduces absolute reported numbers.',
      };
    case 'smoke':
      return {
        label: 'Smoke run',
        text: note ?? 'A tiny run that checks the workflow works end to end: its numbers mean nothing about the claims.',
      };
    default:
      return { label: 'Scale not recorded', text: note ?? 'Neither the run record nor the verdicts say what scale this run was.' };
  }
}

/**
 * A URL the report may render as a link: http(s), or a relative reference (no scheme). Anything else
 * from a workflow (`javascript:`, `data:`, `file:`…) is shown as text, never made a live link.
 */
export function linkable(url: string | null | undefined): string | null {
  if (!url) return null;
  const u = url.trim();
  if (/^https?:\/\//i.test(u)) return u;
  // A scheme is letters before the first ':' that comes before any '/', '?' or '#'. Two slashes borrow
  // one and name another host, and browsers read a backslash as a slash there: //host, /\host, \\host.
  if (/^[a-z][a-z0-9+.-]*:/i.test(u) || /^[\\/]{2}/.test(u) || /[\u0000-\u001f]/.test(u)) return null;
  return u;
}

/**
 * Where a reported number is printed, as a reader looks it up: "arXiv:1708.07747 v1, Table 3, row …, column …".
 * The workflow's own words, in the order a reader needs them; keys we do not know follow as key: value.
 */
export function reportedSource(source: Record<string, unknown> | null | undefined): string | null {
  if (!source) return null;
  const s = Object.entries(source).filter(([, v]) => v !== null && v !== undefined && v !== '');
  const get = (k: string) => s.find(([key]) => key === k)?.[1];
  const parts: string[] = [];
  const paper = get('paper');
  if (paper !== undefined) parts.push(`${String(paper)}${get('version') !== undefined ? ` ${String(get('version'))}` : ''}`);
  for (const [k, label] of [['table', 'Table'], ['figure', 'Figure'], ['section', 'Section'], ['row', 'row'], ['column', 'column']] as const) {
    const v = get(k);
    if (v !== undefined) parts.push(`${label} ${String(v)}`);
  }
  const known = new Set(['paper', 'version', 'table', 'figure', 'section', 'row', 'column']);
  for (const [k, v] of s) if (!known.has(k)) parts.push(`${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return parts.length ? parts.join(', ') : null;
}

/** "L. Hou, C.-P. Yu, D. Samaras (2016). Title. arXiv:1611.05916v4." */
export function citation(paper: {
  title?: string;
  authors?: string[];
  year?: number;
  arxiv?: string;
  version?: string;
  doi?: string;
  url?: string;
} | null): { text: string; url: string | null } | null {
  if (!paper || !paper.title) return null;
  const authors = paper.authors?.length ? paper.authors.join(', ') : null;
  const bits = [authors ? `${authors}${paper.year ? ` (${paper.year})` : ''}.` : paper.year ? `(${paper.year}).` : '', `${paper.title}.`];
  if (paper.arxiv) bits.push(`arXiv:${paper.arxiv}${paper.version ?? ''}.`);
  if (paper.doi) bits.push(`doi:${paper.doi}.`);
  const url = linkable(paper.url) ?? (paper.doi ? `https://doi.org/${paper.doi}` : paper.arxiv ? `https://arxiv.org/abs/${paper.arxiv}` : null);
  return { text: bits.filter(Boolean).join(' '), url };
}
