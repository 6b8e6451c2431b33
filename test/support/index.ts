// What every test folder shares: the `repro` process launcher (the real CLI, `node bin/repro.js`,
// which runs dist/: `npm test` builds it first), temporary folders removed after the test file, and
// the fixture workflows several folders run (./workflows.ts).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import { removeTree } from '../../src/engine/store.js';

export * from './workflows.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = join(REPO_ROOT, 'bin/repro.js');

export interface ReproOptions {
  /** Where the CLI runs (default: the test's working directory, the repository root). */
  cwd?: string;
  /** Added to this process's environment. */
  env?: Record<string, string | undefined>;
  /** Kills the CLI after this many milliseconds (default: none; the test's own timeout applies). */
  timeout?: number;
  /** Written to the CLI's stdin. */
  input?: string;
}

export interface ReproResult {
  /** The exit status; null when a signal ended the process. */
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout then stderr (started processes: both as they came, interleaved). */
  out: string;
}

// NO_COLOR: assertions read plain text whatever the terminal the tests run in.
const envOf = (env: ReproOptions['env']) => ({ ...process.env, NO_COLOR: '1', ...env });

/** Runs `repro ARGS…` to completion. */
export function repro(args: string[], options: ReproOptions = {}): ReproResult {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: options.cwd, env: envOf(options.env), encoding: 'utf8', timeout: options.timeout, input: options.input });
  const stdout = r.stdout ?? '';
  const stderr = r.stderr ?? '';
  return { code: r.status, stdout, stderr, out: stdout + stderr };
}

export interface StartedRepro {
  child: ChildProcess;
  /** The exit status; -1 when a signal ended the process. */
  done: Promise<number | null>;
  /** Everything printed so far, stdout and stderr interleaved. */
  output(): string;
}

/** Starts `repro ARGS…` without waiting, for tests that watch or interrupt a run. */
export function startRepro(args: string[], options: Omit<ReproOptions, 'timeout' | 'input'> = {}): StartedRepro {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env: envOf(options.env) });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const done = new Promise<number | null>((r) => child.on('close', (code, signal) => r(code ?? (signal ? -1 : null))));
  return { child, done, output: () => out };
}

/** Runs `repro ARGS…` without blocking the test's event loop (e.g. while it serves HTTP). */
export async function reproAsync(args: string[], options: Omit<ReproOptions, 'timeout' | 'input'> = {}): Promise<{ code: number | null; out: string }> {
  const r = startRepro(args, options);
  const code = await r.done;
  return { code, out: r.output() };
}

/** Polls `what` (every 25 ms) until it holds; after `ms`, fails with `timed out waiting for LABEL`. */
export async function until(what: () => boolean, ms = 20_000, label = 'a condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${label}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const created: string[] = [];
// Stores hold read-only trees: removeTree makes them writable first.
afterAll(() => {
  for (const dir of created.splice(0)) removeTree(dir);
});

/** A fresh temporary folder, removed after the test file's last test. */
export function tempDir(prefix = 'repro-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  created.push(dir);
  return dir;
}

/** A fresh temporary folder holding `files` (name → text). */
export function projectWith(files: Record<string, string>, prefix = 'repro-project-'): string {
  const dir = tempDir(prefix);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}
