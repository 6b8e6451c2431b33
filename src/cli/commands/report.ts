import type { Command } from 'commander';
import { realpathSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { ReproError } from '../../core/errors.js';

// `repro report [RUN] [--out DIR] [--doi DOI]`: writes report.html, report.md, checklist.yaml,
// checklist.md and ro-crate-metadata.json for a recorded run (into the run directory by default).
export function reportCommand(program: Command): void {
  program
    .command('report')
    .description('Write the HTML and Markdown report, the artifact checklist and the RO-Crate of a run')
    .argument('[run]', 'a run directory, its run.json, a workflow file or name (its latest run); default: the latest run under results/')
    .option('-o, --out <dir>', 'write the files here instead of the run directory')
    .option('--doi <doi>', 'DOI of an archived copy of the run (for the checklist and the Available badge)')
    .option('--results <dir>', 'where run records are (default: results)')
    .action(async (run: string | undefined, opts: { out?: string; doi?: string; results?: string }) => {
      const { resolveRun } = await import('../../engine/runs.js');
      // Report into the run's own directory, not through `latest`: the next run moves that link.
      const target = dirname(realpathSync((await resolveRun(run, opts.results)).path));
      const { writeRunReport, ReportError } = await import('../../report/index.js');
      try {
        const written = await writeRunReport(target, { outDir: opts.out, doi: opts.doi ?? null });
        const rel = (p: string) => relative(process.cwd(), p) || p;
        process.stdout.write(`report of run ${written.input.run?.runId ?? '?'} (${written.input.scale ?? 'scale not recorded'}):\n`);
        for (const p of Object.values(written.files)) process.stdout.write(`  ${rel(p)}\n`);
        for (const w of written.input.warnings) process.stderr.write(`repro: warning: ${w}\n`);
      } catch (err) {
        if (err instanceof ReportError) {
          throw new ReproError(err.message, err.kind === 'corrupt' ? 'corrupt' : 'invalid', err.hint);
        }
        throw err;
      }
    });
}
