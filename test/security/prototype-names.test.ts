// JavaScript's prototype names are ordinary names everywhere a name comes from the user: step ids,
// needs, steps.X.outputs.Y, params, profiles, --set (params, steps.ID.if, steps.ID.with.KEY),
// matrix axes, claim ids and metric names (issue 17, class 4). Each lookup is tried with each name.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROTOTYPE_NAMES } from '../../src/core/names.js';
import { loadPlan } from '../../src/workflow/index.js';
import { stepKinds } from '../../src/steps/registry.js';
import { project, repro } from './helpers.js';

/** A workflow that declares N as a param, a profile, a step id, an output and a matrix axis, and refers to each. */
function declaring(n: string): string {
  return `name: names
params:
  ${n}: {type: string, default: from-default}
profiles:
  ${n}: {params: {${n}: from-profile}}
steps:
  ${n}:
    uses: run
    matrix:
      ${n}: [a, b]
    with:
      command: printf %s "\${{ params.${n} }}-\${{ matrix.${n} }}" > o.txt
    outputs: {${n}: o.txt}
  after:
    uses: run
    needs: [${n}]
    matrix:
      ${n}: [a, b]
    with:
      command: cat "$IN" > all.txt
      env: {IN: "\${{ steps.${n}.outputs.${n} }}"}
    outputs: {all: all.txt}
`;
}

/** A workflow that declares none of them but refers to N everywhere. */
function referring(n: string): string {
  return `name: refs
steps:
  a:
    uses: run
    needs: [${n}]
    with:
      command: echo "\${{ params.${n} }} \${{ steps.${n}.outputs.${n} }} \${{ matrix.${n} }}" > o.txt
    outputs: {o: o.txt}
`;
}

describe.each(PROTOTYPE_NAMES)('the name %s', (n) => {
  it('is an ordinary name when declared (plan in process)', async () => {
    const dir = project(declaring(n));
    const r = await loadPlan(join(dir, 'wf.yaml'), { profile: n, kinds: stepKinds });
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const ids = r.plan!.steps.map((s) => s.id);
    expect(ids).toEqual([`${n}[${n}=a]`, `${n}[${n}=b]`, `after[${n}=a]`, `after[${n}=b]`]);
    expect(r.plan!.steps[0]!.with.command).toBe('printf %s "from-profile-a" > o.txt');
    expect(r.plan!.params[n]).toBe('from-profile');
  });

  it('is unknown when not declared: exit 2 with a message per place, never 70 or a silent value', async () => {
    const dir = project(referring(n));
    const r = repro(dir, ['validate', 'wf.yaml']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`unknown step '${n}' in needs`);
    expect(r.stderr).toContain(`unknown param '${n}'`);
    expect(r.stderr).toContain(`unknown step '${n}'`);
    expect(r.stderr).toMatch(/has no matrix/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('on the command line: --profile, --set NAME, params.NAME, steps.NAME.if and steps.ID.with.NAME', () => {
    const dir = project(declaring('p').replace(/^steps:/m, `steps:\n  plain:\n    uses: run\n    with: {command: "echo 1 > o.txt"}\n    outputs: {o: o.txt}`));
    const cases: Array<[string[], RegExp]> = [
      [['--profile', n], new RegExp(`unknown profile '${n.replace(/_/g, '_')}'`)],
      [['--set', `${n}=1`], new RegExp(`unknown param '${n}'`)],
      [['--set', `params.${n}=1`], new RegExp(`unknown param '${n}'`)],
      [['--set', `steps.${n}.if=false`], new RegExp(`unknown step '${n}'`)],
      [['--set', `steps.${n}.with.x=1`], new RegExp(`unknown step '${n}'`)],
      // A key the run kind does not have, whatever its name: its schema names it.
      [['--set', `steps.plain.with.${n}=1`], new RegExp(`${n}`)],
    ];
    for (const [args, message] of cases) {
      const r = repro(dir, ['validate', 'wf.yaml', ...args]);
      expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });
});

describe('prototype names through a real run', () => {
  it('runs a workflow whose step, output, param, profile and axis are all named __proto__ and toString', () => {
    for (const n of ['__proto__', 'toString']) {
      const dir = project(declaring(n));
      const r = repro(dir, ['run', 'wf.yaml', '--no-report', '--profile', n, '--set', `steps.${n}.if=true`]);
      expect(r.code, r.stderr + r.stdout).toBe(0);
      const run = JSON.parse(readFileSync(join(dir, 'results', 'names', 'latest', 'run.json'), 'utf8'));
      // The record keeps the param under its own name (a plain {} would have swallowed '__proto__').
      expect(Object.keys(run.params)).toEqual([n]);
      expect(Object.getOwnPropertyDescriptor(run.params, n)?.value).toBe('from-profile');
      for (const v of ['a', 'b']) {
        const after = run.steps.find((s: { id: string }) => s.id === `after[${n}=${v}]`);
        expect(readFileSync(join(dir, '.repro', after.outputs.all.storePath), 'utf8')).toBe(`from-profile-${v}`);
      }
    }
  });
});

describe('prototype names as metric names and claim ids (a real compare step)', () => {
  it('a metric called toString and __proto__, claims with ids constructor and hasOwnProperty', () => {
    const dir = project(`name: metrics
steps:
  score:
    uses: run
    matrix: {variant: [small, big], seed: [1, 2, 3]}
    with:
      command: node -e "const v=process.env.V==='small'?1:2;require('fs').writeFileSync('m.json',JSON.stringify(Object.fromEntries([['toString',v+Number(process.env.S)/100],['__proto__',v+Number(process.env.S)/50]])))"
      env: {V: "\${{ matrix.variant }}", S: "\${{ matrix.seed }}"}
    outputs: {m: m.json}
  compare:
    uses: compare
    with:
      results: \${{ steps.score.outputs.m }}
      metrics:
        toString: {label: to string, direction: lower}
        __proto__: {label: proto, direction: lower}
      claims:
        - {id: constructor, text: small is lower, metric: toString, relation: {type: better, a: small, b: big}}
        - {id: hasOwnProperty, text: small is lower again, metric: __proto__, relation: {type: better, a: small, b: big}}
`);
    const r = repro(dir, ['run', 'wf.yaml', '--no-report']);
    expect(r.code, r.out).toBe(0);
    expect(r.out).not.toMatch(/internal error|\n\s+at /);
    const run = JSON.parse(readFileSync(join(dir, 'results', 'metrics', 'latest', 'run.json'), 'utf8'));
    const cmp = run.steps.find((s: { id: string }) => s.id === 'compare');
    const verdicts = JSON.parse(readFileSync(join(dir, '.repro', cmp.outputs.verdicts.storePath), 'utf8'));
    const ids = verdicts.checks.map((c: { id: string }) => c.id);
    expect(ids).toEqual(['constructor', 'hasOwnProperty']);
    // The values are the metrics files' numbers, not JavaScript's members of the same names.
    expect(JSON.stringify(verdicts)).not.toMatch(/function|native code/);
    const typo = repro(dir, ['validate', 'wf.yaml', '--set', 'steps.compare.with.claims=[{id: c, text: t, metric: valueOf, relation: {type: better, a: small, b: big}}]']);
    expect(typo.code, typo.out).toBe(2);
    expect(typo.out).toMatch(/valueOf/);
  });
});
