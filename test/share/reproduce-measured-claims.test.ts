// A claim on a measurement of the machine (the flagship's C5: EMD² steps no slower than XE's, on
// ms_per_step) is informative: its statistics, verdict and explanation in compare's verdicts.json are
// measurements as a whole, so a re-run whose only difference is C5's timings is "identical except
// measurements" (the run bit-identical), while any other claim's numbers still differ.
import { describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compareRuns } from '../../src/share/reproduce.js';
import type { RunRecord } from '../../src/formats/run-record.js';
import type { ExportLock } from '../../src/share/archive.js';
import { tempDir } from '../support/index.js';

function check(id: string, metric: string, mean: number, verdict: string) {
  return { kind: 'claim', id, metric, stats: { n: 10, mean, ci95: [mean - 0.1, mean + 0.1], pValue: 0.02 }, verdict, terminal: true, explanation: `gain ${mean}: ${verdict}` };
}
const verdicts = (c1: number, c5: number, c5verdict: string) => ({ scale: 'proxy', checks: [check('C1', 'mae', c1, 'reproduced'), check('C5', 'ms_per_step', c5, c5verdict)], summary: { reproduced: 2 } });

function compare(original: object, again: object) {
  const dir = tempDir('repro-measured-claims-');
  mkdirSync(join(dir, 'archive', 'artifacts'), { recursive: true });
  mkdirSync(join(dir, 'store', 'files'), { recursive: true });
  writeFileSync(join(dir, 'archive', 'artifacts', 'verdicts.json'), JSON.stringify(original));
  writeFileSync(join(dir, 'store', 'files', 'verdicts.json'), JSON.stringify(again));
  const steps = (sha: string) => [
    { id: 'train[seed=1]', stepId: 'train', uses: 'train', outputs: {} },
    { id: 'compare', stepId: 'compare', uses: 'compare', role: 'compare', outputs: { verdicts: { type: 'file', sha256: sha, storePath: 'files/verdicts.json' } } },
  ];
  const record = (sha: string) => ({ status: 'succeeded', steps: steps(sha) }) as unknown as RunRecord;
  const lock = { steps: { compare: { outputs: { verdicts: { path: 'artifacts/verdicts.json' } } } } } as unknown as ExportLock;
  // The train kind declares ms_per_step a measurement; compare declares none of its own.
  return compareRuns(record('a'), lock, join(dir, 'archive'), record('b'), join(dir, 'store'), [], (s) => (s.uses === 'train' ? ['ms_per_step'] : []));
}

describe('a claim on a measurement in a reproduced verdicts.json', () => {
  it("its statistics, verdict and explanation differing: identical except measurements, named by the claim's check", () => {
    const r = compare(verdicts(0.2, 0.04, 'reproduced'), verdicts(0.2, 0.09, 'not reproduced'));
    const a = r.artifacts.find((x) => x.output === 'verdicts')!;
    expect(a.verdict).toBe('identical except measurements');
    expect(a.note).toBe('only measurements of the machine differ: checks[1]');
    expect(r.verdict).toBe('bit-identical');
  });

  it('another claim whose numbers differ still differs', () => {
    const r = compare(verdicts(0.2, 0.04, 'reproduced'), verdicts(0.21, 0.04, 'reproduced'));
    expect(r.artifacts.find((x) => x.output === 'verdicts')!.verdict).toBe('differs');
    expect(r.verdict).toBe('differs');
  });

  it('another claim whose words differ still differs', () => {
    const b = verdicts(0.2, 0.04, 'reproduced');
    b.checks[0]!.verdict = 'not reproduced';
    expect(compare(verdicts(0.2, 0.04, 'reproduced'), b).artifacts.find((x) => x.output === 'verdicts')!.verdict).toBe('differs');
  });
});
