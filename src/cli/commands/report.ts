import type { Command } from 'commander';
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { CliError, ExitCode } from '../exit-codes.js';

// `repro report [RUN] [--out DIR] [--doi DOI]`: writes report.html, report.md, checklist.yaml,
// checklist.md and ro-crate-metadata.json for a recorded run (into the run directory by default).
export function reportCommand(program: Command): void {
  program
    .command('report')
    .description('Write the HTML and Markdown report, the artifact checklist and the RO-Crate of a run')
    .argument('[run]', 'a run directory, its run.json, a workflow file or name (its latest run); default: the latest run under results/')
    .option('-o, --out <dir>', 'write the files here instead of the run directory')
    .option('--doi <doi>', 'DOI of an archived copy of the run (for the checklist and the Available badge)')
    .action(async (run: string | undefined, opts: { out?: string; doi?: string }) => {
      const target = resolveRun(run, process.cwd());
      const { writeRunReport, ReportError } = await import('../../report/index.js');
      try {
        const written = await writeRunReport(target, { outDir: opts.out, doi: opts.doi ?? null });
        const rel = (p: string) => relative(process.cwd(), p) || p;
        process.stdout.write(`report of run ${written.input.run?.runId ?? '?'} (${written.input.scale ?? 'scale not recorded'}):\n`);
        for (const p of Object.values(written.files)) process.stdout.write(`  ${rel(p)}\n`);
        for (const w of written.input.warnings) process.stderr.write(`repro: warning: ${w}\n`);
      } catch (err) {
        if (err instanceof ReportError) {
          throw new CliError(err.message, err.kind === 'corrupt' ? ExitCode.CORRUPT : ExitCode.INVALID, err.hint);
        }
        throw err;
      }
    });
}

/** The run directory a RUN argument names; `results/<workflow>/latest` is a symlink or a file holding the run id. */
export function resolveRun(arg: string | undefined, cwd: string): string {
  const results = join(cwd, 'results');
  if (arg === undefined) {
    const candidates = existsSync(results)
      ? readdirSync(results)
          .map((wf) => join(results, wf, 'latest'))
          .filter((p) => existsSync(p))
      : [];
    if (candidates.length === 0) {
      throw new CliError('no runs under results/: nothing to report', ExitCode.INVALID, 'Run a workflow first (`repro run workflows/paper.yaml`), or name a run directory.');
    }
    // Several workflows: the one run most recently.
    candidates.sort((a, b) => statSync(latestDir(b)).mtimeMs - statSync(latestDir(a)).mtimeMs);
    return latestDir(candidates[0]!);
  }
  const abs = resolve(cwd, arg);
  if (existsSync(abs)) {
    const st = statSync(abs);
    if (st.isDirectory()) {
      if (existsSync(join(abs, 'run.json'))) return abs;
      if (existsSync(join(abs, 'latest'))) return latestDir(join(abs, 'latest'));
      throw new CliError(`${arg}: not a run directory (no run.json in it)`, ExitCode.INVALID);
    }
    if (/\.ya?ml$/i.test(abs)) {
      const name = workflowName(abs);
      const latest = join(results, name, 'latest');
      if (!existsSync(latest)) throw new CliError(`${arg}: workflow '${name}' has no runs under results/${name}/`, ExitCode.INVALID, `Run it first: repro run ${arg}`);
      return latestDir(latest);
    }
    return abs; // run.json (or another file the report will reject with a clear message)
  }
  const latest = join(results, arg, 'latest');
  if (existsSync(latest)) return latestDir(latest);
  throw new CliError(`${arg}: no such run directory, run.json, workflow file or workflow name`, ExitCode.INVALID);
}

function latestDir(latest: string): string {
  // Report into the run's own directory, not through the link: the next run moves `latest`.
  if (statSync(latest).isDirectory()) return realpathSync(latest);
  const id = readFileSync(latest, 'utf8').trim();
  return join(latest, '..', id);
}

function workflowName(file: string): string {
  // The workflow's `name:` (top-level, unindented); the file name when absent.
  const m = /^name:\s*["']?([^"'#\n]+?)["']?\s*(#.*)?$/m.exec(readFileSync(file, 'utf8'));
  return m ? m[1]!.trim() : file.replace(/^.*[\\/]/, '').replace(/\.ya?ml$/i, '');
}
