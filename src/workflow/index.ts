// The workflow analyzer's entry point: load → parse → validate (schema, then meaning) → plan.
//   const { plan, diagnostics } = await loadPlan('workflows/paper.yaml', { kinds: stepKinds, profile, set });
// `plan` is null when any error was found; `diagnostics` then holds every error, with positions.
import { nullRecord, toNullRecord } from '../core/names.js';
import { DiagnosticSink, type Diagnostic } from './diagnostics.js';
import { resolveParams } from './params.js';
import { planWorkflow } from './planner.js';
import { validateWorkflowShape } from './schema.js';
import { readWorkflowSource, type ParsedSource } from './source.js';
import { reportUntrusted, type UntrustedOrigin } from './trust.js';
import type { ExecutorDecl, KindDescriptor, ParamDecl, PaperRef, Plan, ProfileDecl, Resources, StepDecl, Workflow } from './types.js';

export type { Diagnostic } from './diagnostics.js';
export type { UntrustedOrigin } from './trust.js';
export { formatDiagnostic, formatDiagnostics, displayLocation, displayPath, COMMAND_LINE } from './diagnostics.js';
export { concreteId, matrixLabel, parseMemory } from './matrix.js';

export interface LoadOptions {
  profile?: string;
  /** `--set key=value` strings, in order. */
  set?: string[];
  /** Step kinds by name: the CLI passes the registry (src/steps/registry.ts), tests their own. */
  kinds: ReadonlyMap<string, KindDescriptor<any>>;
  /** Where `env:` params read their values (default: process.env). */
  env?: Record<string, string | undefined>;
  /**
   * The workflow is someone else's (from a git URL or an archive) and the user did not pass --trust:
   * every place that needs trust is an error (src/workflow/trust.ts), no env: param is read, and the
   * plan says so (Plan.untrusted), so the engine confines the steps' local inputs to `root`.
   * `readOnly`: a command that only reads it (validate, plan, why): the same places as warnings.
   */
  untrusted?: { from: UntrustedOrigin; root: string; readOnly?: boolean };
}

export interface LoadResult {
  plan: Plan | null;
  diagnostics: Diagnostic[];
  /** The parsed workflow, when the file could be read and had a valid structure (even if planning failed). */
  workflow?: Workflow;
}

export async function loadPlan(file: string, options: LoadOptions): Promise<LoadResult> {
  const { parsed, sink } = readWorkflowSource(file);
  if (!parsed) return { plan: null, diagnostics: sink.diagnostics };
  if (!validateWorkflowShape(parsed.value, sink)) return { plan: null, diagnostics: inSourceOrder(sink.diagnostics) };
  const workflow = toWorkflow(parsed);
  // Untrusted: read nothing from the environment on the workflow's behalf, and refuse each place
  // that needs trust (in steps that the plan runs: a step switched off by its `if:` does nothing).
  const refuse = options.untrusted && !options.untrusted.readOnly ? options.untrusted : undefined;
  const resolved = resolveParams(workflow, refuse ? { ...options, env: {} } : options, sink);
  const plan = planWorkflow({ wf: workflow, resolved, kinds: options.kinds, sink });
  if (options.untrusted) {
    reportUntrusted(workflow, options.kinds, sink, new Set(plan?.disabled ?? []), options.untrusted.from, refuse ? 'error' : 'warning');
  }
  if (plan && refuse) plan.untrusted = { from: refuse.from, root: refuse.root };
  return { plan: sink.errorCount ? null : plan, diagnostics: inSourceOrder(sink.diagnostics), workflow };
}

/** Command-line problems first, then by position, as a reader goes through the file. */
function inSourceOrder(diags: Diagnostic[]): Diagnostic[] {
  return diags
    .map((d, i) => ({ d, i }))
    .sort((a, b) => a.d.line - b.d.line || a.d.column - b.d.column || a.i - b.i)
    .map(({ d }) => d);
}

/** The schema-valid document as typed declarations (shorthands expanded: `needs: x` → ['x']). */
function toWorkflow(p: ParsedSource): Workflow {
  const v = p.value as Record<string, any>;
  // Keyed by the user's names: no prototype (src/core/names.ts).
  const params = nullRecord<ParamDecl>();
  for (const [name, d] of Object.entries<Record<string, any>>(v.params ?? {})) {
    params[name] = { ...d, type: d.type } as ParamDecl;
  }
  const profiles = nullRecord<ProfileDecl>();
  for (const [name, d] of Object.entries<Record<string, any>>(v.profiles ?? {})) {
    profiles[name] = { ...(d ?? {}), params: toNullRecord(d?.params) };
  }
  const steps = nullRecord<StepDecl>();
  for (const [id, s] of Object.entries<Record<string, any>>(v.steps)) {
    steps[id] = {
      id,
      uses: s.uses,
      needs: s.needs === undefined ? [] : Array.isArray(s.needs) ? s.needs : [s.needs],
      with: s.with ?? {},
      ...(s.matrix !== undefined && { matrix: s.matrix }),
      ...(s.resources !== undefined && { resources: s.resources as Resources }),
      ...(s.outputs !== undefined && { outputs: toNullRecord<string>(s.outputs) }),
      ...(s.description !== undefined && { description: s.description }),
      ...(s.if !== undefined && { if: s.if }),
    };
  }
  return {
    file: p.file,
    dir: p.dir,
    sha256: p.sha256,
    name: v.name,
    ...(v.title !== undefined && { title: v.title }),
    ...(v.description !== undefined && { description: v.description }),
    ...(v.paper !== undefined && { paper: v.paper as PaperRef }),
    ...(v.executor !== undefined && { executor: v.executor as ExecutorDecl }),
    params,
    profiles,
    steps,
    ranges: p.ranges,
    keyRanges: p.keyRanges,
  };
}

export { DiagnosticSink };
