// `repro logs STEP [RUN]`: a step's log. A cached step's log is the one of the run that produced its
// outputs (copied into each run's logs/; for older runs, read from the store's cache entry).
import type { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ReproError } from '../../core/errors.js';

export function logsCommand(program: Command): void {
  program
    .command('logs')
    .description("print a step's log from a run (default: the latest); a cached step shows the log of the run that produced it")
    .argument('<step>', 'a concrete step id ("train[variant=xe,seed=1]") or a declared id (every instance)')
    .argument('[run]', 'a run directory, its run.json, a run id, a workflow file or name (its latest run); default: the latest run')
    .option('--results <dir>', 'where run records are (default: results)')
    .option('--store <dir>', 'the store to read older cached logs from (default: the one the run used)')
    .action(async (stepId: string, run: string | undefined, opts: { results?: string; store?: string }) => {
      const { resolveRun } = await import('../../engine/runs.js');
      const { path, record } = await resolveRun(run, opts.results);
      const steps = record.steps.filter((s) => s.id === stepId || s.stepId === stepId);
      if (steps.length === 0) {
        const ids = [...new Set(record.steps.map((s) => s.stepId))];
        throw new ReproError(`run ${record.runId} has no step '${stepId}'`, 'invalid', `steps: ${ids.join(', ')}`);
      }
      const { Store } = await import('../../engine/store.js');
      const store = new Store(opts.store ?? record.store);
      for (const step of steps) {
        let text: string | null = null;
        if (step.logFile && existsSync(join(dirname(path), step.logFile))) text = readFileSync(join(dirname(path), step.logFile), 'utf8');
        else if (step.status === 'cached' && step.fingerprint) {
          const log = store.readCacheEntry(step.fingerprint)?.log;
          const p = log ? store.artifactPath(log) : null;
          if (p && existsSync(p)) text = readFileSync(p, 'utf8');
        }
        if (steps.length > 1) process.stdout.write(`==> ${step.id} (${step.status}) <==\n`);
        process.stdout.write(text ?? `(no log: the step ${step.status === 'skipped' ? 'was skipped' : step.status === 'cached' ? 'came from a cache entry that kept none' : 'wrote none'})\n`);
      }
    });
}
