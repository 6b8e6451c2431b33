// `repro check FILE`: runs the workflow (cached steps are not re-run) and gates on the verdicts of
// its compare step(s): 0 every required check reproduced, 3 one not reproduced, 4 one inconclusive;
// 2 an invalid workflow, 1 a failed step, 130 interrupted (src/cli/exit-codes.ts).
import type { Command } from 'commander';
import { ExitCode, exitCodeOfGate } from '../exit-codes.js';
import { loadPlanOrFail } from './validate.js';
import { runExitCode, runPlan, withRunOptions, type RunOptions } from './run.js';
import type { RunEvent } from '../../engine/events.js';
import { ReproError } from '../../core/errors.js';

interface CheckOptions extends RunOptions {
  json?: boolean;
  markdown?: boolean;
}

/**
 * For --json and --markdown, stdout carries only the verdicts (to pipe into jq or a PR comment):
 * the run reports one line per step on stderr instead of the terminal renderer.
 */
function stderrLines(opts: CheckOptions): (e: RunEvent) => void {
  const say = (line: string) => {
    if (!opts.quiet) process.stderr.write(line + '\n');
  };
  return (e) => {
    if (e.type === 'run-finished') say(`run record: ${e.record}`);
    else if (e.type === 'step-finished') say(`  done    ${e.step}${e.summary ? `  ${e.summary}` : ''}`);
    else if (e.type === 'step-cached') say(`  cached  ${e.step}`);
    // Failures are printed even with --quiet: they are why the gate did not run.
    else if (e.type === 'step-failed') process.stderr.write(`  FAILED  ${e.step}: ${e.error}${e.hint ? `\n          hint: ${e.hint}` : ''}\n`);
    else if (e.type === 'step-skipped') say(`  skipped ${e.step}: ${e.because}`);
  };
}

export function checkCommand(program: Command): void {
  withRunOptions(
    program
      .command('check')
      .description("run a workflow (cached) and gate on the paper's claims: exit 0 reproduced, 3 not reproduced, 4 inconclusive")
      .argument('<file>', 'the workflow YAML file'),
  )
    .option('--json', 'print {run, record, exitCode, verdicts} as JSON on stdout (step lines go to stderr)')
    .option('--markdown', 'print the verdicts as Markdown on stdout (step lines go to stderr)')
    .addHelpText(
      'after',
      '\nExit codes: 0 every required claim reproduced · 3 a required claim not reproduced · 4 a required claim\ninconclusive · 2 invalid workflow · 1 a step failed · 130 interrupted.\n',
    )
    .action(async (file: string, opts: CheckOptions) => {
      if (opts.json && opts.markdown) throw new ReproError('choose one of --json and --markdown', 'invalid');
      const plan = await loadPlanOrFail(file, { profile: opts.profile, set: opts.set });
      if (!plan.steps.some((s) => s.uses === 'compare')) {
        throw new ReproError(`${file} has no compare step: there is nothing to gate on`, 'invalid', "add a step `uses: compare` with the paper's claims");
      }
      const hooks = opts.json || opts.markdown ? { onEvent: stderrLines(opts) } : {};
      const { record, recordPath } = await runPlan(plan, opts, {}, hooks);
      const status = runExitCode(record);
      if (status === ExitCode.INTERRUPTED) throw new ReproError('interrupted; the next run resumes from the cache', 'interrupted');
      if (status !== ExitCode.OK) {
        throw new ReproError('a step failed: the claims were not checked', 'step-failed', `see the step logs beside ${recordPath}`);
      }

      const { runVerdicts, missingVerdicts, runHardware } = await import('../../compare/runs.js');
      const { renderTable, renderMarkdown } = await import('../../compare/render.js');
      const { combinedGate } = await import('../../compare/gate.js');
      const run = { path: recordPath, record };
      const verdicts = runVerdicts(run);
      if (verdicts.length === 0) {
        throw new ReproError(`no verdicts: ${missingVerdicts(run).join('; ') || 'no compare step ran'}`, 'step-failed');
      }
      const code = exitCodeOfGate(combinedGate(verdicts.map((v) => v.file)));
      if (opts.json) {
        process.stdout.write(JSON.stringify({ run: record.runId, record: recordPath, exitCode: code, verdicts }, null, 2) + '\n');
      } else {
        const color = !opts.markdown && Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
        const parts = verdicts.map((v) =>
          opts.markdown
            ? renderMarkdown(v.file, { title: v.step, hardware: runHardware(run) })
            : renderTable(v.file, { title: v.step, color, hardware: runHardware(run) }),
        );
        process.stdout.write((opts.markdown ? '' : '\n') + parts.join('\n'));
      }
      process.exitCode = code;
    });
}
