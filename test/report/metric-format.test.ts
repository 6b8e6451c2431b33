// A metric nobody declared reads as its values suggest: a count prints as a whole number in verdicts.json
// (compare) and in the report, never as 50.000 ± 0.000.
import { describe, expect, it } from 'vitest';
import { formatMetric, undeclaredMetric } from '../../src/formats/metrics.js';
import { buildVerdictFile } from '../../src/compare/verdicts.js';
import { reportCatalog, type EvaluationEntry } from '../../src/report/input.js';
import type { ObservationTable } from '../../src/compare/observations.js';

describe('undeclared metrics', () => {
  it('all whole values: integer; any fraction: number', () => {
    expect(undeclaredMetric('mistakes', [50, 50, 48]).format).toBe('integer');
    expect(undeclaredMetric('log_loss', [0.3, 1]).format).toBe('number');
    expect(undeclaredMetric('nothing', []).format).toBe('number');
  });

  it('an integer metric prints whole values bare and a mean that is not whole with one decimal', () => {
    const cat = new Map([['mistakes', undeclaredMetric('mistakes', [50])]]);
    expect(`${formatMetric(50, 'mistakes', cat)} ± ${formatMetric(0, 'mistakes', cat)}`).toBe('50 ± 0');
    expect(formatMetric(49.666, 'mistakes', cat)).toBe('49.7');
  });

  it('compare declares a count it finds as an integer; the report does too without a compare step', () => {
    const table: ObservationTable = new Map([
      ['a', new Map([['seed=1', { mistakes: 50, score: 0.25 }], ['seed=2', { mistakes: 50, score: 0.5 }]])],
    ]);
    const file = buildVerdictFile({ results: [] } as never, table);
    expect(file.metrics?.mistakes).toMatchObject({ format: 'integer', origin: 'undeclared' });
    expect(file.metrics?.score).toMatchObject({ format: 'number', origin: 'undeclared' });

    const evaluations = [50, 49].map((mistakes, i) => ({ variant: 'a', replicate: `seed=${i}`, step: 's', source: 'm', metrics: { accuracy: 0.5, mistakes, n: 100 } }));
    const catalog = reportCatalog([], null, evaluations as unknown as EvaluationEntry[]);
    expect(catalog.get('mistakes')?.format).toBe('integer');
    expect(catalog.get('accuracy')?.format).toBe('percent');
    expect(catalog.has('n')).toBe(false);
  });
});
