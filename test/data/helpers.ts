// A StepContext for calling step kinds directly, as the engine would: workDir and scratchDir in a
// temp dir, secret() reading process.env and remembering what it handed out (so tests can grep for it).
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { StepContext } from '../../src/steps/kind.js';
import { tempDir } from '../support/index.js';

export interface TestContext extends StepContext {
  logs: string[];
  progressLines: string[];
  secrets: string[];
  cleanup(): void;
}

export function makeContext(opts: { workflowDir?: string; scratchDir?: string; options?: Record<string, unknown> } = {}): TestContext {
  const base = tempDir('repro-data-');
  const workDir = join(base, 'work');
  const scratchDir = opts.scratchDir ?? join(base, 'scratch');
  mkdirSync(workDir, { recursive: true });
  mkdirSync(scratchDir, { recursive: true });
  const logs: string[] = [];
  const progressLines: string[] = [];
  const secrets: string[] = [];
  return {
    id: 'test-step',
    workflowDir: opts.workflowDir ?? base,
    workDir,
    scratchDir,
    matrix: {},
    params: {},
    secret(name) {
      const v = process.env[name];
      if (v) secrets.push(v);
      return v;
    },
    signal: new AbortController().signal,
    log: (line) => logs.push(line),
    progress: (fraction, message) => progressLines.push(`${fraction ?? '-'} ${message}`),
    threads: 2,
    options: opts.options ?? {},
    logs,
    progressLines,
    secrets,
    cleanup: () => rmSync(base, { recursive: true, force: true }),
  };
}

/** Runs fn and returns the StepError it throws (fails the test if it does not throw one). */
export async function stepError(fn: () => unknown): Promise<Error & { hint?: string }> {
  try {
    await fn();
  } catch (err) {
    if ((err as Error).name !== 'StepError') throw err;
    return err as Error & { hint?: string };
  }
  throw new Error('expected a StepError, but nothing was thrown');
}
