// The human renderer of RunEvents. Permanent lines (started, finished, failed, skipped) go to
// stderr as they happen; on a terminal, a status block under them shows the running steps with
// progress, elapsed time and ETA, redrawn at most ten times a second. The summary table at the
// end goes to stdout (renderSummary).
import { relative } from 'node:path';
import type { RunEvent } from '../../engine/events.js';
import type { RunRecord } from '../../formats/run-record.js';

export interface TerminalOptions {
  stream?: NodeJS.WriteStream;
  /** Only failures (and the summary, printed by the caller). */
  quiet?: boolean;
  /** Also cached steps and every log line. */
  verbose?: boolean;
  color?: boolean;
  /** Force the live status block on or off (default: when the stream is a TTY). */
  live?: boolean;
}

interface Running {
  step: string;
  startedMs: number;
  estimateMs?: number;
  fraction: number | null;
  message: string;
}

/** In non-live mode, at most one progress line per step this often. */
const PROGRESS_EVERY_MS = 15_000;

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  const s = ms / 1000;
  if (s < 10) return `${s.toFixed(1)}s`;
  if (s < 60) return `${Math.round(s)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** Remaining time of a running step: from its progress fraction, else from its last duration. */
export function stepEta(r: Running, nowMs: number): number | null {
  const elapsed = nowMs - r.startedMs;
  if (r.fraction !== null && r.fraction > 0.02) return (elapsed / r.fraction) * (1 - r.fraction);
  if (r.estimateMs !== undefined) return Math.max(0, r.estimateMs - elapsed);
  return null;
}

export class TerminalRenderer {
  private readonly out: NodeJS.WriteStream;
  private readonly live: boolean;
  private readonly c: (code: string, s: string) => string;
  private readonly running = new Map<string, Running>();
  private drawn = 0;
  private timer: NodeJS.Timeout | null = null;
  private total = 0;
  private done = 0;
  private cached = 0;
  private startMs = Date.now();
  private frame = 0;
  private readonly lastProgress = new Map<string, number>();

  constructor(private readonly opts: TerminalOptions = {}) {
    this.out = opts.stream ?? process.stderr;
    this.live = opts.live ?? (Boolean(this.out.isTTY) && !opts.quiet);
    const color = opts.color ?? (Boolean(this.out.isTTY) && !process.env.NO_COLOR);
    this.c = color ? (code, s) => `\x1b[${code}m${s}\x1b[0m` : (_c, s) => s;
  }

  readonly onEvent = (e: RunEvent): void => {
    switch (e.type) {
      case 'run-started':
        this.total = e.steps;
        this.startMs = Date.parse(e.time);
        if (this.live) {
          this.timer = setInterval(() => this.redraw(), 100);
          this.timer.unref();
        }
        break;
      case 'step-started':
        this.running.set(e.step, { step: e.step, startedMs: Date.parse(e.time), estimateMs: e.estimateMs, fraction: null, message: '' });
        if (!this.opts.quiet) this.print(`${this.c('36', '▶')} ${e.step}${e.reason ? this.c('2', `  (${e.reason})`) : ''}${e.gpus ? this.c('2', `  [GPU ${e.gpus.join(',')}]`) : ''}`);
        break;
      case 'step-progress': {
        const r = this.running.get(e.step);
        if (r) {
          r.fraction = e.fraction;
          r.message = e.message;
          // Without a live block (CI logs, pipes), a progress line now and then per step.
          const t = Date.parse(e.time);
          if (!this.live && !this.opts.quiet && t - (this.lastProgress.get(e.step) ?? r.startedMs) >= PROGRESS_EVERY_MS) {
            this.lastProgress.set(e.step, t);
            const pct = e.fraction === null ? '' : ` ${Math.round(e.fraction * 100)}%`;
            const eta = stepEta(r, t);
            this.print(`  ${e.step}${pct} ${e.message}${eta !== null ? ` (ETA ${formatDuration(eta)})` : ''}`);
          }
        }
        break;
      }
      case 'step-log':
        if (this.opts.verbose) this.print(this.c('2', `  ${e.step} │ ${e.line}`));
        break;
      case 'step-cached':
        this.done++;
        this.cached++;
        if (this.opts.verbose) this.print(`${this.c('2', '↺')} ${e.step} ${this.c('2', 'cached')}`);
        break;
      case 'step-finished':
        this.done++;
        this.running.delete(e.step);
        if (!this.opts.quiet) this.print(`${this.c('32', '✓')} ${e.step} ${this.c('2', formatDuration(e.durationMs))}${e.summary ? `  ${e.summary}` : ''}`);
        break;
      case 'step-failed':
        this.done++;
        this.running.delete(e.step);
        this.print(`${this.c('31', '✗')} ${e.step} ${this.c('31', 'failed')}: ${e.error}`);
        if (e.hint) this.print(`    hint: ${e.hint}`);
        if (e.logFile) this.print(this.c('2', `    log: ${displayPath(e.logFile)}`));
        break;
      case 'step-skipped':
        this.done++;
        this.running.delete(e.step);
        if (!this.opts.quiet) this.print(`${this.c('33', '-')} ${e.step} ${this.c('33', 'skipped')}: ${e.because}`);
        break;
      case 'run-finished':
        this.stop();
        break;
    }
  };

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.clear();
  }

  private print(line: string): void {
    this.clear();
    this.out.write(line + '\n');
    if (this.live) this.redraw();
  }

  private clear(): void {
    if (this.drawn > 0) {
      this.out.write(`\x1b[${this.drawn}A\x1b[0J`);
      this.drawn = 0;
    }
  }

  private redraw(): void {
    if (!this.live || !this.timer) return;
    this.clear();
    const now = Date.now();
    const width = this.out.columns || 100;
    const lines: string[] = [];
    const spin = SPINNER[this.frame++ % SPINNER.length];
    const etas = [...this.running.values()].map((r) => stepEta(r, now));
    const known = etas.filter((x): x is number => x !== null);
    const eta = known.length && known.length === etas.length ? `, ETA ${formatDuration(Math.max(...known))} for the running steps` : '';
    lines.push(
      this.c('1', `${spin} ${this.done}/${this.total} steps`) +
        this.c('2', ` (${this.cached} cached, ${this.running.size} running), elapsed ${formatDuration(now - this.startMs)}${eta}`),
    );
    for (const r of [...this.running.values()].slice(0, 12)) {
      const pct = r.fraction === null ? '    ' : `${String(Math.round(r.fraction * 100)).padStart(3)}%`;
      const bar = r.fraction === null ? '' : ` ${progressBar(r.fraction, 12)}`;
      const e = stepEta(r, now);
      const text = `  ${pct}${bar} ${r.step}  ${formatDuration(now - r.startedMs)}${e !== null ? ` ETA ${formatDuration(e)}` : ''}  ${r.message}`;
      lines.push(text.length > width - 1 ? text.slice(0, width - 2) + '…' : text);
    }
    if (this.running.size > 12) lines.push(`  … and ${this.running.size - 12} more`);
    this.out.write(lines.join('\n') + '\n');
    this.drawn = lines.length;
  }
}

function progressBar(f: number, width: number): string {
  const full = Math.round(Math.min(1, Math.max(0, f)) * width);
  return '█'.repeat(full) + '░'.repeat(width - full);
}

function displayPath(p: string): string {
  const rel = relative(process.cwd(), p);
  return rel && !rel.startsWith('..') ? rel : p;
}

/** The final table: one row per step, then the totals and where the record is. */
export function renderSummary(record: RunRecord, recordPath: string, opts: { color?: boolean } = {}): string {
  const c = opts.color ? (code: string, s: string) => `\x1b[${code}m${s}\x1b[0m` : (_c: string, s: string) => s;
  const statusColor: Record<string, string> = { succeeded: '32', cached: '2', failed: '31', skipped: '33', interrupted: '33' };
  const rows = record.steps.map((s) => [
    s.id,
    s.status,
    s.status === 'succeeded' || s.status === 'failed' || s.status === 'interrupted' ? formatDuration(s.durationMs ?? NaN) : '-',
    s.status === 'failed' || s.status === 'skipped' || s.status === 'interrupted' ? (s.error ?? '').split('\n')[0]! : (s.summary ?? ''),
  ]);
  const header = ['STEP', 'STATUS', 'TIME', 'SUMMARY'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  widths[3] = 0;
  const fmt = (r: string[], color?: string) =>
    r
      .map((cell, i) => {
        const padded = i < 3 ? cell.padEnd(widths[i]!) : cell;
        return i === 1 && color ? c(color, padded) : padded;
      })
      .join('  ')
      .trimEnd();
  const lines = [c('1', fmt(header)), ...rows.map((r) => fmt(r, statusColor[r[1]!]))];
  const n = (st: string) => record.steps.filter((s) => s.status === st).length;
  const verdict = record.status === 'succeeded' ? c('32', 'succeeded') : c(record.status === 'failed' ? '31' : '33', record.status);
  lines.push('');
  lines.push(
    `${verdict}: ${n('succeeded')} ran, ${n('cached')} from cache, ${n('failed')} failed, ${n('skipped')} skipped` +
      (n('interrupted') ? `, ${n('interrupted')} interrupted` : '') +
      ` in ${formatDuration(record.durationMs ?? 0)}`,
  );
  lines.push(`record: ${displayPath(recordPath)}`);
  if (record.status === 'interrupted') lines.push('run `repro run` again to resume: finished steps come from the cache');
  return lines.join('\n') + '\n';
}
