// `repro verify`: rehash every object in the store; exit 5 when anything is corrupted or missing.
import type { Command } from 'commander';
import { join, resolve } from 'node:path';
import { existsSync, statSync } from 'node:fs';
import { ExitCode } from '../exit-codes.js';
import { ReproError } from '../../core/errors.js';

export function verifyCommand(program: Command): void {
  program
    .command('verify')
    .description('rehash every object of the artifact store and check trees and cache entries, or check an archive from `repro export` (exit 5 on corrupted or missing objects)')
    .argument('[archive]', 'an archive written by `repro export`, or a store folder (default: check the store, .repro)')
    .option('--store <dir>', 'artifact store (default: .repro in the current directory)')
    .option('--json', 'print the report as JSON')
    .action(async (archive: string | undefined, opts: { store?: string; json?: boolean }) => {
      if (archive !== undefined && existsSync(archive) && statSync(archive).isDirectory()) {
        // A folder is not an archive: a store is verified as one (`repro verify .repro`), anything else is a mistake.
        if (!existsSync(join(archive, 'objects')) && !existsSync(join(archive, 'cache'))) {
          throw new ReproError(`${archive} is a folder, neither an archive nor an artifact store`, 'invalid', 'name an archive written by `repro export` (a .repro.tar.gz file), or a store: repro verify --store DIR');
        }
        opts.store = archive;
        archive = undefined;
      }
      if (archive !== undefined) return verifyArchiveCommand(archive, opts.json === true);
      const root = resolve(opts.store ?? '.repro');
      if (!existsSync(root)) throw new ReproError(`no artifact store at ${root}`, 'invalid', 'pass --store DIR, or run a workflow first');
      const { Store } = await import('../../engine/store.js');
      const { verifyStore } = await import('../../engine/maintenance.js');
      const live = !opts.json && process.stderr.isTTY;
      const report = await verifyStore(new Store(root), (done, total) => {
        if (live && (done % 50 === 0 || done === total)) process.stderr.write(`\rverifying ${done}/${total} objects`);
      });
      if (live) process.stderr.write('\r\x1b[K');
      if (opts.json) process.stdout.write(JSON.stringify({ store: root, ok: report.problems.length === 0, ...report }, null, 2) + '\n');
      else {
        for (const p of report.problems) process.stdout.write(`${p.kind}: ${p.path}  (${p.detail})\n`);
        const mb = (report.bytes / 1e6).toFixed(1);
        const what = `${report.objects} objects (${mb} MB), ${report.trees} trees, ${report.cacheEntries} cache entries in ${root}`;
        process.stdout.write(report.problems.length ? `${report.problems.length} problem(s) in ${what}\n` : `ok: ${what}\n`);
        if (report.problems.length) {
          process.stdout.write('hint: re-run the workflow with --force on the steps that produced them (or `repro gc` to drop unreferenced ones)\n');
        }
      }
      if (report.problems.length) process.exitCode = ExitCode.CORRUPT;
    });
}

async function verifyArchiveCommand(archive: string, json: boolean): Promise<void> {
  if (!existsSync(archive)) throw new ReproError(`no such archive: ${archive}`, 'invalid');
  const { verifyArchive } = await import('../../share/archive.js');
  let result;
  try {
    result = await verifyArchive(archive);
  } catch (err) {
    throw new ReproError(`${archive}: ${(err as Error).message}`, 'corrupt');
  }
  const { lock, problems, checked } = result;
  if (json) {
    process.stdout.write(JSON.stringify({ archive, ok: problems.length === 0, run: lock.run, checked, problems }, null, 2) + '\n');
  } else {
    for (const p of problems) process.stdout.write(`${p.kind}: ${p.path}  (${p.detail})\n`);
    const what = `run ${lock.run.id} of ${lock.run.workflow} (${lock.run.status}), ${checked} hashes checked`;
    process.stdout.write(problems.length ? `${problems.length} problem(s) in ${archive}: ${what}\n` : `ok: ${archive}: ${what}\n`);
  }
  if (problems.length) process.exitCode = ExitCode.CORRUPT;
}
