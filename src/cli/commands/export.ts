// `repro export [RUN]`: one archive with the workflow, the run record, a lock of every hash, the
// artifacts, the report and the logs. `repro verify ARCHIVE` checks it on another machine.
import type { Command } from 'commander';
import { dirname, relative } from 'node:path';
import { ReproError } from '../../core/errors.js';
import type { ExportLock } from '../../share/archive.js';

export function exportCommand(program: Command): void {
  program
    .command('export')
    .description('write one archive of a run (workflow and every file it read, run record, lock of all hashes, artifacts, logs, report) that `repro verify ARCHIVE` checks and `repro reproduce ARCHIVE` re-runs elsewhere')
    .argument('[run]', 'a run directory, its run.json, a run id, a workflow file or name (its latest run); default: the latest run')
    .option('-o, --out <file>', 'the archive to write (default: <workflow>-<run-id>.repro.tar.gz)')
    .option('--results <dir>', 'where run records are (default: results)')
    .option('--max-artifact-mb <n>', 'outputs larger than this are listed in the lock by hash but not copied', '512')
    .option('-t, --tolerance <spec>', 'declare how much a number in a JSON output may differ when `repro reproduce` re-runs it: KEY=0.01, KEY=5% or a bare number for all; repeatable', (v: string, p: string[]) => [...p, v], [] as string[])
    .option('--sign <key>', 'sign the archive\'s lock with this key (a name from `repro key list`, or a private key file): `repro verify` then says who signed it')
    .action(async (run: string | undefined, opts: { out?: string; results?: string; maxArtifactMb: string; tolerance: string[]; sign?: string }) => {
      const maxMb = Number(opts.maxArtifactMb);
      if (!(maxMb >= 0)) throw new ReproError(`--max-artifact-mb must be a number ≥ 0, got '${opts.maxArtifactMb}'`, 'invalid');
      const { toleranceOption } = await import('../../share/reproduce.js');
      opts.tolerance.forEach(toleranceOption);
      const { loadSigningKey } = await import('../../share/keys.js');
      const signer = opts.sign ? loadSigningKey(opts.sign) : null; // before any work: a missing key fails fast
      const { signLock, describeSigner } = await import('../../share/attest.js');
      const { resolveRun } = await import('../../engine/runs.js');
      const loaded = await resolveRun(run, opts.results);
      const { exportRun } = await import('../../share/archive.js');
      const { archive, lock } = await exportRun(loaded, { out: opts.out, maxArtifactBytes: maxMb * 2 ** 20, tolerances: opts.tolerance, ...(signer ? { signLock: (lock: Buffer) => signLock(lock, signer) } : {}) });
      const omitted = Object.values(lock.steps).flatMap((s) => Object.values(s.outputs)).filter((o) => o.omitted).length;
      process.stdout.write(`exported run ${lock.run.id} (${lock.run.status}): ${relative(process.cwd(), archive)}\n`);
      process.stdout.write(`  ${Object.keys(lock.files).length} files locked by sha256${omitted ? `, ${omitted} large output(s) listed by hash only` : ''}\n`);
      if (signer) process.stdout.write(`  lock signed by ${describeSigner(signer)}\n`);
      process.stdout.write(`  check it anywhere with: repro verify ${relative(process.cwd(), archive)}\n`);
      const trust = (await needsTrust(loaded.record.workflow.file, lock)) ? ' --trust' : '';
      process.stdout.write(`  re-run it elsewhere with: repro reproduce ${relative(process.cwd(), archive)}${trust}\n`);
    });
}

/**
 * Whether `repro reproduce` of this archive will ask for --trust: the same plan-time trust decision it
 * makes (src/workflow/trust.ts: commands, environment values, executor settings), plus files the run
 * read outside its project, which an untrusted workflow may not read.
 */
async function needsTrust(workflowFile: string, lock: ExportLock): Promise<boolean> {
  if (!lock.project) return false;
  if (lock.project.outside.length) return true;
  const { loadWorkflow } = await import('./validate.js');
  const { diagnostics } = await loadWorkflow(workflowFile, {
    profile: lock.project.profile ?? undefined,
    set: lock.project.set,
    untrusted: { from: 'archive', root: dirname(workflowFile), readOnly: true },
  });
  return diagnostics.some((d) => d.code === 'needs-trust');
}
