// Conditional steps (`if:`) and the comparison operators (==, !=, !): which steps a profile or
// --set enables, how references to a disabled step fall through `||`, and every mistake's position.
import { describe, expect, it } from 'vitest';
import { load, writeWorkflow } from './helpers.js';
import { parseTemplate } from '../../src/workflow/expressions.js';
import type { ConcreteStep, Plan } from '../../src/workflow/types.js';
import { repro } from '../support/index.js';

const SHA = 'a'.repeat(64);

// One data source per profile, each enabled by an `if:`, and one shared train step that takes
// whichever dataset is enabled. Line numbers matter: tests point at them.
const SOURCES = `name: cond
params:
  data: {type: string, enum: [retinamnist, adience, fashion], default: retinamnist}
profiles:
  retinamnist: {default: true, params: {data: retinamnist}}
  adience: {params: {data: adience}}
  orderless: {params: {data: fashion}}
steps:
  fetch_retina:
    uses: fetch
    if: \${{ params.data == 'retinamnist' }}
    with: {sources: [https://example.org/r.npz], sha256: "${SHA}"}
  fetch_adience:
    uses: fetch
    if: \${{ profile == 'adience' }}
    with: {sources: [https://example.org/a.tgz], sha256: "${SHA}"}
  dataset_retina:
    uses: dataset
    if: \${{ params.data == 'retinamnist' }}
    with: {name: retinamnist, npz: "\${{ steps.fetch_retina.outputs.path }}"}
  dataset_adience:
    uses: dataset
    if: \${{ params.data == 'adience' }}
    needs: fetch_adience
    with: {name: adience, npz: "\${{ steps.fetch_adience.outputs.path }}"}
  dataset_fashion:
    uses: dataset
    if: \${{ profile == 'orderless' }}
    with: {name: idx, npz: /usr/share/datasets/fashion-mnist}
  train:
    uses: train
    needs: [dataset_adience]
    with:
      dataset: \${{ steps.dataset_retina.outputs.dataset || steps.dataset_adience.outputs.dataset || steps.dataset_fashion.outputs.dataset }}
      epochs: 1
      tag: \${{ steps.fetch_adience.outputs.path || null }}
`;

function step(plan: Plan, id: string): ConcreteStep {
  const s = plan.steps.find((x) => x.id === id);
  if (!s) throw new Error(`no step ${id} in ${plan.steps.map((x) => x.id).join(', ')}`);
  return s;
}

async function planOf(text: string, opts: Parameters<typeof load>[1] = {}): Promise<Plan> {
  const r = await load(text, opts);
  if (!r.plan) throw new Error(r.diagnostics.map((d) => `${d.line}:${d.column} ${d.message}`).join('\n'));
  return r.plan;
}

/** The diagnostics of a workflow that must be invalid, as 'line:column message'. */
async function errorsOf(text: string, opts: Parameters<typeof load>[1] = {}): Promise<Array<{ at: string; message: string; code?: string }>> {
  const r = await load(text, opts);
  expect(r.plan, 'the workflow should be invalid').toBeNull();
  return r.diagnostics.map((d) => ({ at: `${d.line}:${d.column}`, message: d.message, code: d.code }));
}

describe('if: per profile and --set', () => {
  it('the default profile keeps only its own source; the others are disabled, not planned', async () => {
    const plan = await planOf(SOURCES);
    expect(plan.steps.map((s) => s.id)).toEqual(['fetch_retina', 'dataset_retina', 'train']);
    expect(plan.disabled).toEqual(['fetch_adience', 'dataset_adience', 'dataset_fashion']);
    const train = step(plan, 'train');
    // The || chain binds the first enabled step, and depends on that one only (needs on the disabled one is dropped).
    expect(train.with.dataset).toEqual({ $ref: { step: 'dataset_retina', output: 'dataset' } });
    expect(train.deps).toEqual(['dataset_retina']);
    // `|| null` after a disabled step: the key is left out rather than passed as null.
    expect('tag' in train.with).toBe(false);
    expect(train.with).toEqual({ dataset: { $ref: { step: 'dataset_retina', output: 'dataset' } }, epochs: 1 });
  });

  it('--profile adience enables the adience chain, and the || falls through to it', async () => {
    const plan = await planOf(SOURCES, { profile: 'adience' });
    expect(plan.steps.map((s) => s.id)).toEqual(['fetch_adience', 'dataset_adience', 'train']);
    expect(plan.disabled).toEqual(['fetch_retina', 'dataset_retina', 'dataset_fashion']);
    expect(step(plan, 'dataset_adience').deps).toEqual(['fetch_adience']);
    const train = step(plan, 'train');
    expect(train.with.dataset).toEqual({ $ref: { step: 'dataset_adience', output: 'dataset' } });
    expect(train.with.tag).toEqual({ $ref: { step: 'fetch_adience', output: 'path' } });
    expect(train.deps).toEqual(['dataset_adience', 'fetch_adience']);
  });

  it('--profile orderless binds the last alternative', async () => {
    const plan = await planOf(SOURCES, { profile: 'orderless' });
    expect(plan.steps.map((s) => s.id)).toEqual(['dataset_fashion', 'train']);
    expect(step(plan, 'train').with.dataset).toEqual({ $ref: { step: 'dataset_fashion', output: 'dataset' } });
    expect(step(plan, 'train').deps).toEqual(['dataset_fashion']);
  });

  it('--set changes what an if over params decides; a reference left without an enabled alternative is an error at it', async () => {
    // data=adience under the retinamnist profile: dataset_adience is on, but fetch_adience (if: profile == 'adience') is off.
    const errors = await errorsOf(SOURCES, { set: ['data=adience'] });
    expect(errors).toEqual([
      {
        at: '25:37',
        message: "step 'fetch_adience' is disabled by its `if:` (false under profile retinamnist); add an alternative with `||` or enable it",
        code: 'disabled-step',
      },
    ]);
  });

  it('every alternative disabled: one error naming them all, at the first', async () => {
    const text = SOURCES.replace("if: ${{ profile == 'orderless' }}", 'if: false');
    const errors = await errorsOf(text, { profile: 'orderless' });
    expect(errors).toHaveLength(1);
    expect(errors[0]!.at).toBe('34:20');
    expect(errors[0]!.message).toMatch(/^steps 'dataset_retina', 'dataset_adience', 'dataset_fashion' are disabled by their `if:` \(false under profile orderless\)/);
  });

  it('literal true and false; without a profile the message says so', async () => {
    const text = `name: lit
steps:
  a: {uses: fetch, if: false, with: {sources: [x], sha256: "${SHA}"}}
  b: {uses: fetch, if: true, with: {sources: [x], sha256: "${SHA}"}}
  c: {uses: dataset, with: {npz: "\${{ steps.a.outputs.path }}"}}
`;
    const errors = await errorsOf(text);
    expect(errors).toEqual([
      {
        at: '5:39',
        message: "step 'a' is disabled by its `if:` (false without a profile); add an alternative with `||` or enable it",
        code: 'disabled-step',
      },
    ]);
    const plan = await planOf(text.replace('steps.a.outputs.path }}', 'steps.a.outputs.path || steps.b.outputs.path }}'));
    expect(plan.steps.map((s) => s.id)).toEqual(['b', 'c']);
    expect(plan.disabled).toEqual(['a']);
    expect(step(plan, 'c').deps).toEqual(['b']);
  });

  it('--set steps.ID.if switches a step on or off whatever its if: says; anything but true/false is an error', async () => {
    const text = `name: sw
steps:
  a: {uses: fetch, if: false, with: {sources: [x], sha256: "${SHA}"}}
  b: {uses: fetch, with: {sources: [x], sha256: "${SHA}"}}
  c: {uses: dataset, with: {npz: "\${{ steps.a.outputs.path || steps.b.outputs.path }}"}}
`;
    const on = await planOf(text, { set: ['steps.a.if=true'] });
    expect(on.disabled).toEqual([]);
    expect(step(on, 'c').deps).toEqual(['a']);
    const off = await planOf(text, { set: ['steps.a.if=true', 'steps.a.if=false'] }); // the later one wins
    expect(off.disabled).toEqual(['a']);
    expect(step(off, 'c').deps).toEqual(['b']);
    // Switching off the only alternative: the message names --set, not the if:.
    expect(await errorsOf(text, { set: ['steps.b.if=false', 'steps.a.if=false'] })).toEqual([
      { at: '5:39', message: "steps 'a', 'b' are disabled by --set steps.ID.if=false; add an alternative with `||` or enable it", code: 'disabled-step' },
    ]);
    const bad = await errorsOf(text, { set: ['steps.a.if=maybe', 'steps.zz.if=true'] });
    expect(bad.map((e) => e.message)).toEqual(["--set steps.a.if=maybe: expected true or false, found 'maybe'", expect.stringMatching(/^--set steps\.zz\.if=true: unknown step 'zz'/)]);
  });

  it('a reference from a disabled step to a disabled step is fine (the referring step is not planned)', async () => {
    const plan = await planOf(`name: off
steps:
  a: {uses: fetch, if: false, with: {sources: [x], sha256: "${SHA}"}}
  b: {uses: dataset, if: false, needs: a, with: {npz: "\${{ steps.a.outputs.path }}"}}
`);
    expect(plan.steps).toEqual([]);
    expect(plan.disabled).toEqual(['a', 'b']);
  });

  it('a disabled matrix step gathers to nothing, and || falls through', async () => {
    const text = `name: m
params:
  many: {type: boolean, default: false}
steps:
  fetch: {uses: fetch, with: {sources: [x], sha256: "${SHA}"}}
  per_seed:
    uses: evaluate
    if: \${{ params.many }}
    matrix: {seed: [1, 2]}
    with: {model: "\${{ steps.fetch.outputs.path }}"}
  compare:
    uses: compare
    with: {results: "\${{ steps.per_seed.outputs.metrics || steps.fetch.outputs.path }}"}
`;
    const off = await planOf(text);
    expect(off.steps.map((s) => s.id)).toEqual(['fetch', 'compare']);
    expect(step(off, 'compare').with.results).toEqual({ $ref: { step: 'fetch', output: 'path' } });
    const on = await planOf(text, { set: ['many=true'] });
    expect(on.steps.map((s) => s.id)).toEqual(['fetch', 'per_seed[seed=1]', 'per_seed[seed=2]', 'compare']);
    expect(step(on, 'compare').deps).toEqual(['per_seed[seed=1]', 'per_seed[seed=2]']);
  });
});

describe('if: mistakes', () => {
  const base = (cond: string, extra = ''): string => `name: bad
params:
  data: {type: string, default: adience}
  seeds: {type: array, default: [1]}
steps:
  fetch:
    uses: fetch
    with: {sources: [x], sha256: "${SHA}"}
  train:
    uses: train
    matrix: {seed: [1, 2]}
    if: ${cond}
    with: {dataset: "\${{ steps.fetch.outputs.path }}", epochs: 1}
${extra}`;

  it('an if that is not a boolean is an error at its expression', async () => {
    expect(await errorsOf(base('${{ params.data }}'))).toEqual([
      { at: '12:9', message: "`if:` must give true or false, but '${{ params.data }}' gives the string \"adience\"", code: 'wrong-type' },
    ]);
    expect((await errorsOf(base('${{ params.seeds }}')))[0]!.message).toMatch(/gives a list$/);
  });

  it('an if over matrix or steps is an error naming why', async () => {
    const m = await errorsOf(base('${{ matrix.seed == 1 }}'));
    expect(m).toHaveLength(1);
    expect(m[0]).toMatchObject({ at: '12:13', code: 'bad-reference' });
    expect(m[0]!.message).toMatch(/^`if:` cannot use matrix values: it decides whether the whole step runs/);
    const s = await errorsOf(base('${{ steps.fetch.outputs.path }}'));
    expect(s[0]).toMatchObject({ at: '12:13', code: 'bad-reference' });
    expect(s[0]!.message).toMatch(/^`if:` cannot use step outputs: it is decided when the plan is made/);
  });

  it('an if that is not one whole expression fails the schema at its line', async () => {
    const e = await errorsOf(base('"yes-${{ params.data }}"'));
    expect(e[0]).toMatchObject({ at: '12:9', code: 'wrong-value' });
    expect(e[0]!.message).toMatch(/step 'train' if: the string 'yes-\$\{\{ params.data \}\}' is not in the expected form \(true, false, or one/);
    const two = await errorsOf(base("${{ profile == 'a' }} ${{ profile == 'b' }}"));
    expect(two[0]!.message).toMatch(/^`if:` must be true, false, or one \$\{\{ \.\.\. \}\} expression with nothing around it/);
    const n = await errorsOf(base('1'));
    expect(n[0]!.message).toMatch(/step 'train' if must be a boolean or a string, found the number 1/);
  });

  it('an unknown param in an if is an error with a suggestion', async () => {
    const e = await errorsOf(base("${{ params.dta == 'x' }}"));
    expect(e).toEqual([{ at: '12:13', message: "unknown param 'dta' (did you mean 'data'?)", code: 'unknown-param' }]);
  });

  it('a disabled step still gets the schema and name checks, but not its kind checks', async () => {
    const disabled = `name: d
steps:
  fetch:
    uses: fetch
    if: false
    with: {sources: 3, sha256: not-a-hash, extra: 1}
`;
    // Meaningless inputs under this profile: no error.
    expect((await planOf(disabled)).disabled).toEqual(['fetch']);
    // A typo in a key, a step name or a reference is caught under every profile.
    expect((await errorsOf(disabled.replace('    with:', '    wiht:')))[0]).toMatchObject({ at: '6:5', code: 'unknown-key' });
    expect(await errorsOf(disabled.replace('extra: 1', 'extra: "${{ steps.fecth.outputs.path }}"'))).toEqual([
      { at: '6:56', message: "unknown step 'fecth' (did you mean 'fetch'?)", code: 'unknown-step' },
    ]);
    expect((await errorsOf(disabled.replace('uses: fetch', 'uses: fecth')))[0]).toMatchObject({ at: '4:11', code: 'unknown-kind' });
    expect((await errorsOf(disabled.replace('extra: 1', 'extra: "${{ params.nope }}"')))[0]).toMatchObject({ code: 'unknown-param' });
  });

  it('a cycle through a disabled step is still a cycle', async () => {
    const text = `name: c
steps:
  a: {uses: fetch, if: false, needs: b}
  b: {uses: fetch, needs: a}
`;
    expect((await errorsOf(text))[0]).toMatchObject({ code: 'cycle' });
  });
});

describe('== and !=', () => {
  // Each key of a report step's `with` holds one expression; the kind's schema ignores extra keys.
  async function values(exprs: Record<string, string>, opts: Parameters<typeof load>[1] = {}): Promise<Record<string, unknown>> {
    const text = `name: eq
params:
  n: {type: integer, default: 3}
  x: {type: number, default: 0.5}
  s: {type: string, default: adience}
  flag: {type: boolean, default: false}
  nothing: {type: string, env: EQ_NOTHING}
  list: {type: array, default: [1, 2]}
profiles:
  p: {params: {n: 4}}
steps:
  r:
    uses: report
    matrix: {variant: [{name: xe, alpha: 1}]}
    with:
${Object.entries(exprs)
  .map(([k, e]) => `      ${k}: "\${{ ${e} }}"`)
  .join('\n')}
`;
    return step(await planOf(text, opts), 'r[variant=xe]').with;
  }

  it('compares strings, numbers, booleans and null strictly', async () => {
    const v = await values({
      s1: "params.s == 'adience'",
      s2: "params.s != 'adience'",
      s3: "'it''s' == 'it''s'",
      n1: 'params.n == 3',
      n2: "params.n == '3'", // no conversion between types
      n3: 'params.x == 0.5',
      n4: '1.0 == 1',
      n5: 'params.n != 4',
      b1: 'params.flag == false',
      b2: 'params.flag == true',
      z1: 'params.nothing == null',
      z2: 'profile == null',
      z3: "params.nothing != ''",
      m1: 'matrix.variant.alpha == 1',
      m2: 'matrix.variant.beta == null', // a missing field compares as null
      m3: "matrix.variant.name == 'xe'",
      not1: '!params.flag',
      not2: '!params.s',
      not3: '!params.nothing',
      not4: '!matrix.variant.beta == true',
    });
    expect(v).toEqual({
      s1: true,
      s2: false,
      s3: true,
      n1: true,
      n2: false,
      n3: true,
      n4: true,
      n5: true,
      b1: true,
      b2: false,
      z1: true,
      z2: true,
      z3: true,
      m1: true,
      m2: true,
      m3: true,
      not1: true,
      not2: false,
      not3: true,
      not4: true,
    });
  });

  it("'||' joins comparisons as 'or'; a plain false value still wins", async () => {
    const v = await values(
      {
        or1: "profile == 'q' || profile == 'p'",
        or2: "profile == 'q' || profile == 'r'",
        or3: "profile == 'p' || params.n == 0",
        keep: 'params.flag || true', // not a comparison: false is a value, as before
        mix: "params.nothing || params.s == 'adience'",
      },
      { profile: 'p' },
    );
    expect(v).toEqual({ or1: true, or2: false, or3: true, keep: false, mix: true });
  });

  it('a list, a mapping or a step output cannot be compared', async () => {
    const text = `name: eq
params:
  list: {type: array, default: [1, 2]}
steps:
  fetch: {uses: fetch, with: {sources: [x], sha256: "${SHA}"}}
  r:
    uses: report
    with:
      a: \${{ params.list == 1 }}
      b: \${{ steps.fetch.outputs.path != null }}
      c: \${{ !steps.fetch.outputs.path || 1 }}
`;
    expect(await errorsOf(text)).toEqual([
      { at: '9:14', message: "'params.list' is a list: '==', '!=' and '!' work on strings, numbers, booleans and null", code: 'wrong-type' },
      { at: '10:14', message: 'a step output cannot be compared or negated: it is known only when the step runs', code: 'bad-reference' },
      { at: '11:15', message: 'a step output cannot be compared or negated: it is known only when the step runs', code: 'bad-reference' },
    ]);
  });

  it('parses comparisons and negations into the || alternatives', () => {
    const parts = parseTemplate("${{ !params.a == 'x' || profile != null || params.b }}") as any[];
    const ops = parts[0].operands;
    expect(ops.map((o: any) => o.kind)).toEqual(['compare', 'compare', 'path']);
    expect(ops[0]).toMatchObject({ op: '==', left: { kind: 'not', operand: { root: 'params', path: ['a'] } }, right: { kind: 'literal', value: 'x' }, text: "!params.a == 'x'", offset: 4 });
    expect(ops[1]).toMatchObject({ op: '!=', left: { root: 'profile' }, right: { value: null } });
  });

  it('bad operators are still errors, at their column', () => {
    const err = (s: string) => parseTemplate(s) as { error: string; offset: number };
    expect(err("${{ params.a && params.b }}")).toMatchObject({ error: expect.stringMatching(/^'&&' is not supported/), offset: 13 });
    expect(err("${{ params.a = 'x' }}")).toMatchObject({ error: expect.stringMatching(/^'=' is not supported.*write '=='/), offset: 13 });
    expect(err("${{ params.a === 'x' }}")).toMatchObject({ error: "'===' is not supported: write '==' (comparisons are always strict)", offset: 13 });
    expect(err('${{ params.a < 3 }}')).toMatchObject({ error: expect.stringMatching(/^'<' is not supported/), offset: 13 });
    expect(err('${{ params.a == 1 == true }}')).toMatchObject({ error: expect.stringMatching(/^comparisons cannot be chained/), offset: 18 });
    expect(err('${{ params.a == }}')).toMatchObject({ error: "expected a value after '=='" });
    expect(err('${{ !!params.a }}')).toMatchObject({ error: expect.stringMatching(/^'!!' is not supported/), offset: 4 });
    expect(err('${{ ! }}')).toMatchObject({ error: "expected a value after '!'" });
    expect(err('${{ params.a || }}')).toMatchObject({ error: "expected a value after '||'" });
    expect(err('${{ == 1 }}')).toMatchObject({ error: expect.stringMatching(/^unexpected '='/), offset: 4 });
  });

  it('a bad operator in a workflow points at its line and column', async () => {
    const e = await errorsOf(`name: e
steps:
  a:
    uses: fetch
    if: \${{ profile = 'x' }}
`);
    expect(e).toEqual([{ at: '5:21', message: "invalid expression: '=' is not supported: expressions are paths, literals, '==', '!=', '!' and '||' only (to compare, write '==')", code: 'expression-syntax' }]);
  });
});

describe('repro validate / plan with disabled steps', () => {
  // Real kinds: fetch and dataset take plain values.
  const file = writeWorkflow(`name: cli
params:
  data: {type: string, default: retinamnist}
profiles:
  retinamnist: {default: true, params: {data: retinamnist}}
  adience: {params: {data: adience}}
steps:
  fetch_retina:
    uses: fetch
    if: \${{ params.data == 'retinamnist' }}
    with: {sources: [https://example.org/r.npz], sha256: "${'0'.repeat(64)}"}
  fetch_adience:
    uses: fetch
    if: \${{ params.data == 'adience' }}
    with: {sources: [https://example.org/a.npz], sha256: "${'1'.repeat(64)}"}
  dataset:
    uses: dataset
    with: {name: retinamnist, npz: "\${{ steps.fetch_retina.outputs.path || steps.fetch_adience.outputs.path }}"}
`);

  it('validate counts the disabled steps', () => {
    const r = repro(['validate', file]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('ok: 3 steps (2 concrete, 1 disabled, profile retinamnist)\n');
    expect(r.code).toBe(0);
  });

  it('plan lists them after the table, and in --json', () => {
    const r = repro(['plan', file, '--profile', 'adience', '--store', `${file}.store`]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[lines.length - 1]).toBe('disabled: fetch_retina (if: false)');
    expect(lines.some((l) => /^fetch_adience\s+fetch/.test(l))).toBe(true);
    const j = JSON.parse(repro(['plan', file, '--json', '--store', `${file}.store`]).stdout);
    expect(j.disabled).toEqual(['fetch_adience']);
    expect(j.steps.map((s: { id: string }) => s.id)).toEqual(['fetch_retina', 'dataset']);
    expect(j.steps[1].deps).toEqual(['fetch_retina']);
  });
});
