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

/** How a command names the workflow it reads, and whether the user trusts it. */
export interface WorkflowArgOptions extends Omit<LoadOptions, 'kinds' | 'untrusted'> {
  /** Given by commands that execute: whether the user passed --trust (undefined: the command only reads). */
  trust?: boolean;
  /** The file was unpacked from an archive into this folder (`repro reproduce`): someone else's, as a git URL's. */
  archiveRoot?: string;
}

/**
 * A workflow named as a file or as `URL#path@rev` (the revision is resolved to a commit and checked
 * out first, then loaded like a local file): every command that reads a workflow takes both.
 */
export async function loadWorkflowArg(file: string, options: WorkflowArgOptions): Promise<LoadResult> {
  const { parseRemoteWorkflow, checkoutRemoteWorkflow } = await import('../../share/remote.js');
  const { archiveRoot, trust, ...load } = options;
  const remote = parseRemoteWorkflow(file);
  const checkout = remote ? await checkoutRemoteWorkflow(remote) : null;
  // One trust decision for every way a workflow arrives (src/workflow/trust.ts): a command that
  // executes says whether the user trusts it, and a workflow from a git URL or an archive without
  // --trust has each place that needs it reported. A local file is the user's own.
  const origin = checkout ? { from: 'git' as const, root: checkout.root } : archiveRoot !== undefined ? { from: 'archive' as const, root: archiveRoot } : null;
  // Trusted: nothing to say. A command that only reads lists the places as warnings.
  const untrusted = !origin || trust === true ? undefined : { ...origin, ...(trust === undefined ? { readOnly: true } : {}) };
  const result = await loadWorkflow(checkout?.file ?? file, { ...load, ...(untrusted ? { untrusted } : {}) });
  if (result.plan && checkout) result.plan.workflow.source = checkout.source;
  return result;
}

/**
 * The workflow is refused only for want of --trust, each place already printed at its file:line:col:
 * a caller that knows a better name for the file (an archive's, whose unpacked copy it removes)
 * recognises it by its class and words it again with the same count.
 */
export class TrustRefusal extends ReproError {
  constructor(
    where: string,
    /** How many places need --trust. */
    readonly places: number,
    hint = "read them, then pass --trust if you trust the workflow's author",
  ) {
    super(`${where}: ${places} place(s) above need --trust; nothing ran`, 'invalid', hint);
    this.name = 'TrustRefusal';
  }
}

/**
 * For commands that need a valid plan (run, check, ...): prints every diagnostic to stderr and
 * ends the command with exit code 2 when the workflow is invalid.
 */
export async function loadPlanOrFail(file: string, options: WorkflowArgOptions, shownAs?: (file: string) => string): Promise<Plan> {
  const result = await loadWorkflowArg(file, options);
  if (!result.plan) {
    // `shownAs`: where the user can open a file after a refusal (`repro reproduce` removes its unpacked
    // copy): every place and the summary line name it so.
    const shown = shownAs ?? ((f: string) => f);
    printDiagnostics(result.diagnostics.map((d) => ({ ...d, file: shown(d.file) })));
    const errors = result.diagnostics.filter((d) => d.severity === 'error');
    if (errors.length && errors.every((d) => d.code === 'needs-trust')) {
      throw new TrustRefusal(shown(file), errors.length);
    }
    throw new ReproError(`${shown(file)}: invalid workflow, nothing ran`, 'invalid');
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
