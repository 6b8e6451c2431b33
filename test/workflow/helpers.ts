// Fixtures for the workflow tests: a fixed set of step kinds (so these tests do not change when the
// real kinds evolve; only `train`'s loss is the real one) and a helper that writes workflow text to a real file and loads it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StepKind } from '../../src/steps/kind.js';
import { lossJsonSchema } from '../../src/ml/loss-table.js';
import { loadPlan, type LoadOptions, type LoadResult } from '../../src/workflow/index.js';
import { tempDir } from '../support/index.js';

const notRun = async (): Promise<never> => {
  throw new Error('workflow tests never run steps');
};

function kind(name: string, outputs: string[] | null, withSchema: Record<string, unknown> = { type: 'object' }, extra: Partial<StepKind> = {}): StepKind {
  return { name, version: '1', description: `test kind ${name}`, withSchema, outputs, run: notRun, ...extra };
}

export const testKinds: ReadonlyMap<string, StepKind<any>> = new Map(
  [
    kind('fetch', ['path'], {
      type: 'object',
      properties: { sources: { type: 'array', items: { type: 'string' } }, sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' } },
      additionalProperties: false,
    }),
    kind('dataset', ['dataset'], { type: 'object', properties: { npz: { type: 'string' }, name: { type: 'string' } }, required: ['npz'] }),
    kind('train', ['model', 'history'], {
      type: 'object',
      properties: {
        dataset: { type: 'string' },
        epochs: { type: 'integer', minimum: 1 },
        seed: { type: 'integer' },
        // The real loss schema, so a message about a loss is the one a user sees.
        loss: lossJsonSchema(),
        tag: { type: 'string' },
      },
      required: ['dataset', 'epochs'],
    }),
    kind('evaluate', ['metrics'], { type: 'object', properties: { model: { type: 'string' } }, required: ['model'] }),
    kind(
      'compare',
      ['verdicts'],
      { type: 'object', properties: { results: { type: 'array' } }, required: ['results'] },
      {
        // Like the real compare kind: the claims must name variants that exist among the gathered results.
        check(w: Record<string, any>) {
          const variants = new Set((Array.isArray(w.results) ? w.results : []).map((g: any) => g.matrix?.variant?.name));
          return (w.claims ?? []).flatMap((c: any, i: number) =>
            variants.has(c.better) ? [] : [{ path: `claims/${i}/better`, message: `no variant named '${c.better}' among the results` }],
          );
        },
      },
    ),
    kind('report', ['html', 'markdown'], {
      type: 'object',
      properties: {
        title: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
        style: { oneOf: [{ const: 'auto' }, { type: 'object', required: ['mean'], properties: { mean: { type: 'number' } } }] },
      },
    }),
    kind('run', null),
  ].map((k) => [k.name, k]),
);

const dir = tempDir('repro-workflow-test-');
let n = 0;

/** Writes `text` to a fresh .yaml file and returns its absolute path. */
export function writeWorkflow(text: string | Uint8Array, name = `w${++n}.yaml`): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

export function tmpDir(): string {
  return dir;
}

/** Writes and loads a workflow with the test kinds and an empty environment (unless given). */
export async function load(text: string, options: Partial<LoadOptions> = {}): Promise<LoadResult & { file: string }> {
  const file = writeWorkflow(text);
  const result = await loadPlan(file, { kinds: testKinds, env: {}, ...options });
  return { ...result, file };
}

/** A small valid workflow exercising params, profiles, a matrix and references; tests edit copies of it. */
export const GOOD = `# yaml-language-server: $schema=../schemas/workflow.schema.json
name: demo
params:
  epochs: {type: integer, default: 3}
  seeds: {type: array, default: [1, 2]}
  token: {type: string, env: DEMO_TOKEN, secret: true}
profiles:
  small: {default: true, params: {epochs: 1}}
  big: {params: {epochs: 30}}
steps:
  fetch:
    uses: fetch
    with: {sources: ["https://example.org/\${{ profile }}.npz"], sha256: "${'a'.repeat(64)}"}
  train:
    uses: train
    needs: fetch
    matrix:
      variant: [{name: xe, loss: {kind: xe}}, {name: emd2, loss: {kind: emd2}}]
      seed: \${{ params.seeds }}
    resources: {cpu: 2, memory: 2GiB}
    with:
      dataset: \${{ steps.fetch.outputs.path }}
      loss: \${{ matrix.variant.loss }}
      seed: \${{ matrix.seed }}
      epochs: \${{ params.epochs }}
      tag: run-\${{ matrix.variant.name }}-\${{ matrix.seed }}
  evaluate:
    uses: evaluate
    matrix:
      variant: [{name: xe, loss: {kind: xe}}, {name: emd2, loss: {kind: emd2}}]
      seed: \${{ params.seeds }}
    with: {model: "\${{ steps.train.outputs.model }}"}
  compare:
    uses: compare
    with:
      results: \${{ steps.evaluate.outputs.metrics }}
      claims: [{better: emd2}]
`;
