// `repro ui [DIR]`: a local, read-only web app over every run under DIR (its results/ and the store):
// the runs, one run, a comparison of runs, and metrics across runs. It prints its URL (with the
// token every request needs) and opens nothing; Ctrl-C stops it.
import type { Command } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { ReproError } from '../../core/errors.js';
import type { RegistrySource } from '../../ui/registry.js';

/** The ui's view of a results registry: src/share/registry.ts reads and checks; the ui only draws. */
export async function registrySource(url: string): Promise<RegistrySource> {
  const { checkRegistryUrl, readRegistry, machineOf } = await import('../../share/registry.js');
  checkRegistryUrl(url);
  return {
    url,
    async read(workflow) {
      const { submissions, problems } = await readRegistry(url, workflow);
      return {
        problems,
        entries: submissions.map((r) => {
          const s = r.status === 'rejected' ? undefined : r.submission;
          return {
            id: r.id,
            file: r.file,
            status: r.status,
            reason: r.reason ?? null,
            signer: r.signer ? (r.signer.name ?? r.signer.keyid.slice(0, 16)) : null,
            machine: s ? machineOf(s) : null,
            run: s?.run.id ?? null,
            commit: s?.workflow.commit ?? null,
            profile: s?.profile ?? null,
            variants: s?.variants ?? null,
          };
        }),
      };
    },
  };
}

export function uiCommand(program: Command): void {
  program
    .command('ui')
    .description('browse and compare every run under DIR in a local web app (loopback only, token in the URL)')
    .argument('[dir]', 'the folder holding results/ (or a results folder itself)', '.')
    .option('--port <n>', 'the port to listen on (default: a free one)')
    .option('--registry <url>', "a results registry (git URL or path): the across-runs page draws its accepted submissions beside the local runs")
    .action(async (dir: string, opts: { port?: string; registry?: string }) => {
      if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ReproError(`${dir} is not a folder`, 'invalid', 'give the folder you run workflows in (the one holding results/)');
      const port = opts.port === undefined ? 0 : Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ReproError(`--port must be an integer 0..65535, got '${opts.port}'`, 'invalid');
      const { startUi } = await import('../../ui/server.js');
      let ui;
      try {
        const { measurementsFrom } = await import('../../share/reproduce.js');
        const { getStepKind } = await import('../../steps/registry.js');
        const registry = opts.registry !== undefined ? { registry: await registrySource(opts.registry) } : {};
        ui = await startUi({ dir, port, measuredIn: measurementsFrom(getStepKind), ...registry });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE' || code === 'EACCES') throw new ReproError(`cannot listen on 127.0.0.1:${port} (${code})`, 'invalid', 'choose another --port, or leave it out for a free one');
        throw err;
      }
      const n = ui.index.all().length;
      process.stdout.write(`repro ui: ${n} run${n === 1 ? '' : 's'} under ${ui.index.resultsDir}\n${ui.url}\n(read-only, this machine only; Ctrl-C stops it)\n`);
      await new Promise<void>((done) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          void ui.close().then(done);
          // Keep-alive connections of an open browser would hold close() open: end them.
          ui.server.closeAllConnections();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
