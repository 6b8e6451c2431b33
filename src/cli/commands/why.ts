// `repro why FILE STEP`: which fingerprint component changed since the last run of STEP.
import type { Command } from 'commander';
import { loadPlanOrFail, withWorkflowOptions, type WorkflowOptions } from './validate.js';
import { stepOptionsFrom, type RunOptions } from './run.js';
import { ReproError } from '../../core/errors.js';

export function whyCommand(program: Command): void {
  withWorkflowOptions(
    program
      .command('why')
      .description('say why a step would run again: which param, input artifact, kind version or backend changed since its last run')
      .argument('<file>', 'the workflow YAML file')
      .argument('<step>', 'a concrete step id ("train[variant=emd2,seed=1]") or a declared id (all its instances)'),
  )
    .option('--store <dir>', 'artifact store (default: .repro in the current directory)')
    .option('--backend <name>', 'as given to `repro run` (it enters train steps\' fingerprints)')
    .option('--engine <name>', 'as given to `repro run`')
    .option('--python <path>', 'as given to `repro run`')
    .option('--json', 'print [{step, lines}] as JSON')
    .action(async (file: string, stepId: string, opts: WorkflowOptions & RunOptions) => {
      const plan = await loadPlanOrFail(file, { profile: opts.profile, set: opts.set });
      const { explainSteps } = await import('../../engine/plan-status.js');
      const { getStepKind } = await import('../../steps/registry.js');
      const explained = await explainSteps(plan, stepId, { kinds: getStepKind, store: opts.store, stepOptions: stepOptionsFrom(opts) });
      if (!explained) {
        const declared = [...new Set(plan.steps.map((s) => s.stepId))];
        const near = plan.steps.map((s) => s.id).filter((id) => id.startsWith(stepId.split('[')[0]!)).slice(0, 3);
        throw new ReproError(`no step '${stepId}' in ${file}`, 'invalid', near.length ? `did you mean ${near.join(', ')}?` : `steps: ${declared.join(', ')}`);
      }
      if (opts.json) {
        process.stdout.write(JSON.stringify(explained, null, 2) + '\n');
        return;
      }
      for (const { step, lines } of explained) {
        process.stdout.write(`${step}: ${lines[0]}\n`);
        for (const l of lines.slice(1)) process.stdout.write(`${l}\n`);
      }
    });
}
