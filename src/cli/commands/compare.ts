// `repro compare [RUN]`: the verdict table of a run's compare step(s).
// `repro compare RUN_A RUN_B`: metric deltas per variant, which fingerprint components differ per
// step, the environment and execution facts that differ, and which verdicts changed: `repro diff`'s
// renderer (compare/diff-text.ts) in its overview.
import type { Command } from 'commander';
import { ReproError } from '../../core/errors.js';

interface CompareOptions {
  json?: boolean;
  markdown?: boolean;
  results: string;
}

export function compareCommand(program: Command): void {
  program
    .command('compare')
    .description("show a run's verdicts against the paper (table, --json, --markdown), or diff two runs")
    .argument('[runs...]', 'RUN, or RUN_A RUN_B: a run directory, a run.json, a run id, a workflow file or name (default: the newest run)')
    .option('--json', 'print the verdict file(s) (or the diff) as JSON')
    .option('--markdown', 'print Markdown (for a pull-request comment or the report)')
    .option('--results <dir>', 'where run records are', 'results')
    .addHelpText(
      'after',
      '\nExamples:\n  repro compare                                  the newest run\n  repro compare workflows/paper.yaml --markdown\n  repro compare results/hou2016-emd2/20260101-120000-ab12 results/hou2016-emd2/latest\n',
    )
    .action(async (runs: string[], opts: CompareOptions) => {
      if (opts.json && opts.markdown) throw new ReproError('choose one of --json and --markdown', 'invalid');
      if (runs.length > 2) throw new ReproError(`expected at most two runs, got ${runs.length}`, 'invalid');
      const { resolveRun } = await import('../../engine/runs.js');
      const { runVerdicts, missingVerdicts, runHardware } = await import('../../compare/runs.js');
      const { renderTable, renderMarkdown } = await import('../../compare/render.js');

      if (runs.length === 2) {
        // The same diff as `repro diff` (runs or archives), in its overview: every metric, every changed step.
        await (await import('./diff.js')).printRunDiff(runs[0]!, runs[1]!, { json: opts.json, results: opts.results, overview: true, markdown: opts.markdown });
        return;
      }

      const run = await resolveRun(runs[0], opts.results);
      const verdicts = runVerdicts(run);
      if (verdicts.length === 0) {
        const missing = missingVerdicts(run);
        throw new ReproError(
          missing.length
            ? `run ${run.record.runId} has no verdicts: ${missing.join('; ')}`
            : `run ${run.record.runId} has no compare step`,
          'invalid',
          missing.length ? 'fix the failure and run the workflow again' : 'add a step `uses: compare` to the workflow',
        );
      }
      if (opts.json) {
        process.stdout.write(JSON.stringify({ run: run.record.runId, record: run.path, verdicts }, null, 2) + '\n');
        return;
      }
      const color = !opts.markdown && Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
      const parts = verdicts.map((v) => {
        const title = `${v.step} in run ${run.record.runId}`;
        const hardware = runHardware(run);
        return opts.markdown ? renderMarkdown(v.file, { title, hardware }) : renderTable(v.file, { title, color, hardware });
      });
      process.stdout.write(parts.join('\n'));
    });
}
