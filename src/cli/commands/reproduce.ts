// `repro reproduce ARCHIVE`: re-run an exported run in a folder and store of its own, and answer per
// artifact and metric: bit-identical, within the declared tolerance, or differs (docs/engine.md).
import type { Command } from 'commander';
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ExitCode } from '../exit-codes.js';
import { ReproError } from '../../core/errors.js';
import type { RunRecord } from '../../formats/run-record.js';
// Loaded with the CLI anyway (renderReport formats tolerances), so no lazy import of it below.
import { compareRuns, formatTolerance, parseTolerance, toleranceOption, type ReproduceReport, type Tolerance } from '../../share/reproduce.js';
import type { RunOptions } from './run.js';

const collect = (v: string, prev: string[]) => [...prev, v];

interface ReproduceOptions {
  dir?: string;
  store?: string;
  results?: string;
  tolerance: string[];
  useCache?: boolean;
  trust?: boolean;
  jobs?: string;
  json?: boolean;
  quiet?: boolean;
}

export function reproduceCommand(program: Command): void {
  program
    .command('reproduce')
    .description('re-run the run in an archive from `repro export` in a folder and store of its own; per artifact and metric: bit-identical, within tolerance, or differs (exit 0, or 3 when anything differs; 5 for a damaged archive)')
    .argument('<archive>', 'an archive written by `repro export`')
    .option('--dir <dir>', "where the archive's project is unpacked and run (default: ./<workflow>-<run-id>; must be new or empty)")
    .option('--store <dir>', 'artifact store (default: .repro inside --dir)')
    .option('--results <dir>', 'where the new run record goes (default: results inside --dir)')
    .option('-t, --tolerance <spec>', 'allowed difference for numbers named KEY in JSON outputs: KEY=0.01 (absolute), KEY=5% (relative), or a bare number for all; adds to the ones the archive declares; repeatable', collect, [] as string[])
    .option('--use-cache', 'take steps the store already has from the cache instead of running every step again')
    .option('--trust', 'let the archived workflow run commands, read your environment, pass executor settings to sbatch and read files outside its project (docs/engine.md, trust)')
    .option('-j, --jobs <n>', 'CPU tokens (as for `repro run`)')
    .option('-q, --quiet', 'print only failures, the summary and the comparison')
    .option('--json', 'print the comparison as JSON on stdout (progress stays off)')
    .action(async (archive: string, opts: ReproduceOptions) => {
      const asked = opts.tolerance.map(toleranceOption);
      const { unpackArchive } = await import('../../share/unpack.js');
      const { extracted: unpacked, lock, project, original, dir, workflowFile } = await unpackArchive(archive, { dir: opts.dir });
      try {
        // The archive's workflow is someone else's, exactly as a git URL's: the same plan-time trust
        // decision (src/workflow/trust.ts), each refused place at its file:line:col.
        const { loadPlanOrFail } = await import('./validate.js');
        let plan;
        try {
          plan = await loadPlanOrFail(workflowFile, { profile: project.profile ?? undefined, set: project.set, trust: opts.trust === true, archiveRoot: dir });
        } catch (err) {
          rmSync(dir, { recursive: true, force: true }); // nothing ran: leave no folder behind
          if (err instanceof ReproError && /need --trust/.test(err.message)) {
            throw new ReproError(err.message, err.category, `read them first (project/${project.workflow} in the archive: tar -xzf ${archive} project/); pass --trust to allow them`);
          }
          throw err;
        }
        if (project.outside.length) {
          process.stderr.write(`repro: note: the run read files outside its project, not in the archive (they must exist here, and reading them needs --trust): ${project.outside.join(', ')}\n`);
        }
        const store = resolve(opts.store ?? join(dir, '.repro'));
        const results = resolve(opts.results ?? join(dir, 'results'));
        const backendOpts: Partial<RunOptions> = {};
        for (let i = 0; i + 1 < project.options.length; i += 2) {
          if (project.options[i] === '--backend') backendOpts.backend = project.options[i + 1];
          if (project.options[i] === '--engine') backendOpts.engine = project.options[i + 1];
        }
        const { runPlan } = await import('./run.js');
        const force = opts.useCache ? [] : [...new Set(plan.steps.map((s) => s.stepId))];
        const { record } = await runPlan(
          plan,
          { ...backendOpts, store, results, force, trust: opts.trust === true, jobs: opts.jobs, quiet: opts.quiet, ...(opts.json ? { json: true } : {}) },
          // The `run` kind's own check (a second line behind the plan's): from elsewhere, untrusted.
          { remote: true },
          opts.json ? { onEvent: () => {} } : {},
        );
        const declared = (lock.tolerances ?? []).map(parseTolerance).filter((t): t is Tolerance => t !== null);
        const report = compareRuns(original, lock, unpacked, record, store, [...declared, ...asked]);
        if (opts.json) process.stdout.write(JSON.stringify({ archive, run: lock.run, reproducedIn: dir, status: record.status, ...report }, null, 2) + '\n');
        else process.stdout.write(renderReport(report, lock.run.id, record));
        process.exitCode =
          record.status === 'interrupted' ? ExitCode.INTERRUPTED : report.verdict === 'failed' ? ExitCode.STEP_FAILED : report.verdict === 'differs' ? ExitCode.NOT_REPRODUCED : ExitCode.OK;
      } finally {
        rmSync(unpacked, { recursive: true, force: true });
      }
    });
}

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toPrecision(6).replace(/0+$/, '').replace(/\.$/, ''));

function renderReport(report: ReproduceReport, originalId: string, record: RunRecord): string {
  const lines: string[] = ['', `reproduction of run ${originalId} (new run ${record.runId}, ${record.status}):`];
  for (const a of report.artifacts) {
    lines.push(`  ${a.verdict.padEnd(16)} ${a.step} → ${a.output}${a.note ? `  (${a.note})` : ''}`);
    const notSame = a.metrics.filter((m) => m.verdict !== 'bit-identical');
    for (const m of notSame.slice(0, 8)) {
      lines.push(`      ${m.verdict === 'differs' ? 'differs' : 'within'}  ${m.path}: ${fmt(m.original)} → ${fmt(m.reproduced)} (|Δ| ${fmt(Math.abs(m.original - m.reproduced))}, allowed ${fmt(m.allowed)})`);
    }
    if (notSame.length > 8) lines.push(`      … ${notSame.length - 8} more numbers differ`);
  }
  const c = report.counts;
  const tol = report.tolerances.length ? ` (tolerances: ${report.tolerances.map(formatTolerance).join(', ')})` : '';
  const skipped = c['not compared'] ? `, ${c['not compared']} not compared` : '';
  lines.push(`verdict: ${report.verdict}: ${c['bit-identical']} bit-identical, ${c['within tolerance']} within tolerance, ${c.differs} differ${skipped}${tol}`, '');
  return lines.join('\n');
}
