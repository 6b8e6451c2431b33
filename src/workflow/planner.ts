// From a structurally valid workflow to the Plan. The jobs live in their own modules, in the order
// they run: names, references and the order of steps (graph.ts); which steps are enabled (`if:`,
// here); matrix expansion and resources (matrix.ts); expressions parsed and evaluated
// (expressions.ts); references bound to instances (binding.ts); the kinds' checks of each concrete
// step (kind-checks.ts). Every problem of a stage is reported; the kinds' checks run only when
// nothing before them failed.
import { pointer, kindOf, type DiagnosticSink } from './diagnostics.js';
import { Evaluator, Templates, type EvalContext } from './expressions.js';
import { checkNamesAndReferences, orderSteps, outputsOf } from './graph.js';
import { axesOf, concreteId, expandMatrix, resources as evaluateResources } from './matrix.js';
import { bind } from './binding.js';
import { checkWithKind } from './kind-checks.js';
import { reportOldSpellings } from './old-spellings.js';
import type { ConcreteStep, Gathered, KindDescriptor, OutputRef, Plan, StepDecl, Workflow } from './types.js';
import type { ResolvedParams } from './params.js';
import { own, setOwn } from '../core/names.js';

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
  private readonly templates: Templates;
  private readonly evaluator: Evaluator;
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
    this.templates = new Templates(sink);
    this.evaluator = new Evaluator(
      { wf, resolved, isDisabled: (id) => this.disabled.has(id), bind: (...args) => this.bind(...args) },
      this.templates,
      sink,
    );
  }

  plan(): Plan | null {
    this.applyWithOverrides();
    const edges = checkNamesAndReferences({ wf: this.wf, kinds: this.kinds, sink: this.sink, templates: this.templates });
    for (const id of this.stepIds) if (!this.decideIf(this.wf.steps[id]!)) this.disabled.add(id);
    const order = orderSteps(this.stepIds, edges, this.sink);
    if (!order) return null; // a cycle: no expansion order exists
    const enabled = order.filter((id) => !this.disabled.has(id));
    const all: ConcreteStep[] = [];
    for (const id of enabled) {
      const steps = this.expandStep(this.wf.steps[id]!);
      this.instances.set(id, steps);
      all.push(...steps);
    }
    reportOldSpellings(this.wf, this.kinds, this.sink);
    // The kinds' checks are the last stage: they would judge a `with` whose references or matrix
    // failed (a `results` that gathers nothing after a typo), so an error so far stops them
    // (docs/workflow-language.md, Diagnostics).
    if (this.sink.errorCount > 0) return null;
    const checks = { kinds: this.kinds, placeholders: this.placeholders, workflowDir: this.wf.dir, sink: this.sink };
    for (const id of enabled) checkWithKind(this.instances.get(id)!, all, checks);
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
    const parts = this.templates.parse(path, cond);
    if (!parts) return true;
    const expr = parts[0];
    if (parts.length !== 1 || typeof expr === 'string') {
      this.sink.error(path, "`if:` must be true, false, or one ${{ ... }} expression with nothing around it", {
        code: 'wrong-value',
        hint: "for example: if: ${{ params.data == 'adience' }}",
      });
      return true;
    }
    const v = this.evaluator.evaluateExpression(expr, path, cond, { step, matrix: null, axes: [], deps: () => {}, skip: [] });
    if (v === undefined) return true; // reported
    if (typeof v !== 'boolean') {
      this.sink.error(path, `\`if:\` must give true or false, but '${expr.text}' gives ${kindOf(v)}`, {
        code: 'wrong-type',
        hint: "compare the value: ${{ params.data == 'adience' }}, ${{ profile != 'orderless' }}",
        ...this.templates.caret(path, cond, expr.offset, expr.length),
      });
      return true;
    }
    return v;
  }

  private applyWithOverrides(): void {
    for (const o of this.resolved.withOverrides) {
      let target = (this.wf.steps[o.step]!.with ??= {});
      // Keys are the user's: own properties only, `__proto__` a key like any other (src/core/names.ts).
      o.path.slice(0, -1).forEach((seg) => {
        const next = own(target, seg);
        const child = next && typeof next === 'object' && !Array.isArray(next) ? (next as Record<string, unknown>) : {};
        setOwn(target, seg, child);
        target = child;
      });
      setOwn(target, o.path[o.path.length - 1]!, o.value);
    }
  }

  /** A declared step's concrete instances: one per matrix combination, `with` and resources evaluated. */
  private expandStep(step: StepDecl): ConcreteStep[] {
    const base = pointer('/steps', step.id);
    const combos = expandMatrix(step, this.evaluator, this.sink);
    if (!combos) return [];
    const axes = axesOf(step);
    const outputs = outputsOf(step, this.kinds) ?? Object.keys(step.outputs ?? {});
    // The kind reads its command lines from `with` as written: the same for every combination.
    const lines = this.kinds.get(step.uses)?.commandLines?.(step.with ?? {}) ?? [];
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
      const ctx: EvalContext = { step, matrix, axes, deps: addDeps, skip, lines };
      const w = this.evaluator.evaluate(step.with, `${base}/with`, '', ctx) as Record<string, unknown>;
      const resources = evaluateResources(step, { ...ctx, skip: [] }, this.evaluator, this.sink);
      const role = this.kinds.get(step.uses)?.role;
      const concrete: ConcreteStep = { id, stepId: step.id, uses: step.uses, ...(role ? { role } : {}), matrix, with: w, deps, resources, outputs };
      this.placeholders.set(concrete, skip);
      result.push(concrete);
    }
    return result;
  }

  /** A reference to step `target` from one instance (binding.ts); null when the target has no instances (its errors were reported). */
  private bind(target: string, matrix: Record<string, unknown>, axes: string[], path: string, output?: string): OutputRef | Gathered<OutputRef>[] | null {
    const instances = this.instances.get(target);
    if (!instances || instances.length === 0) return null;
    return bind({ id: target, axes: axesOf(this.wf.steps[target]!), instances }, matrix, axes, path, this.sink, output);
  }
}
