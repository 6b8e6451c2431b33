// `repro runs`: the run records under results/, newest first: id, time, workflow, profile, status,
// how many steps ran or came from the cache, and the verdicts of its compare steps.
import type { Command } from 'commander';
import { relative } from 'node:path';
import { ReproError } from '../../core/errors.js';

export function runsCommand(program: Command): void {
  program
    .command('runs')
    .description('list runs, newest first: id, time, workflow, profile, status, steps run/cached, verdicts')
    .argument('[workflow]', 'only the runs of this workflow (its name)')
    .option('--results <dir>', 'where run records are (default: results)')
    .option('-n, --limit <n>', 'at most N runs (default: 20; 0 for all)', '20')
    .option('--json', 'print the list as JSON')
    .action(async (workflow: string | undefined, opts: { results?: string; limit: string; json?: boolean }) => {
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 0) throw new ReproError(`--limit must be an integer ≥ 0, got '${opts.limit}'`, 'invalid');
      const { listRuns } = await import('../../engine/runs.js');
      const all = listRuns(opts.results, workflow);
      const runs = limit ? all.slice(0, limit) : all;
      if (opts.json) {
        process.stdout.write(JSON.stringify(runs, null, 2) + '\n');
        return;
      }
      if (all.length === 0) {
        process.stdout.write(`no runs${workflow ? ` of ${workflow}` : ''} under ${opts.results ?? 'results'}/\n`);
        return;
      }
      const rows = runs.map((r) => [
        r.id,
        r.startedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
        r.workflow,
        r.profile ?? '-',
        r.status,
        r.ran === 0 && r.failed === 0 ? `all ${r.cached} cached` : `${r.ran} ran, ${r.cached} cached`,
        r.verdicts.join('; ') || '-',
      ]);
      const head = ['RUN', 'STARTED (UTC)', 'WORKFLOW', 'PROFILE', 'STATUS', 'STEPS', 'VERDICTS'];
      const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
      const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ') + '\n';
      process.stdout.write(line(head) + rows.map(line).join(''));
      if (runs.length < all.length) process.stdout.write(`(${all.length - runs.length} older; --limit 0 shows all)\n`);
      if (runs[0]) process.stdout.write(`newest record: ${relative(process.cwd(), runs[0].path)}\n`);
    });
}
