import type { Command } from 'commander';
import { ExitCode } from '../exit-codes.js';
import { formatDiagnostics, type Diagnostic } from '../../workflow/diagnostics.js';
import type { LoadOptions, LoadResult } from '../../workflow/index.js';
import type { Plan } from '../../workflow/types.js';
import { ReproError } from '../../core/errors.js';

/** Options every command that reads a workflow accepts. */
export interface WorkflowOptions {
  profile?: string;
  set?: string[];
  json?: boolean;
}

/** Adds --profile and the repeatable --set to a command. */
export function withWorkflowOptions(cmd: Command): Command {
  return cmd
    .option('-p, --profile <name>', "use this profile's param values (default: the profile marked default)")
    .option('-s, --set <name=value>', 'override a param (NAME=VALUE, params.NAME=VALUE), a step input (steps.ID.with.KEY=VALUE) or switch a step on or off (steps.ID.if=true|false); repeatable', collect, [] as string[]);
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function printDiagnostics(diagnostics: Diagnostic[]): void {
  if (!diagnostics.length) return;
  const color = Boolean(process.stderr.isTTY) && !process.env.NO_COLOR;
  process.stderr.write(formatDiagnostics(diagnostics, { color }));
}

/** loadPlan with the registry's step kinds: the CLI is where the kinds meet the planner and the engine. */
export async function loadWorkflow(file: string, options: Omit<LoadOptions, 'kinds'>): Promise<LoadResult> {
  const [{ loadPlan }, { stepKinds }] = await Promise.all([import('../../workflow/index.js'), import('../../steps/registry.js')]);
  return loadPlan(file, { ...options, kinds: stepKinds });
}

/**
 * A workflow named as a file or as `URL#path@rev` (the pinned revision is checked out first, then
 * loaded like a local file): every command that reads a workflow takes both.
 */
export async function loadWorkflowArg(file: string, options: Omit<LoadOptions, 'kinds' | 'untrusted'> & { trust?: boolean }): Promise<LoadResult> {
  const { parseRemoteWorkflow, checkoutRemoteWorkflow } = await import('../../share/remote.js');
  const remote = parseRemoteWorkflow(file);
  const checkout = remote ? await checkoutRemoteWorkflow(remote) : null;
  // A command that executes says whether the user trusts it (`trust` given): a remote workflow without
  // --trust has each place that needs it reported (src/workflow/trust.ts).
  const untrusted = checkout !== null && options.trust === false;
  const result = await loadWorkflow(checkout?.file ?? file, { ...options, untrusted });
  if (result.plan && checkout) result.plan.workflow.source = checkout.source;
  return result;
}

/**
 * For commands that need a valid plan (run, check, ...): prints every diagnostic to stderr and
 * ends the command with exit code 2 when the workflow is invalid.
 */
export async function loadPlanOrFail(file: string, options: Omit<LoadOptions, 'kinds' | 'untrusted'> & { trust?: boolean }): Promise<Plan> {
  const result = await loadWorkflowArg(file, options);
  if (!result.plan) {
    printDiagnostics(result.diagnostics);
    const errors = result.diagnostics.filter((d) => d.severity === 'error');
    if (errors.length && errors.every((d) => d.code === 'needs-trust')) {
      throw new ReproError(`${file}: ${errors.length} place(s) above need --trust; nothing ran`, 'invalid', 'read them, then pass --trust if you trust the workflow\'s author');
    }
    throw new ReproError(`${file}: invalid workflow, nothing ran`, 'invalid');
  }
  printDiagnostics(result.diagnostics); // warnings
  return result.plan;
}

export function summarize(result: LoadResult): { steps: number; concrete: number; disabled: string[] } {
  return {
    steps: result.workflow ? Object.keys(result.workflow.steps).length : 0,
    concrete: result.plan?.steps.length ?? 0,
    disabled: result.plan?.disabled ?? [],
  };
}

export function validateCommand(program: Command): void {
  withWorkflowOptions(
    program
      .command('validate')
      .description('check a workflow: YAML, schema, names, references, cycles, matrix and step inputs (exit 0 when valid, 2 when not)')
      .argument('<file>', 'the workflow YAML file, or URL#path@rev of one in a git repository'),
  )
    .option('--json', 'print {ok, file, profile, steps, concrete, disabled, diagnostics} as JSON on stdout')
    .action(async (file: string, opts: WorkflowOptions) => {
      // The analyzer (yaml, ajv) loads only when a command needs it, so `repro --help` stays instant.
      const result = await loadWorkflowArg(file, { profile: opts.profile, set: opts.set });
      const counts = summarize(result);
      const ok = result.plan !== null;
      if (opts.json) {
        process.stdout.write(JSON.stringify({ ok, file, profile: result.plan?.profile ?? null, ...counts, diagnostics: result.diagnostics }, null, 2) + '\n');
      } else {
        printDiagnostics(result.diagnostics);
        if (ok) {
          const profile = result.plan!.profile ? `, profile ${result.plan!.profile}` : '';
          const disabled = counts.disabled.length ? `, ${counts.disabled.length} disabled` : '';
          process.stdout.write(`ok: ${counts.steps} steps (${counts.concrete} concrete${disabled}${profile})\n`);
        }
      }
      if (!ok) process.exitCode = ExitCode.INVALID;
    });
}
