// The graph between declared steps: every name checked (kinds, needs, the names inside
// expressions), the edges that needs and step-output references make, and an order to expand the
// steps in, with dependency cycles reported as a → b → a.
import { pointer, type DiagnosticSink } from './diagnostics.js';
import { EXPRESSION_ROOTS, expressionsIn, leaves, stepReference, type LiteralOperand, type PathOperand, type Templates } from './expressions.js';
import { axesOf } from './matrix.js';
import { didYouMean } from './suggest.js';
import type { KindDescriptor, StepDecl, Workflow } from './types.js';

const WORKFLOW_FIELDS = ['dir', 'name', 'file'];

/** Where an expression appears decides which roots it may use. */
type Site = 'with' | 'matrix' | 'resources' | 'if';

type Kinds = ReadonlyMap<string, KindDescriptor<any>>;

export interface Edge {
  from: string;
  to: string;
  /** Path of the `needs` entry or of the string holding the reference: where a cycle is reported. */
  path: string;
}

export interface GraphInput {
  wf: Workflow;
  kinds: Kinds;
  sink: DiagnosticSink;
  templates: Templates;
}

/** The output names of a declared step: its kind's, or its own `outputs:` (the `run` kind); null for an unknown kind. */
export function outputsOf(step: StepDecl, kinds: Kinds): string[] | null {
  const kind = kinds.get(step.uses);
  if (!kind) return null;
  return kind.outputs ?? Object.keys(step.outputs ?? {});
}

/**
 * Checks every name in the declared steps (kinds, needs, the names inside expressions) and returns
 * the dependency edges between them: `needs` and step-output references.
 */
export function checkNamesAndReferences(input: GraphInput): Edge[] {
  const { wf, kinds, sink, templates } = input;
  const stepIds = Object.keys(wf.steps);
  const edges: Edge[] = [];
  for (const id of stepIds) {
    const step = wf.steps[id]!;
    const base = pointer('/steps', id);
    const kind = kinds.get(step.uses);
    if (!kind) {
      sink.error(`${base}/uses`, `unknown step kind '${step.uses}'${didYouMean(step.uses, kinds.keys())}`, {
        code: 'unknown-kind',
        hint: `step kinds: ${[...kinds.keys()].join(', ')}`,
      });
    } else if (kind.outputs === null && !step.outputs) {
      sink.error(base, `step '${id}' uses '${kind.name}', whose outputs are declared by the step: add an 'outputs:' mapping`, {
        code: 'missing-outputs',
        key: true,
      });
    } else if (kind.outputs !== null && step.outputs) {
      sink.error(`${base}/outputs`, `'${kind.name}' steps have fixed outputs (${kind.outputs.join(', ') || 'none'}): remove 'outputs:'`, {
        code: 'fixed-outputs',
        key: true,
      });
    }

    step.needs.forEach((need, i) => {
      const at = sink.ranges.has(`${base}/needs/${i}`) ? `${base}/needs/${i}` : `${base}/needs`;
      if (need === id) sink.error(at, `step '${id}' needs itself`, { code: 'cycle' });
      else if (!wf.steps[need]) {
        sink.error(at, `unknown step '${need}' in needs${didYouMean(need, stepIds)}`, { code: 'unknown-step' });
      } else edges.push({ from: id, to: need, path: at });
    });

    const sites: Array<[Site, unknown, string]> = [
      ['with', step.with, `${base}/with`],
      ['matrix', step.matrix, `${base}/matrix`],
      ['resources', step.resources, `${base}/resources`],
      ['if', typeof step.if === 'string' ? step.if : undefined, `${base}/if`],
    ];
    for (const [site, value, path] of sites) {
      for (const { path: p, template } of expressionsIn(value, path)) {
        const parts = templates.parse(p, template);
        if (!parts) continue;
        for (const part of parts) {
          if (typeof part === 'string') continue;
          for (const alternative of part.operands) {
            const inOperator = alternative.kind === 'compare' || alternative.kind === 'not';
            for (const op of leaves(alternative)) {
              const to = checkOperand(input, step, site, p, template, op, inOperator);
              if (to) edges.push({ from: id, to, path: p });
            }
          }
        }
      }
    }
  }
  return edges;
}

/**
 * Checks one path's names; returns the step it refers to, if it is a valid step reference.
 * `inOperator`: the path is compared (==, !=) or negated (!), which a step output cannot be.
 */
function checkOperand(
  { wf, kinds, sink, templates }: GraphInput,
  step: StepDecl,
  site: Site,
  path: string,
  template: string,
  op: PathOperand | LiteralOperand,
  inOperator: boolean,
): string | null {
  if (op.kind !== 'path') return null;
  const err = (message: string, hint?: string, code = 'bad-reference'): null => {
    sink.error(path, message, { code, hint, ...templates.caret(path, template, op.offset, op.text.length) });
    return null;
  };
  switch (op.root) {
    case 'params': {
      const name = op.path[0];
      if (typeof name !== 'string') return err("expected params.NAME");
      const decl = wf.params[name];
      if (!decl) {
        const names = Object.keys(wf.params);
        return err(`unknown param '${name}'${didYouMean(name, names)}`, names.length ? `params: ${names.join(', ')}` : 'this workflow declares no params', 'unknown-param');
      }
      if (decl.secret)
        return err(`param '${name}' is secret and cannot be used in an expression`, `steps read secrets themselves: pass the variable name (${decl.env}) and the kind calls ctx.secret()`, 'secret-in-expression');
      return null;
    }
    case 'matrix': {
      if (site === 'matrix') return err('a matrix cannot refer to its own values: use params, profile or workflow here');
      if (site === 'if') return err('`if:` cannot use matrix values: it decides whether the whole step runs, before its matrix expands; use params, profile or workflow');
      const axes = axesOf(step);
      if (!axes.length) return err(`step '${step.id}' has no matrix, so '${op.text}' has no value`, undefined, 'unknown-matrix-axis');
      const axis = op.path[0];
      if (typeof axis !== 'string' || !axes.includes(axis))
        return err(`step '${step.id}' has no matrix axis '${String(axis ?? '')}'${typeof axis === 'string' ? didYouMean(axis, axes) : ''}`, `axes: ${axes.join(', ')}`, 'unknown-matrix-axis');
      return null;
    }
    case 'steps': {
      if (site === 'if') return err('`if:` cannot use step outputs: it is decided when the plan is made, before any step runs; use params, profile or workflow');
      if (site !== 'with') return err(`step outputs can only be used in 'with' (they are known only when the step runs)`);
      const ref = stepReference(op);
      if (!ref) return err(`a step reference has the form steps.ID.outputs.NAME, found '${op.text}'`);
      if (inOperator) return err(`a step output cannot be compared or negated: it is known only when the step runs`);
      if (ref.step === step.id) return err(`step '${step.id}' refers to its own output '${ref.output}'`, undefined, 'cycle');
      const target = wf.steps[ref.step];
      if (!target) return err(`unknown step '${ref.step}'${didYouMean(ref.step, Object.keys(wf.steps))}`, undefined, 'unknown-step');
      const outputs = outputsOf(target, kinds);
      if (outputs && !outputs.includes(ref.output)) {
        return err(
          `step '${ref.step}' has no output '${ref.output}'${didYouMean(ref.output, outputs)}`,
          outputs.length ? `outputs of '${ref.step}' (${target.uses}): ${outputs.join(', ')}` : `'${target.uses}' steps have no outputs`,
          'unknown-output',
        );
      }
      return ref.step;
    }
    case 'profile':
      return op.path.length ? err("'profile' is the profile's name; it has no fields") : null;
    case 'workflow': {
      const f = op.path[0];
      if (op.path.length !== 1 || typeof f !== 'string' || !WORKFLOW_FIELDS.includes(f))
        return err(`unknown '${op.text}'${typeof f === 'string' ? didYouMean(f, WORKFLOW_FIELDS) : ''}`, `workflow fields: ${WORKFLOW_FIELDS.join(', ')}`);
      return null;
    }
    default:
      return err(
        `unknown name '${op.root}' in expression${didYouMean(op.root, EXPRESSION_ROOTS)}`,
        `expressions start with ${EXPRESSION_ROOTS.join(', ')}; strings are quoted ('text')`,
        'unknown-name',
      );
  }
}

/** Dependency order of declared steps (declaration order among equals), or null after reporting cycles. */
export function orderSteps(stepIds: string[], edges: Edge[], sink: DiagnosticSink): string[] | null {
  const out = new Map<string, Edge[]>(stepIds.map((id) => [id, []]));
  for (const e of edges) out.get(e.from)!.push(e);

  const index = new Map(stepIds.map((id, i) => [id, i]));
  // Depth-first search; a grey node met again closes a cycle, printed as a → b → a.
  const color = new Map<string, 0 | 1 | 2>();
  const stack: Edge[] = [];
  const reported = new Set<string>();
  let cyclic = false;
  const visit = (id: string): void => {
    color.set(id, 1);
    for (const e of out.get(id)!) {
      const c = color.get(e.to) ?? 0;
      if (c === 0) {
        stack.push(e);
        visit(e.to);
        stack.pop();
      } else if (c === 1) {
        cyclic = true;
        const start = stack.findIndex((s) => s.from === e.to);
        const cycle = [...stack.slice(start < 0 ? stack.length : start), e];
        const names = cycle.map((s) => s.from);
        const key = [...names].sort().join('|');
        if (reported.has(key)) continue;
        reported.add(key);
        // Needs point from a step to what it waits for; print the run order instead (what comes
        // first), starting at the earliest-declared step, and point at that step's need that closes it.
        const run = [...names].reverse();
        const first = run.reduce((a, b) => (index.get(b)! < index.get(a)! ? b : a));
        const shown = [...run.slice(run.indexOf(first)), ...run.slice(0, run.indexOf(first))];
        const closing = cycle.find((s) => s.from === first) ?? e;
        sink.error(closing.path, `dependency cycle: ${[...shown, shown[0]].join(' → ')}`, {
          code: 'cycle',
          hint: 'a step cannot (directly or indirectly) need a step that needs it; remove one of these dependencies',
        });
      }
    }
    color.set(id, 2);
  };
  for (const id of stepIds) if (!color.get(id)) visit(id);
  if (cyclic) return null;

  // Kahn's algorithm, always taking the earliest-declared ready step: a stable, readable order.
  const indegree = new Map<string, number>(stepIds.map((id) => [id, 0]));
  const dependents = new Map<string, string[]>(stepIds.map((id) => [id, []]));
  const seenEdge = new Set<string>();
  for (const e of edges) {
    if (seenEdge.has(`${e.from}>${e.to}`)) continue;
    seenEdge.add(`${e.from}>${e.to}`);
    indegree.set(e.from, indegree.get(e.from)! + 1);
    dependents.get(e.to)!.push(e.from);
  }
  // The ready steps in a min-heap by declaration index (sorting the list at every step was quadratic:
  // 15,000 steps took seconds here).
  const ready = new IndexHeap();
  for (const id of stepIds) if (indegree.get(id) === 0) ready.push(index.get(id)!);
  const order: string[] = [];
  while (ready.size) {
    const id = stepIds[ready.pop()]!;
    order.push(id);
    for (const d of dependents.get(id)!) {
      indegree.set(d, indegree.get(d)! - 1);
      if (indegree.get(d) === 0) ready.push(index.get(d)!);
    }
  }
  return order;
}

/** A binary min-heap of numbers. */
class IndexHeap {
  private readonly a: number[] = [];
  get size(): number {
    return this.a.length;
  }
  push(x: number): void {
    const a = this.a;
    let i = a.push(x) - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]! <= x) break;
      a[i] = a[p]!;
      i = p;
    }
    a[i] = x;
  }
  pop(): number {
    const a = this.a;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const c = l + 1 < a.length && a[l + 1]! < a[l]! ? l + 1 : l;
        if (a[c]! >= last) break;
        a[i] = a[c]!;
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}
