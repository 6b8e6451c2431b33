// The verdict table in the terminal and in Markdown (the run-to-run diff is diff-text.ts). Every row
// carries the run's scale, so a proxy result can never be read as the paper's.

import type { ClaimCheck, ReportedCheck, Stats, Verdict, VerdictFile } from '../formats/verdict.js';
import { summarizeVerdicts, fmt } from './verdicts.js';
import { escapeMd, mdCode } from '../core/markdown.js';

type Check = ReportedCheck | ClaimCheck;

const COLORS: Record<Verdict, string> = {
  reproduced: '32',
  'smaller than claimed': '35',
  'not reproduced': '31',
  inconclusive: '33',
  'not recorded': '2',
};

function what(c: Check): string {
  if (c.kind === 'reported') {
    const v = c.reported.value === null ? 'unknown' : fmt(c.reported.value);
    return `${c.metric} of ${c.variant} vs reported ${v}`;
  }
  return `${c.relation} (${c.metric})`;
}

function statsOf(c: Check): Stats | null {
  return c.kind === 'reported' ? c.measured : c.stats;
}

function cells(c: Check, scale: string): string[] {
  const s = statsOf(c);
  const signed = c.kind === 'claim';
  const effect =
    s?.effectSize === undefined ? '' : `${s.effectSizeKind === "Cohen's d_z" ? 'd_z ' : 'd '}${fmt(s.effectSize, true)}`;
  return [
    scale,
    `${c.id}${c.required ? '*' : ''}`,
    c.verdict,
    what(c),
    s ? String(s.n) : '',
    s ? `${fmt(s.mean, signed)} ± ${fmt(s.sd)}` : '',
    s ? `${fmt(s.ci95[0], signed)} … ${fmt(s.ci95[1], signed)}` : '',
    effect,
    s?.pValue === undefined ? '' : s.pValue < 0.001 ? '<0.001' : s.pValue.toFixed(3),
  ];
}

const HEADER = ['scale', 'id', 'verdict', 'check', 'n', 'mean ± sd', '95% CI', 'effect', 'p'];

function gateLine(file: VerdictFile): string {
  const s = file.summary ?? summarizeVerdicts(file.checks, file.scale);
  const req = Object.entries(s.required)
    .filter(([, n]) => n > 0)
    .map(([v, n]) => `${n} ${v}`)
    .join(', ');
  const total = Object.values(s.required).reduce((a, b) => a + b, 0);
  return total === 0 ? 'gate: pass (no check is required)' : `gate: ${s.gate} (required: ${req})`;
}

export interface RenderOptions {
  title?: string;
  /** Where the steps ran (runHardware), printed under the scale. */
  hardware?: string[];
}

export function renderTable(file: VerdictFile, opts: RenderOptions & { color?: boolean } = {}): string {
  const paint = (code: string, text: string) => (opts.color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const rows = file.checks.map((c) => cells(c, c.scale ?? file.scale));
  const widths = HEADER.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd();
  const out: string[] = [];
  out.push(`${opts.title ? `${opts.title} — ` : ''}scale: ${file.scale} (${file.scaleNote})`);
  if (opts.hardware?.length) out.push(`ran on: ${opts.hardware.join('; ')}`);
  out.push('');
  out.push(paint('1', line(HEADER)));
  file.checks.forEach((c, k) => {
    const text = line(rows[k]!);
    // Colour the verdict cell only: padding stays aligned because codes are added after padding.
    const start = widths[0]! + 2 + widths[1]! + 2;
    const cell = rows[k]![2]!.padEnd(widths[2]!);
    out.push(text.slice(0, start) + paint(COLORS[c.verdict], cell) + text.slice(start + cell.length));
  });
  out.push('');
  for (const c of file.checks) out.push(`[${c.scale ?? file.scale}] ${c.id} ${c.verdict}: ${c.explanation}`);
  out.push('');
  out.push('* required: `repro check` gates on it');
  out.push(gateLine(file));
  return out.join('\n') + '\n';
}

export function renderMarkdown(file: VerdictFile, opts: RenderOptions = {}): string {
  const out: string[] = [];
  if (opts.title) out.push(`### ${escapeMd(opts.title)}`, '');
  out.push(`**Scale: ${escapeMd(String(file.scale))}** — ${escapeMd(String(file.scaleNote))}${file.scale === 'full' ? '' : ". Reported absolute numbers cannot be reproduced by this run; claims are checked on it as labelled."}`);
  if (opts.hardware?.length) out.push('', `Ran on: ${opts.hardware.map(mdCode).join(', ')}`);
  out.push('');
  out.push(`| ${[...HEADER, 'why'].join(' | ')} |`);
  out.push(`|${[...HEADER, 'why'].map(() => '---').join('|')}|`);
  for (const c of file.checks) {
    const r = [...cells(c, c.scale ?? file.scale), c.explanation].map(escapeMd);
    r[2] = `**${r[2]}**`;
    out.push(`| ${r.join(' | ')} |`);
  }
  out.push('');
  out.push(`\\* required: \`repro check\` gates on it. ${gateLine(file)}`);
  return out.join('\n') + '\n';
}
