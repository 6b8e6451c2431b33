// Compiler-style diagnostics: every problem found in a workflow, with where it is and what was expected.
// The analyzer never stops at the first error: it collects them here and the command prints them all.
import { relative, isAbsolute } from 'node:path';
import type { SourceRange } from './types.js';

export interface Diagnostic {
  severity: 'error' | 'warning';
  message: string;
  /**
   * The file the diagnostic is about (absolute), or COMMAND_LINE for `--set` / `--profile` mistakes.
   * line and column are 1-based; both are 0 when the problem has no position (a missing file).
   */
  file: string;
  line: number;
  column: number;
  hint?: string;
  /** Last column of the offending text on `line` (for the caret underline), when known. */
  endColumn?: number;
  /** The source line itself, printed under the message. */
  sourceLine?: string;
  /** A stable identifier of the kind of problem ('unknown-step', 'cycle', 'yaml-syntax'...), for tests and tools. */
  code?: string;
}

/** Pseudo file name of diagnostics about the command line. */
export const COMMAND_LINE = '<command line>';

/** JSON-pointer-like path of a node: '/steps/train/with/epochs'. Keys escape '~' and '/' as in RFC 6901. */
export function pointer(base: string, key: string | number): string {
  return `${base}/${String(key).replace(/~/g, '~0').replace(/\//g, '~1')}`;
}

/** The parent path of a pointer ('' for the root). */
export function parentPointer(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '' : path.slice(0, i);
}

/**
 * Collects diagnostics for one workflow file and turns tree paths into positions.
 * A path with no range of its own (a value produced by an alias or a `--set`) points at its
 * nearest ancestor that has one, so every diagnostic still lands on a real line.
 */
export class DiagnosticSink {
  readonly diagnostics: Diagnostic[] = [];
  private readonly seen = new Set<string>();
  private lines: string[] | null = null;

  constructor(
    readonly file: string,
    private readonly text: string = '',
    readonly ranges: Map<string, SourceRange> = new Map(),
    readonly keyRanges: Map<string, SourceRange> = new Map(),
  ) {}

  get errorCount(): number {
    return this.diagnostics.filter((d) => d.severity === 'error').length;
  }

  /** Range of the node at `path`, or of its nearest ancestor that has one. */
  rangeOf(path: string, { key = false } = {}): SourceRange | undefined {
    if (key) {
      const r = this.keyRanges.get(path);
      if (r) return r;
    }
    for (let p = path; ; p = parentPointer(p)) {
      const r = this.ranges.get(p);
      if (r) return r;
      if (p === '') return undefined;
    }
  }

  /** An error at the node at `path` (or at its key, for 'unknown key' kinds of mistakes). */
  error(path: string, message: string, opts: { hint?: string; code?: string; key?: boolean; column?: number; width?: number } = {}): void {
    this.add('error', path, message, opts);
  }

  warning(path: string, message: string, opts: { hint?: string; code?: string; key?: boolean } = {}): void {
    this.add('warning', path, message, opts);
  }

  /** An error at an explicit source offset (YAML syntax errors come with offsets, not paths). */
  errorAtOffset(offset: number, endOffset: number, message: string, opts: { hint?: string; code?: string } = {}): void {
    const start = this.positionOf(offset);
    const end = this.positionOf(Math.max(offset, endOffset - 1));
    this.push({
      severity: 'error',
      message,
      file: this.file,
      line: start.line,
      column: start.column,
      endColumn: end.line === start.line ? end.column : undefined,
      sourceLine: this.lineText(start.line),
      ...opts,
    });
  }

  /** An error about the file as a whole, or about the command line (no position). */
  errorNoPosition(message: string, opts: { hint?: string; code?: string; file?: string } = {}): void {
    this.push({ severity: 'error', message, file: opts.file ?? this.file, line: 0, column: 0, hint: opts.hint, code: opts.code });
  }

  private add(
    severity: Diagnostic['severity'],
    path: string,
    message: string,
    opts: { hint?: string; code?: string; key?: boolean; column?: number; width?: number },
  ): void {
    const range = this.rangeOf(path, { key: opts.key });
    if (!range) {
      this.push({ severity, message, file: this.file, line: 0, column: 0, hint: opts.hint, code: opts.code });
      return;
    }
    const line = range.start.line;
    // `column` narrows the caret to a part of the node (one expression inside a longer string).
    const column = opts.column ?? range.start.column;
    const endColumn =
      opts.column !== undefined && opts.width !== undefined
        ? opts.column + opts.width - 1
        : range.end.line === line
          ? Math.max(column, range.end.column - 1)
          : undefined;
    this.push({ severity, message, file: this.file, line, column, endColumn, sourceLine: this.lineText(line), hint: opts.hint, code: opts.code });
  }

  private push(d: Diagnostic): void {
    // One mistake in a step with a matrix would otherwise be reported once per instance.
    const key = `${d.severity}\u0000${d.file}\u0000${d.line}\u0000${d.column}\u0000${d.message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    if (d.hint === undefined) delete d.hint;
    if (d.code === undefined) delete d.code;
    if (d.endColumn === undefined) delete d.endColumn;
    if (d.sourceLine === undefined) delete d.sourceLine;
    this.diagnostics.push(d);
  }

  private lastLine = 0;
  positionOf(offset: number): { line: number; column: number } {
    const starts = this.lineStarts();
    // Nodes are visited in document order: the previous answer's line, or the next, is usually right.
    for (let l = this.lastLine; l <= this.lastLine + 1 && l < starts.length; l++) {
      if (starts[l]! <= offset && (l + 1 >= starts.length || offset < starts[l + 1]!)) {
        this.lastLine = l;
        return { line: l + 1, column: offset - starts[l]! + 1 };
      }
    }
    // Otherwise a binary search over line starts.
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    this.lastLine = lo;
    return { line: lo + 1, column: offset - starts[lo]! + 1 };
  }

  private starts: number[] | null = null;
  private lineStarts(): number[] {
    if (!this.starts) {
      this.starts = [0];
      for (let i = 0; i < this.text.length; i++) if (this.text.charCodeAt(i) === 10) this.starts.push(i + 1);
    }
    return this.starts;
  }

  lineText(line: number): string | undefined {
    if (!this.text) return undefined;
    this.lines ??= this.text.split(/\r?\n/);
    return this.lines[line - 1];
  }
}

export interface FormatOptions {
  /** Paths are printed relative to this directory (the user's cwd). */
  cwd?: string;
  color?: boolean;
}

/** A file as printed: relative to cwd when it is inside cwd, absolute otherwise. */
export function displayPath(file: string, cwd = process.cwd()): string {
  const rel = isAbsolute(file) ? relative(cwd, file) : file;
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

/** Where a diagnostic is, as printed: 'workflows/x.yaml:12:7'. */
export function displayLocation(d: Diagnostic, cwd = process.cwd()): string {
  if (d.file === COMMAND_LINE) return 'repro';
  const file = displayPath(d.file, cwd);
  return d.line > 0 ? `${file}:${d.line}:${d.column}` : file;
}

/**
 * Prints diagnostics the way compilers do:
 *   workflows/x.yaml:12:7: error: unknown step 'trian' in needs (did you mean 'train'?)
 *      12 |     needs: [trian]
 *         |             ^^^^^
 */
export function formatDiagnostic(d: Diagnostic, opts: FormatOptions = {}): string {
  const paint = (code: string, s: string): string => (opts.color ? `\u001b[${code}m${s}\u001b[0m` : s);
  const label = d.severity === 'error' ? paint('1;31', 'error') : paint('1;33', 'warning');
  const out = [`${paint('1', displayLocation(d, opts.cwd))}: ${label}: ${d.message}`];
  if (d.sourceLine !== undefined && d.line > 0) {
    const num = String(d.line);
    const gutter = ' '.repeat(num.length);
    // Tabs in the source would shift the caret: expand them to single spaces on both lines.
    const src = d.sourceLine.replace(/\t/g, ' ');
    const width = Math.max(1, Math.min((d.endColumn ?? d.column) - d.column + 1, Math.max(1, src.length - d.column + 1)));
    out.push(`  ${num} | ${src}`);
    out.push(`  ${gutter} | ${' '.repeat(Math.max(0, d.column - 1))}${paint('1;32', '^'.repeat(width))}`);
  }
  if (d.hint) out.push(`  hint: ${d.hint}`);
  return out.join('\n');
}

export function formatDiagnostics(diags: Diagnostic[], opts: FormatOptions = {}): string {
  const errors = diags.filter((d) => d.severity === 'error').length;
  const warnings = diags.length - errors;
  const parts = diags.map((d) => formatDiagnostic(d, opts));
  const summary: string[] = [];
  if (errors) summary.push(`${errors} error${errors === 1 ? '' : 's'}`);
  if (warnings) summary.push(`${warnings} warning${warnings === 1 ? '' : 's'}`);
  if (summary.length) parts.push(summary.join(', '));
  return parts.join('\n') + '\n';
}

/** A value as a message names its type: 'a list', 'a mapping', 'the string "x"', 'nothing'. */
export function kindOf(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v === 'string' ? 'the string' : `the ${typeof v}`} ${JSON.stringify(v)}`;
}

/** A value as a message quotes it: strings quoted, named objects by their name, the rest as short JSON. */
export function showValue(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  if (v && typeof v === 'object' && !Array.isArray(v) && typeof (v as { name?: unknown }).name === 'string') return `'${(v as { name: string }).name}'`;
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? s.slice(0, 57) + '...' : s;
}
