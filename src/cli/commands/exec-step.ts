// `repro exec-step <run-dir> <step>` (hidden): what a Slurm job runs. The work is the engine's
// (src/engine/executors/worker.ts, its result file worker-protocol.ts); this command hands it the
// step kinds and the job's signals, prints one line and turns the step's status into an exit code.
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { ExitCode } from '../exit-codes.js';
import { getStepKind } from '../../steps/registry.js';

export function execStepCommand(program: Command): void {
  program
    .command('exec-step', { hidden: true })
    .description('run one step of a run in progress (what a Slurm job runs); not for direct use')
    .argument('<run-dir>', 'results/<workflow>/<run-id> of the run')
    .argument('<step>', 'concrete step id')
    .action(async (runDir: string, stepId: string) => {
      const code = await execStep(resolve(runDir), stepId);
      // The outcome is on disk: end now, even if a library left a timer or worker behind, or the
      // job would hold its allocation until its time limit.
      process.exit(code);
    });
}

export async function execStep(runDir: string, stepId: string): Promise<number> {
  const ac = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => ac.abort(new Error(`interrupted by ${sig}`));
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    const { runJobStep } = await import('../../engine/executors/worker.js');
    const r = await runJobStep(runDir, stepId, { lookupKind: getStepKind, signal: ac.signal });
    process.stdout.write(`repro exec-step: ${stepId}: ${r.status}${r.error ? `: ${r.error}` : ''}\n`);
    return r.status === 'succeeded' || r.status === 'cached' ? ExitCode.OK : r.status === 'interrupted' ? ExitCode.INTERRUPTED : ExitCode.STEP_FAILED;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}
