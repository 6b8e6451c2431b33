// `repro check FILE`: runs the workflow (cached steps are not re-run) and gates on the verdicts of
// its compare step(s): 0 every required check reproduced, 3 one not reproduced, 4 one inconclusive;
// 2 an invalid workflow, 1 a failed step, 130 interrupted (src/cli/exit-codes.ts).
import type { Command } from 'commander';
import { ExitCode, exitCodeOfGate } from '../exit-codes.js';
import { loadPlanOrFail } from './validate.js';
import { runExitCode, runPlan, withRunOptions, type RunOptions, type RunPlanHooks } from './run.js';
import type { Plan } from '../../workflow/types.js';
import type { RunEvent } from '../../engine/events.js';
import { ReproError } from '../../core/errors.js';
import { againstBaseline, findBaseline, renderDrift } from './check-against.js';
import { roleOf } from '../../formats/run-record.js';

interface CheckOptions extends RunOptions {
  json?: boolean;
  markdown?: boolean;
  untilDecided?: boolean;
  maxSeeds?: string;
  maxTime?: string;
  round?: string;
  spending?: string;
  against?: string;
}

/** '90s', '10m', '1.5h' or plain seconds → seconds. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h)?\s*$/.exec(text);
  if (!m) throw new ReproError(`--max-time '${text}' is not a duration`, 'invalid', "write seconds (600), or with a unit: 90s, 10m, 1.5h");
  const unit = m[2] ?? 's';
  return Number(m[1]) * (unit.startsWith('h') ? 3600 : unit.startsWith('m') ? 60 : 1);
}

function positiveInt(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new ReproError(`${flag} must be a whole number ≥ 1 (got '${text}')`, 'invalid');
  return n;
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
      .argument('<file>', 'the workflow YAML file, or URL#path@rev of one in a git repository'),
  )
    .option('--json', 'print {run, record, exitCode, verdicts} as JSON on stdout (step lines go to stderr)')
    .option('--markdown', 'print the verdicts as Markdown on stdout (step lines go to stderr)')
    .option('--until-decided', 'add seeds in rounds (cached trainings reused) until every required claim is decided under the verdict rule (its benefit ruled out, or its gain shown at least the smallest effect) or the budget is spent; group-sequential, exact boundaries (docs/compare.md)')
    .option('--max-seeds <n>', 'with --until-decided: at most this many seeds in all')
    .option('--max-time <duration>', "with --until-decided: stop before a round that would take the check past this wall time (600, 10m, 1h)")
    .option('--round <n>', 'with --until-decided: seeds added per round (default: as many as the first look has)')
    .option('--spending <function>', "with --until-decided: the alpha-spending function, 'obrien-fleming' (default: strict early looks) or 'pocock' (flat boundaries)")
    .option('--against <baseline>', "drift gate: exit 3 unless this run's seeds are equivalent, metric by metric, to a baseline's (a run, or an archive from `repro export`)")
    .addHelpText(
      'after',
      '\nExit codes: 0 every required claim reproduced · 3 a required claim not reproduced (or --against: drift) · 4 a required claim\ninconclusive (with --until-decided: also when the budget ran out first) · 2 invalid workflow · 1 a step failed · 130 interrupted.\n',
    )
    .action(async (file: string, opts: CheckOptions) => {
      if (opts.json && opts.markdown) throw new ReproError('choose one of --json and --markdown', 'invalid');
      const plan = await loadPlanOrFail(file, { profile: opts.profile, set: opts.set, trust: opts.trust === true });
      if (!plan.steps.some((s) => roleOf(s) === 'comparison')) {
        throw new ReproError(`${file} has no compare step: there is nothing to gate on`, 'invalid', "add a step `uses: compare` with the paper's claims");
      }
      const hooks = opts.json || opts.markdown ? { onEvent: stderrLines(opts) } : {};
      if (opts.untilDecided && opts.against) throw new ReproError('--against gates one run: it cannot be combined with --until-decided', 'invalid');
      if (opts.against) await findBaseline(opts.against, opts);
      if (opts.untilDecided) {
        await untilDecided(file, plan, opts, hooks);
        return;
      }
      if (opts.maxSeeds !== undefined || opts.maxTime !== undefined || opts.round !== undefined || opts.spending !== undefined) {
        throw new ReproError('--max-seeds, --max-time, --round and --spending belong to --until-decided', 'invalid', 'add --until-decided');
      }
      const { record, recordPath } = await runForClaims(plan, opts, hooks);

      const { runVerdicts, missingVerdicts, runHardware } = await import('../../compare/runs.js');
      const { renderTable, renderMarkdown } = await import('../../compare/render.js');
      const { combinedGate } = await import('../../compare/gate.js');
      const run = { path: recordPath, record };
      const verdicts = runVerdicts(run);
      if (verdicts.length === 0) {
        throw new ReproError(`no verdicts: ${missingVerdicts(run).join('; ') || 'no compare step ran'}`, 'step-failed');
      }
      let code: number = exitCodeOfGate(combinedGate(verdicts.map((v) => v.file)));
      const drift = opts.against ? await againstBaseline(run, opts.against, opts) : null;
      if (drift && !drift.pass) code = ExitCode.NOT_REPRODUCED;
      if (opts.json) {
        process.stdout.write(JSON.stringify({ run: record.runId, record: recordPath, exitCode: code, verdicts, ...(drift ? { drift } : {}) }, null, 2) + '\n');
      } else {
        const color = !opts.markdown && Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
        const parts = verdicts.map((v) =>
          opts.markdown
            ? renderMarkdown(v.file, { title: v.step, hardware: runHardware(run) })
            : renderTable(v.file, { title: v.step, color, hardware: runHardware(run) }),
        );
        process.stdout.write((opts.markdown ? '' : '\n') + parts.join('\n'));
        if (drift) process.stdout.write(renderDrift(drift));
      }
      process.exitCode = code;
    });
}

/** Runs the plan; the claims are read only from a run whose every step succeeded (else interrupted / step-failed). */
async function runForClaims(plan: Plan, opts: CheckOptions, hooks: RunPlanHooks): ReturnType<typeof runPlan> {
  const ran = await runPlan(plan, opts, {}, hooks);
  const status = runExitCode(ran.record);
  if (status === ExitCode.INTERRUPTED) throw new ReproError('interrupted; the next run resumes from the cache', 'interrupted');
  if (status !== ExitCode.OK) {
    throw new ReproError('a step failed: the claims were not checked', 'step-failed', `see the step logs beside ${ran.recordPath}`);
  }
  return ran;
}

interface Round {
  look: number;
  seeds: number;
  record: string;
  wallSeconds: number;
  verdicts: Record<string, string>;
}

/**
 * Rounds of seeds until every required claim is terminal under the verdict rule (src/compare/sequential.ts:
 * decided): its benefit ruled out (not reproduced, smaller than claimed) or its gain shown at least the
 * smallest effect (reproduced). Look 1 is the
 * workflow's own seeds; each round adds `round` seeds (the next integers) with --set PARAM=[…], so every
 * training already in the cache is reused. The largest number of seeds is fixed before the first
 * verdict is read: --max-seeds, or what --max-time affords at the measured time per seed.
 */
async function untilDecided(file: string, first: Plan, opts: CheckOptions, hooks: RunPlanHooks): Promise<void> {
  const seq = await import('../../compare/sequential.js');
  const { renderTable, renderMarkdown } = await import('../../compare/render.js');
  const { combinedGate } = await import('../../compare/gate.js');
  const { fmtSeconds } = await import('../../compare/verdicts.js');
  const axis = seq.seedAxisOf(first);
  const maxSeedsFlag = positiveInt(opts.maxSeeds, '--max-seeds');
  const maxTime = opts.maxTime !== undefined ? parseDuration(opts.maxTime) : undefined;
  if (maxSeedsFlag === undefined && maxTime === undefined) {
    throw new ReproError('--until-decided needs a budget', 'invalid', 'add --max-seeds N and/or --max-time DURATION (e.g. --max-seeds 20 --max-time 30m)');
  }
  const n0 = axis.seeds.length;
  if (maxSeedsFlag !== undefined && maxSeedsFlag < n0) {
    throw new ReproError(`--max-seeds ${maxSeedsFlag} is below the ${n0} seeds the workflow already has`, 'invalid');
  }
  const round = positiveInt(opts.round, '--round') ?? n0;
  const spending = opts.spending ?? 'obrien-fleming';
  if (spending !== 'obrien-fleming' && spending !== 'pocock') {
    throw new ReproError(`--spending '${spending}' is not a spending function`, 'invalid', "use 'obrien-fleming' (the default) or 'pocock'");
  }
  const started = Date.now();
  const elapsed = () => (Date.now() - started) / 1000;
  const say = (line: string) => process.stderr.write(`until-decided: ${line}\n`);
  const rounds: Round[] = [];

  let plan = first;
  let seeds = [...axis.seeds];
  let looks: number[] | null = maxSeedsFlag !== undefined ? seq.plannedLooks(n0, round, maxSeedsFlag) : null;
  let perSeed: number | undefined;
  let file_ = null as import('../../formats/verdict.js').VerdictFile | null;
  let stopReason = '';
  for (;;) {
    const t0 = Date.now();
    const { record, recordPath } = await runForClaims(plan, opts, hooks);
    const comparison = seq.comparisonOfRun(plan.steps.find((s) => roleOf(s) === 'comparison')!, record, plan.workflow.dir);
    // Steps that ran this round measure a seed's cost; when all were cached, the trainings' own epoch times do.
    perSeed = seq.measuredSecondsPerSeed(record, axis.pairBy) ?? perSeed ?? (await seq.historySecondsPerSeed(comparison));
    if (!looks) {
      // Only --max-time: the most seeds it affords, from time alone (never from what the data say).
      const per = perSeed;
      const affordable = per ? Math.floor(Math.max(0, maxTime! - elapsed()) / per) : 0;
      looks = seq.plannedLooks(n0, round, n0 + Math.max(0, affordable - (affordable % round)));
      say(`at most ${looks[looks.length - 1]} seeds (${per ? `${fmtSeconds(per)} per seed measured` : 'no time per seed measured'}, --max-time ${fmtSeconds(maxTime!)})`);
    }
    const look = looks.indexOf(seeds.length) + 1;
    file_ = await seq.sequentialVerdicts(comparison, looks, look, spending);
    const verdicts = Object.fromEntries(file_.checks.filter((c) => c.kind === 'claim').map((c) => [c.id, c.verdict]));
    rounds.push({ look, seeds: seeds.length, record: recordPath, wallSeconds: (Date.now() - t0) / 1000, verdicts });
    say(
      `look ${look}/${looks.length}: ${seeds.length} seeds, ${fmtSeconds(rounds[rounds.length - 1]!.wallSeconds)}; ` +
        Object.entries(verdicts).map(([id, v]) => `${id} ${v}`).join(', '),
    );
    if (!file_.checks.some((c) => c.kind === 'claim' && c.required)) {
      stopReason = 'no claim is required (required: false on every claim): nothing to decide, no seeds added';
      break;
    }
    if (seq.decided(file_)) {
      stopReason = `every required claim decided (terminal under the verdict rule) after ${rounds.length} round${rounds.length === 1 ? '' : 's'}`;
      break;
    }
    const next = looks[look];
    if (next === undefined) {
      stopReason = `budget spent: ${seeds.length} seeds is the most allowed (--max-seeds ${looks[looks.length - 1]}); the verdicts are the rule's at this last look`;
      break;
    }
    const cost = perSeed !== undefined ? (next - seeds.length) * perSeed : undefined;
    if (maxTime !== undefined && cost !== undefined && elapsed() + cost > maxTime) {
      stopReason =
        `the budget cannot afford another round: ${next - seeds.length} more seeds would take about ${fmtSeconds(cost)} ` +
        `(measured ${fmtSeconds(perSeed!)} per seed), and ${fmtSeconds(Math.max(0, maxTime - elapsed()))} of --max-time ${fmtSeconds(maxTime)} is left`;
      break;
    }
    const max = Math.max(...seeds);
    seeds = [...seeds, ...Array.from({ length: next - seeds.length }, (_, i) => max + 1 + i)];
    plan = await loadPlanOrFail(file, { profile: opts.profile, set: [...(opts.set ?? []), `${axis.param}=${JSON.stringify(seeds)}`], trust: opts.trust === true });
  }
  say(`${stopReason}; ${fmtSeconds(elapsed())} wall in all`);
  const code = exitCodeOfGate(combinedGate([file_!]));
  const title = `${axis.compare.id} (until decided: ${rounds.length} round${rounds.length === 1 ? '' : 's'}, ${seeds.length} seeds)`;
  if (opts.json) {
    process.stdout.write(
      JSON.stringify({ exitCode: code, design: seq.sequentialDesign(spending), rounds, stop: stopReason, wallSeconds: elapsed(), verdicts: [{ step: axis.compare.id, file: file_ }] }, null, 2) + '\n',
    );
  } else {
    const color = !opts.markdown && Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
    process.stdout.write((opts.markdown ? renderMarkdown(file_!, { title }) : '\n' + renderTable(file_!, { title, color })) + `\n${stopReason}\n`);
  }
  process.exitCode = code;
}
