// What `repro check` gates on, from the verdicts of one or more compare steps. The CLI turns the
// outcome into an exit code (exitCodeOfGate in src/cli/exit-codes.ts).
import type { VerdictFile, VerdictSummary } from '../formats/verdict.js';
import { summarizeVerdicts } from './verdicts.js';

/**
 * pass: every required check reproduced (also when nothing is required: say so to the user);
 * not reproduced: any required check not reproduced — it outranks inconclusive, being the stronger finding;
 * inconclusive: otherwise any required check inconclusive.
 */
export function combinedGate(files: VerdictFile[]): VerdictSummary['gate'] {
  const summaries: VerdictSummary[] = files.map((f) => f.summary ?? summarizeVerdicts(f.checks, f.scale));
  if (summaries.some((s) => s.gate === 'not reproduced')) return 'not reproduced';
  if (summaries.some((s) => s.gate === 'inconclusive')) return 'inconclusive';
  return 'pass';
}
