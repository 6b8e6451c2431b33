// `repro check FILE`: runs the workflow (cached steps are not re-run) and gates on the verdicts of
// its compare step(s): 0 every required check reproduced, 3 one not reproduced, 4 one inconclusive;
// 2 an invalid workflow, 1 a failed step, 130 interrupted (src/cli/exit-codes.ts).
import type { Command } from 'commander';
import { CliError, ExitCode } from '../exit-codes.js';
import { loadPlanOrFail, withWorkflowOptions } from './validate.js';

interface CheckOptions {
  profile?: string;
  set?: string[];
  json?: boolean;
  markdown?: boolean;
  jobs?: string;
  store?: string;
  results?: string;
  backend?: string;
  engine?: string;
  python?: string;
  trust?: boolean;
  quiet?: boolean;
}

export function checkCommand(program: Command): void {
  withWorkflowOptions(
    program
      .command('check')
      .description("run a workflow (cached) and gate on the paper's claims: exit 0 reproduced, 3 not reproduced, 4 inconclusive")
      .argument('<file>', 'the workflow YAML file'),
  )
    .option('--json', 'print the verdicts as JSON on stdout')
    .option('--markdown', 'print the verdicts as Markdown')
    .option('-j, --jobs <n>', 'parallel CPU slots (default: the number of cores)')
    .option('--store <dir>', 'artifact store (default .repro/)')
    .option('--results <dir>', 'where run records go (default results/)')
    .option('--backend <name>', 'ML backend for train/evaluate steps (e.g. wasm, cpu)')
    .option('--engine <name>', 'ML engine (tfjs or torch)')
    .option('--python <path>', 'Python interpreter for the torch engine')
    .option('--trust', 'allow `run` steps of a workflow fetched from a remote repository')
    .option('-q, --quiet', 'print only the verdicts')
    .addHelpText(
      'after',
      '\nExit codes: 0 every required claim reproduced · 3 a required claim not reproduced · 4 a required claim\ninconclusive · 2 invalid workflow · 1 a step failed · 130 interrupted.\n',
    )
    .action(async (file: string, opts: CheckOptions) => {
      if (opts.json && opts.markdown) throw new CliError('choose one of --json and --markdown', ExitCode.INVALID);
      const jobs = opts.jobs === undefined ? undefined : Number(opts.jobs);
      if (jobs !== undefined && !(Number.isInteger(jobs) && jobs > 0)) {
        throw new CliError(`--jobs must be a positive integer, got '${opts.jobs}'`, ExitCode.INVALID);
      }
      const plan = await loadPlanOrFail(file, { profile: opts.profile, set: opts.set });
      if (!plan.steps.some((s) => s.uses === 'compare')) {
        throw new CliError(`${file} has no compare step: there is nothing to gate on`, ExitCode.INVALID, 'add a step `uses: compare` with the paper\'s claims');
      }

      const { execute } = await import('../../engine/executor.js');
      const { runVerdicts, missingVerdicts } = await import('../../compare/runs.js');
      const { renderTable, renderMarkdown } = await import('../../compare/render.js');
      const { gateExitCode } = await import('../../compare/gate.js');

      const abort = new AbortController();
      const onSignal = () => abort.abort(new Error('interrupted'));
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const say = (line: string) => {
        if (!opts.quiet) process.stderr.write(line + '\n');
      };
      const stepOptions: Record<string, unknown> = {};
      for (const key of ['backend', 'engine', 'python', 'trust'] as const) if (opts[key] !== undefined) stepOptions[key] = opts[key];

      let record;
      try {
        record = await execute(plan, {
          jobs,
          store: opts.store,
          results: opts.results,
          signal: abort.signal,
          stepOptions,
          command: ['repro', 'check', ...process.argv.slice(3)],
          onEvent: (e) => {
            if (e.type === 'step-finished') say(`  done    ${e.step}${e.summary ? `  ${e.summary}` : ''}`);
            else if (e.type === 'step-cached') say(`  cached  ${e.step}`);
            else if (e.type === 'step-failed') say(`  FAILED  ${e.step}: ${e.error}${e.hint ? `\n          hint: ${e.hint}` : ''}`);
            else if (e.type === 'step-skipped') say(`  skipped ${e.step}: ${e.because}`);
          },
        });
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
      const { resolve } = await import('node:path');
      const recordPath = resolve(opts.results ?? 'results', record.workflow.name, record.runId, 'run.json');
      say(`run record: ${recordPath}`);
      if (record.status === 'interrupted') throw new CliError('interrupted; the next run resumes from the cache', ExitCode.INTERRUPTED);
      if (record.status === 'failed') {
        throw new CliError('a step failed: the claims were not checked', ExitCode.STEP_FAILED, `see the step logs under ${resolve(recordPath, '..', 'logs')}`);
      }

      const run = { path: recordPath, record };
      const verdicts = runVerdicts(run);
      if (verdicts.length === 0) {
        throw new CliError(`no verdicts: ${missingVerdicts(run).join('; ') || 'no compare step ran'}`, ExitCode.STEP_FAILED);
      }
      const files = verdicts.map((v) => v.file);
      const code = gateExitCode(files);
      if (opts.json) {
        process.stdout.write(JSON.stringify({ run: record.runId, record: recordPath, exitCode: code, verdicts }, null, 2) + '\n');
      } else {
        const color = !opts.markdown && Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
        const parts = verdicts.map((v) =>
          opts.markdown ? renderMarkdown(v.file, { title: v.step }) : renderTable(v.file, { title: v.step, color }),
        );
        process.stdout.write(parts.join('\n'));
      }
      process.exitCode = code;
    });
}
