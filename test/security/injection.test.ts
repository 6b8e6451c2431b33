// Values never reach a shell as syntax: params, --set values and earlier steps' JSON outputs placed
// into a `run` step's command arrive as data, whatever quotes surround them (issue 17, class 1).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { quoteFor, shellContextAt } from '../../src/workflow/shell.js';
import { project, repro } from './helpers.js';

/** Strings an attacker would try: each must come back byte for byte and create no file. */
const NASTY = [
  'x; touch INJECTED',
  '$(touch INJECTED)',
  '`touch INJECTED`',
  "it's \"quoted\" $HOME \\ back",
  'a\ntouch INJECTED',
  "'; touch INJECTED; '",
  '" ; touch INJECTED ; "',
  '',
  '-n',
];

describe('shell quoting for every context', () => {
  for (const v of NASTY) {
    it(`round-trips ${JSON.stringify(v)} through /bin/sh`, () => {
      const lines = [
        (q: (b: string) => string) => `printf %s ${q('printf %s ')}`,
        (q: (b: string) => string) => `printf %s "pre-${q('printf %s "pre-')}-post"`,
        (q: (b: string) => string) => `printf %s 'pre-${q("printf %s 'pre-")}-post'`,
        (q: (b: string) => string) => `printf %s "$(printf %s ${q('printf %s "$(printf %s ')})"`,
      ];
      const expected = [v, `pre-${v}-post`, `pre-${v}-post`, v.replace(/\n+$/, '')];
      lines.forEach((make, i) => {
        const script = make((before) => {
          const ctx = shellContextAt(before);
          if (typeof ctx !== 'string') throw new Error(ctx.refuse);
          return quoteFor(ctx, v);
        });
        const r = spawnSync('/bin/sh', ['-c', script], { encoding: 'utf8', cwd: '/tmp' });
        expect(r.stdout, script).toBe(expected[i]);
      });
    });
  }

  it('refuses places no quoting makes safe', () => {
    for (const before of ['cat <<EOF\n', 'echo `echo ', 'echo $', 'echo \\']) expect(typeof shellContextAt(before)).toBe('object');
    expect(shellContextAt('echo # a comment ')).toBe('comment');
    expect(quoteFor('comment', 'a\ntouch x')).toBe('a touch x');
  });
});

const WF = `name: inject
params:
  word: {type: string, default: hello}
steps:
  source:
    uses: run
    with:
      command: node -e "require('fs').writeFileSync('v.json', JSON.stringify(process.env.PAYLOAD))"
      env: {PAYLOAD: "\${{ params.word }}"}
    outputs: {v: value:v.json}
  bare:
    uses: run
    with:
      command: printf %s \${{ params.word }} > bare.txt
    outputs: {out: bare.txt}
  dq:
    uses: run
    with:
      command: printf %s "[\${{ params.word }}]" > dq.txt
    outputs: {out: dq.txt}
  sq:
    uses: run
    with:
      command: printf %s '[\${{ params.word }}]' > sq.txt
    outputs: {out: sq.txt}
  split:
    uses: run
    with:
      command: node \${{ workflow.dir }}/argv.js split.txt \${{ params.word }}
      shell: false
    outputs: {out: split.txt}
  argv:
    uses: run
    with:
      command: [node, -e, "require('fs').writeFileSync('argv.txt', JSON.stringify(process.argv.slice(1)))", "\${{ params.word }}", "\${{ params.count }}"]
    outputs: {out: argv.txt}
  fromstep:
    uses: run
    with:
      command: printf %s \${{ steps.source.outputs.v }} "<\${{ steps.source.outputs.v }}>" > step.txt
    outputs: {out: step.txt}
`;

describe('values in run commands are data (real CLI, real /bin/sh)', () => {
  it('a param, a --set value and a step output with shell syntax run nothing', () => {
    const wf = WF.replace('params:\n', 'params:\n  count: {type: integer, default: 3}\n');
    const dir = project(wf);
    writeFileSync(join(dir, 'argv.js'), "require('fs').writeFileSync(process.argv[2], JSON.stringify(process.argv.slice(3)))\n");
    const payload = 'x; touch INJECTED $(touch INJECTED2) `touch INJECTED3` \' "';
    const r = repro(dir, ['run', 'wf.yaml', '--no-report', '--set', `word=${payload}`]);
    expect(r.stderr + r.stdout).not.toMatch(/Error:\s+at /);
    expect(r.code, r.stderr).toBe(0);
    for (const f of ['INJECTED', 'INJECTED2', 'INJECTED3']) expect(existsSync(join(dir, '.repro', 'work', f))).toBe(false);
    const out = (name: string): string => {
      const run = JSON.parse(readFileSync(join(dir, 'results', 'inject', 'latest', 'run.json'), 'utf8'));
      const step = run.steps.find((s: { id: string }) => s.id === name);
      const rec = Object.values(step.outputs)[0] as { storePath: string };
      return readFileSync(join(dir, '.repro', rec.storePath), 'utf8');
    };
    expect(out('bare')).toBe(payload);
    expect(out('dq')).toBe(`[${payload}]`);
    expect(out('sq')).toBe(`[${payload}]`);
    expect(JSON.parse(out('split'))).toEqual([payload]);
    // A number as a whole argv element is accepted (issue 14 item 8) and reaches the program as text.
    expect(JSON.parse(out('argv'))).toEqual([payload, '3']);
    // An earlier step's JSON value output (a string here: its text) is data too.
    expect(out('fromstep')).toBe(`${payload}<${payload}>`);
  });

  it('an expression in a here-document or after $ is refused at its line and column', () => {
    const dir = project(`name: heredoc
params:
  word: {type: string, default: hi}
steps:
  a:
    uses: run
    with:
      command: "cat <<EOF > o.txt\\n\${{ params.word }}\\nEOF"
    outputs: {o: o.txt}
  b:
    uses: run
    with:
      command: echo $\${{ params.word }} > o.txt
    outputs: {o: o.txt}
`);
    const r = repro(dir, ['validate', 'wf.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/wf\.yaml:8:\d+.*here-document/);
    expect(r.stderr).toMatch(/wf\.yaml:13:22.*cannot be placed here/);
  });
});
