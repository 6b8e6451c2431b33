// The sentence a reader of the claims table takes in at a glance, from verdicts the real compare decides.
import { describe, expect, it } from 'vitest';
import { buildVerdictFile } from '../../src/compare/verdicts.js';
import type { ObservationTable } from '../../src/compare/observations.js';
import type { ReportInput } from '../../src/report/input.js';
import { verdictRows } from '../../src/report/model.js';

function rows(a: number[], b: number[], scale: 'full' | 'proxy' = 'full') {
  const table: ObservationTable = new Map([
    ['a', new Map(a.map((v, i) => [`seed=${i}`, { accuracy: v }]))],
    ['b', new Map(b.map((v, i) => [`seed=${i}`, { accuracy: v }]))],
  ]);
  const file = buildVerdictFile(
    {
      results: [],
      scale,
      scale_note: 'a test',
      claims: [{ id: 'C', text: 'a beats b', metric: 'accuracy', relation: { type: 'better', a: 'a', b: 'b' }, test: 'paired-t' }],
      reported: [{ id: 'R', metric: 'accuracy', variant: 'a', value: 0.7, source: { paper: 'a pilot' }, tolerance: { absolute: 0.05 } }],
    } as never,
    table,
  );
  return verdictRows({ verdicts: { file, source: 'v1' } } as unknown as ReportInput);
}

describe('in short', () => {
  it('says what each verdict means in plain words, the relation named', () => {
    const up = rows([0.71, 0.72, 0.7, 0.73, 0.71, 0.72], [0.6, 0.62, 0.61, 0.6, 0.63, 0.6]);
    expect(up.find((r) => r.id === 'C')!.inShort).toBe('The runs support the claim (a better than b).');
    expect(up.find((r) => r.id === 'R')!.inShort).toBe('The measured mean lies within the tolerance of the reported value.');
    const down = rows([0.6, 0.62, 0.61, 0.6, 0.63, 0.6], [0.71, 0.72, 0.7, 0.73, 0.71, 0.72]);
    expect(down.find((r) => r.id === 'C')!.inShort).toBe('The runs go against the claim (a better than b).');
    const proxy = rows([0.71, 0.72, 0.7], [0.6, 0.62, 0.61], 'proxy');
    expect(proxy.find((r) => r.id === 'R')!.inShort).toMatch(/^A proxy run cannot confirm a reported absolute number/);
  });

  it('keeps a zero-variance test in sight, not only behind "why"', () => {
    const flat = rows([0.7, 0.72, 0.74, 0.76], [0.6, 0.62, 0.64, 0.66]);
    const c = flat.find((r) => r.id === 'C')!;
    expect(c.explanation).toMatch(/ZERO VARIANCE/);
    expect(c.inShort).toMatch(/Zero variance: every paired difference is the same number/);
  });
});
