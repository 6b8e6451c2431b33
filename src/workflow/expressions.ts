// The expression language inside `${{ ... }}`, parsed and evaluated here: deliberately tiny, and
// never evaluated as code.
//
//   expression := comparison ( '||' comparison )*    first one that is not null/undefined/'' wins
//                                                   (a comparison or negation that is false also falls through)
//   comparison := unary ( ( '==' | '!=' ) unary )?   strict: no conversion between types
//   unary      := '!'? operand                        true when the operand is false, null, missing or ''
//   operand    := path | literal
//   path       := name ( '.' name | '[' digits ']' )*     name := [A-Za-z_][A-Za-z0-9_-]*
//   literal    := number | 'single-quoted' (a quote inside is written '') | true | false | null
//
// Roots: params, matrix, steps (steps.ID.outputs.NAME), profile, workflow (dir, name, file).
// A string that is exactly one expression keeps the value's type (`${{ params.epochs }}` is a
// number); expressions embedded in a longer string are interpolated into it.

import { didYouMean } from './suggest.js';
import { kindOf, pointer, showValue, type DiagnosticSink } from './diagnostics.js';
import { embeddingAt, quoteFor, type CommandLine } from './shell.js';
import { isOutputRef, type Gathered, type OutputRef, type StepDecl, type Workflow } from './types.js';
import type { ResolvedParams } from './params.js';
import { setOwn } from '../core/names.js';

export const EXPRESSION_ROOTS = ['params', 'matrix', 'steps', 'profile', 'workflow'] as const;

export interface PathOperand {
  kind: 'path';
  root: string;
  /** The segments after the root: 'a.b[0]' → ['b', 0] for root 'a'. */
  path: Array<string | number>;
  /** The operand's text as written. */
  text: string;
  /** Offset of the operand inside the template string. */
  offset: number;
}

export interface LiteralOperand {
  kind: 'literal';
  value: string | number | boolean | null;
  text: string;
  offset: number;
}

/** `!X`: true when X is false, null, missing or ''. */
export interface NotOperand {
  kind: 'not';
  operand: PathOperand | LiteralOperand;
  text: string;
  offset: number;
}

/** `A == B` or `A != B`: a boolean; values of different types are never equal. */
export interface CompareOperand {
  kind: 'compare';
  op: '==' | '!=';
  left: PathOperand | LiteralOperand | NotOperand;
  right: PathOperand | LiteralOperand | NotOperand;
  text: string;
  offset: number;
}

/** One alternative of a `||` chain. */
export type Operand = PathOperand | LiteralOperand | NotOperand | CompareOperand;

/** The paths and literals inside an alternative, left to right (what name checks look at). */
export function leaves(op: Operand): Array<PathOperand | LiteralOperand> {
  if (op.kind === 'compare') return [...leaves(op.left), ...leaves(op.right)];
  if (op.kind === 'not') return [op.operand];
  return [op];
}

export interface Expression {
  /** The alternatives joined by `||`, in order. */
  operands: Operand[];
  /** The whole `${{ ... }}` text, its offset inside the template, and its length. */
  text: string;
  offset: number;
  length: number;
}

export type TemplatePart = string | Expression;

export interface ExpressionSyntaxError {
  error: string;
  /** Offset and length inside the template string, for the caret. */
  offset: number;
  length: number;
}

export function hasExpression(s: string): boolean {
  return s.includes('${{');
}

/** Splits a string into literal text and expressions. */
export function parseTemplate(s: string): TemplatePart[] | ExpressionSyntaxError {
  const parts: TemplatePart[] = [];
  let pos = 0;
  while (pos < s.length) {
    const open = s.indexOf('${{', pos);
    if (open < 0) {
      parts.push(s.slice(pos));
      break;
    }
    if (open > pos) parts.push(s.slice(pos, open));
    const close = findClose(s, open + 3);
    if (close < 0) return { error: "unclosed '${{': expected '}}'", offset: open, length: s.length - open };
    const inner = s.slice(open + 3, close);
    const expr = parseExpression(inner, open + 3);
    if ('error' in expr) return expr;
    parts.push({ operands: expr.operands, text: s.slice(open, close + 2), offset: open, length: close + 2 - open });
    pos = close + 2;
  }
  return parts;
}

/** The `}}` that closes an expression, skipping quoted literals (which may contain '}}'). */
function findClose(s: string, from: number): number {
  for (let i = from; i < s.length; i++) {
    if (s[i] === "'") {
      i++;
      while (i < s.length && !(s[i] === "'" && s[i + 1] !== "'")) i += s[i] === "'" ? 2 : 1;
    } else if (s[i] === '}' && s[i + 1] === '}') return i;
  }
  return -1;
}

const NAME = /[A-Za-z_][A-Za-z0-9_-]*/y;
const NUMBER = /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;

/** Operators people may try, for a message that names them ('+' is not supported ...). */
const UNSUPPORTED = /^(\(|&&|===?|\+|-|\*|\/|<=?|>=?|!|\?|=)/;

function parseExpression(src: string, base: number): { operands: Operand[] } | ExpressionSyntaxError {
  const operands: Operand[] = [];
  let i = 0;
  const skip = (): void => {
    while (i < src.length && /\s/.test(src[i]!)) i++;
  };
  const fail = (error: string, at = i, length = 1): ExpressionSyntaxError => ({ error, offset: base + at, length: Math.max(1, length) });

  const operand = (): PathOperand | LiteralOperand | ExpressionSyntaxError => {
    const start = i;
    const c = src[i]!;
    if (c === "'") {
      let value = '';
      i++;
      for (;;) {
        if (i >= src.length) return fail('unterminated string literal', start, src.length - start);
        if (src[i] === "'") {
          if (src[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += src[i++];
      }
      return { kind: 'literal', value, text: src.slice(start, i), offset: base + start };
    }
    if (/[-0-9]/.test(c)) {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(src);
      if (!m) return fail(`unexpected '${c}' in expression`);
      i += m[0].length;
      return { kind: 'literal', value: Number(m[0]), text: m[0], offset: base + start };
    }
    NAME.lastIndex = i;
    const m = NAME.exec(src);
    if (!m) return fail(`unexpected '${c}' in expression: only dotted paths, literals, '==', '!=', '!' and '||' are allowed`);
    i += m[0].length;
    const root = m[0];
    if ((root === 'true' || root === 'false' || root === 'null') && !/^[.[]/.test(src.slice(i))) {
      return { kind: 'literal', value: root === 'null' ? null : root === 'true', text: root, offset: base + start };
    }
    const path: Array<string | number> = [];
    for (;;) {
      if (src[i] === '.') {
        i++;
        NAME.lastIndex = i;
        const n = NAME.exec(src);
        if (!n) return fail("expected a name after '.'");
        path.push(n[0]);
        i += n[0].length;
      } else if (src[i] === '[') {
        const m2 = /\[\s*([0-9]+)\s*\]/y;
        m2.lastIndex = i;
        const n = m2.exec(src);
        if (!n) return fail("expected an index such as [0] after '['");
        path.push(Number(n[1]));
        i += n[0].length;
      } else break;
    }
    return { kind: 'path', root, path, text: src.slice(start, i), offset: base + start };
  };

  /** `'!'? operand`, after `after` (for the message when the value is missing). */
  const unary = (after: string | null): PathOperand | LiteralOperand | NotOperand | ExpressionSyntaxError => {
    skip();
    if (i >= src.length) {
      return fail(after ? `expected a value after '${after}'` : 'empty expression: expected a path such as params.epochs', Math.max(0, i - 1));
    }
    if (src[i] !== '!' || src[i + 1] === '=') return operand();
    const start = i++;
    skip();
    if (i >= src.length) return fail("expected a value after '!'", start);
    if (src[i] === '!') return fail("'!!' is not supported: write the value itself", start, i + 1 - start);
    const inner = operand();
    if ('error' in inner) return inner;
    return { kind: 'not', operand: inner, text: src.slice(start, i), offset: base + start };
  };

  let after: string | null = null;
  for (;;) {
    skip();
    const start = i;
    const left = unary(after);
    if ('error' in left) return left;
    skip();
    let term: Operand = left;
    const op = src.startsWith('==', i) ? '==' : src.startsWith('!=', i) ? '!=' : null;
    if (op && src[i + 2] === '=') return fail(`'${op}=' is not supported: write '${op}' (comparisons are always strict)`, i, 3);
    if (op) {
      i += 2;
      const right = unary(op);
      if ('error' in right) return right;
      term = { kind: 'compare', op, left, right, text: src.slice(start, i), offset: base + start };
      skip();
      if (src.startsWith('==', i) || src.startsWith('!=', i)) {
        return fail(`comparisons cannot be chained: compare two values, and join comparisons with '||'`, i, 2);
      }
    }
    operands.push(term);
    if (i >= src.length) return { operands };
    if (src.startsWith('||', i)) {
      i += 2;
      after = '||';
      continue;
    }
    const rest = src.slice(i);
    const m = UNSUPPORTED.exec(rest);
    const what = m
      ? `'${m[0]}' is not supported: expressions are paths, literals, '==', '!=', '!' and '||' only${m[0] === '=' ? " (to compare, write '==')" : ''}`
      : `unexpected '${src[i]}' in expression`;
    return fail(what, i, m ? m[0].length : 1);
  }
}

/** A step-output reference: `steps.ID.outputs.NAME`, or null when the operand is something else. */
export function stepReference(op: Operand): { step: string; output: string } | null {
  if (op.kind !== 'path' || op.root !== 'steps') return null;
  if (op.path.length === 3 && op.path[1] === 'outputs' && typeof op.path[0] === 'string' && typeof op.path[2] === 'string') {
    return { step: op.path[0], output: op.path[2] };
  }
  return null;
}

/** Every string holding an expression in a value tree, with its path. */
export function expressionsIn(value: unknown, path: string, out: Array<{ path: string; template: string }> = []): Array<{ path: string; template: string }> {
  if (typeof value === 'string') {
    if (hasExpression(value)) out.push({ path, template: value });
  } else if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) expressionsIn(value[i], `${path}/${i}`, out);
  } else if (value && typeof value === 'object') {
    for (const k in value) expressionsIn((value as Record<string, unknown>)[k], `${path}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`, out);
  }
  return out;
}

// ── Templates in a workflow: each parsed once, a syntax error reported where it is ───────────────

export class Templates {
  private readonly cache = new Map<string, TemplatePart[] | null>();

  constructor(private readonly sink: DiagnosticSink) {}

  /** The template's parts, or null after reporting its syntax error at `path`. */
  parse(path: string, template: string): TemplatePart[] | null {
    if (this.cache.has(template)) return this.cache.get(template)!;
    const parsed = parseTemplate(template);
    if (!Array.isArray(parsed)) {
      this.sink.error(path, `invalid expression: ${parsed.error}`, { code: 'expression-syntax', ...this.caret(path, template, parsed.offset, parsed.length) });
      this.cache.set(template, null);
      return null;
    }
    this.cache.set(template, parsed);
    return parsed;
  }

  /** The column of a part of a string scalar, when the scalar sits on one line (for a precise caret). */
  caret(path: string, template: string, offset: number, width: number): { column?: number; width?: number } {
    const r = this.sink.ranges.get(path);
    if (!r || r.start.line !== r.end.line) return {};
    const line = this.sink.lineText(r.start.line);
    if (line === undefined) return {};
    const first = line[r.start.column - 1];
    const start = first === '"' || first === "'" ? r.start.column + 1 : r.start.column;
    // Only when the source text is the string itself (no escapes before the expression).
    if (line.slice(start - 1, start - 1 + template.length) !== template) return {};
    return { column: start + offset, width };
  }
}

// ── Evaluation ───────────────────────────────────────────────────────────────────────────────────

/** What expressions see while a plan is made. */
export interface Scope {
  wf: Workflow;
  resolved: ResolvedParams;
  /** Whether a declared step's `if:` is false (a reference to it is null). */
  isDisabled(stepId: string): boolean;
  /** Binds `steps.TARGET.outputs.OUTPUT` from an instance with these matrix values (src/workflow/binding.ts). */
  bind(target: string, matrix: Record<string, unknown>, axes: string[], path: string, output?: string): OutputRef | Gathered<OutputRef>[] | null;
}

/**
 * What a `with` value becomes when it is null only because the step it refers to is disabled
 * (`${{ steps.x.outputs.y || null }}`): the key is left out, so kinds' schemas never see the null.
 */
export const OMIT: unique symbol = Symbol('omit');

/**
 * Evaluates the expressions in a step's values: params, matrix values, profile and workflow fields
 * become values; step outputs become references (OutputRef, Gathered[]) that the engine resolves
 * when the step runs. Every problem is reported to the sink; `undefined` means "reported".
 */
export class Evaluator {
  constructor(
    private readonly scope: Scope,
    private readonly templates: Templates,
    private readonly sink: DiagnosticSink,
  ) {}

  /** Evaluates every expression in a value tree. `rel` is the path inside the evaluated value (for skips). */
  evaluate(value: unknown, path: string, rel: string, ctx: EvalContext): unknown {
    if (typeof value === 'string') return value.includes('${{') ? this.evaluateString(value, path, rel, ctx) : value;
    if (Array.isArray(value)) {
      // A list keeps its positions (skip paths are by index): an omitted item stays null.
      return value.map((v, i) => {
        const x = this.evaluate(v, pointer(path, i), pointer(rel, i), ctx);
        return x === OMIT ? null : x;
      });
    }
    if (value && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) {
        const x = this.evaluate(v, pointer(path, k), pointer(rel, k), ctx);
        if (x !== OMIT) setOwn(out, k, x); // a key `__proto__` stays a key
      }
      return out;
    }
    return value;
  }

  private evaluateString(template: string, path: string, rel: string, ctx: EvalContext): unknown {
    const parts = this.templates.parse(path, template);
    if (!parts) {
      ctx.skip.push(rel);
      return undefined;
    }
    const line = ctx.lines?.find((l) => l.path === rel);
    if (line) return this.evaluateCommandLine(line, template, parts, path, rel, ctx);
    // A string that is exactly one expression keeps the value's type.
    if (parts.length === 1 && typeof parts[0] !== 'string') {
      const v = this.evaluateExpression(parts[0]!, path, template, ctx);
      // A reference is checked at run time; a failed evaluation was reported already.
      if (v === undefined || isPlaceholder(v)) ctx.skip.push(rel);
      return v;
    }
    const pieces: Array<string | OutputRef> = [];
    for (const part of parts) {
      if (typeof part === 'string') {
        pieces.push(part);
        continue;
      }
      const e = this.evaluateExpression(part, path, template, ctx);
      if (e === undefined) {
        ctx.skip.push(rel); // already reported
        continue;
      }
      const v = e === OMIT ? null : e;
      if (Array.isArray(v) && v.length && isGathered(v[0])) {
        this.sink.error(path, `'${part.text}' refers to several instances of a matrix step, which cannot be embedded in a string`, {
          code: 'bad-reference',
          hint: 'use the expression as the whole value to get the list of instances',
          ...this.templates.caret(path, template, part.offset, part.length),
        });
      } else if (isOutputRef(v)) pieces.push(v);
      else if (v === null) pieces.push('');
      else if (typeof v === 'object') {
        this.sink.error(path, `'${part.text}' is ${kindOf(v)}, which cannot be embedded in a string`, {
          code: 'wrong-type',
          hint: 'use the expression as the whole value, or refer to one field of it',
          ...this.templates.caret(path, template, part.offset, part.length),
        });
      } else pieces.push(String(v));
    }
    return joinPieces(pieces, rel, ctx);
  }

  /**
   * A command line (a kind's `commandLines`): every value is quoted for the place where it stands
   * (src/workflow/shell.ts), so it reaches the program as data, never as shell syntax. A step output
   * known only at run time carries its quoting (`$quote`) to the executor.
   */
  private evaluateCommandLine(line: CommandLine, template: string, parts: TemplatePart[], path: string, rel: string, ctx: EvalContext): unknown {
    let literal = '';
    const pieces: Array<string | OutputRef> = [];
    let failed = false;
    for (const part of parts) {
      if (typeof part === 'string') {
        literal += part;
        pieces.push(part);
        continue;
      }
      const e = this.evaluateExpression(part, path, template, ctx);
      if (e === undefined) {
        failed = true; // already reported
        continue;
      }
      const v = e === OMIT ? null : e;
      const embedding = embeddingAt(line.syntax, literal);
      if (typeof embedding !== 'string') {
        this.sink.error(path, `'${part.text}' cannot be placed here in a shell command: ${embedding.refuse}`, {
          code: 'unsafe-embedding',
          hint: 'values always reach commands as data; put it where a word or a "double-quoted" string stands, or use env:',
          ...this.templates.caret(path, template, part.offset, part.length),
        });
        failed = true;
      } else if (isOutputRef(v)) pieces.push({ ...v, $quote: embedding });
      else if (v !== null && typeof v === 'object') {
        this.sink.error(path, `'${part.text}' is ${kindOf(v)}, which cannot be embedded in a command`, {
          code: 'wrong-type',
          hint: 'pass it through env: (a mapping or list arrives as JSON text), or refer to one field of it',
          ...this.templates.caret(path, template, part.offset, part.length),
        });
        failed = true;
      } else pieces.push(quoteFor(embedding, v === null ? '' : String(v)));
    }
    if (failed) {
      ctx.skip.push(rel);
      return undefined;
    }
    return joinPieces(pieces, rel, ctx);
  }

  /**
   * The value of `a || b || ...`: the first alternative that is not null, missing or '' (or a
   * false comparison). A reference to a disabled step counts as null; a chain that ends on one is an
   * error, and a chain that ends on null after one gives OMIT. `undefined` means "reported".
   */
  evaluateExpression(expr: Expression, path: string, template: string, ctx: EvalContext): unknown {
    const disabledRefs: PathOperand[] = [];
    for (let i = 0; i < expr.operands.length; i++) {
      const op = expr.operands[i]!;
      const last = i === expr.operands.length - 1;
      const r = this.evaluateOperand(op, path, template, ctx);
      if (r === null) return undefined;
      if ('disabled' in r) {
        disabledRefs.push(r.disabled);
        continue;
      }
      const v = r.value;
      const empty = v === undefined || v === null || v === '' || (v === false && (op.kind === 'compare' || op.kind === 'not'));
      if (!last && empty) continue;
      if (v === undefined) {
        this.sink.error(path, r.missing ?? `'${op.text}' has no value`, {
          code: 'bad-reference',
          hint: "add a default with '||', e.g. ${{ " + op.text + " || 0 }}",
          ...this.templates.caret(path, template, op.offset, op.text.length),
        });
        return undefined;
      }
      return v === null && disabledRefs.length ? OMIT : v;
    }
    // Every alternative from some point on was a disabled step: nothing is left to bind.
    const first = disabledRefs[0]!;
    const ids = [...new Set(disabledRefs.map((d) => stepReference(d)!.step))];
    const under = this.scope.resolved.profile === null ? 'without a profile' : `under profile ${this.scope.resolved.profile}`;
    const which = ids.length === 1 ? `step '${ids[0]}' is` : `steps ${ids.map((x) => `'${x}'`).join(', ')} are`;
    const why = ids.every((id) => this.scope.resolved.ifOverrides[id] === false) ? 'by --set steps.ID.if=false' : `by ${ids.length === 1 ? 'its' : 'their'} \`if:\` (false ${under})`;
    this.sink.error(path, `${which} disabled ${why}; add an alternative with \`||\` or enable it`, {
      code: 'disabled-step',
      ...this.templates.caret(path, template, first.offset, first.text.length),
    });
    return undefined;
  }

  /**
   * One alternative's value. null: an error, already reported. `disabled`: a reference to a disabled
   * step. A value of undefined is a missing field, explained by `missing`.
   */
  private evaluateOperand(
    op: Operand,
    path: string,
    template: string,
    ctx: EvalContext,
  ): { value: unknown; missing?: string } | { disabled: PathOperand } | null {
    switch (op.kind) {
      case 'literal':
        return { value: op.value };
      case 'path': {
        const r = this.lookup(op, path, ctx);
        if (r.error !== undefined) {
          if (r.error) this.sink.error(path, r.error, { code: 'bad-reference', ...this.templates.caret(path, template, op.offset, op.text.length) });
          return null;
        }
        if (r.disabled) return { disabled: op };
        return { value: r.value, ...(r.missing !== undefined && { missing: r.missing }) };
      }
      case 'not':
      case 'compare': {
        const v = this.comparable(op, path, template, ctx);
        return v === NOT_COMPARABLE ? null : { value: v };
      }
    }
  }

  /**
   * The scalar value of a comparison, a negation, or one of their sides. A missing field counts as
   * null, so `matrix.variant.alpha == null` tests for its absence. Lists and mappings are errors.
   */
  private comparable(op: Operand, path: string, template: string, ctx: EvalContext): string | number | boolean | null | typeof NOT_COMPARABLE {
    switch (op.kind) {
      case 'literal':
        return op.value;
      case 'not': {
        const v = this.comparable(op.operand, path, template, ctx);
        return v === NOT_COMPARABLE ? v : v === false || v === null || v === '';
      }
      case 'compare': {
        const l = this.comparable(op.left, path, template, ctx);
        const r = this.comparable(op.right, path, template, ctx);
        if (l === NOT_COMPARABLE || r === NOT_COMPARABLE) return NOT_COMPARABLE;
        // Strict: 1 == '1' is false.
        return (l === r) === (op.op === '==');
      }
      case 'path': {
        if (op.root === 'steps') return NOT_COMPARABLE; // reported by the name checks
        const r = this.lookup(op, path, ctx);
        if (r.error !== undefined || r.disabled) {
          if (r.error) this.sink.error(path, r.error, { code: 'bad-reference', ...this.templates.caret(path, template, op.offset, op.text.length) });
          return NOT_COMPARABLE;
        }
        const v = r.value ?? null;
        if (typeof v === 'object' && v !== null) {
          this.sink.error(path, `'${op.text}' is ${kindOf(v)}: '==', '!=' and '!' work on strings, numbers, booleans and null`, {
            code: 'wrong-type',
            hint: Array.isArray(v) ? `compare one item, e.g. ${op.text}[0]` : `compare one field, e.g. ${op.text}.name`,
            ...this.templates.caret(path, template, op.offset, op.text.length),
          });
          return NOT_COMPARABLE;
        }
        return v as string | number | boolean | null;
      }
    }
  }

  /** A path's value. `error: ''` means "already reported"; `missing` explains an undefined value. */
  private lookup(op: PathOperand, path: string, ctx: EvalContext): { value?: unknown; error?: string; missing?: string; disabled?: true } {
    let value: unknown;
    let rest: Array<string | number>;
    let shown: string;
    switch (op.root) {
      case 'params': {
        const name = op.path[0] as string;
        if (!(name in this.scope.wf.params) || this.scope.wf.params[name]!.secret) return { error: '' };
        value = this.scope.resolved.params[name];
        rest = op.path.slice(1);
        shown = `params.${name}`;
        break;
      }
      case 'matrix': {
        const axis = op.path[0];
        if (!ctx.matrix || typeof axis !== 'string' || !Object.prototype.hasOwnProperty.call(ctx.matrix, axis)) return { error: '' };
        value = ctx.matrix[axis];
        rest = op.path.slice(1);
        shown = `matrix.${axis}`;
        break;
      }
      case 'steps': {
        const ref = stepReference(op);
        if (!ref || !this.scope.wf.steps[ref.step] || ref.step === ctx.step.id) return { error: '' };
        if (this.scope.isDisabled(ref.step)) return { disabled: true };
        const bound = this.scope.bind(ref.step, ctx.matrix ?? {}, ctx.axes, path, ref.output);
        if (!bound) return { error: '' };
        ctx.deps(Array.isArray(bound) ? bound.map((g) => g.step) : [bound.$ref.step]);
        return { value: bound };
      }
      case 'profile':
        return { value: this.scope.resolved.profile };
      case 'workflow': {
        const f = op.path[0];
        if (f === 'dir') return { value: this.scope.wf.dir };
        if (f === 'file') return { value: this.scope.wf.file };
        if (f === 'name') return { value: this.scope.wf.name };
        return { error: '' };
      }
      default:
        return { error: '' };
    }
    for (const seg of rest) {
      if (value !== null && typeof value === 'object' && Object.prototype.hasOwnProperty.call(value, seg)) {
        value = (value as Record<string | number, unknown>)[seg];
        shown += typeof seg === 'number' ? `[${seg}]` : `.${seg}`;
      } else {
        const fields = value && typeof value === 'object' && !Array.isArray(value) ? Object.keys(value) : [];
        const what = typeof seg === 'number' ? `item [${seg}]` : `field '${seg}'`;
        return {
          value: undefined,
          missing: `${shown} (${showValue(value)}) has no ${what}${typeof seg === 'string' ? didYouMean(seg, fields) : ''}`,
        };
      }
    }
    return { value };
  }
}

export interface EvalContext {
  step: StepDecl;
  matrix: Record<string, unknown> | null;
  axes: string[];
  deps: (ids: string[]) => void;
  /** Paths (relative to the evaluated value) that hold references rather than final values. */
  skip: string[];
  /** The kind's command lines in this `with` (values there are quoted, src/workflow/shell.ts). */
  lines?: CommandLine[];
}

/** A string's pieces as one string, or a $concat when references remain (known only at run time). */
function joinPieces(pieces: Array<string | OutputRef>, rel: string, ctx: EvalContext): string | { $concat: Array<string | OutputRef> } {
  if (pieces.every((p) => typeof p === 'string')) return pieces.join('');
  // Adjacent literal pieces are merged, so the executor sees the fewest parts.
  const merged: Array<string | OutputRef> = [];
  for (const p of pieces) {
    const last = merged[merged.length - 1];
    if (typeof p === 'string' && typeof last === 'string') merged[merged.length - 1] = last + p;
    else if (p !== '') merged.push(p);
  }
  ctx.skip.push(rel);
  return { $concat: merged };
}

/** A compared or negated value that could not be used (the reason was reported). */
const NOT_COMPARABLE: unique symbol = Symbol('not comparable');

function isGathered(v: unknown): v is Gathered {
  return typeof v === 'object' && v !== null && 'step' in v && 'matrix' in v && 'value' in v;
}

function isPlaceholder(v: unknown): boolean {
  return isOutputRef(v) || (Array.isArray(v) && v.some(isGathered));
}
