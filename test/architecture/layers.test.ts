// The layers of src/ (docs/ARCHITECTURE.md): every import between folders points down, and no
// files import each other in a circle. `npx vitest run test/architecture/layers.test.ts` prints the
// counts (arrows, backward, cycles). To count another tree's, e.g. an old commit's:
//   git archive COMMIT src | tar -x -C /tmp/old && LAYERS_ROOT=/tmp/old npx vitest run test/architecture/layers.test.ts -t counts
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { filesUnder, folderArrows, importCycles, importSpecifiers, layerSummary, sourceImports } from './imports.js';

const root = process.cwd();

/** Cycles that another change is to remove (none left: types → losses → lossSpec → types went with the loss table). */
const KNOWN_CYCLES: string[][] = [];

describe('layers', () => {
  const edges = sourceImports(root);

  it('prints the counts', () => {
    process.stdout.write(layerSummary(process.env.LAYERS_ROOT ?? root) + '\n');
    expect(edges.length).toBeGreaterThan(100);
  });

  it('every import between folders points down the layers', () => {
    const backward = folderArrows(edges).filter((a) => a.backward);
    expect(backward.map((a) => `${a.from} → ${a.to}: ${a.imports.map((e) => `${e.from} imports ${e.to}`).join('; ')}`)).toEqual([]);
  });

  it('no import cycles between files', () => {
    const known = new Set(KNOWN_CYCLES.map((c) => c.join(' ')));
    const cycles = importCycles(edges).map((c) => c.join(' '));
    expect(cycles.filter((c) => !known.has(c))).toEqual([]);
    // A known cycle that is gone must leave the list, so the list never hides a new one.
    expect([...known].filter((c) => !cycles.includes(c))).toEqual([]);
  });

  it('every import names a file that exists', () => {
    // A specifier the reader misparsed would hide an arrow: each must resolve to a file of src/.
    expect(edges.filter((e) => !existsSync(join(root, e.to))).map((e) => `${e.from} → ${e.to}`)).toEqual([]);
  });
});

describe('file names', () => {
  it('are kebab-case, folders too (plan-status.ts, kind-checks.test.ts)', () => {
    const kebab = /^[a-z0-9]+(?:-[a-z0-9]+)*(?:\.[a-z0-9]+(?:-[a-z0-9]+)*)*$/;
    const code = ['src', 'test', 'bin', 'scripts']
      .filter((dir) => existsSync(join(root, dir)))
      .flatMap((dir) => filesUnder(join(root, dir)))
      .filter((f) => /\.(ts|js|mjs)$/.test(f))
      .map((f) => relative(root, f));
    expect(code.length).toBeGreaterThan(100);
    expect(code.filter((f) => !f.split(sep).every((part) => kebab.test(part)))).toEqual([]);
  });
});

describe('the import reader', () => {
  it('finds static, type-only, re-exported and dynamic imports, and skips comments', () => {
    const text = [
      "import { a } from './a.js';",
      "import type { B } from '../b.js';",
      "export { c } from './c.js';",
      "import './side-effect.js';",
      "const { d } = await import('./d.js');",
      "// import { e } from './e.js';",
      "/* const f = await import('./f.js'); */",
      "const url = 'http://example.org/x'; import { g } from './g.js';",
      "import { tf } from '@tensorflow/tfjs-core';",
    ].join('\n');
    expect(importSpecifiers(text).sort()).toEqual(['../b.js', './a.js', './c.js', './d.js', './g.js', './side-effect.js']);
  });

  it('finds a cycle and a backward arrow', () => {
    const edges = [
      { from: 'src/core/a.ts', to: 'src/engine/b.ts' },
      { from: 'src/engine/b.ts', to: 'src/core/a.ts' },
      { from: 'src/engine/b.ts', to: 'src/engine/c.ts' },
    ];
    expect(importCycles(edges)).toEqual([['src/core/a.ts', 'src/engine/b.ts']]);
    expect(folderArrows(edges).map((a) => [a.from, a.to, a.backward])).toEqual([
      ['core', 'engine', true],
      ['engine', 'core', false],
    ]);
  });
});
