// Every bad input the workflow issue lists (and a few more): each must give a clear message at the
// right line:column, exit code 2, and no stack trace. Most cases call loadPlan directly (fast); the
// CLI cases at the bottom spawn `node bin/repro.js validate` for real.
import { describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { GOOD, load, testKinds, tmpDir, writeWorkflow } from './helpers.js';
import { formatDiagnostics, loadPlan } from '../../src/workflow/index.js';
import { MAX_WORKFLOW_BYTES } from '../../src/workflow/source.js';
import { repro } from '../support/index.js';

interface Case {
  name: string;
  /** Workflow text (ignored when `file` is given). */
  text?: string;
  /** A path to load instead of written text (missing file, directory). */
  file?: () => string;
  set?: string[];
  profile?: string;
  env?: Record<string, string>;
  /** Expected first-matching diagnostic: message pattern, position (0:0 = none), and code. */
  message: RegExp;
  line: number;
  column: number;
  code?: string;
}

const MIN = `name: demo
steps:
  fetch:
    uses: fetch
`;

/** GOOD with one substring replaced: the positions of everything else stay the same. */
function good(from: string, to: string): string {
  if (!GOOD.includes(from)) throw new Error(`fixture lacks ${from}`);
  return GOOD.replace(from, to);
}

// Nested aliases: 10 → 100 → 1,000 ... elements; the alias limit must stop the expansion.
const aliasBomb =
  'name: demo\nsteps: {fetch: {uses: fetch}}\nx-a: &a [1,1,1,1,1,1,1,1,1,1]\n' +
  Array.from({ length: 9 }, (_, i) => {
    const prev = String.fromCharCode(97 + i);
    const cur = String.fromCharCode(98 + i);
    return `x-${cur}: &${cur} [${Array(10).fill(`*${prev}`).join(',')}]\n`;
  }).join('');

const cases: Case[] = [
  // ── YAML itself ──
  { name: 'invalid YAML syntax (unclosed flow list)', text: 'name: demo\nsteps:\n  fetch: {uses: fetch, needs: [a\n', message: /^invalid YAML: /, line: 4, column: 1, code: 'yaml-syntax' },
  { name: 'invalid YAML syntax (nested compact mapping)', text: 'name: demo\nsteps: a: b\n', message: /^invalid YAML: Nested mappings/, line: 2, column: 8, code: 'yaml-syntax' },
  { name: 'unquoted expression in a flow mapping', text: 'name: demo\nsteps:\n  fetch: {uses: fetch, with: {a: ${{ params.x }}}}\n', message: /^invalid YAML: Unexpected flow-map-start/, line: 3, column: 35, code: 'yaml-syntax' },
  { name: 'tab indent', text: 'name: demo\nsteps:\n\tfetch:\n    uses: fetch\n', message: /^tab character in indentation/, line: 3, column: 1, code: 'tab-indent' },
  { name: 'duplicate key', text: 'name: demo\nname: other\nsteps: {fetch: {uses: fetch}}\n', message: /^duplicate key 'name' \(first defined at line 1\)/, line: 2, column: 1, code: 'duplicate-key' },
  { name: 'duplicate step id', text: `${MIN}  fetch:\n    uses: fetch\n`, message: /^duplicate step id 'fetch' \(first defined at line 3\)/, line: 5, column: 3, code: 'duplicate-key' },
  { name: 'two YAML documents', text: `${MIN}---\nname: other\n`, message: /more than one YAML document/, line: 5, column: 1, code: 'yaml-syntax' },
  { name: 'empty file', text: '', message: /the workflow file is empty/, line: 0, column: 0, code: 'empty' },
  { name: 'only comments', text: '# nothing yet\n\n', message: /the workflow file is empty/, line: 0, column: 0, code: 'empty' },
  { name: 'not a mapping (a list)', text: '- fetch\n- train\n', message: /expected a mapping .* at the top level, found a list/, line: 1, column: 1, code: 'not-a-mapping' },
  { name: 'not a mapping (a scalar)', text: 'hello\n', message: /found a string/, line: 1, column: 1, code: 'not-a-mapping' },
  { name: 'huge document', text: `${MIN}x-pad: "${'x'.repeat(MAX_WORKFLOW_BYTES)}"\n`, message: /is 1\.0 MiB; a workflow may be at most 1 MiB/, line: 0, column: 0, code: 'too-large' },
  { name: 'deeply nested flow collections', text: `${MIN}x-deep: ${'['.repeat(200)}${']'.repeat(200)}\n`, message: /nesting deeper than 64 levels/, line: 5, column: 72, code: 'too-deep' },
  {
    name: 'deeply nested block mappings',
    text: `${MIN}x-deep:\n${Array.from({ length: 80 }, (_, i) => `${' '.repeat(2 * i + 2)}k${i}:\n`).join('')}`,
    message: /nesting deeper than 64 levels/,
    line: 69,
    column: 129,
    code: 'too-deep',
  },
  { name: 'alias bomb', text: aliasBomb, message: /too many alias expansions/, line: 4, column: 9, code: 'alias-bomb' },
  { name: 'not UTF-8', text: undefined, file: () => writeWorkflow(Buffer.from([0x6e, 0x61, 0x6d, 0x65, 0x3a, 0x20, 0xff, 0xfe, 0x0a])), message: /^not UTF-8 text: byte 0xff/, line: 1, column: 7, code: 'not-text' },

  // ── structure (schema) ──
  { name: 'unknown top-level key', text: `${MIN}stpes: {}\n`, message: /^unknown top-level key 'stpes' \(did you mean 'steps'\?\)/, line: 5, column: 1, code: 'unknown-key' },
  { name: 'unknown key in a step', text: `${MIN}    need: [x]\n`, message: /^unknown key 'need' in step 'fetch' \(did you mean 'needs'\?\)/, line: 5, column: 5, code: 'unknown-key' },
  { name: 'missing required key', text: 'name: demo\nsteps:\n  fetch:\n    with: {}\n', message: /^step 'fetch': missing required key 'uses'/, line: 3, column: 3, code: 'missing-key' },
  { name: 'missing steps', text: 'name: demo\n', message: /^the workflow: missing required key 'steps'/, line: 1, column: 1, code: 'missing-key' },
  { name: 'wrong type (steps is a list)', text: 'name: demo\nsteps:\n  - fetch\n', message: /^'steps' must be a mapping, found a list/, line: 3, column: 3, code: 'wrong-type' },
  { name: 'wrong type (needs is a number)', text: `${MIN}    needs: 3\n`, message: /^step 'fetch' needs must be a string or a list, found the number 3/, line: 5, column: 12, code: 'wrong-type' },
  { name: 'wrong type (param type unknown)', text: `name: demo\nparams:\n  n: {type: int}\n${MIN.slice(11)}`, message: /^param 'n' type must be one of .*"integer".*found the string 'int'/, line: 3, column: 13, code: 'wrong-value' },
  { name: 'bad step id', text: 'name: demo\nsteps:\n  9lives: {uses: fetch}\n', message: /^'9lives' is not a valid name/, line: 3, column: 3, code: 'bad-name' },
  { name: 'bad memory size', text: `${MIN}    resources: {memory: 2 gigs}\n`, message: /^step 'fetch' resources\.memory: the string '2 gigs' is not in the expected form \(a byte count/, line: 5, column: 25, code: 'wrong-value' },

  // ── meaning ──
  { name: 'unknown step kind', text: good('uses: train', 'uses: trian'), message: /^unknown step kind 'trian' \(did you mean 'train'\?\)/, line: 15, column: 11, code: 'unknown-kind' },
  { name: 'missing step in needs', text: good('needs: fetch', 'needs: fecth'), message: /^unknown step 'fecth' in needs \(did you mean 'fetch'\?\)/, line: 16, column: 12, code: 'unknown-step' },
  { name: 'missing step in a reference', text: good('steps.fetch.outputs.path', 'steps.fetc.outputs.path'), message: /^unknown step 'fetc' \(did you mean 'fetch'\?\)/, line: 22, column: 20, code: 'unknown-step' },
  { name: 'missing output', text: good('steps.fetch.outputs.path', 'steps.fetch.outputs.pth'), message: /^step 'fetch' has no output 'pth' \(did you mean 'path'\?\)/, line: 22, column: 20, code: 'unknown-output' },
  { name: 'missing param', text: good('params.epochs }}', 'params.epoch }}'), message: /^unknown param 'epoch' \(did you mean 'epochs'\?\)/, line: 25, column: 19, code: 'unknown-param' },
  { name: 'missing matrix axis', text: good('matrix.seed }}\n', 'matrix.sed }}\n'), message: /^step 'train' has no matrix axis 'sed' \(did you mean 'seed'\?\)/, line: 24, column: 17, code: 'unknown-matrix-axis' },
  { name: 'missing field of a matrix value', text: good('${{ matrix.variant.loss }}', '${{ matrix.variant.los }}'), message: /^matrix\.variant \('xe'\) has no field 'los' \(did you mean 'loss'\?\)/, line: 23, column: 17, code: 'bad-reference' },
  { name: 'unknown expression root', text: good('params.epochs }}', 'parms.epochs }}'), message: /^unknown name 'parms' in expression \(did you mean 'params'\?\)/, line: 25, column: 19, code: 'unknown-name' },
  { name: 'expression syntax (operator)', text: good('params.epochs }}', 'params.epochs + 1 }}'), message: /^invalid expression: '\+' is not supported/, line: 25, column: 33, code: 'expression-syntax' },
  { name: 'expression syntax (unclosed)', text: good('${{ params.epochs }}', '${{ params.epochs'), message: /^invalid expression: unclosed/, line: 25, column: 15, code: 'expression-syntax' },
  { name: 'secret param in an expression', text: good('tag: run-', 'tag: ${{ params.token }}-'), message: /^param 'token' is secret and cannot be used in an expression/, line: 26, column: 16, code: 'secret-in-expression' },
  { name: 'cycle', text: good('    uses: fetch\n', '    uses: fetch\n    needs: [compare]\n'), message: /^dependency cycle: fetch → train → evaluate → compare → fetch$/, line: 13, column: 13, code: 'cycle' },
  { name: 'step needs itself', text: good('needs: fetch', 'needs: train'), message: /^step 'train' needs itself/, line: 16, column: 12, code: 'cycle' },
  { name: 'matrix axis from a non-list param', text: good('seed: ${{ params.seeds }}\n    resources', 'seed: ${{ params.epochs }}\n    resources'), message: /^matrix axis 'seed' must be a list of values, but its expression gives the number 1/, line: 19, column: 13, code: 'bad-matrix' },
  { name: 'empty matrix axis', text: good('seed: ${{ params.seeds }}\n    resources', 'seed: []\n    resources'), message: /^step 'train' matrix.seed must NOT have fewer than 1 items/, line: 19, column: 13, code: 'schema' },
  { name: 'duplicate matrix value', text: good('default: [1, 2]', 'default: [1, 1]'), message: /^matrix axis 'seed' lists 1 twice/, line: 19, column: 13, code: 'bad-matrix' },
  { name: 'duplicate concrete ids', text: good('{name: emd2, loss: {kind: emd2}}]\n      seed: ${{ params.seeds }}\n    resources', '{name: xe, loss: {kind: emd2}}]\n      seed: ${{ params.seeds }}\n    resources'), message: /^two matrix combinations of step 'train' are both named 'train\[variant=xe,seed=1\]'/, line: 18, column: 7, code: 'duplicate-id' },
  { name: 'type error after expansion (kind schema)', text: good('epochs: {type: integer, default: 3}', 'epochs: {type: string, default: "3"}').replace('epochs: 1}', 'epochs: "1"}').replace('epochs: 30}', 'epochs: "30"}'), message: /^step 'train' with\.epochs must be an integer, found the string '1'$/, line: 25, column: 15, code: 'wrong-type' },
  { name: 'type error inside a matrix object value', text: good('loss: {kind: emd2}', 'loss: {kind: emd3}'), message: /^step 'train' with\.loss\.kind must be one of "xe", "emd2", "xemd", "learned", "reg", "sinkhorn", found the string 'emd3' \(did you mean 'emd2'\?\) \(in train\[variant=emd2,seed=1\], train\[variant=emd2,seed=2\]\)$/, line: 23, column: 13, code: 'wrong-value' },
  { name: 'kind schema with alternatives (anyOf)', text: `name: demo\nsteps:\n  r:\n    uses: report\n    with: {title: 3}\n`, message: /^step 'r' with\.title must be a string or a list, found the number 3$/, line: 5, column: 19, code: 'wrong-type' },
  { name: 'kind schema with nested alternatives (oneOf)', text: `name: demo\nsteps:\n  r:\n    uses: report\n    with: {style: {mean: x}}\n`, message: /^step 'r' with\.style matches none of its allowed forms \(found a mapping\)$/, line: 5, column: 19, code: 'wrong-type' },
  { name: "a kind's own check", text: good('better: emd2', 'better: emd3'), message: /^step 'compare': no variant named 'emd3' among the results/, line: 37, column: 25, code: 'kind-check' },
  { name: 'param default of the wrong type', text: good('default: 3}', 'default: three}'), message: /^default of param 'epochs': expected an integer, found the string "three"/, line: 4, column: 36, code: 'wrong-type' },
  { name: 'profile sets an unknown param', text: good('params: {epochs: 1}', 'params: {epoch: 1}'), message: /^profile 'small' sets unknown param 'epoch' \(did you mean 'epochs'\?\)/, line: 8, column: 35, code: 'unknown-param' },
  { name: 'two default profiles', text: good('big: {params', 'big: {default: true, params'), message: /^only one profile may be the default, and 'small' already is \(line 8\)/, line: 9, column: 18, code: 'two-default-profiles' },
  { name: 'param without a value', text: good('epochs: {type: integer, default: 3}', 'epochs: {type: integer}').replace('params: {epochs: 1}', 'params: {}'), message: /^param 'epochs' has no value/, line: 4, column: 3, code: 'missing-param-value' },
  { name: 'environment value of the wrong type', text: good('epochs: {type: integer, default: 3}', 'epochs: {type: integer, default: 3, env: EPOCHS}').replace('params: {epochs: 1}', 'params: {}'), env: { EPOCHS: 'many' }, message: /^environment variable EPOCHS='many' does not fit param 'epochs'/, line: 4, column: 44, code: 'wrong-type' },
  { name: 'run step without outputs', text: `${MIN}  script:\n    uses: run\n`, message: /^step 'script' uses 'run', whose outputs are declared by the step/, line: 5, column: 3, code: 'missing-outputs' },

  // ── command line ──
  { name: 'bad --set syntax (no =)', text: GOOD, set: ['epochs'], message: /^--set epochs: expected NAME=VALUE/, line: 0, column: 0, code: 'bad-set' },
  { name: 'bad --set syntax (bad name)', text: GOOD, set: ['ep ochs=3'], message: /^--set ep ochs=3: 'ep ochs' is not a name/, line: 0, column: 0, code: 'bad-set' },
  { name: '--set of an unknown param', text: GOOD, set: ['epoch=3'], message: /^--set epoch=3: unknown param 'epoch' \(did you mean 'epochs'\?\)/, line: 0, column: 0, code: 'bad-set' },
  { name: '--set of the wrong type', text: GOOD, set: ['epochs=abc'], message: /^--set epochs=abc: param 'epochs': expected an integer, found the string "abc"/, line: 0, column: 0, code: 'bad-set' },
  { name: '--set of an unparsable value', text: GOOD, set: ['seeds=[1,2'], message: /^--set seeds=\[1,2: param 'seeds': cannot read '\[1,2' as a YAML value: Flow sequence must end with a \]$/, line: 0, column: 0, code: 'bad-set' },
  { name: '--set of an unknown step', text: GOOD, set: ['steps.trian.with.epochs=3'], message: /^--set steps\.trian\.with\.epochs=3: unknown step 'trian' \(did you mean 'train'\?\)/, line: 0, column: 0, code: 'bad-set' },
  { name: '--set of a secret', text: GOOD, set: ['token=abc'], message: /^--set token=abc: 'token' is secret/, line: 0, column: 0, code: 'bad-set' },
  { name: 'unknown --profile', text: GOOD, profile: 'bigg', message: /^unknown profile 'bigg' \(did you mean 'big'\?\)/, line: 0, column: 0, code: 'unknown-profile' },

  // ── the file itself ──
  { name: 'missing file', file: () => join(tmpDir(), 'nope.yaml'), message: /^cannot read workflow '.*nope\.yaml': no such file/, line: 0, column: 0, code: 'missing-file' },
  {
    name: 'a directory given as the file',
    file: () => {
      const d = join(tmpDir(), 'a-directory');
      mkdirSync(d, { recursive: true });
      return d;
    },
    message: /^'.*a-directory' is a directory, expected a workflow YAML file/,
    line: 0,
    column: 0,
    code: 'is-directory',
  },
];

describe('bad workflow inputs give a clear diagnostic at the right place', () => {
  it('the fixture itself is valid', async () => {
    const r = await load(GOOD);
    expect(r.diagnostics).toEqual([]);
    expect(r.plan).not.toBeNull();
  });

  it.each(cases)('$name', async (c) => {
    const file = c.file ? c.file() : writeWorkflow(c.text ?? '');
    const { testKinds } = await import('./helpers.js');
    const r = await loadPlan(file, { kinds: testKinds, env: c.env ?? {}, set: c.set, profile: c.profile });
    expect(r.plan).toBeNull();
    const errors = r.diagnostics.filter((d) => d.severity === 'error');
    const d = errors.find((e) => c.message.test(e.message));
    expect(d, `no diagnostic matches ${c.message}; got:\n${errors.map((e) => `${e.line}:${e.column} ${e.message}`).join('\n')}`).toBeDefined();
    expect(`${d!.line}:${d!.column}`, formatDiagnostics([d!])).toBe(`${c.line}:${c.column}`);
    if (c.code) expect(d!.code).toBe(c.code);
    if (c.line > 0) expect(d!.sourceLine).toBeDefined();
  });

  // docs/workflow-language.md, Diagnostics: a failing stage stops the later ones, so the real error
  // comes alone, without what a kind's check would derive from the broken result.
  it.each([
    ['a typo in a step reference', good('steps.evaluate.outputs.metrics', 'steps.evaluat.outputs.metrics'), ['unknown-step']],
    ['a duplicate matrix value', good('seeds: {type: array, default: [1, 2]}', 'seeds: {type: array, default: [1, 1]}'), ['bad-matrix', 'bad-matrix']],
  ])('%s gives its own error and no derived kind-check error', async (_, text, codes) => {
    const r = await load(text);
    expect(r.diagnostics.map((d) => `${d.code}: ${d.message}`)).toEqual(codes.map((c) => expect.stringMatching(new RegExp(`^${c}: `))));
  });

  it('a local repository written as a plain path with #path@rev gets the file:// form as a hint', async () => {
    const repo = tmpDir();
    const r = await loadPlan(`${repo}#workflows/x.yaml@v1`, { kinds: testKinds, env: {} });
    expect(r.diagnostics).toEqual([expect.objectContaining({ code: 'missing-file', hint: `a workflow in a local git repository is written as a file:// URL: file://${repo}#workflows/x.yaml@v1` })]);
  });

  it('reports every error, not just the first', async () => {
    const text = good('needs: fetch', 'needs: fecth').replace('params.epochs }}', 'params.epoch }}').replace('outputs.model }}', 'outputs.modle }}');
    const r = await load(text);
    expect(r.diagnostics.map((d) => d.code)).toEqual(['unknown-step', 'unknown-param', 'unknown-output']);
    // In source order, so the output reads top to bottom.
    expect(r.diagnostics.map((d) => d.line)).toEqual([16, 25, 32]);
  });
});

describe('repro validate on bad input (the real CLI)', () => {
  it.each([
    { name: 'tab indent', text: 'name: demo\nsteps:\n\tfetch:\n    uses: fetch\n', expect: /:3:1: error: tab character in indentation/ },
    { name: 'unknown step kind', text: 'name: demo\nsteps:\n  fetch:\n    uses: fethc\n', expect: /:4:11: error: unknown step kind 'fethc' \(did you mean 'fetch'\?\)\n  4 \|     uses: fethc\n    \|           \^\^\^\^\^/ },
    { name: 'cycle', text: 'name: demo\nsteps:\n  a: {uses: fetch, needs: b}\n  b: {uses: fetch, needs: a}\n', expect: /error: dependency cycle: (a → b → a|b → a → b)/ },
  ])('$name: exit 2, file:line:col, source line, no stack trace', (c) => {
    const file = writeWorkflow(c.text);
    const r = repro(['validate', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(c.expect);
    expect(r.stderr).not.toMatch(/\n\s+at .*\.js:\d+/);
    expect(r.stdout).toBe('');
  });

  it('a missing file and a directory: exit 2 with a clear message', () => {
    const missing = repro(['validate', 'workflows/nope.yaml']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^workflows\/nope\.yaml: error: cannot read workflow 'workflows\/nope\.yaml': no such file/);
    const dir = repro(['validate', 'workflows']);
    expect(dir.code).toBe(2);
    expect(dir.stderr).toMatch(/^workflows: error: 'workflows' is a directory, expected a workflow YAML file/);
  });

  it('bad --set syntax: exit 2, names the argument', () => {
    const file = writeWorkflow('name: demo\nsteps:\n  fetch: {uses: fetch}\n');
    const r = repro(['validate', file, '--set', 'noequals']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^repro: error: --set noequals: expected NAME=VALUE/);
  });

  it('--json prints the diagnostics for machines', () => {
    const file = writeWorkflow('name: demo\nsteps:\n  fetch: {uses: fethc}\n');
    const r = repro(['validate', file, '--json']);
    expect(r.code).toBe(2);
    const out = JSON.parse(r.stdout);
    expect(out.ok).toBe(false);
    expect(out.diagnostics[0]).toMatchObject({ severity: 'error', line: 3, column: 17, code: 'unknown-kind' });
    // `validate --help` lists exactly the keys the JSON has, in order.
    const help = /--json\s+print \{([^}]*)\}/.exec(repro(['validate', '--help']).stdout.replace(/\s+/g, ' '));
    expect(help?.[1]?.split(', ')).toEqual(Object.keys(JSON.parse(repro(['validate', writeWorkflow(GOOD), '--json']).stdout)));
  });

  it('an unknown command-line option is a usage error (exit 2)', () => {
    const r = repro(['validate', '--frobnicate', 'x.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown option '--frobnicate'/);
  });
});
