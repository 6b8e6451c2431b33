// The expression language inside `${{ ... }}`: deliberately tiny, and never evaluated as code.
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
