// `repro results WORKFLOW --registry URL`: every submission of a workflow in a results registry,
// checked (signature, schema, bounds) and pooled across machines (docs/registry.md).
import type { Command } from 'commander';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { ReproError } from '../../core/errors.js';

export function resultsCommand(program: Command): void {
  program
    .command('results')
    .description('what everyone got: the submissions of a workflow in a results registry, verified, with per-claim agreement, metrics pooled across machines, and bit-identical groups (Markdown, or --json)')
    .argument('<workflow>', 'the workflow\'s name, or its file')
    .requiredOption('--registry <url>', 'the registry: a git URL or a repository path')
    .option('--json', 'print everything as JSON')
    .action(async (workflow: string, opts: { registry: string; json?: boolean }) => {
      let name = workflow;
      if (existsSync(workflow) && statSync(workflow).isFile()) {
        const { parse } = await import('yaml');
        const doc = parse(readFileSync(workflow, 'utf8')) as { name?: unknown } | null;
        if (typeof doc?.name !== 'string') throw new ReproError(`${workflow} has no \`name:\``, 'invalid');
        name = doc.name;
      }
      const { aggregate, POOLING_MODEL, readRegistry, renderResultsMarkdown } = await import('../../share/registry.js');
      const read = await readRegistry(opts.registry, name);
      const pools = aggregate(read.submissions.filter((s) => s.status === 'accepted'));
      if (opts.json) {
        const listed = read.submissions.map(({ submission: _s, subjects: _j, ...rest }) => rest);
        process.stdout.write(JSON.stringify({ registry: opts.registry, workflow: name, keys: read.keys, model: POOLING_MODEL, pools, submissions: listed, problems: read.problems }, null, 2) + '\n');
      } else process.stdout.write(renderResultsMarkdown(name, opts.registry, read, pools));
    });
}
