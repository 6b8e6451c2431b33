// `repro gc`: remove store objects that no cache entry and no run record references.
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { ReproError } from '../../core/errors.js';

const collect = (v: string, prev: string[]) => [...prev, v];

export function gcCommand(program: Command): void {
  program
    .command('gc')
    .description('remove artifact-store objects that no cache entry or run record references, and leftovers of dead runs')
    .option('--store <dir>', 'artifact store (default: .repro in the current directory)')
    .option('--results <dir>', 'a results directory whose run records keep objects alive (default: results); repeatable', collect, [] as string[])
    .option('--keep-runs <n>', 'also remove run records (results/<workflow>/<run-id>/) beyond the newest N per workflow; never the latest, a running one, or one whose outputs the cache holds')
    .option('-n, --dry-run', 'only say what would be removed')
    .option('--wait-lock', 'wait for a running repro process instead of failing (exit 6)')
    .option('--json', 'print the report as JSON')
    .action(async (opts: { store?: string; results: string[]; keepRuns?: string; dryRun?: boolean; waitLock?: boolean; json?: boolean }) => {
      const keep = opts.keepRuns === undefined ? null : Number(opts.keepRuns);
      if (keep !== null && !(Number.isInteger(keep) && keep >= 0)) throw new ReproError(`--keep-runs must be an integer ≥ 0, got '${opts.keepRuns}'`, 'invalid');
      const root = resolve(opts.store ?? '.repro');
      if (!existsSync(root)) throw new ReproError(`no artifact store at ${root}`, 'invalid', 'pass --store DIR');
      const { Store } = await import('../../engine/store.js');
      const { gcStore, runsToPrune } = await import('../../engine/maintenance.js');
      const { acquireLock } = await import('../../engine/lock.js');
      const lock = await acquireLock(root, { command: ['repro', ...process.argv.slice(2)], wait: opts.waitLock });
      try {
        const results = (opts.results.length ? opts.results : ['results']).map((r) => resolve(r));
        const store = new Store(root);
        const pruneRuns = keep === null ? [] : runsToPrune(store, results, keep);
        const report = gcStore(store, { resultsRoots: results, dryRun: opts.dryRun, pruneRuns });
        if (opts.json) process.stdout.write(JSON.stringify({ store: root, dryRun: Boolean(opts.dryRun), ...report }, null, 2) + '\n');
        else {
          const verb = opts.dryRun ? 'would remove' : 'removed';
          if (keep !== null) process.stdout.write(`${verb} ${report.removedRuns.length} run record(s) beyond the newest ${keep} per workflow\n`);
          process.stdout.write(
            `${verb} ${report.removedObjects} objects (${(report.removedBytes / 1e6).toFixed(1)} MB), ${report.removedTrees} trees, ` +
              `${report.removedFiles} named files, ${report.removedTmp} dead work dirs; kept ${report.keptObjects} objects\n`,
          );
        }
      } finally {
        lock.release();
      }
    });
}
