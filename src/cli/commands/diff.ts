// `repro diff RUN_A RUN_B`: why two runs' results differ. Lists only what differs: parameters, steps
// whose fingerprint changed (with, inputs and code by hash), the environment (CPU model and features,
// cores, Node, packages, GPUs, Python and torch), each step's execution facts (engine, backend,
// device, threads, a run step's interpreter and package versions), metric deltas with their interval
// and an equivalence verdict, and claims whose verdict changed. Runs or export archives.
import type { Command } from 'commander';
import type { FingerprintComponents } from '../../engine/fingerprint.js';

interface DiffOptions {
  json?: boolean;
  results: string;
  /** `repro compare A B`: every metric and every changed step (renderDifferences' overview). */
  overview?: boolean;
  markdown?: boolean;
}

/** Two runs (or archives) diffed and printed: `repro diff`, and `repro compare` with two runs. */
export async function printRunDiff(a: string, b: string, opts: DiffOptions): Promise<void> {
  const { openRunOrArchive } = await import('../../share/open-run.js');
  const { diffRuns, measurementsOfRuns } = await import('../../compare/runs.js');
  const { diffHeading, renderDifferences } = await import('../../compare/diff-text.js');
  const { diffComponents, diffParams } = await import('../../engine/fingerprint.js');
  const { measurementsFrom } = await import('../../share/reproduce.js');
  const { getStepKind } = await import('../../steps/registry.js');
  const runA = await openRunOrArchive(a, opts.results);
  try {
    const runB = await openRunOrArchive(b, opts.results);
    try {
      const measurements = measurementsOfRuns([runA.run.record, runB.run.record], measurementsFrom(getStepKind));
      const diff = diffRuns(
        runA.run,
        runB.run,
        {
          // run.json keeps the components as plain JSON; they are the engine's FingerprintComponents.
          components: (x, y) => diffComponents(x as unknown as FingerprintComponents, y as unknown as FingerprintComponents),
          params: diffParams,
        },
        { measurements },
      );
      if (opts.json) {
        process.stdout.write(JSON.stringify(diff, null, 2) + '\n');
        return;
      }
      const markdown = Boolean(opts.markdown);
      process.stdout.write(diffHeading(diff, { a, b }, { markdown }) + renderDifferences(diff, { overview: opts.overview === true, markdown }));
    } finally {
      runB.close();
    }
  } finally {
    runA.close();
  }
}

export function diffCommand(program: Command): void {
  program
    .command('diff')
    .description('why two runs differ: params, inputs and code by hash, environment, packages, execution facts, metric deltas with intervals, verdicts (only what differs)')
    .argument('<run-a>', 'a run (directory, run.json, id, workflow) or an archive from `repro export`')
    .argument('<run-b>', 'the same, for the other run')
    .option('--json', 'print the diff as JSON')
    .option('--results <dir>', 'where run records are', 'results')
    .action((a: string, b: string, opts: DiffOptions) => printRunDiff(a, b, opts));
}
