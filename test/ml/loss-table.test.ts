// The loss table (src/ml/loss-table.ts) is the one list of losses: the train step's schema, the
// tfjs implementations and the torch engine's list must all agree with it. Runs without torch: the
// Python side is read as text (its list of implementations) and as the JSON file it loads.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/ml/backend/index.js';
import {
  canonicalLossSpec,
  LOSS_KINDS,
  LOSS_OLD_SPELLINGS,
  LOSS_PARAMETERS,
  LOSSES,
  lossParameter,
  TORCH_LOSS_TABLE_FILE,
  torchLossTableText,
} from '../../src/ml/loss-table.js';
import { makeLoss } from '../../src/ml/losses.js';
import { trainStep } from '../../src/steps/train.js';
import { Ajv } from 'ajv';

const python = (file: string) => readFileSync(new URL(`../../engines/torch/${file}`, import.meta.url), 'utf8');

describe('the loss table', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it('is what the torch engine reads: engines/torch/loss_table.json is up to date (npm run build writes it)', () => {
    expect(readFileSync(TORCH_LOSS_TABLE_FILE, 'utf8')).toBe(torchLossTableText());
  });

  it('the torch engine implements exactly the table’s plain losses; the EMD-term kinds are built by its Objective', () => {
    const block = /^PLAIN = \{\n([\s\S]*?)^\}/m.exec(python('losses.py'));
    expect(block, 'engines/torch/losses.py has no PLAIN = {…}').not.toBeNull();
    const implemented = [...block![1]!.matchAll(/^\s+'([a-z0-9_]+)':/gm)].map((m) => m[1]);
    const plain = LOSS_KINDS.filter((k) => !LOSSES[k].capabilities.emdTerm);
    expect(implemented.sort()).toEqual([...plain].sort());
    // objective.py takes its list of kinds from the table, not from a list of its own.
    expect(python('objective.py')).toMatch(/^KINDS = tuple\(losses\.TABLE\['kinds'\]\)$/m);
  });

  it('every kind has a tfjs implementation that gives a finite loss and gradient', () => {
    const logits = tf.tensor2d([[2, 1, 0, -1, -2], [0, 0.5, 1, 0.5, 0], [-1, 0, 3, 0, -1]]);
    const labels = tf.tensor1d([0, 2, 4], 'int32');
    for (const kind of LOSS_KINDS) {
      const training = makeLoss({ kind }, 5);
      // The EMD-term kinds only exist once α is known: 'auto' is not the default, so they are active at once.
      const value = training.loss(logits as tf.Tensor2D, labels as tf.Tensor1D).dataSync()[0]!;
      const grad = tf.grad((x: tf.Tensor) => training.loss(x as tf.Tensor2D, labels as tf.Tensor1D))(logits).dataSync();
      expect(Number.isFinite(value), kind).toBe(true);
      expect(grad.every(Number.isFinite), kind).toBe(true);
    }
  });

  it('gives the train step its schema for `loss`: every kind, every parameter, the old spellings marked deprecated', () => {
    const schema = (trainStep.withSchema as { properties: Record<string, unknown> }).properties.loss as { properties: Record<string, Record<string, unknown>> };
    // Written out here, not read from the table: the kinds and parameters docs/ml.md documents.
    expect(schema.properties.kind).toEqual({ enum: ['xe', 'emd2', 'xemd', 'learned', 'reg', 'sinkhorn'] });
    expect(Object.keys(schema.properties).sort()).toEqual(
      ['kind', 'positions', 'l', 'normalize', 'alpha', 'omega', 'mu', 'warmup_epochs', 'warmupEpochs', 'ground_distance', 'groundDistance', 'lambda', 'iterations'].sort(),
    );
    for (const name of Object.keys(LOSS_PARAMETERS)) expect(schema.properties[name], name).toBeDefined();
    expect(schema.properties.warmupEpochs!.deprecated).toBe(true);
    expect(schema.properties.groundDistance!.deprecated).toBe(true);
    // What the schema accepts and refuses, checked by a validator.
    const validate = new Ajv({ strict: false }).compile(schema);
    for (const ok of [{ kind: 'xe' }, { kind: 'xemd', alpha: 'auto', warmup_epochs: 1 }, { kind: 'sinkhorn', lambda: 0.5, iterations: 10 }]) expect(validate(ok), JSON.stringify(ok)).toBe(true);
    for (const bad of [{ kind: 'l2' }, {}, { kind: 'xe', epochs: 3 }, { kind: 'sinkhorn', lambda: 0 }, { kind: 'sinkhorn', iterations: 0.5 }, { kind: 'xemd', alpha: 'sometimes' }]) {
      expect(validate(bad), JSON.stringify(bad)).toBe(false);
    }
  });

  it('reads old spellings as the new ones, and defaults from the table', () => {
    expect(LOSS_OLD_SPELLINGS.get('warmupEpochs')).toBe('warmup_epochs');
    expect(canonicalLossSpec({ kind: 'xemd', warmupEpochs: 2, groundDistance: [[0]] } as never)).toEqual({ kind: 'xemd', warmup_epochs: 2, ground_distance: [[0]] });
    // Given both ways, the new spelling wins.
    expect(canonicalLossSpec({ kind: 'xemd', warmupEpochs: 2, warmup_epochs: 3 } as never)).toEqual({ kind: 'xemd', warmup_epochs: 3 });
    expect(lossParameter({ kind: 'sinkhorn' }, 'iterations')).toBe(100);
    expect(lossParameter({ kind: 'sinkhorn', iterations: 7 }, 'iterations')).toBe(7);
    expect(makeLoss({ kind: 'xemd', warmupEpochs: 2 } as never, 5).state.active).toBe(false);
  });
});
