// The `compare` step: reads every evaluate (and optionally train) output of a run, checks the
// paper's reported numbers and claims (src/compare/), writes verdicts.json and a summary value.
import { join } from 'node:path';
import type { StepKind } from './kind.js';
import { compareWithSchema, checkCompareWith, DEFAULTS, type CompareWith } from '../compare/spec.js';
import { writeJsonAtomic } from '../engine/atomic.js';

export const compareStep: StepKind<CompareWith> = {
  name: 'compare',
  version: '1',
  description: "Checks a run's results against the paper: reported numbers within tolerance, claims by paired tests across seeds.",
  withSchema: compareWithSchema,
  outputs: ['verdicts', 'summary'],
  check(w) {
    return checkCompareWith(w as CompareWith & Record<string, unknown>);
  },
  async run(ctx, w) {
    const { loadObservations } = await import('../compare/observations.js');
    const { buildVerdictFile } = await import('../compare/verdicts.js');
    const variantKey = w.variant_key ?? DEFAULTS.variant_key;
    const pairBy = w.pair_by ?? DEFAULTS.pair_by;
    const table = await loadObservations(w.results, w.timings, variantKey, pairBy);
    const file = buildVerdictFile(w, table);
    const path = join(ctx.workDir, 'verdicts.json');
    writeJsonAtomic(path, file);
    const s = file.summary!;
    const parts = (['reproduced', 'not reproduced', 'inconclusive', 'not recorded'] as const)
      .filter((v) => s.counts[v] > 0)
      .map((v) => `${s.counts[v]} ${v}`);
    for (const c of file.checks) ctx.log(`${c.id}: ${c.verdict} — ${c.explanation}`);
    return {
      outputs: { verdicts: { type: 'file', path }, summary: { type: 'value', value: s } },
      summary: `${parts.join(', ') || 'nothing to check'} (${file.scale}${s.gate === 'pass' ? '' : `; gate: ${s.gate}`})`,
    };
  },
};
