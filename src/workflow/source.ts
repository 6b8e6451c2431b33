// Reading and parsing the workflow file: limits against hostile input, YAML with positions kept.
// Every node's range is recorded by path, so later stages can point at lines and columns.
import { readFileSync, statSync, readdirSync } from 'node:fs';
import { resolve, dirname, join, relative } from 'node:path';
import { parseDocument, isAlias, isMap, isScalar, isSeq, type Node, type Document } from 'yaml';
import { sha256 } from '../core/hash.js';
import { DiagnosticSink, pointer } from './diagnostics.js';
import type { SourceRange } from './types.js';

/** A paper's workflow is a few kilobytes; a 1,000-step generated one is about 150 KiB. */
export const MAX_WORKFLOW_BYTES = 1024 * 1024;
/** Deeper nesting than this is a mistake or an attack (deep flow nesting can exhaust the parser). */
export const MAX_NESTING_DEPTH = 64;
/** Aliases expanded when converting to plain values: the library's guard against "billion laughs". */
export const MAX_ALIAS_COUNT = 100;

export interface ParsedSource {
  file: string;
  dir: string;
  sha256: string;
  text: string;
  /** The document as plain JSON values (null when it could not be parsed). */
  value: unknown;
  ranges: Map<string, SourceRange>;
  keyRanges: Map<string, SourceRange>;
}

/**
 * `DIR#path@rev` names a workflow in a local git repository by a plain path, which is read as a file
 * name; git URLs need a scheme, so the hint gives the file:// form.
 */
function localRepositoryHint(file: string): string | undefined {
  const hash = file.indexOf('#');
  if (hash <= 0) return undefined;
  const dir = resolve(file.slice(0, hash));
  try {
    if (!statSync(dir).isDirectory()) return undefined;
  } catch {
    return undefined;
  }
  return `a workflow in a local git repository is written as a file:// URL: file://${dir}${file.slice(hash)}`;
}

/** Reads and parses `file`; problems go to the returned sink, and `parsed` is null when nothing can be analysed. */
export function readWorkflowSource(file: string): { parsed: ParsedSource | null; sink: DiagnosticSink } {
  const abs = resolve(file);
  const fileSink = new DiagnosticSink(abs);
  let bytes: Buffer;
  try {
    const st = statSync(abs);
    if (st.isDirectory()) {
      const yamls = listYaml(abs);
      fileSink.errorNoPosition(`'${file}' is a directory, expected a workflow YAML file`, {
        code: 'is-directory',
        hint: yamls.length ? `workflow files in it: ${yamls.map((y) => relative(process.cwd(), y) || y).join(', ')}` : undefined,
      });
      return { parsed: null, sink: fileSink };
    }
    if (st.size > MAX_WORKFLOW_BYTES) {
      fileSink.errorNoPosition(
        `'${file}' is ${(st.size / 1024 / 1024).toFixed(1)} MiB; a workflow may be at most ${MAX_WORKFLOW_BYTES / 1024 / 1024} MiB`,
        { code: 'too-large', hint: 'keep data out of the workflow: fetch it with a fetch step' },
      );
      return { parsed: null, sink: fileSink };
    }
    bytes = readFileSync(abs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const what = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    const siblings = code === 'ENOENT' ? listYaml(dirname(abs)) : [];
    fileSink.errorNoPosition(`cannot read workflow '${file}': ${what}`, {
      code: 'missing-file',
      hint:
        (code === 'ENOENT' ? localRepositoryHint(file) : undefined) ??
        (siblings.length ? `workflow files there: ${siblings.map((y) => relative(process.cwd(), y) || y).join(', ')}` : undefined),
    });
    return { parsed: null, sink: fileSink };
  }

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    // Point at the first byte that is not UTF-8, with the line shown as far as it can be read.
    const bad = firstInvalidUtf8(bytes);
    const shown = new TextDecoder('utf-8').decode(bytes);
    const at = new TextDecoder('utf-8').decode(bytes.subarray(0, bad)).length;
    const sink = new DiagnosticSink(abs, shown, new Map(), new Map());
    sink.errorAtOffset(at, at + 1, `not UTF-8 text: byte 0x${bytes[bad]!.toString(16).padStart(2, '0')} cannot start or continue a character here`, {
      code: 'not-text',
      hint: 'save the workflow as UTF-8 (e.g. iconv -f latin1 -t utf-8)',
    });
    return { parsed: null, sink };
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const result = parseWorkflowText(text, abs);
  // The recorded hash is of the bytes on disk, BOM included, so `sha256sum` agrees with it.
  if (result.parsed) result.parsed.sha256 = sha256(bytes);
  return result;
}

/** Offset of the first byte where `bytes` stops being valid UTF-8 (the decoder's own judgement, by bisection). */
function firstInvalidUtf8(bytes: Uint8Array): number {
  // A prefix that ends inside a character is fine in streaming mode, so validity of prefixes is monotone.
  const valid = (n: number): boolean => {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, n), { stream: true });
      return true;
    } catch {
      return false;
    }
  };
  let lo = 0; // valid
  let hi = bytes.length; // invalid (the whole text failed)
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (valid(mid)) lo = mid;
    else hi = mid;
  }
  // bytes[0, hi) is the shortest invalid prefix: the broken character starts at the last character
  // boundary before its end (a prefix that decodes completely).
  for (let k = hi - 1; k >= Math.max(0, hi - 4); k--) {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, k));
      return k;
    } catch {
      /* inside a character: further back */
    }
  }
  return hi - 1;
}

/** Parses workflow text already in memory (the file path is used for positions only). */
export function parseWorkflowText(text: string, abs: string): { parsed: ParsedSource | null; sink: DiagnosticSink } {
  const ranges = new Map<string, SourceRange>();
  const keyRanges = new Map<string, SourceRange>();
  const sink = new DiagnosticSink(abs, text, ranges, keyRanges);

  if (text.trim() === '' || /^\s*(#[^\n]*)?(\n\s*(#[^\n]*)?)*$/.test(text)) {
    sink.errorNoPosition('the workflow file is empty: expected a mapping with at least `name` and `steps`', {
      code: 'empty',
      hint: 'see docs/workflow-language.md for a minimal workflow',
    });
    return { parsed: null, sink };
  }

  const deep = findExcessiveNesting(text);
  if (deep !== null) {
    sink.errorAtOffset(deep, deep + 1, `nesting deeper than ${MAX_NESTING_DEPTH} levels`, {
      code: 'too-deep',
      hint: 'a workflow never needs this much nesting; is the file generated by mistake?',
    });
    return { parsed: null, sink };
  }

  // Offsets become line:column through the sink's own line table (DiagnosticSink.positionOf), so
  // the library's LineCounter is not needed.
  const doc = parseDocument(text, {
    // Duplicate keys are found by our own walk below: the library's check compares each new key with
    // every earlier one (quadratic: 1,000 steps cost ~0.1 s), ours uses a set per mapping.
    uniqueKeys: false,
    prettyErrors: false,
    strict: true,
    version: '1.2',
    // Merge keys (`<<`) are a YAML 1.1 feature: off, so what you read is what repro sees.
    merge: false,
  });

  const toRange = (start: number, end: number): SourceRange => {
    const s = sink.positionOf(start);
    const e = sink.positionOf(end);
    return { file: abs, start: { ...s, offset: start }, end: { ...e, offset: end } };
  };
  const duplicates: WalkState['duplicates'] = [];
  walk(doc.contents as Node | null, '', 0, { ranges, keyRanges, duplicates, toRange });

  if (doc.errors.length || duplicates.length) {
    // After the first syntax error on a line, the parser's further complaints there are echoes of it.
    const lines = new Set<number>();
    for (const e of doc.errors) {
      const line = sink.positionOf(e.pos[0]).line;
      if (lines.has(line)) continue;
      lines.add(line);
      reportYamlError(sink, e.code, e.message, e.pos[0], e.pos[1], text);
    }
    for (const d of duplicates) reportDuplicate(sink, d.path, d.start, d.end, keyRanges.get(d.path));
    return { parsed: null, sink };
  }
  for (const w of doc.warnings) sink.errorAtOffset(w.pos[0], w.pos[1], w.message, { code: 'yaml-warning' });

  let value: unknown;
  try {
    value = (doc as Document).toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    if (err instanceof ReferenceError && /alias/i.test(err.message)) {
      const firstAlias = text.search(/(^|[\s[{,:-])\*[^\s,\]}]/m);
      sink.errorAtOffset(Math.max(0, firstAlias), Math.max(0, firstAlias) + 1, `too many alias expansions (more than ${MAX_ALIAS_COUNT}): the document would blow up in memory`, {
        code: 'alias-bomb',
        hint: 'anchors and aliases are fine for sharing a few blocks, not for multiplying them',
      });
      return { parsed: null, sink };
    }
    throw err;
  }

  if (value === null || value === undefined) {
    sink.errorNoPosition('the workflow file is empty: expected a mapping with at least `name` and `steps`', { code: 'empty' });
    return { parsed: null, sink };
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    const found = Array.isArray(value) ? 'a list' : `a ${typeof value} (${JSON.stringify(value).slice(0, 40)})`;
    sink.error('', `expected a mapping (key: value lines) at the top level, found ${found}`, {
      code: 'not-a-mapping',
      hint: 'a workflow starts with keys such as `name:`, `params:` and `steps:`',
    });
    return { parsed: null, sink };
  }

  return {
    parsed: { file: abs, dir: dirname(abs), sha256: sha256(text), text, value, ranges, keyRanges },
    sink,
  };
}

interface WalkState {
  ranges: Map<string, SourceRange>;
  keyRanges: Map<string, SourceRange>;
  /** Keys met a second time in the same mapping (the first occurrence keeps the path's ranges). */
  duplicates: Array<{ path: string; start: number; end: number }>;
  toRange: (s: number, e: number) => SourceRange;
}

function walk(node: Node | null, path: string, depth: number, st: WalkState): void {
  const { ranges, keyRanges, duplicates, toRange } = st;
  if (!node || depth > MAX_NESTING_DEPTH) return;
  if (node.range) ranges.set(path, toRange(node.range[0], node.range[1]));
  if (isAlias(node) || isScalar(node)) return;
  if (isMap(node)) {
    const seen = new Set<string>();
    for (const pair of node.items) {
      const key = pair.key as Node | null;
      const name = isScalar(key) ? String(key.value) : key ? String(key) : '';
      const p = pointer(path, name);
      if (seen.has(name)) {
        if (key?.range) duplicates.push({ path: p, start: key.range[0], end: key.range[1] });
        continue;
      }
      seen.add(name);
      if (key?.range) {
        keyRanges.set(p, toRange(key.range[0], key.range[1]));
        // `key:` with no value: point at the key rather than at nothing.
        if (!pair.value) ranges.set(p, toRange(key.range[0], key.range[1]));
      }
      walk(pair.value as Node | null, p, depth + 1, st);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => walk(item as Node | null, pointer(path, i), depth + 1, st));
  }
}

function reportYamlError(sink: DiagnosticSink, code: string, message: string, start: number, end: number, text: string): void {
  switch (code) {
    case 'TAB_AS_INDENT': {
      sink.errorAtOffset(start, end, 'tab character in indentation: YAML indents with spaces only', {
        code: 'tab-indent',
        hint: 'replace the tab with spaces (set your editor to insert spaces for .yaml files)',
      });
      return;
    }
    case 'MULTIPLE_DOCS':
      sink.errorAtOffset(start, end, 'more than one YAML document (a `---` line): a workflow is one document', { code: 'yaml-syntax' });
      return;
    default: {
      // The commonest slip: `${{ ... }}` unquoted inside { } or [ ], where YAML reads '{' as a mapping.
      const lineStart = text.lastIndexOf('\n', start - 1) + 1;
      const lineEnd = text.indexOf('\n', start);
      const line = text.slice(lineStart, lineEnd < 0 ? undefined : lineEnd);
      const hint = /[[{][^'"]*\$\{\{/.test(line) ? 'inside { } or [ ], quote expressions: "${{ params.x }}"' : undefined;
      sink.errorAtOffset(start, end, `invalid YAML: ${message.replace(/\s+at line \d+, column \d+.*$/s, '')}`, { code: 'yaml-syntax', hint });
    }
  }
}

/** 'duplicate step id' rather than 'duplicate key' where the mapping is known. */
function reportDuplicate(sink: DiagnosticSink, path: string, start: number, end: number, first: SourceRange | undefined): void {
  const parent = path.slice(0, path.lastIndexOf('/'));
  const name = path.slice(path.lastIndexOf('/') + 1).replace(/~1/g, '/').replace(/~0/g, '~');
  const what = parent === '/steps' ? 'step id' : parent === '/params' ? 'param' : parent === '/profiles' ? 'profile' : 'key';
  const at = first ? ` (first defined at line ${first.start.line})` : '';
  sink.errorAtOffset(start, end, `duplicate ${what} '${name}'${at}`, { code: 'duplicate-key' });
}

const NL = 10;
const SPACE = 32;
const TAB = 9;
const HASH = 35;
const DQUOTE = 34;
const SQUOTE = 39;
const BACKSLASH = 92;

/**
 * A cheap scan for nesting depth before the parser sees the text: flow brackets (outside quotes
 * and comments) plus block indentation levels. Returns the offset where the limit is passed.
 */
export function findExcessiveNesting(text: string, limit = MAX_NESTING_DEPTH): number | null {
  let flow = 0;
  const indents: number[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    // Start of a line: measure indentation (block depth) unless inside a flow collection.
    let col = 0;
    while (i < n && text[i] === ' ') {
      i++;
      col++;
    }
    if (i < n && text[i] !== '\n' && text[i] !== '#' && text[i] !== '\r' && flow === 0) {
      while (indents.length && indents[indents.length - 1]! >= col) indents.pop();
      indents.push(col);
      // Compact nested sequences on one line ("- - - x") each open a level.
      let j = i;
      while (text[j] === '-' && text[j + 1] === ' ') {
        indents.push(col + (j - i) + 1);
        j += 2;
        while (text[j] === ' ') j++;
      }
      if (indents.length > limit) return i;
    }
    // Character codes rather than strings: this loop sees every byte of the file.
    let quote = 0;
    for (; i < n && text.charCodeAt(i) !== NL; i++) {
      const c = text.charCodeAt(i);
      if (quote) {
        if (c === quote) quote = 0;
        else if (c === BACKSLASH && quote === DQUOTE) i++;
        continue;
      }
      const prev = i === 0 ? SPACE : text.charCodeAt(i - 1);
      if (c === HASH && (prev === SPACE || prev === TAB)) {
        while (i < n && text.charCodeAt(i) !== NL) i++;
        break;
      }
      if ((c === DQUOTE || c === SQUOTE) && (prev === SPACE || prev === TAB || prev === 91 || prev === 123 || prev === 44 || prev === 58)) quote = c;
      else if (c === 91 || c === 123) {
        flow++;
        if (flow + indents.length > limit) return i;
      } else if ((c === 93 || c === 125) && flow > 0) flow--;
    }
    i++;
  }
  return null;
}

function listYaml(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => /\.ya?ml$/.test(f))
      .slice(0, 5)
      .map((f) => join(dir, f));
  } catch {
    return [];
  }
}
