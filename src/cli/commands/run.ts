// `repro run FILE`: plan the workflow, execute it (cache, store, run record), print the summary.
// Heavy parts (the engine, the step kinds) are imported inside the action so `repro --help` stays fast.
import type { Command } from 'commander';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { ExitCode } from '../exit-codes.js';
import { onOutputClosed } from '../output.js';
import { loadPlanOrFail, withWorkflowOptions, type WorkflowOptions } from './validate.js';
import type { Plan } from '../../workflow/types.js';
import type { RunRecord } from '../../formats/run-record.js';
import type { RunEvent } from '../../engine/events.js';
import type { ExecutorCliOptions } from '../../engine/executors/config.js';
import { ReproError } from '../../core/errors.js';

/** With --executor local|slurm and the Slurm settings (src/engine/executors/config.ts). */
export interface RunOptions extends WorkflowOptions, ExecutorCliOptions {
  jobs?: string;
  force?: string[];
  store?: string;
  results?: string;
  backend?: string;
  engine?: string;
  python?: string;
  trust?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  waitLock?: boolean;
  /** false with --no-report: skip the report, checklist and RO-Crate at the end of the run. */
  report?: boolean;
}

const collect = (v: string, prev: string[]) => [...prev, v];

/** Adds the options shared by commands that execute a workflow (run, check). */
export function withRunOptions(cmd: Command): Command {
  return withWorkflowOptions(cmd)
    .option('-j, --jobs <n>', 'run up to N CPU tokens of steps at once (default: the number of cores)')
    .option('-f, --force <step>', 'run this step even if cached (a concrete id like "train[seed=1]" or a declared id); repeatable', collect, [] as string[])
    .option('--store <dir>', 'artifact store (default: .repro in the current directory)')
    .option('--results <dir>', 'where run records go (default: results in the current directory)')
    .option('--backend <name>', 'ML backend for train steps (auto, tensorflow-gpu, tensorflow, wasm, cpu)')
    .option('--engine <name>', 'training engine (tfjs, torch)')
    .option('--python <path>', 'Python interpreter for the torch engine')
    .option('--trust', 'let a workflow from a remote repository run commands, read environment variables, pass executor settings to sbatch and read files outside its checkout (docs/engine.md, trust)')
    .option('--wait-lock', 'if another repro process holds the store, wait for it instead of failing (exit 6)')
    .option('-q, --quiet', 'print only failures and the summary')
    .option('-v, --verbose', 'also print cached steps and every log line')
    .option('--no-report', 'do not write report.html, report.md, the checklist and the RO-Crate next to run.json')
    .option('--executor <name>', 'where steps run: local (default) or slurm (one batch job per step; docs/slurm.md)')
    .option('--executor-config <file>', 'executor settings (type, partition, account, time, flags, poll) from a YAML file')
    .option('--partition <name>', 'Slurm: the partition the jobs go to')
    .option('--account <name>', 'Slurm: the account charged for the jobs')
    .option('--time <limit>', 'Slurm: time limit of each job (e.g. 04:00:00)')
    .option('--sbatch-flag <flag>', 'Slurm: one more sbatch flag, e.g. --sbatch-flag=--qos=high; repeatable', collect, [] as string[]);
}

/** The options every step sees as ctx.options. `remote` is set when the workflow came from a git URL. */
export function stepOptionsFrom(opts: RunOptions, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const o: Record<string, unknown> = { trust: opts.trust === true, remote: false, ...extra };
  if (opts.backend) o.backend = opts.backend;
  if (opts.engine) o.engine = opts.engine;
  if (opts.python) o.python = opts.python;
  if (opts.jobs !== undefined) o.jobs = parseJobs(opts.jobs);
  return o;
}

export function parseJobs(jobs: string | undefined): number | undefined {
  if (jobs === undefined) return undefined;
  const n = Number(jobs);
  if (!Number.isInteger(n) || n < 1) throw new ReproError(`--jobs must be a positive integer, got '${jobs}'`, 'invalid');
  return n;
}

/** Every --force names a step of the plan (a typo must not silently force nothing). */
export function checkForce(plan: Plan, force: string[]): void {
  const ids = new Set(plan.steps.flatMap((s) => [s.id, s.stepId]));
  for (const f of force) {
    if (ids.has(f)) continue;
    const near = [...ids].filter((id) => id.startsWith(f.split('[')[0]!)).slice(0, 3);
    throw new ReproError(`--force ${f}: no such step`, 'invalid', near.length ? `did you mean ${near.join(', ')}?` : `steps: ${[...new Set(plan.steps.map((s) => s.stepId))].join(', ')}`);
  }
}

/**
 * Executes a loaded plan with the terminal or JSON renderer, Ctrl-C handling and the summary.
 * Shared with `repro check`. Returns the record; exit codes are the caller's (see runExitCode).
 */
export interface RunPlanHooks {
  /**
   * Takes every event instead of the terminal/JSON renderers, and turns off the summary table and the
   * report line on stdout (`repro check --json/--markdown` keeps stdout for the verdicts).
   */
  onEvent?: (e: RunEvent) => void;
}

export async function runPlan(
  plan: Plan,
  opts: RunOptions,
  extraStepOptions: Record<string, unknown> = {},
  hooks: RunPlanHooks = {},
): Promise<{ record: RunRecord; recordPath: string }> {
  const stepOptions = stepOptionsFrom(opts, { remote: plan.workflow.source !== undefined, ...extraStepOptions });
  checkForce(plan, opts.force ?? []);
  const jobs = parseJobs(opts.jobs);
  const { createExecutor } = await import('../../engine/executors/config.js');
  const executor = await createExecutor(opts, plan.workflow.executor);
  const { execute } = await import('../../engine/executor.js');
  const { getStepKind } = await import('../../steps/registry.js');
  const { TerminalRenderer, renderSummary } = await import('../render/terminal.js');
  const { jsonRenderer } = await import('../render/json.js');
  const quietStdout = opts.json === true || hooks.onEvent !== undefined;
  const terminal = quietStdout ? null : new TerminalRenderer({ quiet: opts.quiet, verbose: opts.verbose });
  const onEvent = hooks.onEvent ?? (opts.json ? jsonRenderer() : terminal!.onEvent);

  // Ctrl-C / SIGTERM: stop the steps, mark the run interrupted. A second Ctrl-C exits at once.
  const ac = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      if (!quietStdout) process.stderr.write(`\nrepro: ${sig}: stopping the running steps (again to quit at once)\n`);
      ac.abort(new Error(`interrupted by ${sig}`));
    } else process.exit(ExitCode.INTERRUPTED);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // The reader of our output went away (`repro run --json | head -1`): stop like an interrupt, quietly.
  const stopWatchingOutput = onOutputClosed(() => {
    if (!ac.signal.aborted) ac.abort(new Error('interrupted: the output pipe was closed'));
  });
  let record: RunRecord;
  let recordPath = '';
  try {
    record = await execute(plan, {
      kinds: getStepKind,
      jobs,
      force: opts.force,
      store: opts.store,
      results: opts.results,
      onEvent: (e) => {
        if (e.type === 'run-finished') recordPath = e.record;
        onEvent(e);
      },
      signal: ac.signal,
      stepOptions,
      command: ['repro', ...process.argv.slice(2)],
      waitLock: opts.waitLock,
      ...(executor ? { executor } : {}),
    });
  } finally {
    terminal?.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    stopWatchingOutput();
  }
  if (!quietStdout) {
    process.stdout.write(renderSummary(record, recordPath, { color: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR }));
  }
  if (recordPath && record.status !== 'interrupted' && opts.report !== false) await writeReport(record, recordPath, quietStdout || opts.quiet === true);
  return { record, recordPath };
}

/** Every run gets its report, checklist and RO-Crate next to run.json; a report failure never fails the run. */
async function writeReport(record: RunRecord, recordPath: string, quiet: boolean): Promise<void> {
  const runDir = dirname(recordPath);
  try {
    const { writeRunReport } = await import('../../report/index.js');
    const written = await writeRunReport(runDir, { reuseRenderedFrom: sameFingerprintsRun(record, runDir) });
    if (!quiet) process.stdout.write(`report: ${relative(process.cwd(), written.files['report.html'])}\n`);
  } catch (err) {
    process.stderr.write(`repro: warning: the run's report could not be written: ${(err as Error).message}\n`);
  }
}

/** The previous run of this workflow if it ran exactly the same steps with the same fingerprints. */
function sameFingerprintsRun(record: RunRecord, runDir: string): string | null {
  if (record.status !== 'succeeded' || record.steps.some((s) => s.status !== 'cached')) return null;
  const wfDir = dirname(runDir);
  const key = (r: RunRecord) => r.steps.map((s) => `${s.id}=${s.fingerprint}`).sort().join('\n');
  const previous = readdirSync(wfDir)
    .filter((d) => d !== 'latest' && join(wfDir, d) !== runDir && existsSync(join(wfDir, d, 'report.html')))
    .sort()
    .reverse()[0];
  if (!previous) return null;
  try {
    const prev = JSON.parse(readFileSync(join(wfDir, previous, 'run.json'), 'utf8')) as RunRecord;
    return prev.status === 'succeeded' && key(prev) === key(record) ? join(wfDir, previous) : null;
  } catch {
    return null;
  }
}

export function runExitCode(record: RunRecord): number {
  if (record.status === 'interrupted') return ExitCode.INTERRUPTED;
  if (record.status === 'failed') return ExitCode.STEP_FAILED;
  return ExitCode.OK;
}

export function runCommand(program: Command): void {
  withRunOptions(
    program
      .command('run')
      .description('run a workflow: steps whose inputs did not change come from the cache; writes results/<workflow>/<run-id>/run.json')
      .argument('<file>', 'the workflow YAML file, or URL#path@rev of one in a git repository'),
  )
    .option('--json', 'print every event as one JSON object per line on stdout (no summary)')
    .action(async (file: string, opts: RunOptions) => {
      const plan = await loadPlanOrFail(file, { profile: opts.profile, set: opts.set, trust: opts.trust === true });
      const { record } = await runPlan(plan, opts);
      process.exitCode = runExitCode(record);
    });
}
