// `repro verify`: rehash every object in the store; exit 5 when anything is corrupted or missing.
import type { Command } from 'commander';
import { join, resolve } from 'node:path';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { ExitCode } from '../exit-codes.js';
import { ReproError } from '../../core/errors.js';
import type { VerifyingKey } from '../../share/keys.js';

export function verifyCommand(program: Command): void {
  program
    .command('verify')
    .description('rehash every object of the artifact store and check trees and cache entries, or check an archive from `repro export` (exit 5 on corrupted or missing objects)')
    .argument('[archive]', 'an archive written by `repro export`, or a store folder (default: check the store, .repro)')
    .option('--store <dir>', 'artifact store (default: .repro in the current directory)')
    .option('--json', 'print the report as JSON')
    .option('--key <pub>', "the signer's public key (a file from `repro key export`, or a key's name): the archive or attestation must carry a valid signature by it")
    .option('--attestation <file>', 'check a signed verdict from `repro reproduce --sign` (signature, statement; with ARCHIVE, that it is about that archive) and print its subjects and verdict')
    .action(async (archive: string | undefined, opts: { store?: string; json?: boolean; key?: string; attestation?: string }) => {
      const { loadPublicKey } = await import('../../share/keys.js');
      const key = opts.key ? loadPublicKey(opts.key) : null;
      if (opts.attestation) return verifyAttestationCommand(opts.attestation, archive, key, opts.json === true);
      if (archive !== undefined && existsSync(archive) && statSync(archive).isDirectory()) {
        // A folder is not an archive: a store is verified as one (`repro verify .repro`), anything else is a mistake.
        if (!existsSync(join(archive, 'objects')) && !existsSync(join(archive, 'cache'))) {
          throw new ReproError(`${archive} is a folder, neither an archive nor an artifact store`, 'invalid', 'name an archive written by `repro export` (a .repro.tar.gz file), or a store: repro verify --store DIR');
        }
        opts.store = archive;
        archive = undefined;
      }
      if (archive !== undefined) return verifyArchiveCommand(archive, opts.json === true, key);
      if (key) throw new ReproError('--key checks the signature of an archive or an attestation: name one', 'invalid');
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

async function verifyArchiveCommand(archive: string, json: boolean, key: VerifyingKey | null): Promise<void> {
  if (!existsSync(archive)) throw new ReproError(`no such archive: ${archive}`, 'invalid');
  const { openArchive } = await import('../../share/archive.js');
  const { checkArchiveSignature, describeArchiveSignature, signatureFails } = await import('../../share/attest.js');
  // One extraction for both checks, the signature read as `repro reproduce` reads it.
  const dir = mkdtempSync(join(tmpdir(), 'repro-verify-'));
  let result;
  let signature;
  try {
    try {
      result = await openArchive(archive, dir);
    } catch (err) {
      throw new ReproError(`${archive}: ${(err as Error).message}`, 'corrupt');
    }
    signature = checkArchiveSignature(dir, key);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const { lock, problems, checked } = result;
  const badSignature = signatureFails(signature, key !== null);
  const ok = problems.length === 0 && !badSignature;
  if (json) {
    process.stdout.write(JSON.stringify({ archive, ok, run: lock.run, checked, problems, signature }, null, 2) + '\n');
  } else {
    for (const p of problems) process.stdout.write(`${p.kind}: ${p.path}  (${p.detail})\n`);
    const what = `run ${lock.run.id} of ${lock.run.workflow} (${lock.run.status}), ${checked} hashes checked`;
    const trouble = problems.length ? `${problems.length} problem(s) in ${archive}` : badSignature ? `bad signature on ${archive}` : '';
    process.stdout.write(trouble ? `${trouble}: ${what}\n` : `ok: ${archive}: ${what}\n`);
    process.stdout.write(`${describeArchiveSignature(signature, key !== null)}\n`);
  }
  if (!ok) process.exitCode = ExitCode.CORRUPT;
}

async function verifyAttestationCommand(file: string, archive: string | undefined, key: VerifyingKey | null, json: boolean): Promise<void> {
  if (archive !== undefined && !existsSync(archive)) throw new ReproError(`no such archive: ${archive}`, 'invalid');
  const { describeSigner, verifyAttestation } = await import('../../share/attest.js');
  const check = await verifyAttestation(file, key, archive);
  const predicate = check.statement.predicate as { verdict?: unknown; original?: { runId?: unknown; workflow?: unknown } } | undefined;
  const signer = check.signer as { keyid: string; name: string | null };
  const ok = check.archiveMatches !== false;
  if (json) {
    process.stdout.write(JSON.stringify({ attestation: file, ok, signer, ...(archive !== undefined ? { archive, archiveMatches: check.archiveMatches } : {}), statement: check.statement }, null, 2) + '\n');
  } else {
    // Names and verdicts come from the signed file: printed as JSON strings, never as terminal controls.
    const text = (v: unknown) => (typeof v === 'string' && /^[\w .,:=+\-\[\]/→]*$/u.test(v) ? v : JSON.stringify(v ?? null));
    process.stdout.write(`${ok ? 'ok' : 'MISMATCH'}: ${file}: signed by ${describeSigner(signer)} (signature verified)\n`);
    process.stdout.write(`  statement: ${check.statement.predicateType}\n`);
    if (predicate?.original) process.stdout.write(`  reproduction of run ${text(predicate.original.runId)} of ${text(predicate.original.workflow)}\n`);
    process.stdout.write(`  verdict: ${text(predicate?.verdict)}\n  subjects:\n`);
    for (const s of check.statement.subject) process.stdout.write(`    ${text(s?.digest?.sha256)}  ${text(s?.name)}\n`);
    if (check.archiveMatches === false) process.stdout.write(`  ${archive} is not among its subjects: this attestation is about another archive\n`);
  }
  if (!ok) process.exitCode = ExitCode.CORRUPT;
}
