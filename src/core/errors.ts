// Failures the user can fix, from any layer: a message, an optional hint on what to do, and a
// category that says what kind of failure it is. Only the CLI turns a category into an exit code
// (src/cli/exit-codes.ts, the README's table); nothing below it knows about exit codes.

/** What went wrong, as the README's exit-code table names it. */
export type ErrorCategory =
  /** A step failed (bad checksum, unreachable source, training error...). */
  | 'step-failed'
  /** The workflow (or the command line) is invalid: nothing ran. */
  | 'invalid'
  /** `repro check`: a required claim was not reproduced. */
  | 'not-reproduced'
  /** `repro check`: a required claim was inconclusive. */
  | 'inconclusive'
  /** The store or an archive has corrupted or missing objects. */
  | 'corrupt'
  /** Another repro process holds the store's lock. */
  | 'locked'
  /** The executor cannot be used (no `sbatch`, the Slurm controller does not answer). */
  | 'executor-unavailable'
  /** Interrupted by Ctrl-C / SIGTERM; the next run resumes. */
  | 'interrupted';

/** A failure the user can fix: printed as `repro: message` and `hint: ...`, without a stack trace. */
export class ReproError extends Error {
  constructor(
    message: string,
    public readonly category: ErrorCategory,
    /** A hint on what to do, printed under the message. */
    public readonly hint?: string,
  ) {
    super(message);
    this.name = 'ReproError';
  }
}

/** Thrown by a step kind (or the libraries it calls) for a failure the user can fix: bad checksum, 401... */
export class StepError extends ReproError {
  constructor(message: string, hint?: string) {
    super(message, 'step-failed', hint);
    this.name = 'StepError';
  }
}
