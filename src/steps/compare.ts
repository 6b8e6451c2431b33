// The `compare` step: reads every evaluate (and optionally train) output of a run, checks the
// paper's reported numbers and claims (src/compare/), writes verdicts.json and a summary value.
import { join } from 'node:path';
import { type StepKind } from './kind.js';
import { compareWithSchema, DEFAULTS, type CompareWith, knownMetricNames } from '../compare/spec.js';
import { checkCompare } from '../compare/claims-file.js';
import { writeJsonAtomic } from '../core/atomic.js';
import { StepError } from '../core/errors.js';
import { VERDICTS } from '../formats/verdict.js';
import { loadObservations, emptyNotes } from '../compare/observations.js';

export const compareStep: StepKind<CompareWith> = {
  name: 'compare',
  role: 'comparison',
  // 2: a mean of gains that cancels is 0, not its rounding residue.
  // 3: verdicts.json carries the metric declarations; smallest effects, power, collapsed trainings.
  // 4: the one verdict rule (smaller than claimed), sign-flip test by default, power at δ, terminal, zeroVariance.
  version: '4',
  description: "Checks a run's results against the paper: reported numbers within tolerance, claims by paired tests across seeds.",
  withSchema: compareWithSchema,
  outputs: ['verdicts', 'summary'],
  inputPaths(w) {
    return typeof w.claims_file === 'string' ? [w.claims_file] : [];
  },
  check(w, context) {
    return checkCompare(w as CompareWith & Record<string, unknown>, context.workflowDir, context.classOrder);
  },
  async run(ctx, w) {
    const { buildVerdictFile } = await import('../compare/verdicts.js');
    const { claimsFilePath, readClaimsFile, mergeClaims } = await import('../compare/claims-file.js');
    // Checked again here: a claims file named by a relative path is first seen now.
    const issues = checkCompare(w as CompareWith & Record<string, unknown>, ctx.workflowDir);
    if (issues.length) {
      throw new StepError(`the comparison is not valid:\n${issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`);
    }
    const spec = w.claims_file ? mergeClaims(w, readClaimsFile(claimsFilePath(w.claims_file, ctx.workflowDir)!)) : w;
    const variantKey = w.variant_key ?? DEFAULTS.variant_key;
    const pairBy = w.pair_by ?? DEFAULTS.pair_by;
    const notes = emptyNotes();
    const table = await loadObservations(w.results, w.timings, variantKey, pairBy, new Set(knownMetricNames(w)), notes);
    for (const [variant, byKey] of notes.collapsed) {
      for (const [key, reasons] of byKey) ctx.log(`WARNING collapsed training: ${variant} ${pairBy} ${key}: ${reasons.join('; ')} (claims: ${w.collapsed ?? 'count'})`);
    }
    const file = buildVerdictFile(spec, table, notes);
    const path = join(ctx.workDir, 'verdicts.json');
    writeJsonAtomic(path, file);
    const s = file.summary!;
    const parts = VERDICTS
      .filter((v) => s.counts[v] > 0)
      .map((v) => `${s.counts[v]} ${v}`);
    for (const c of file.checks) ctx.log(`${c.id}: ${c.verdict} — ${c.explanation}`);
    return {
      outputs: { verdicts: { type: 'file', path }, summary: { type: 'value', value: s } },
      summary: `${parts.join(', ') || 'nothing to check'} (${file.scale}${s.gate === 'pass' ? '' : `; gate: ${s.gate}`})`,
    };
  },
};
