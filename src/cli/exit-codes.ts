// Exit codes of every repro command. Documented in the README; tests assert them. Errors below the
// CLI carry a category (src/core/errors.ts); exitCodeOf turns it into the number.
import type { ErrorCategory } from '../core/errors.js';
import type { VerdictSummary } from '../formats/verdict.js';

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

/** The exit code of each error category: the one place where a failure becomes a number. */
const EXIT_CODE_OF: Record<ErrorCategory, ExitCodeValue> = {
  'step-failed': ExitCode.STEP_FAILED,
  invalid: ExitCode.INVALID,
  'not-reproduced': ExitCode.NOT_REPRODUCED,
  inconclusive: ExitCode.INCONCLUSIVE,
  corrupt: ExitCode.CORRUPT,
  locked: ExitCode.LOCKED,
  'executor-unavailable': ExitCode.EXECUTOR_UNAVAILABLE,
  interrupted: ExitCode.INTERRUPTED,
};

export function exitCodeOf(category: ErrorCategory): ExitCodeValue {
  return EXIT_CODE_OF[category];
}

/** `repro check`'s exit code: 0 pass, 3 a required claim not reproduced, 4 a required claim inconclusive. */
export function exitCodeOfGate(gate: VerdictSummary['gate']): ExitCodeValue {
  return gate === 'not reproduced' ? ExitCode.NOT_REPRODUCED : gate === 'inconclusive' ? ExitCode.INCONCLUSIVE : ExitCode.OK;
}
