// `repro init`: a commented starter workflow in the current folder (a `run`-step pipeline with a
// compare step, and the two Node scripts it runs) that validates and runs as written.
import type { Command } from 'commander';
import { appendFileSync, cpSync, existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ReproError } from '../../core/errors.js';

/** The starter's files, shipped with repro (templates/starter/). */
const STARTER = fileURLToPath(new URL('../../../templates/starter/', import.meta.url));

function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? filesUnder(join(dir, d.name), `${prefix}${d.name}/`) : [`${prefix}${d.name}`],
  );
}

export function initCommand(program: Command): void {
  program
    .command('init')
    .description('write a commented starter workflow (repro.yaml) and the scripts it runs into a folder: edit it into your own experiment')
    .argument('[dir]', 'the folder (default: the current one)', '.')
    .option('--force', 'overwrite files of the same names')
    .action((dir: string, opts: { force?: boolean }) => {
      const target = resolve(dir);
      const files = filesUnder(STARTER).sort();
      const clash = files.filter((f) => existsSync(join(target, f)));
      if (clash.length && !opts.force) {
        throw new ReproError(`${clash.map((f) => join(dir, f)).join(', ')} already exist(s)`, 'invalid', 'pass --force to overwrite, or name an empty folder: repro init DIR');
      }
      for (const f of files) cpSync(join(STARTER, f), join(target, f), { force: true });
      // The store and the run records are not sources: keep them out of git.
      const gitignore = join(target, '.gitignore');
      const has = existsSync(gitignore) ? readFileSync(gitignore, 'utf8').split('\n') : [];
      const missing = ['.repro/', 'results/'].filter((l) => !has.includes(l));
      if (missing.length) appendFileSync(gitignore, `${has.length && has.at(-1) !== '' ? '\n' : ''}${missing.join('\n')}\n`);
      const wf = relative(process.cwd(), join(target, 'repro.yaml')) || 'repro.yaml';
      process.stdout.write(`wrote ${files.map((f) => relative(process.cwd(), join(target, f))).join(', ')}${missing.length ? ' and .gitignore lines' : ''}\n`);
      process.stdout.write(`next:\n  repro validate ${wf}\n  repro run ${wf}        # every step; a second run comes from the cache\n  repro check ${wf}      # run (cached) and gate on its claims: exit 0 / 3 / 4\n`);
    });
}
