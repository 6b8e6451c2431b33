// No input reachable from a workflow, --set or the command line produces exit 70 (an internal error):
// prototype names and malformed values are thrown at the loader (in process, many cases) and at
// validate / plan / run through the real CLI (issue 17).
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROTOTYPE_NAMES } from '../../src/core/names.js';
import { stepKinds } from '../../src/steps/registry.js';
import { loadPlan } from '../../src/workflow/index.js';
import { project, repro, tempDir } from './helpers.js';

const RUN = (extra = '') => `  a:\n    uses: run\n    with: {command: "echo 1 > o.txt"${extra}}\n    outputs: {o: o.txt}\n`;

/** Workflow texts that are wrong in every way we could think of (plus the prototype names in each place). */
function badWorkflows(): Array<string | Buffer> {
  const out: Array<string | Buffer> = [
    '',
    'null',
    '[1, 2]',
    'name: x',
    'name: x\nsteps: 5',
    'name: x\nsteps: {a: null}',
    'name: x\nsteps: {a: {uses: 5}}',
    'name: x\nsteps:\n  a:\n    uses: run\n    needs: 5\n    with: {command: [1, {a: 1}]}\n    outputs: {o: o.txt}',
    'name: x\nsteps:\n  a:\n    uses: run\n    with: [1]\n    outputs: [o]',
    'name: x\nsteps:\n  a:\n    uses: run\n    matrix: {k: 5, include: 3}\n' + '    with: {command: "x"}\n    outputs: {o: o}',
    'name: x\nsteps:\n  a:\n    uses: run\n    matrix: {k: "${{ params.nope }}"}\n    with: {command: "x ${{ matrix.k }}"}\n    outputs: {o: o}',
    'name: x\nsteps:\n' + RUN(', env: {A: "${{ steps.a.outputs.o.x[3] }}"}'),
    'name: x\nsteps:\n' + RUN(', env: {A: "${{ ((( }}"}'),
    'name: x\nparams: {p: {type: string, default: 1, enum: 5}}\nsteps:\n' + RUN(),
    'name: x\nparams: {p: {type: nope}}\nprofiles: {q: {params: 5}}\nsteps:\n' + RUN(),
    'name: x\nexecutor: {type: slurm, flags: "--x"}\nsteps:\n' + RUN(),
    'name: x\nsteps:\n  a:\n    uses: extract\n    with: {archive: 5, max_ratio: -1}\n',
    'name: x\nsteps:\n  a:\n    uses: compare\n    with: {results: 5, claims: [{id: 1}], reported: {}}\n',
    'name: x\nsteps:\n  a:\n    uses: train\n    with: {dataset: {}, loss: 5}\n',
    'name: x\nsteps:\n' + RUN() + '    if: "${{ 5 }}"\n',
    'a: &a [*a]\n',
    Buffer.from([0x6e, 0x61, 0x6d, 0x65, 0x3a, 0x20, 0xff, 0xfe, 0x0a]),
    Buffer.from('name: x\nsteps:\n  a:\n    uses: run\n    with: {command: "caf\xe9"}\n', 'latin1'),
  ];
  for (const n of PROTOTYPE_NAMES) {
    out.push(
      `name: ${n}\nparams: {${n}: {type: ${n}}}\nprofiles: {${n}: {params: {${n}: 1}}}\nsteps:\n  ${n}:\n    uses: ${n}\n    needs: [${n}]\n    with: {${n}: 1}\n    outputs: {${n}: x}\n`,
      `name: x\nsteps:\n  a:\n    uses: compare\n    with:\n      results: "\${{ steps.${n}.outputs.${n} }}"\n      claims: [{id: ${n}, metric: ${n}, relation: {type: better, a: ${n}, b: ${n}}}]\n      reported: [{id: ${n}, metric: ${n}, variant: ${n}, value: 1}]\n`,
      `name: x\nsteps:\n  a:\n    uses: run\n    matrix: {${n}: [1, 2], include: [{${n}: 3}], exclude: [{${n}: 1}]}\n    with: {command: "echo \${{ matrix.${n} }} \${{ matrix.${n}.${n} }} \${{ params.${n} || 1 }}"}\n    outputs: {o: o}\n`,
    );
  }
  return out;
}

describe('the loader never throws', () => {
  it('on malformed workflows, prototype names, malformed --set and --profile', async () => {
    const sets = [[], ['='], ['a=['], ['a={'], ['steps..if=1'], ['steps.a.if=maybe'], ['steps.a.with=1'], ...PROTOTYPE_NAMES.map((n) => [`${n}=1`, `steps.${n}.if=false`, `steps.a.with.${n}.${n}=1`, `params.${n}.x=1`])];
    const dir = tempDir('repro-sec-fuzz-');
    let i = 0;
    for (const text of badWorkflows()) {
      const file = join(dir, `wf${i++}.yaml`);
      writeFileSync(file, text);
      for (const set of sets) {
        for (const profile of [undefined, '', ...PROTOTYPE_NAMES]) {
          const r = await loadPlan(file, { kinds: stepKinds, set, profile });
          const where = `${file} ${set.join(' ')} ${profile}`;
          // Every input here is wrong somewhere: the loader says so with an error diagnostic, no plan.
          expect(r.plan, where).toBeNull();
          expect(r.diagnostics.filter((d) => d.severity === 'error').length, where).toBeGreaterThan(0);
          for (const d of r.diagnostics) expect(d.message, where).toMatch(/\S/);
        }
      }
    }
  });
});

describe('the CLI never exits 70', () => {
  it('validate, plan and run on bad input exit 2 (or 1 for a failing step)', () => {
    const dir = project('name: x\nparams: {n: {type: integer, default: 1}}\nsteps:\n' + RUN());
    writeFileSync(join(dir, 'latin1.yaml'), Buffer.from('name: x\nsteps: {}\n# caf\xe9\n', 'latin1'));
    const calls: string[][] = [
      ['validate', 'latin1.yaml'],
      ['plan', 'latin1.yaml'],
      ['run', 'latin1.yaml'],
      ['plan', 'wf.yaml', '--set', 'n=[1'],
      ['run', 'wf.yaml', '--jobs', 'many'],
      ['run', 'wf.yaml', '--force', 'constructor'],
      ['run', 'wf.yaml', '--profile', '__proto__'],
      ['plan', 'wf.yaml', '--set', 'toString=1', '--set', 'steps.hasOwnProperty.if=true'],
      ['run', 'no-such.yaml'],
      ['run', 'file:///nonexistent-repo#wf.yaml@HEAD'],
      ['validate', 'file:///nonexistent-repo'],
    ];
    for (const args of calls) {
      const r = repro(dir, args);
      expect(r.code, `${args.join(' ')}\n${r.out}`).not.toBe(70);
      expect(r.out, args.join(' ')).not.toMatch(/internal error|\n\s+at .*\.js:\d+/);
      expect([1, 2], `${args.join(' ')}\n${r.out}`).toContain(r.code);
    }
  });
});
