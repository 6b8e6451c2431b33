// `repro publish [RUN] --registry URL`: one signed submission of a run to a results registry (docs/registry.md).
import type { Command } from 'commander';
import { ReproError } from '../../core/errors.js';

export function publishCommand(program: Command): void {
  program
    .command('publish')
    .description('add a run\'s results (workflow identity, environment facts, per-seed metrics, claim verdicts, output hashes; no user or host names, no paths) to a results registry, a git repository, as a signed submission')
    .argument('[run]', 'a run directory, its run.json, a run id, a workflow file or name (its latest run); default: the latest run')
    .requiredOption('--registry <url>', 'the registry: a git URL or the path of a repository you may push to')
    .option('--sign <key>', 'sign the submission with this key (`repro key list`); unsigned ones are listed apart and never pooled')
    .option('--dry-run', 'print the exact file and where it would go; push nothing')
    .option('--results <dir>', 'where run records are (default: results)')
    .action(async (run: string | undefined, opts: { registry: string; sign?: string; dryRun?: boolean; results?: string }) => {
      const { loadSigningKey } = await import('../../share/keys.js');
      const key = opts.sign ? loadSigningKey(opts.sign) : null;
      const { resolveRun } = await import('../../engine/runs.js');
      const loaded = await resolveRun(run, opts.results);
      if (loaded.record.status === 'running') throw new ReproError(`run ${loaded.record.runId} is still running`, 'invalid', 'publish it when it has finished');
      const { publishSubmission, submissionFile } = await import('../../share/registry.js');
      const file = submissionFile(loaded, key);
      if (opts.dryRun) {
        process.stdout.write(`would add ${file.path} to ${opts.registry}${key ? '' : ' (unsigned)'}:\n${file.text}`);
        process.stderr.write(`its payload, decoded:\n${JSON.stringify(file.statement, null, 2)}\n`);
        return;
      }
      const { commit, already } = await publishSubmission(opts.registry, file);
      process.stdout.write(`${already ? 'already in' : 'published to'} ${opts.registry}: ${file.path} (commit ${commit.slice(0, 12)})${key ? '' : ', unsigned'}\n`);
    });
}
