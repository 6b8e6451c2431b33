import type { Command } from 'commander';
import { ExitCode } from '../exit-codes.js';
import { displayPath } from '../../workflow/diagnostics.js';
import type { ConcreteStep, Plan } from '../../workflow/types.js';
import type { StepPlanStatus } from '../../engine/plan-status.js';
import { loadWorkflowArg, printDiagnostics, withWorkflowOptions, type WorkflowOptions } from './validate.js';

/** Shown instead of a secret param's value. */
const MASK = '***';

export function planCommand(program: Command): void {
  withWorkflowOptions(
    program
      .command('plan')
      .description('show the expanded steps: one line per concrete step with its fingerprint, and whether it would run or come from cache')
      .argument('<file>', 'the workflow YAML file, or URL#path@rev of one in a git repository'),
  )
    .option('--store <dir>', 'artifact store to look up cached results in (default: ./.repro)')
    .option('--json', 'print the plan as JSON on stdout')
    .action(async (file: string, opts: WorkflowOptions & { store?: string }) => {
      const result = await loadWorkflowArg(file, { profile: opts.profile, set: opts.set });
      if (!result.plan) {
        if (opts.json) process.stdout.write(JSON.stringify({ ok: false, file, diagnostics: result.diagnostics }, null, 2) + '\n');
        else printDiagnostics(result.diagnostics);
        process.exitCode = ExitCode.INVALID;
        return;
      }
      const plan = result.plan;
      const { planStatus } = await import('../../engine/plan-status.js');
      const { getStepKind } = await import('../../steps/registry.js');
      const statuses = await planStatus(plan, { kinds: getStepKind, store: opts.store });
      if (opts.json) {
        process.stdout.write(JSON.stringify(planJson(plan, statuses, result.diagnostics), null, 2) + '\n');
        return;
      }
      printDiagnostics(result.diagnostics); // warnings only, here
      process.stdout.write(renderPlan(plan, statuses));
    });
}

/** The machine-readable plan: everything `repro run` would do, secrets masked. */
export function planJson(plan: Plan, statuses: StepPlanStatus[], diagnostics: unknown[] = []): Record<string, unknown> {
  const byStep = new Map(statuses.map((s) => [s.step, s]));
  const params = Object.fromEntries(Object.entries(plan.params).map(([k, v]) => [k, plan.secretParams.includes(k) && v !== null ? MASK : v]));
  return {
    ok: true,
    workflow: { name: plan.workflow.name, title: plan.workflow.title ?? null, file: plan.workflow.file, sha256: plan.workflow.sha256 },
    profile: plan.profile,
    params,
    secretParams: plan.secretParams,
    // Declared steps whose `if:` is false under this profile and params: not in `steps`.
    disabled: plan.disabled ?? [],
    steps: plan.steps.map((s) => {
      const st = byStep.get(s.id);
      return {
        id: s.id,
        stepId: s.stepId,
        uses: s.uses,
        matrix: s.matrix,
        deps: s.deps,
        resources: s.resources,
        outputs: s.outputs,
        with: s.with,
        fingerprint: st?.fingerprint ?? null,
        status: st?.status ?? 'would run',
        reason: st?.reason ?? '',
      };
    }),
    diagnostics,
  };
}

/** The plan as a table, one line per concrete step. */
export function renderPlan(plan: Plan, statuses: StepPlanStatus[]): string {
  const byStep = new Map(statuses.map((s) => [s.step, s]));
  const instances = new Map<string, ConcreteStep[]>();
  for (const s of plan.steps) instances.set(s.stepId, [...(instances.get(s.stepId) ?? []), s]);
  const rows = plan.steps.map((s) => {
    const st = byStep.get(s.id);
    return [s.id, s.uses, st?.fingerprint ? st.fingerprint.slice(0, 12) : '-', st?.status ?? 'would run', compactDeps(s.deps, plan, instances), st?.reason ?? ''];
  });
  const header = ['STEP', 'KIND', 'FINGERPRINT', 'STATUS', 'NEEDS', 'REASON'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const cached = statuses.filter((s) => s.status === 'cached').length;
  const declared = Object.keys(plan.workflow.steps).length;
  // A git workflow is named as the user named it (URL#path@rev, and the commit it resolved to), not by its checkout path.
  const src = plan.workflow.source;
  const file = src ? `${src.url}#${src.path}@${src.rev} = ${src.commit.slice(0, 12)}` : displayPath(plan.workflow.file);
  const title = [
    `${plan.workflow.name} (${file})`,
    plan.profile ? `profile ${plan.profile}` : null,
    `${declared} steps, ${plan.steps.length} concrete: ${plan.steps.length - cached} would run, ${cached} cached`,
  ]
    .filter(Boolean)
    .join(' · ');
  const disabled = plan.disabled?.length ? [`disabled: ${plan.disabled.join(', ')} (if: false)`] : [];
  return [title, line(header), ...rows.map(line), ...disabled].join('\n') + '\n';
}

/**
 * Dependencies, shortened: every instance of a matrix step becomes 'train[*]×10', so a compare
 * step's line does not list fifty ids.
 */
export function compactDeps(deps: string[], plan: Plan, instances: Map<string, ConcreteStep[]>): string {
  if (!deps.length) return '-';
  const stepOf = new Map(plan.steps.map((s) => [s.id, s.stepId]));
  const groups = new Map<string, string[]>();
  for (const d of deps) {
    const sid = stepOf.get(d) ?? d;
    groups.set(sid, [...(groups.get(sid) ?? []), d]);
  }
  return [...groups]
    .map(([sid, ids]) => {
      const total = instances.get(sid)?.length ?? ids.length;
      if (ids.length === 1) return ids[0]!;
      return ids.length === total ? `${sid}[*]×${ids.length}` : `${sid}[…]×${ids.length}`;
    })
    .join(', ');
}
