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
      .argument('<file>', 'the workflow YAML file, or URL#path@rev of one in a git repository')
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
      for (const { steps, lines } of groupExplained(explained)) {
        process.stdout.write(`${steps.length === 1 ? steps[0] : instancesLabel(steps)}: ${lines[0]}\n`);
        for (const l of lines.slice(1)) process.stdout.write(`${l}\n`);
      }
    });
}

// Hashes and times are what differs between instances that changed for the same reason.
const VARYING = [/\b[0-9a-f]{8,}…/g, /\b\d{4}-\d\d-\d\dT[\d:.]+Z\b/g, /\(\d{8}-\d{6}-[0-9a-f]{4}\)/g];
const normalize = (line: string) => VARYING.reduce((l, re) => l.replace(re, '…'), line);

/**
 * Matrix instances of one declared step whose explanations are the same but for hashes and times
 * are printed once (`train (35 instances: variant=xe…, seed=1…5)`), in the order they first appear.
 */
export function groupExplained(explained: Array<{ step: string; lines: string[] }>): Array<{ steps: string[]; lines: string[] }> {
  const groups = new Map<string, { steps: string[]; lines: string[] }>();
  for (const { step, lines } of explained) {
    const key = `${step.split('[')[0]}\0${lines.map(normalize).join('\n')}`;
    const g = groups.get(key);
    if (g) {
      g.steps.push(step);
      g.lines = g.lines.map(normalize);
    } else groups.set(key, { steps: [step], lines });
  }
  return [...groups.values()];
}

/** `train (3 instances: variant=xe,emd2; seed=1,2)` from concrete ids `train[variant=xe,seed=1]`… */
function instancesLabel(steps: string[]): string {
  const axes = new Map<string, string[]>();
  for (const id of steps) {
    const inner = id.match(/\[(.*)\]$/)?.[1] ?? '';
    for (const pair of inner.split(',')) {
      const eq = pair.indexOf('=');
      if (eq < 0) continue;
      const [k, v] = [pair.slice(0, eq), pair.slice(eq + 1)];
      const vals = axes.get(k) ?? [];
      if (!vals.includes(v)) vals.push(v);
      axes.set(k, vals);
    }
  }
  const desc = [...axes].map(([k, vals]) => `${k}=${vals.join(',')}`).join('; ');
  return `${steps[0]!.split('[')[0]} (${steps.length} instances${desc ? `: ${desc}` : ''})`;
}
