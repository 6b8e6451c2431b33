// Exit codes of every repro command. Documented in the README; tests assert them.
export const ExitCode = {
  OK: 0,
  /** A step failed (bad checksum, unreachable source, training error...). */
  STEP_FAILED: 1,
  /** The workflow (or the command line) is invalid: nothing ran. */
  INVALID: 2,
  /** `repro check`: a required claim was not reproduced. */
  NOT_REPRODUCED: 3,
  /** `repro check`: a required claim was inconclusive (too few runs, interval straddles the line). */
  INCONCLUSIVE: 4,
  /** `repro verify`: the store or an archive has corrupted or missing objects. */
  CORRUPT: 5,
  /** Another repro process holds the store's lock. */
  LOCKED: 6,
  /** The executor cannot be used: `sbatch` not found, or the Slurm controller does not answer. Nothing was submitted. */
  EXECUTOR_UNAVAILABLE: 7,
  /** A bug in repro itself: please report it. */
  INTERNAL: 70,
  /** Interrupted by Ctrl-C / SIGTERM; the next run resumes. */
  INTERRUPTED: 130,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** An error that ends the command with a given exit code and a message for the user (no stack trace). */
export class CliError extends Error {
  constructor(
    message: string,
    public readonly exitCode: ExitCodeValue,
    public readonly hint?: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
