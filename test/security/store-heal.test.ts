// A corrupted directory output heals (issue 17, class 5): after a byte changes inside a stored tree,
// `verify` exits 5, and then a plain run, a run with --force, or gc followed by a run each replace the
// damaged tree, and the step that reads it gets the original bytes.
import { describe, expect, it } from 'vitest';
import { chmodSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { project, repro } from './helpers.js';

const WF = `name: heal
steps:
  make:
    uses: run
    with: {command: "mkdir -p d/sub && echo one > d/a.txt && echo two > d/sub/b.txt"}
    outputs: {d: d/}
  use:
    uses: run
    with: {command: 'cat "$D/a.txt" "$D/sub/b.txt" > o.txt', env: {D: "\${{ steps.make.outputs.d }}"}}
    outputs: {o: o.txt}
`;

function damage(dir: string, how: 'byte' | 'extra'): void {
  const trees = join(dir, '.repro', 'trees');
  const tree = join(trees, readdirSync(trees).find((t) => !t.startsWith('.'))!);
  if (how === 'byte') {
    const f = join(tree, 'a.txt');
    chmodSync(f, 0o644);
    writeFileSync(f, 'ONE\n');
  } else {
    chmodSync(tree, 0o755);
    writeFileSync(join(tree, 'planted.txt'), 'x');
  }
}

function used(dir: string): string {
  const run = JSON.parse(readFileSync(join(dir, 'results', 'heal', 'latest', 'run.json'), 'utf8'));
  const use = run.steps.find((s: { id: string }) => s.id === 'use');
  return readFileSync(join(dir, '.repro', use.outputs.o.storePath), 'utf8');
}

describe('a damaged tree in the store heals', () => {
  const cases: Array<[string, 'byte' | 'extra', string[][]]> = [
    ['a byte changed; the next run', 'byte', [['run', 'wf.yaml', '--no-report']]],
    ['a file planted; the next run', 'extra', [['run', 'wf.yaml', '--no-report']]],
    ['a byte changed; run --force make', 'byte', [['run', 'wf.yaml', '--no-report', '--force', 'make']]],
    ['a byte changed; gc, then a run', 'byte', [['gc'], ['run', 'wf.yaml', '--no-report']]],
  ];
  for (const [name, how, commands] of cases) {
    it(name, () => {
      const dir = project(WF);
      expect(repro(dir, ['run', 'wf.yaml', '--no-report']).code).toBe(0);
      damage(dir, how);
      expect(repro(dir, ['verify']).code).toBe(5);
      for (const args of commands) {
        const r = repro(dir, args);
        expect(r.code, `${args.join(' ')}\n${r.stdout}${r.stderr}`).toBe(0);
      }
      expect(used(dir)).toBe('one\ntwo\n');
      const v = repro(dir, ['verify']);
      expect(v.code, v.stdout + v.stderr).toBe(0);
      // Healed for good: the next run takes everything from the cache.
      expect(repro(dir, ['run', 'wf.yaml', '--no-report']).stdout).toMatch(/0 ran, 2 from cache/);
    });
  }
});
