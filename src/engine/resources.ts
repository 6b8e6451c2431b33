// CPU tokens: how many of the machine's cores a step may use. The local executor schedules by them,
// and the fingerprint needs the same number (data-parallel training gives other float sums on
// another thread count), so both ask here.
import os from 'node:os';
import type { ConcreteStep } from '../workflow/types.js';

/** CPU tokens when --jobs is not given: every core. */
export function defaultJobs(jobs?: number): number {
  return Math.max(1, Math.floor(jobs ?? os.availableParallelism?.() ?? os.cpus().length));
}

/** The CPU tokens, and so the threads, a step gets: its `resources.cpu`, at least 1, at most all `jobs`. */
export function cpuTokens(step: ConcreteStep, jobs: number): number {
  return Math.min(Math.max(1, Math.ceil(step.resources?.cpu ?? 1)), jobs);
}
