// From a structurally valid workflow to the Plan: check names and references, find cycles,
// expand matrices, evaluate expressions, bind step-output references, then let each step kind
// check its concrete `with`. Every problem is reported; nothing stops at the first one.
import { canonicalJson } from '../core/hash.js';
import { pointer, type DiagnosticSink } from './diagnostics.js';
import {
  EXPRESSION_ROOTS,
  expressionsIn,
  leaves,
  parseTemplate,
  stepReference,
  type Expression,
  type LiteralOperand,
  type Operand,
  type PathOperand,
  type TemplatePart,
} from './expressions.js';
import { validateWith, type SchemaProblem } from './schema.js';
import { embeddingAt, quoteFor, type CommandLine } from './shell.js';
import { didYouMean } from './suggest.js';
import type { ConcreteStep, Gathered, KindDescriptor, OutputRef, Plan, Resources, StepDecl, Workflow } from './types.js';
import type { ResolvedParams } from './params.js';

/** One step's matrix may not expand beyond this: a typo in a generated list should not plan a million runs. */
export const MAX_INSTANCES_PER_STEP = 10_000;

const WORKFLOW_FIELDS = ['dir', 'name', 'file'];

/** Where an expression appears decides which roots it may use. */
type Site = 'with' | 'matrix' | 'resources' | 'if';

/**
 * What a `with` value becomes when it is null only because the step it refers to is disabled
 * (`${{ steps.x.outputs.y || null }}`): the key is left out, so kinds' schemas never see the null.
 */
const OMIT: unique symbol = Symbol('omit');

interface Edge {
  from: string;
  to: string;
  /** Path of the `needs` entry or of the string holding the reference: where a cycle is reported. */
  path: string;
}

export interface PlanInput {
  wf: Workflow;
  resolved: ResolvedParams;
  kinds: ReadonlyMap<string, KindDescriptor<any>>;
  sink: DiagnosticSink;
}

/** Builds the plan; returns null when any error was reported (the diagnostics say why). */
export function planWorkflow({ wf, resolved, kinds, sink }: PlanInput): Plan | null {
  const planner = new Planner(wf, resolved, kinds, sink);
  return planner.plan();
}

class Planner {
  private readonly stepIds: string[];
  private readonly templates = new Map<string, TemplatePart[] | null>();
  /** Concrete instances of each declared step, in expansion order. */
  private readonly instances = new Map<string, ConcreteStep[]>();
  /** Paths inside each concrete step's `with` that still hold references (skipped by the kind's schema). */
  private readonly placeholders = new Map<ConcreteStep, string[]>();
  /** Declared steps whose `if:` is false: not expanded, not checked by their kind, null when referenced. */
  private readonly disabled = new Set<string>();

  constructor(
    private readonly wf: Workflow,
    private readonly resolved: ResolvedParams,
    private readonly kinds: ReadonlyMap<string, KindDescriptor<any>>,
    private readonly sink: DiagnosticSink,
  ) {
    this.stepIds = Object.keys(wf.steps);
  }

  plan(): Plan | null {
    this.applyWithOverrides();
    const edges = this.checkNamesAndReferences();
    for (const id of this.stepIds) if (!this.decideIf(this.wf.steps[id]!)) this.disabled.add(id);
    const order = this.orderSteps(edges);
    if (!order) return null; // a cycle: no expansion order exists
    const enabled = order.filter((id) => !this.disabled.has(id));
    const all: ConcreteStep[] = [];
    for (const id of enabled) {
      const steps = this.expandStep(this.wf.steps[id]!);
      this.instances.set(id, steps);
      all.push(...steps);
    }
    for (const id of enabled) this.checkWithKind(this.instances.get(id)!, all);
    if (this.sink.errorCount > 0) return null;
    return {
      workflow: this.wf,
      profile: this.resolved.profile,
      params: this.resolved.params,
      secretParams: this.resolved.secretParams,
      // Declared steps are expanded in dependency order, and instances only depend on earlier
      // declared steps, so this list is already topologically ordered.
      steps: all,
      disabled: this.stepIds.filter((id) => this.disabled.has(id)),
    };
  }

  /**
   * Whether a step is enabled: `--set steps.ID.if` says so, or its `if:` is absent, true, or an expression that gives true. An `if`
   * that cannot be decided (an error, reported) counts as enabled, so its step's own mistakes still show.
   */
  private decideIf(step: StepDecl): boolean {
    const forced = this.resolved.ifOverrides[step.id];
    if (forced !== undefined) return forced; // --set steps.ID.if=…
    const cond = step.if;
    if (cond === undefined || cond === true) return true;
    if (cond === false) return false;
    const path = `${pointer('/steps', step.id)}/if`;
    const parts = this.template(path, cond);
    if (!parts) return true;
    const expr = parts[0];
    if (parts.length !== 1 || typeof expr === 'string') {
      this.sink.error(path, "`if:` must be true, false, or one ${{ ... }} expression with nothing around it", {
        code: 'wrong-value',
        hint: "for example: if: ${{ params.data == 'adience' }}",
      });
      return true;
    }
    const v = this.evaluateExpression(expr, path, cond, { step, matrix: null, axes: [], deps: () => {}, skip: [] });
    if (v === undefined) return true; // reported
    if (typeof v !== 'boolean') {
      this.sink.error(path, `\`if:\` must give true or false, but '${expr.text}' gives ${kindOf(v)}`, {
        code: 'wrong-type',
        hint: "compare the value: ${{ params.data == 'adience' }}, ${{ profile != 'orderless' }}",
        ...this.caret(path, cond, expr.offset, expr.length),
      });
      return true;
    }
    return v;
  }

  private applyWithOverrides(): void {
    for (const o of this.resolved.withOverrides) {
      let target = (this.wf.steps[o.step]!.with ??= {});
      o.path.slice(0, -1).forEach((seg) => {
        const next = target[seg];
        target = target[seg] = next && typeof next === 'object' && !Array.isArray(next) ? (next as Record<string, unknown>) : {};
      });
      target[o.path[o.path.length - 1]!] = o.value;
    }
  }

  // ── Names, references, and the graph between declared steps ─────────────────────────────────

  private outputsOf(step: StepDecl): string[] | null {
    const kind = this.kinds.get(step.uses);
    if (!kind) return null;
    return kind.outputs ?? Object.keys(step.outputs ?? {});
  }

  private checkNamesAndReferences(): Edge[] {
    const edges: Edge[] = [];
    for (const id of this.stepIds) {
      const step = this.wf.steps[id]!;
      const base = pointer('/steps', id);
      const kind = this.kinds.get(step.uses);
      if (!kind) {
        this.sink.error(`${base}/uses`, `unknown step kind '${step.uses}'${didYouMean(step.uses, this.kinds.keys())}`, {
          code: 'unknown-kind',
          hint: `step kinds: ${[...this.kinds.keys()].join(', ')}`,
        });
      } else if (kind.outputs === null && !step.outputs) {
        this.sink.error(base, `step '${id}' uses '${kind.name}', whose outputs are declared by the step: add an 'outputs:' mapping`, {
          code: 'missing-outputs',
          key: true,
        });
      } else if (kind.outputs !== null && step.outputs) {
        this.sink.error(`${base}/outputs`, `'${kind.name}' steps have fixed outputs (${kind.outputs.join(', ') || 'none'}): remove 'outputs:'`, {
          code: 'fixed-outputs',
          key: true,
        });
      }

      step.needs.forEach((need, i) => {
        const at = this.sink.ranges.has(`${base}/needs/${i}`) ? `${base}/needs/${i}` : `${base}/needs`;
        if (need === id) this.sink.error(at, `step '${id}' needs itself`, { code: 'cycle' });
        else if (!this.wf.steps[need]) {
          this.sink.error(at, `unknown step '${need}' in needs${didYouMean(need, this.stepIds)}`, { code: 'unknown-step' });
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
          const parts = this.template(p, template);
          if (!parts) continue;
          for (const part of parts) {
            if (typeof part === 'string') continue;
            for (const alternative of part.operands) {
              const inOperator = alternative.kind === 'compare' || alternative.kind === 'not';
              for (const op of leaves(alternative)) {
                const to = this.checkOperand(step, site, p, template, op, inOperator);
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
  private checkOperand(step: StepDecl, site: Site, path: string, template: string, op: PathOperand | LiteralOperand, inOperator: boolean): string | null {
    if (op.kind !== 'path') return null;
    const err = (message: string, hint?: string, code = 'bad-reference'): null => {
      this.sink.error(path, message, { code, hint, ...this.caret(path, template, op.offset, op.text.length) });
      return null;
    };
    switch (op.root) {
      case 'params': {
        const name = op.path[0];
        if (typeof name !== 'string') return err("expected params.NAME");
        const decl = this.wf.params[name];
        if (!decl) {
          const names = Object.keys(this.wf.params);
          return err(`unknown param '${name}'${didYouMean(name, names)}`, names.length ? `params: ${names.join(', ')}` : 'this workflow declares no params', 'unknown-param');
        }
        if (decl.secret)
          return err(`param '${name}' is secret and cannot be used in an expression`, `steps read secrets themselves: pass the variable name (${decl.env}) and the kind calls ctx.secret()`, 'secret-in-expression');
        return null;
      }
      case 'matrix': {
        if (site === 'matrix') return err('a matrix cannot refer to its own values: use params, profile or workflow here');
        if (site === 'if') return err('`if:` cannot use matrix values: it decides whether the whole step runs, before its matrix expands; use params, profile or workflow');
        const axes = this.axesOf(step);
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
        const target = this.wf.steps[ref.step];
        if (!target) return err(`unknown step '${ref.step}'${didYouMean(ref.step, this.stepIds)}`, undefined, 'unknown-step');
        const outputs = this.outputsOf(target);
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

  private template(path: string, template: string): TemplatePart[] | null {
    if (this.templates.has(template)) return this.templates.get(template)!;
    const parsed = parseTemplate(template);
    if (!Array.isArray(parsed)) {
      this.sink.error(path, `invalid expression: ${parsed.error}`, { code: 'expression-syntax', ...this.caret(path, template, parsed.offset, parsed.length) });
      this.templates.set(template, null);
      return null;
    }
    this.templates.set(template, parsed);
    return parsed;
  }

  /** The column of a part of a string scalar, when the scalar sits on one line (for a precise caret). */
  private caret(path: string, template: string, offset: number, width: number): { column?: number; width?: number } {
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

  private axesOf(step: StepDecl): string[] {
    return Object.keys(step.matrix ?? {}).filter((k) => k !== 'include' && k !== 'exclude');
  }

  /** Dependency order of declared steps (declaration order among equals), or null after reporting cycles. */
  private orderSteps(edges: Edge[]): string[] | null {
    const out = new Map<string, Edge[]>(this.stepIds.map((id) => [id, []]));
    for (const e of edges) out.get(e.from)!.push(e);

    const index = new Map(this.stepIds.map((id, i) => [id, i]));
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
          this.sink.error(closing.path, `dependency cycle: ${[...shown, shown[0]].join(' → ')}`, {
            code: 'cycle',
            hint: 'a step cannot (directly or indirectly) need a step that needs it; remove one of these dependencies',
          });
        }
      }
      color.set(id, 2);
    };
    for (const id of this.stepIds) if (!color.get(id)) visit(id);
    if (cyclic) return null;

    // Kahn's algorithm, always taking the earliest-declared ready step: a stable, readable order.
    const indegree = new Map<string, number>(this.stepIds.map((id) => [id, 0]));
    const dependents = new Map<string, string[]>(this.stepIds.map((id) => [id, []]));
    const seenEdge = new Set<string>();
    for (const e of edges) {
      if (seenEdge.has(`${e.from}>${e.to}`)) continue;
      seenEdge.add(`${e.from}>${e.to}`);
      indegree.set(e.from, indegree.get(e.from)! + 1);
      dependents.get(e.to)!.push(e.from);
    }
    const ready = this.stepIds.filter((id) => indegree.get(id) === 0);
    const order: string[] = [];
    while (ready.length) {
      ready.sort((a, b) => index.get(a)! - index.get(b)!);
      const id = ready.shift()!;
      order.push(id);
      for (const d of dependents.get(id)!) {
        indegree.set(d, indegree.get(d)! - 1);
        if (indegree.get(d) === 0) ready.push(d);
      }
    }
    return order;
  }

  // ── Matrix expansion and evaluation ──────────────────────────────────────────────────────────

  private expandStep(step: StepDecl): ConcreteStep[] {
    const base = pointer('/steps', step.id);
    const combos = this.expandMatrix(step);
    if (!combos) return [];
    const axes = this.axesOf(step);
    const outputs = this.outputsOf(step) ?? Object.keys(step.outputs ?? {});
    const result: ConcreteStep[] = [];
    const byId = new Map<string, Record<string, unknown>>();
    for (const matrix of combos) {
      const id = concreteId(step.id, axes, matrix);
      if (byId.has(id)) {
        this.sink.error(`${base}/matrix`, `two matrix combinations of step '${step.id}' are both named '${id}'`, {
          code: 'duplicate-id',
          hint: "give each object value of an axis a distinct 'name'",
        });
        continue;
      }
      byId.set(id, matrix);
      const deps: string[] = [];
      const addDeps = (ids: string[]): void => {
        for (const d of ids) if (!deps.includes(d)) deps.push(d);
      };
      for (const need of step.needs) {
        if (this.disabled.has(need)) continue; // needs on a disabled step are dropped
        const bound = this.bind(need, matrix, axes, `${base}/needs`);
        if (bound) addDeps(Array.isArray(bound) ? bound.map((g) => g.step) : [bound.$ref.step]);
      }
      const skip: string[] = [];
      const lines = this.kinds.get(step.uses)?.commandLines?.(step.with ?? {}) ?? [];
      const ctx: EvalContext = { step, matrix, axes, deps: addDeps, skip, lines };
      const w = this.evaluate(step.with, `${base}/with`, '', ctx) as Record<string, unknown>;
      const resources = this.resources(step, { ...ctx, skip: [] });
      const concrete: ConcreteStep = { id, stepId: step.id, uses: step.uses, matrix, with: w, deps, resources, outputs };
      this.placeholders.set(concrete, skip);
      result.push(concrete);
    }
    return result;
  }

  /** The matrix's combinations (one empty combination without a matrix), or null after an error. */
  private expandMatrix(step: StepDecl): Array<Record<string, unknown>> | null {
    if (!step.matrix) return [{}];
    const base = `${pointer('/steps', step.id)}/matrix`;
    const axes = this.axesOf(step);
    const values: unknown[][] = [];
    let ok = true;
    const noMatrix: EvalContext = { step, matrix: null, axes: [], deps: () => {}, skip: [] };
    for (const axis of axes) {
      const at = pointer(base, axis);
      const v = this.evaluate(step.matrix[axis], at, '', noMatrix);
      if (!Array.isArray(v)) {
        if (v !== undefined) this.sink.error(at, `matrix axis '${axis}' must be a list of values, but its expression gives ${kindOf(v)}`, { code: 'bad-matrix' });
        ok = false;
        continue;
      }
      if (v.length === 0) {
        this.sink.error(at, `matrix axis '${axis}' has no values, so step '${step.id}' would never run`, { code: 'bad-matrix' });
        ok = false;
        continue;
      }
      const seen = new Map<string, number>();
      v.forEach((x, i) => {
        const key = canonicalJson(x);
        if (seen.has(key)) {
          this.sink.error(pointer(at, i), `matrix axis '${axis}' lists ${showValue(x)} twice (items ${seen.get(key)! + 1} and ${i + 1})`, { code: 'bad-matrix' });
          ok = false;
        } else seen.set(key, i);
        if (x === null || x === undefined) {
          this.sink.error(pointer(at, i), `matrix axis '${axis}' has an empty value`, { code: 'bad-matrix' });
          ok = false;
        }
      });
      values.push(v);
    }
    if (!ok) return null;

    let total = 1;
    for (const v of values) total *= v.length;
    if (total > MAX_INSTANCES_PER_STEP) {
      this.sink.error(base, `the matrix of step '${step.id}' expands to ${total} combinations (at most ${MAX_INSTANCES_PER_STEP})`, { code: 'bad-matrix' });
      return null;
    }
    let combos: Array<Record<string, unknown>> = [{}];
    axes.forEach((axis, k) => {
      combos = combos.flatMap((c) => values[k]!.map((x) => ({ ...c, [axis]: x })));
    });

    const entries = (key: 'include' | 'exclude'): Array<[string, Record<string, unknown>]> => {
      const list = step.matrix![key];
      if (list === undefined) return [];
      return (list as Array<Record<string, unknown>>).map((e, i) => {
        const at = pointer(`${base}/${key}`, i);
        return [at, this.evaluate(e, at, '', noMatrix) as Record<string, unknown>];
      });
    };
    const matches = (c: Record<string, unknown>, e: Record<string, unknown>): boolean =>
      Object.entries(e).every(([k, v]) => canonicalJson(c[k]) === canonicalJson(v));
    for (const [at, e] of entries('exclude')) {
      const unknown = Object.keys(e).filter((k) => !axes.includes(k));
      if (unknown.length) {
        this.sink.error(pointer(at, unknown[0]!), `exclude names unknown matrix axis '${unknown[0]}'${didYouMean(unknown[0]!, axes)}`, { code: 'bad-matrix', key: true });
        continue;
      }
      combos = combos.filter((c) => !matches(c, e));
    }
    for (const [at, e] of entries('include')) {
      const keys = Object.keys(e);
      const unknown = keys.filter((k) => !axes.includes(k));
      const missing = axes.filter((a) => !keys.includes(a));
      if (unknown.length) {
        this.sink.error(pointer(at, unknown[0]!), `include names unknown matrix axis '${unknown[0]}'${didYouMean(unknown[0]!, axes)}`, { code: 'bad-matrix', key: true });
        continue;
      }
      if (missing.length) {
        this.sink.error(at, `include entry gives no value for axis ${missing.map((m) => `'${m}'`).join(', ')}: each entry is a full combination`, { code: 'bad-matrix' });
        continue;
      }
      if (!combos.some((c) => matches(c, e))) combos.push(Object.fromEntries(axes.map((a) => [a, e[a]])));
    }
    if (combos.length === 0) {
      this.sink.error(base, `every combination of step '${step.id}' is excluded, so it would never run`, { code: 'bad-matrix' });
      return null;
    }
    return combos;
  }

  private resources(step: StepDecl, ctx: EvalContext): Required<Resources> {
    const base = `${pointer('/steps', step.id)}/resources`;
    const raw = (step.resources ? this.evaluate(step.resources, base, '', ctx) : {}) as Record<string, unknown>;
    const out: Required<Resources> = { cpu: 1, gpu: 0, memory: 0 };
    if (raw.cpu !== undefined) {
      if (typeof raw.cpu === 'number' && raw.cpu > 0) out.cpu = raw.cpu;
      else this.sink.error(`${base}/cpu`, `resources.cpu must be a number above 0, found ${showValue(raw.cpu)}`, { code: 'wrong-type' });
    }
    if (raw.gpu !== undefined) {
      if (typeof raw.gpu === 'number' && Number.isInteger(raw.gpu) && raw.gpu >= 0) out.gpu = raw.gpu;
      else this.sink.error(`${base}/gpu`, `resources.gpu must be a whole number (0 or more), found ${showValue(raw.gpu)}`, { code: 'wrong-type' });
    }
    if (raw.memory !== undefined) {
      const bytes = parseMemory(raw.memory);
      if (bytes === null) this.sink.error(`${base}/memory`, `resources.memory must be a byte count or a size such as '2GiB', found ${showValue(raw.memory)}`, { code: 'wrong-type' });
      else out.memory = bytes;
    }
    return out;
  }

  /** Evaluates every expression in a value tree. `rel` is the path inside the evaluated value (for skips). */
  private evaluate(value: unknown, path: string, rel: string, ctx: EvalContext): unknown {
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
        if (x !== OMIT) out[k] = x;
      }
      return out;
    }
    return value;
  }

  private evaluateString(template: string, path: string, rel: string, ctx: EvalContext): unknown {
    const parts = this.template(path, template);
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
          ...this.caret(path, template, part.offset, part.length),
        });
      } else if (isOutputRefValue(v)) pieces.push(v);
      else if (v === null) pieces.push('');
      else if (typeof v === 'object') {
        this.sink.error(path, `'${part.text}' is ${kindOf(v)}, which cannot be embedded in a string`, {
          code: 'wrong-type',
          hint: 'use the expression as the whole value, or refer to one field of it',
          ...this.caret(path, template, part.offset, part.length),
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
          ...this.caret(path, template, part.offset, part.length),
        });
        failed = true;
      } else if (isOutputRefValue(v)) pieces.push({ ...v, $quote: embedding });
      else if (v !== null && typeof v === 'object') {
        this.sink.error(path, `'${part.text}' is ${kindOf(v)}, which cannot be embedded in a command`, {
          code: 'wrong-type',
          hint: 'pass it through env: (a mapping or list arrives as JSON text), or refer to one field of it',
          ...this.caret(path, template, part.offset, part.length),
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
  private evaluateExpression(expr: Expression, path: string, template: string, ctx: EvalContext): unknown {
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
          ...this.caret(path, template, op.offset, op.text.length),
        });
        return undefined;
      }
      return v === null && disabledRefs.length ? OMIT : v;
    }
    // Every alternative from some point on was a disabled step: nothing is left to bind.
    const first = disabledRefs[0]!;
    const ids = [...new Set(disabledRefs.map((d) => stepReference(d)!.step))];
    const under = this.resolved.profile === null ? 'without a profile' : `under profile ${this.resolved.profile}`;
    const which = ids.length === 1 ? `step '${ids[0]}' is` : `steps ${ids.map((x) => `'${x}'`).join(', ')} are`;
    const why = ids.every((id) => this.resolved.ifOverrides[id] === false) ? 'by --set steps.ID.if=false' : `by ${ids.length === 1 ? 'its' : 'their'} \`if:\` (false ${under})`;
    this.sink.error(path, `${which} disabled ${why}; add an alternative with \`||\` or enable it`, {
      code: 'disabled-step',
      ...this.caret(path, template, first.offset, first.text.length),
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
          if (r.error) this.sink.error(path, r.error, { code: 'bad-reference', ...this.caret(path, template, op.offset, op.text.length) });
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
          if (r.error) this.sink.error(path, r.error, { code: 'bad-reference', ...this.caret(path, template, op.offset, op.text.length) });
          return NOT_COMPARABLE;
        }
        const v = r.value ?? null;
        if (typeof v === 'object' && v !== null) {
          this.sink.error(path, `'${op.text}' is ${kindOf(v)}: '==', '!=' and '!' work on strings, numbers, booleans and null`, {
            code: 'wrong-type',
            hint: Array.isArray(v) ? `compare one item, e.g. ${op.text}[0]` : `compare one field, e.g. ${op.text}.name`,
            ...this.caret(path, template, op.offset, op.text.length),
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
        if (!(name in this.wf.params) || this.wf.params[name]!.secret) return { error: '' };
        value = this.resolved.params[name];
        rest = op.path.slice(1);
        shown = `params.${name}`;
        break;
      }
      case 'matrix': {
        const axis = op.path[0];
        if (!ctx.matrix || typeof axis !== 'string' || !(axis in ctx.matrix)) return { error: '' };
        value = ctx.matrix[axis];
        rest = op.path.slice(1);
        shown = `matrix.${axis}`;
        break;
      }
      case 'steps': {
        const ref = stepReference(op);
        if (!ref || !this.wf.steps[ref.step] || ref.step === ctx.step.id) return { error: '' };
        if (this.disabled.has(ref.step)) return { disabled: true };
        const bound = this.bind(ref.step, ctx.matrix ?? {}, ctx.axes, path, ref.output);
        if (!bound) return { error: '' };
        ctx.deps(Array.isArray(bound) ? bound.map((g) => g.step) : [bound.$ref.step]);
        return { value: bound };
      }
      case 'profile':
        return { value: this.resolved.profile };
      case 'workflow': {
        const f = op.path[0];
        if (f === 'dir') return { value: this.wf.dir };
        if (f === 'file') return { value: this.wf.file };
        if (f === 'name') return { value: this.wf.name };
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

  /**
   * Binds a reference to step `target` from an instance with matrix values `matrix` (axes `axes`):
   * - target has no matrix → that one step;
   * - every axis of target is also an axis here → the one instance with equal values;
   * - otherwise → every instance of target (those agreeing on shared axes), as Gathered[].
   */
  private bind(target: string, matrix: Record<string, unknown>, axes: string[], path: string, output?: string): OutputRef | Gathered<OutputRef>[] | null {
    const instances = this.instances.get(target);
    if (!instances || instances.length === 0) return null; // its own errors were reported
    const ref = (s: ConcreteStep): OutputRef => ({ $ref: { step: s.id, output: output ?? '' } });
    const targetAxes = this.axesOf(this.wf.steps[target]!);
    if (targetAxes.length === 0) return ref(instances[0]!);
    const shared = targetAxes.filter((a) => axes.includes(a));
    // Instances match by their values as shown in ids (an object by its name), so a step may list
    // {name: emd2} without repeating the whole variant object of the step it refers to.
    const agree = (s: ConcreteStep): boolean => shared.every((a) => matrixLabel(s.matrix[a]) === matrixLabel(matrix[a]));
    if (shared.length === targetAxes.length) {
      const one = instances.find(agree);
      if (!one) {
        const want = shared.map((a) => `${a}=${matrixLabel(matrix[a])}`).join(',');
        this.sink.error(path, `step '${target}' has no instance with ${want}`, {
          code: 'bad-reference',
          hint: `its instances: ${instances.map((s) => s.id).slice(0, 6).join(', ')}${instances.length > 6 ? ', ...' : ''}`,
        });
        return null;
      }
      return ref(one);
    }
    return instances.filter(agree).map((s) => ({ matrix: s.matrix, step: s.id, value: ref(s) }));
  }

  // ── The kinds' own checks on the concrete values ─────────────────────────────────────────────

  /**
   * Each instance's `with` against its kind's schema and `check()`. A problem shared by every
   * instance of a matrix step is reported once, naming the step; otherwise it lists the instances.
   */
  private checkWithKind(instances: ConcreteStep[], all: ConcreteStep[]): void {
    if (!instances.length) return;
    const kind = this.kinds.get(instances[0]!.uses);
    if (!kind) return;
    const stepId = instances[0]!.stepId;
    const base = `${pointer('/steps', stepId)}/with`;
    const found = new Map<string, { problem: SchemaProblem; where: string[] }>();
    const note = (p: SchemaProblem, where: string): void => {
      const key = `${p.path}\u0000${p.message}`;
      const entry = found.get(key) ?? { problem: p, where: [] };
      entry.where.push(where);
      found.set(key, entry);
    };
    for (const step of instances) {
      for (const p of validateWith(kind.withSchema as object, step.with, base, { stepLabel: stepId, skip: this.placeholders.get(step) ?? [] })) note(p, step.id);
      if (!kind.check) continue;
      try {
        for (const p of kind.check(step.with, { steps: all, workflowDir: this.wf.dir })) {
          const rel = p.path.replace(/^\/+/, '');
          note({ path: rel ? `${base}/${rel}` : base, message: `step '${stepId}': ${p.message}`, code: 'kind-check' }, step.id);
        }
      } catch (err) {
        note({ path: base, message: `the '${kind.name}' kind could not check step '${stepId}': ${(err as Error).message}`, code: 'kind-check-failed' }, step.id);
      }
    }
    for (const { problem, where } of found.values()) {
      const some = where.length < instances.length;
      const shown = where.slice(0, 3).join(', ') + (where.length > 3 ? ` and ${where.length - 3} more` : '');
      this.sink.error(problem.path, some ? `${problem.message} (in ${shown})` : problem.message, { code: problem.code, hint: problem.hint, key: problem.key });
    }
  }
}

interface EvalContext {
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

function isOutputRefValue(v: unknown): v is OutputRef {
  return typeof v === 'object' && v !== null && '$ref' in v;
}

function isPlaceholder(v: unknown): boolean {
  return isOutputRefValue(v) || (Array.isArray(v) && v.some(isGathered));
}

/** How a matrix value appears in a concrete id: scalars as written, objects by their `name`. */
export function matrixLabel(v: unknown): string {
  if (v && typeof v === 'object' && !Array.isArray(v) && typeof (v as { name?: unknown }).name === 'string') return (v as { name: string }).name;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return canonicalJson(v);
}

/** 'train[variant=emd2,seed=1]', or the declared id without a matrix. */
export function concreteId(stepId: string, axes: string[], matrix: Record<string, unknown>): string {
  if (!axes.length) return stepId;
  return `${stepId}[${axes.map((a) => `${a}=${matrixLabel(matrix[a])}`).join(',')}]`;
}

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/** Bytes from 2147483648, '2GiB', '1.5 GB' or '512MiB'; null when it is not a size. */
export function parseMemory(v: unknown): number | null {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 ? v : null;
  if (typeof v !== 'string') return null;
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([kmgt]i?b|b)?\s*$/i.exec(v);
  if (!m) return null;
  return Math.round(Number(m[1]) * UNITS[(m[2] ?? 'b').toLowerCase()]!);
}

function kindOf(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v === 'string' ? 'the string' : `the ${typeof v}`} ${JSON.stringify(v)}`;
}

function showValue(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  if (v && typeof v === 'object' && !Array.isArray(v) && typeof (v as { name?: unknown }).name === 'string') return `'${(v as { name: string }).name}'`;
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? s.slice(0, 57) + '...' : s;
}
