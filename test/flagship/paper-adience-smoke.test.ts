// The flagship's Adience profile on the synthetic Adience-style fixture: fold files in the official
// format and generated JPEGs. It proves the paper's own data path (5 subject-exclusive folds → crops
// → train → evaluate → claims paired by fold) without the real images, which cannot be shipped.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { makeAdienceFixture } from '../fixtures/adience.js';
import { repro, tempDir } from '../support/index.js';

describe('workflows/paper.yaml --profile adience_smoke', { timeout: 300_000 }, () => {
  it('runs the Adience data path end to end on the fixture, pairing the claims by fold', async () => {
    const dir = tempDir('repro-adience-smoke-');
    const fx = await makeAdienceFixture(join(dir, 'adience'), { subjectsPerFold: 2, facesPerSubject: 3 });
    const r = repro(
      ['run', resolve('workflows/paper.yaml'), '--profile', 'adience_smoke', '--set', `adience_images=${fx.images}`, '--set', `adience_folds=${fx.folds}`,
        '--store', join(dir, '.repro'), '--results', join(dir, 'results'), '--no-report'],
      { cwd: dir },
    );
    expect(r.code, r.out).toBe(0);
    const record = JSON.parse(readFileSync(join(dir, 'results', 'hou2016-emd2', 'latest', 'run.json'), 'utf8'));
    const ids: string[] = record.steps.map((s: { id: string }) => s.id);
    // The RetinaMNIST and Fashion-MNIST branches are disabled; one dataset, crop and model per fold.
    expect(ids).not.toContain('fetch_retinamnist');
    expect(ids.filter((i) => i.startsWith('dataset_adience['))).toHaveLength(5);
    expect(ids.filter((i) => i.startsWith('train['))).toHaveLength(10);
    const train0 = record.steps.find((s: { id: string }) => s.id === 'train[variant=emd2,seed=1,fold=0]');
    expect(train0.status).toBe('succeeded');
    // The verdict file pairs by fold and labels the run a smoke run.
    const compare = record.steps.find((s: { id: string }) => s.id === 'compare');
    const verdicts = JSON.parse(readFileSync(join(record.store, compare.outputs.verdicts.storePath), 'utf8'));
    expect(verdicts.scale).toBe('smoke');
    expect(verdicts.checks[0].pairedBy).toBe('fold');
    expect(verdicts.checks[0].stats.n).toBe(5);
  });
});
