// `repro fetch`: the fetch step's download from the command line. With --pin it prints the
// `sha256:` line to paste into a workflow's fetch step; with --sha256 it downloads and verifies.
import type { Command } from 'commander';
import { basename, join, resolve } from 'node:path';
import { mkdtempSync, rmSync, renameSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { ReproError } from '../../core/errors.js';

interface FetchCliOptions {
  pin?: boolean;
  sha256?: string;
  output?: string;
  userEnv?: string;
  passwordEnv?: string;
  timeout: string;
  retries: string;
}

export function fetchCommand(program: Command): void {
  program
    .command('fetch')
    .description('Download a file from the first working source; --pin prints the sha256 line for a workflow')
    .argument('<sources...>', 'URLs (https, http, file:) or paths, tried in order')
    .option('--pin', 'print "sha256: <hex>" for the downloaded bytes (the file is kept only with -o)')
    .option('--sha256 <hex>', 'verify the download against this SHA-256')
    .option('-o, --output <path>', 'where to save the file (default: its name, in the current directory)')
    .option('--user-env <VAR>', 'environment variable holding the basic-auth user name')
    .option('--password-env <VAR>', 'environment variable holding the basic-auth password')
    .option('--timeout <seconds>', 'seconds without data before a connection is retried', '30')
    .option('--retries <n>', 'retries per source after failures without progress', '3')
    .addHelpText('after', '\nExample:\n  repro fetch --pin https://zenodo.org/records/10519652/files/retinamnist.npz\n')
    .action(async (sources: string[], opts: FetchCliOptions) => {
      const { fetchVerified, displaySource, localSourcePath } = await import('../../data/fetch.js');
      if (!opts.pin && !opts.sha256) {
        throw new ReproError('give --sha256 <hex> to verify the download, or --pin to print its hash', 'invalid');
      }
      if (opts.sha256 && !/^[0-9a-f]{64}$/.test(opts.sha256)) {
        throw new ReproError(`--sha256 must be 64 lowercase hex digits, got '${opts.sha256}'`, 'invalid');
      }
      if (!!opts.userEnv !== !!opts.passwordEnv) throw new ReproError('--user-env and --password-env go together', 'invalid');
      const timeout = Number(opts.timeout);
      const retries = Number(opts.retries);
      if (!(timeout > 0)) throw new ReproError(`--timeout must be a positive number of seconds, got '${opts.timeout}'`, 'invalid');
      if (!Number.isInteger(retries) || retries < 0) throw new ReproError(`--retries must be a non-negative integer, got '${opts.retries}'`, 'invalid');

      const authVars = opts.userEnv ? { user: opts.userEnv.replace(/^\$/, ''), password: opts.passwordEnv!.replace(/^\$/, '') } : undefined;
      const auth = authVars && process.env[authVars.user] !== undefined && process.env[authVars.password] !== undefined
        ? { user: process.env[authVars.user]!, password: process.env[authVars.password]! }
        : undefined;
      const first = sources[0]!;
      const name = basename(localSourcePath(first, process.cwd()) ?? new URL(first).pathname) || 'download';
      const output = opts.output ? resolve(opts.output) : opts.pin ? null : resolve(name);
      const work = mkdtempSync(join(tmpdir(), 'repro-fetch-'));
      const showProgress = process.stderr.isTTY;
      try {
        const outcome = await fetchVerified({
          sources,
          baseDir: process.cwd(),
          sha256: opts.sha256 ?? null,
          dest: join(work, name),
          partial: join(work, `${name}.part`),
          auth,
          authVars,
          timeoutMs: timeout * 1000,
          retries,
          log: (line) => { if (!showProgress) process.stderr.write(`${line}\n`); },
          progress: showProgress ? (_f, message) => process.stderr.write(`\r${message}\x1b[K`) : undefined,
        });
        if (showProgress) process.stderr.write('\r\x1b[K');
        if (output) {
          try {
            renameSync(join(work, name), output);
          } catch {
            copyFileSync(join(work, name), output); // another filesystem
          }
        }
        if (opts.pin) process.stdout.write(`sha256: ${outcome.sha256}\n`);
        process.stderr.write(`${outcome.bytes} bytes from ${displaySource(outcome.source)}${output ? `, saved to ${output}` : ''}\n`);
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    });
}
