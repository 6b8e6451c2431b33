// What valid workflows mean: expressions and their types, params/profiles/--set/env, matrix
// expansion, the binding of step-output references, resources, and the order of the plan.
import { describe, expect, it } from 'vitest';
import { GOOD, load } from './helpers.js';
import { editDistance, closest } from '../../src/workflow/suggest.js';
import { parseTemplate } from '../../src/workflow/expressions.js';
import { findExcessiveNesting } from '../../src/workflow/source.js';
import { parseMemory } from '../../src/workflow/index.js';
import type { ConcreteStep, Plan } from '../../src/workflow/types.js';

function step(plan: Plan | null, id: string): ConcreteStep {
  const s = plan?.steps.find((x) => x.id === id);
  if (!s) throw new Error(`no step ${id} in ${plan?.steps.map((x) => x.id).join(', ')}`);
  return s;
}

async function planOf(text: string, opts: Parameters<typeof load>[1] = {}): Promise<Plan> {
  const r = await load(text, opts);
  if (!r.plan) throw new Error(r.diagnostics.map((d) => `${d.line}:${d.column} ${d.message}`).join('\n'));
  return r.plan;
}

describe('the plan of a valid workflow', () => {
  it('expands the matrix in axis order, with readable concrete ids, in dependency order', async () => {
    const plan = await planOf(GOOD);
    expect(plan.steps.map((s) => s.id)).toEqual([
      'fetch',
      'train[variant=xe,seed=1]',
      'train[variant=xe,seed=2]',
      'train[variant=emd2,seed=1]',
      'train[variant=emd2,seed=2]',
      'evaluate[variant=xe,seed=1]',
      'evaluate[variant=xe,seed=2]',
      'evaluate[variant=emd2,seed=1]',
      'evaluate[variant=emd2,seed=2]',
      'compare',
    ]);
    // Topological: every dependency comes earlier in the list.
    const seen = new Set<string>();
    for (const s of plan.steps) {
      for (const d of s.deps) expect(seen.has(d), `${s.id} before its dependency ${d}`).toBe(true);
      seen.add(s.id);
    }
  });

  it('keeps the type of a whole-string expression and interpolates embedded ones', async () => {
    const plan = await planOf(GOOD);
    const t = step(plan, 'train[variant=emd2,seed=2]');
    expect(t.matrix).toEqual({ variant: { name: 'emd2', loss: { kind: 'emd2' } }, seed: 2 });
    expect(t.with.seed).toBe(2);
    expect(t.with.epochs).toBe(1); // the default profile 'small' overrides the default 3
    expect(t.with.loss).toEqual({ kind: 'emd2' });
    expect(t.with.tag).toBe('run-emd2-2');
    expect(step(plan, 'fetch').with.sources).toEqual(['https://example.org/small.npz']);
  });

  it("writes a literal '${{' as the string expression ${{ '${{' }}", async () => {
    const text = GOOD.replace('tag: run-\${{ matrix.variant.name }}-\${{ matrix.seed }}', "tag: \"echo \${{ '\${{' }} github.sha }} \${{ matrix.seed }}\"");
    expect(text).not.toBe(GOOD);
    const plan = await planOf(text);
    expect(step(plan, 'train[variant=xe,seed=1]').with.tag).toBe('echo ${{ github.sha }} 1');
  });

  it('binds a reference to the instance with the same matrix values, and gathers from a step without them', async () => {
    const plan = await planOf(GOOD);
    const t = step(plan, 'train[variant=xe,seed=1]');
    expect(t.with.dataset).toEqual({ $ref: { step: 'fetch', output: 'path' } });
    expect(t.deps).toEqual(['fetch']);
    const e = step(plan, 'evaluate[variant=emd2,seed=1]');
    expect(e.with.model).toEqual({ $ref: { step: 'train[variant=emd2,seed=1]', output: 'model' } });
    expect(e.deps).toEqual(['train[variant=emd2,seed=1]']);
    const c = step(plan, 'compare');
    const results = c.with.results as Array<{ matrix: Record<string, unknown>; step: string; value: unknown }>;
    expect(results.map((g) => g.step)).toEqual(plan.steps.filter((s) => s.stepId === 'evaluate').map((s) => s.id));
    expect(results[3]).toEqual({
      matrix: { variant: { name: 'emd2', loss: { kind: 'emd2' } }, seed: 2 },
      step: 'evaluate[variant=emd2,seed=2]',
      value: { $ref: { step: 'evaluate[variant=emd2,seed=2]', output: 'metrics' } },
    });
    expect(c.deps).toHaveLength(4);
  });

  it('a step with some of the axes gathers only the instances that agree on them', async () => {
    const text = GOOD.replace(
      '  compare:\n',
      '  per-variant:\n    uses: report\n    matrix: {variant: [{name: xe}, {name: emd2}]}\n    with: {metrics: "${{ steps.evaluate.outputs.metrics }}"}\n  compare:\n',
    );
    const plan = await planOf(text);
    const s = step(plan, 'per-variant[variant=xe]');
    expect((s.with.metrics as Array<{ step: string }>).map((g) => g.step)).toEqual(['evaluate[variant=xe,seed=1]', 'evaluate[variant=xe,seed=2]']);
  });

  it('a reference inside a longer string becomes a Concat', async () => {
    const plan = await planOf(GOOD.replace('dataset: ${{ steps.fetch.outputs.path }}', 'dataset: "${{ steps.fetch.outputs.path }}/train-${{ matrix.seed }}.csv"'));
    expect(step(plan, 'train[variant=xe,seed=2]').with.dataset).toEqual({
      $concat: [{ $ref: { step: 'fetch', output: 'path' } }, '/train-2.csv'],
    });
  });

  it('needs on a matrix step binds like a reference', async () => {
    const plan = await planOf(GOOD.replace('    with: {model:', '    needs: [fetch, train]\n    with: {model:'));
    expect(step(plan, 'evaluate[variant=xe,seed=2]').deps).toEqual(['fetch', 'train[variant=xe,seed=2]']);
  });

  it('resources default to 1 cpu, 0 gpu, 0 memory; sizes with units become bytes', async () => {
    const plan = await planOf(GOOD);
    expect(step(plan, 'fetch').resources).toEqual({ cpu: 1, gpu: 0, memory: 0 });
    expect(step(plan, 'train[variant=xe,seed=1]').resources).toEqual({ cpu: 2, gpu: 0, memory: 2 * 2 ** 30 });
    expect(parseMemory('512MiB')).toBe(512 * 2 ** 20);
    expect(parseMemory('1.5 GB')).toBe(1.5e9);
    expect(parseMemory(1024)).toBe(1024);
    expect(parseMemory('lots')).toBeNull();
  });

  it('outputs come from the kind, or from the step for a run kind', async () => {
    const plan = await planOf(GOOD.replace('  compare:\n', '  script:\n    uses: run\n    outputs: {table: table.csv}\n  compare:\n'));
    expect(step(plan, 'train[variant=xe,seed=1]').outputs).toEqual(['model', 'history']);
    expect(step(plan, 'script').outputs).toEqual(['table']);
  });

  it('records the workflow: hash, directory, declarations and node ranges', async () => {
    const r = await load(GOOD);
    const wf = r.plan!.workflow;
    expect(wf.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(wf.dir).toBe(r.file.slice(0, r.file.lastIndexOf('/')));
    expect(wf.steps.train!.needs).toEqual(['fetch']);
    expect(wf.ranges.get('/steps/train/with/epochs')?.start).toMatchObject({ line: 25, column: 15 });
    expect(wf.keyRanges?.get('/steps/train')?.start).toMatchObject({ line: 14, column: 3 });
  });
});

describe('params, profiles, environment and --set', () => {
  it('--profile picks a profile; --set wins over it, later --set over earlier', async () => {
    const big = await planOf(GOOD, { profile: 'big' });
    expect(big.profile).toBe('big');
    expect(big.params.epochs).toBe(30);
    expect(step(big, 'fetch').with.sources).toEqual(['https://example.org/big.npz']);
    const set = await planOf(GOOD, { profile: 'big', set: ['epochs=7', 'params.epochs=8', 'seeds=[5, 6, 7]'] });
    expect(set.params.epochs).toBe(8);
    expect(set.steps.filter((s) => s.stepId === 'train')).toHaveLength(6);
  });

  it('--set can change a step input', async () => {
    const plan = await planOf(GOOD, { set: ['steps.train.with.tag=fixed', 'steps.train.with.loss.kind=reg'] });
    expect(step(plan, 'train[variant=xe,seed=1]').with.tag).toBe('fixed');
    expect(step(plan, 'train[variant=xe,seed=1]').with.loss).toEqual({ kind: 'reg' });
  });

  it('a string param takes --set text literally', async () => {
    const plan = await planOf(GOOD.replace('params:\n', 'params:\n  label: {type: string, default: a}\n'), { set: ['label=123'] });
    expect(plan.params.label).toBe('123');
  });

  it('env params read the environment; secret ones are listed and unset ones are null', async () => {
    const plan = await planOf(GOOD, { env: { DEMO_TOKEN: 's3cret' } });
    expect(plan.params.token).toBe('s3cret');
    expect(plan.secretParams).toEqual(['token']);
    const unset = await planOf(GOOD, { env: {} });
    expect(unset.params.token).toBeNull();
  });

  it('a secret value never appears in a diagnostic', async () => {
    const text = GOOD.replace('token: {type: string, env: DEMO_TOKEN, secret: true}', 'token: {type: integer, env: DEMO_TOKEN, secret: true}');
    const r = await load(text, { env: { DEMO_TOKEN: 'hunter2' } });
    expect(r.plan).toBeNull();
    expect(JSON.stringify(r.diagnostics)).not.toContain('hunter2');
    expect(r.diagnostics[0]!.message).toMatch(/DEMO_TOKEN=\(hidden\)/);
  });

  it("'||' gives a default when a value is missing", async () => {
    const text = GOOD.replace('tag: run-${{ matrix.variant.name }}-${{ matrix.seed }}', "tag: ${{ matrix.variant.note || 'none' }}");
    const plan = await planOf(text);
    expect(step(plan, 'train[variant=xe,seed=1]').with.tag).toBe('none');
  });

  it('matrix include and exclude', async () => {
    const text = GOOD.replace(
      '      seed: ${{ params.seeds }}\n    resources',
      '      seed: ${{ params.seeds }}\n      exclude: [{variant: {name: xe, loss: {kind: xe}}, seed: 2}]\n      include: [{variant: {name: reg, loss: {kind: reg}}, seed: 9}]\n    resources',
    );
    const r = await load(text);
    // evaluate still lists xe/seed=2, which train no longer has: a clear binding error.
    expect(r.diagnostics.map((d) => d.message)).toContain("step 'train' has no instance with variant=xe,seed=2");
    const plan = await planOf(text.replace(/  evaluate:[\s\S]*?(?=  compare:)/, '').replace('steps.evaluate.outputs.metrics', 'steps.train.outputs.history'));
    expect(plan.steps.filter((s) => s.stepId === 'train').map((s) => s.id)).toEqual([
      'train[variant=xe,seed=1]',
      'train[variant=emd2,seed=1]',
      'train[variant=emd2,seed=2]',
      'train[variant=reg,seed=9]',
    ]);
  });
});

describe('pieces', () => {
  it('edit distance and suggestions', () => {
    expect(editDistance('trian', 'train')).toBe(1); // a swap is one edit
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(closest('stpes', ['name', 'steps', 'params'])).toBe('steps');
    expect(closest('xyz', ['name', 'steps'])).toBeUndefined();
  });

  it('the expression grammar: paths, indexes, literals, ||, and nothing else', () => {
    const parts = parseTemplate("a-${{ params.x[0].y || 'd''x' || 3 }}-b");
    expect(Array.isArray(parts)).toBe(true);
    const expr = (parts as any[])[1];
    expect(expr.operands.map((o: any) => (o.kind === 'path' ? [o.root, ...o.path] : o.value))).toEqual([['params', 'x', 0, 'y'], "d'x", 3]);
    expect(parseTemplate('${{ a() }}')).toMatchObject({ error: expect.stringMatching(/'\(' is not supported/) });
    expect(parseTemplate('${{ }}')).toMatchObject({ error: expect.stringMatching(/empty expression/) });
    expect(parseTemplate("${{ 'x }}")).toMatchObject({ error: expect.stringMatching(/unclosed|unterminated/) });
  });

  it('the nesting pre-scan ignores brackets in quotes and comments', () => {
    expect(findExcessiveNesting(`a: "${'['.repeat(100)}" # ${'{'.repeat(100)}\n`)).toBeNull();
    expect(findExcessiveNesting(`a: ${'['.repeat(70)}`)).not.toBeNull();
  });
});
