// What `repro check` exits with, from the verdicts of one or more compare steps.
import { ExitCode, type ExitCodeValue } from '../cli/exit-codes.js';
import type { VerdictFile, VerdictSummary } from '../formats/verdict.js';
import { summarizeVerdicts } from './verdicts.js';

/**
 * 0: every required check reproduced (also when nothing is required: say so to the user);
 * 3: any required check not reproduced — it outranks inconclusive, being the stronger finding;
 * 4: otherwise any required check inconclusive.
 */
export function gateExitCode(files: VerdictFile[]): ExitCodeValue {
  const summaries: VerdictSummary[] = files.map((f) => f.summary ?? summarizeVerdicts(f.checks, f.scale));
  if (summaries.some((s) => s.gate === 'not reproduced')) return ExitCode.NOT_REPRODUCED;
  if (summaries.some((s) => s.gate === 'inconclusive')) return ExitCode.INCONCLUSIVE;
  return ExitCode.OK;
}
