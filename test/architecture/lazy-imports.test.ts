// docs/ARCHITECTURE.md: laziness is for libraries. A dynamic `import()` in src/ loads a third-party
// library, or a module of ours that statically imports one. Three places also defer modules of ours
// that `repro plan` must not pay for: a command's action (src/cli/commands/: main.ts registers every
// command), the choice of executor (the Slurm executor loads when a run asks for it), and a step
// kind's run() loading the report renderers (src/report/) or the data readers (src/data/).
// Everything else, node: built-ins included, is a static import.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { filesUnder, stripComments } from './imports.js';

const ROOT = join(__dirname, '..', '..');
const DEFERS_OUR_MODULES = [/^src\/cli\/commands\//, /^src\/bench\/main\.ts$/, /^src\/engine\/executors\/config\.ts$/];
/** What a step kind's run() may load late: its implementation, which planning never needs. */
const RUN_TIME_OF_KINDS = /^src\/(report|data)\//;

const code = new Map<string, string>();
const source = (file: string): string => {
  if (!code.has(file)) code.set(file, stripComments(readFileSync(join(ROOT, file), 'utf8')));
  return code.get(file)!;
};
const resolveFrom = (from: string, spec: string): string => (spec.startsWith('.') ? normalize(join(dirname(from), spec)).replace(/\.js$/, '.ts') : spec);

/** Values (not types) a file imports statically. */
function staticImports(file: string): string[] {
  const out: string[] = [];
  for (const m of source(file).matchAll(/^import\s+(?!type\b)([^'"]*?)\s*from\s*['"]([^'"]+)['"]|^import\s+['"]([^'"]+)['"]/gm)) {
    const clause = m[1] ?? '';
    const onlyTypes = clause.startsWith('{') && clause.replace(/[{}\s]/g, '').split(',').filter(Boolean).every((x) => x.startsWith('type'));
    if (!onlyTypes) out.push(resolveFrom(file, m[2] ?? m[3]!));
  }
  return out;
}

/** The third-party packages a module of ours loads when it is imported. */
function librariesOf(file: string, seen = new Set<string>()): Set<string> {
  const libs = new Set<string>();
  if (seen.has(file)) return libs;
  seen.add(file);
  for (const dep of staticImports(file)) {
    if (dep.startsWith('node:')) continue;
    if (!dep.startsWith('src/')) libs.add(dep);
    else if (existsSync(join(ROOT, dep))) for (const l of librariesOf(dep, seen)) libs.add(l);
  }
  return libs;
}

describe('lazy imports', () => {
  it('load a library, or a module of ours only where start-up would otherwise pay for every command', () => {
    const needless: string[] = [];
    let lazy = 0;
    for (const abs of filesUnder(join(ROOT, 'src'))) {
      if (!abs.endsWith('.ts') || abs.endsWith('.d.ts')) continue;
      const file = relative(ROOT, abs).split('\\').join('/');
      for (const m of source(file).matchAll(/(?<![\w.])import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
        lazy++;
        const target = resolveFrom(file, m[1]!);
        if (target.startsWith('node:')) needless.push(`${file}: import('${m[1]}') of a node built-in`);
        else if (
          target.startsWith('src/') &&
          !DEFERS_OUR_MODULES.some((re) => re.test(file)) &&
          !(file.startsWith('src/steps/') && RUN_TIME_OF_KINDS.test(target)) &&
          librariesOf(target).size === 0
        ) {
          needless.push(`${file}: import('${m[1]}') loads no library`);
        }
      }
    }
    expect(lazy).toBeGreaterThan(0); // the scan sees the dynamic imports that remain (tfjs, sharp, vega…)
    expect(needless).toEqual([]);
  });
});
