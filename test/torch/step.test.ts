// The train and evaluate step kinds route `engine: torch` (or --engine torch) through the torch
// launcher: the model directory, facts and planned facts say torch. Uses the kinds only through
// their StepKind interface.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { trainStep, type TrainWith } from '../../src/steps/train.js';
import { evaluateStep } from '../../src/steps/evaluate.js';
import type { StepContext, StepOutput } from '../../src/steps/kind.js';
import type { ModelFile } from '../../src/ml/types.js';
import { torch, writeTinyDataset } from './helpers.js';
import { tempDir } from '../support/index.js';

function context(id: string, options: Record<string, unknown>): StepContext & { lines: string[] } {
  const lines: string[] = [];
  return {
    id,
    workflowDir: tempDir('repro-torch-wf-'),
    workDir: tempDir('repro-torch-work-'),
    scratchDir: tempDir('repro-torch-scratch-'),
    matrix: {},
    params: {},
    secret: () => undefined,
    signal: new AbortController().signal,
    log: (l) => void lines.push(l),
    progress: () => undefined,
    threads: 1,
    options,
    lines,
  };
}

const path = (o: StepOutput | undefined): string => (o && o.type !== 'value' ? o.path : '');

describe.skipIf(!torch)('train/evaluate steps on the torch engine (PyTorch found)', { timeout: 180_000 }, () => {
  const dataset = writeTinyDataset(join(tempDir('repro-torch-step-data-'), 'tiny'));
  const w: TrainWith = {
    dataset,
    engine: 'torch',
    model: { arch: 'small-cnn', width: 0.25 },
    loss: { kind: 'emd2' },
    epochs: 1,
    batch_size: 16,
    seed: 1,
  };

  it('engine: torch trains with PyTorch and evaluate follows the model', async () => {
    expect(await trainStep.plannedFacts!(w, {})).toMatchObject({ engine: 'torch', torch: torch!.torch, device: torch!.cuda ? 'cuda' : 'cpu' });
    const ctx = context('train', {});
    const result = await trainStep.run(ctx, w);
    expect(result.facts).toMatchObject({ engine: 'torch', torch: torch!.torch });
    const model = JSON.parse(readFileSync(join(path(result.outputs.model), 'model.json'), 'utf8')) as ModelFile;
    expect(model.engine).toBe('torch');

    const ev = await evaluateStep.run(context('evaluate', {}), { model: path(result.outputs.model), dataset, split: 'test' });
    expect(ev.facts).toMatchObject({ engine: 'torch' });
    expect(JSON.parse(readFileSync(path(ev.outputs.metrics), 'utf8')).n).toBe(20);
  });

  it('--engine torch overrides engine: tfjs in the workflow', async () => {
    const result = await trainStep.run(context('train', { engine: 'torch' }), { ...w, engine: 'tfjs' });
    expect(result.facts?.engine).toBe('torch');
  });
});
