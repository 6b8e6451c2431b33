// The import graph of src/, read from the code itself, and the layer order it must follow
// (docs/ARCHITECTURE.md explains the order). Used by layers.test.ts; no dependency beyond node:fs.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

/**
 * The folders of src/, top to bottom. A folder may import only folders in a row below its own;
 * folders in one row do not import each other.
 */
export const LAYERS: readonly (readonly string[])[] = [
  ['cli', 'bench'], // entry points: `repro` and `npm run bench`
  ['share', 'ui'], // moving workflows and runs between machines; the local web app over runs
  ['engine'], // runs a plan: fingerprint, cache, scheduler, store, run record
  ['steps'], // one file per step kind
  ['report'], // HTML/Markdown reports, checklist, RO-Crate
  ['compare'], // statistics and verdicts against the paper
  ['workflow'], // the workflow language: parse, validate, plan
  ['ml'], // the ML library
  ['data'], // readers and writers of data
  ['formats'], // the files passed between steps and commands
  ['core'], // errors, hashing, atomic writes, facts, status
];

export interface ImportEdge {
  /** Repository-relative paths, e.g. 'src/engine/executor.ts'. */
  from: string;
  to: string;
}

/** Every file under `dir`, at any depth. */
export function filesUnder(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) filesUnder(path, out);
    else out.push(path);
  }
  return out;
}

function sourceFiles(dir: string): string[] {
  return filesUnder(dir).filter((path) => path.endsWith('.ts') && !path.endsWith('.d.ts'));
}

/** The text without comments; string literals are kept as they are (a '//' in a URL stays). */
export function stripComments(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    const next = text[i + 1];
    if (c === '/' && next === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 2;
    } else if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      while (j < text.length && text[j] !== c) j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** Relative module specifiers of static imports, re-exports and dynamic `import()` calls. */
export function importSpecifiers(text: string): string[] {
  const code = stripComments(text);
  const specs: string[] = [];
  const staticRe = /(?:^|[;\s])(?:import|export)\s[^;'"`]*?\bfrom\s*(['"])(\.[^'"]+)\1/g;
  const bareRe = /(?:^|[;\s])import\s*(['"])(\.[^'"]+)\1/g;
  const dynamicRe = /\bimport\s*\(\s*(['"])(\.[^'"]+)\1\s*\)/g;
  for (const re of [staticRe, bareRe, dynamicRe]) for (const m of code.matchAll(re)) specs.push(m[2]);
  return specs;
}

/** Every import between files of `root/src`. */
export function sourceImports(root: string): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const file of sourceFiles(join(root, 'src'))) {
    const from = relative(root, file);
    for (const spec of importSpecifiers(readFileSync(file, 'utf8'))) {
      const to = normalize(join(dirname(from), spec)).replace(/\.js$/, '.ts');
      edges.push({ from, to });
    }
  }
  return edges;
}

/** 'src/engine/executors/slurm.ts' → 'engine'. */
export function folderOf(path: string): string {
  return path.split('/')[1];
}

function rank(folder: string): number {
  const r = LAYERS.findIndex((row) => row.includes(folder));
  if (r < 0) throw new Error(`src/${folder}/ is in no layer: add it to LAYERS (test/architecture/imports.ts) and docs/ARCHITECTURE.md`);
  return r;
}

export interface Arrow {
  from: string;
  to: string;
  /** How many imports make this arrow. */
  imports: ImportEdge[];
  backward: boolean;
}

/** Arrows between folders: one per ordered pair of folders with at least one import. */
export function folderArrows(edges: ImportEdge[]): Arrow[] {
  const arrows = new Map<string, Arrow>();
  for (const e of edges) {
    const from = folderOf(e.from);
    const to = folderOf(e.to);
    if (from === to) continue;
    const key = `${from}→${to}`;
    let arrow = arrows.get(key);
    if (!arrow) arrows.set(key, (arrow = { from, to, imports: [], backward: rank(to) <= rank(from) }));
    arrow.imports.push(e);
  }
  return [...arrows.values()].sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to));
}

/** Import cycles between files: the strongly connected components with more than one file (Tarjan). */
export function importCycles(edges: ImportEdge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const e of edges) {
    if (!next.has(e.from)) next.set(e.from, []);
    next.get(e.from)!.push(e.to);
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  let counter = 0;
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (next.get(v) ?? []).includes(v)) cycles.push(component.sort());
    }
  };
  for (const v of [...next.keys()].sort()) if (!index.has(v)) visit(v);
  return cycles;
}

/** One line per fact, for the closing note of a change: `layers: 38 arrows, 0 backward, 0 cycles`. */
export function layerSummary(root: string): string {
  const edges = sourceImports(root);
  const arrows = folderArrows(edges);
  const backward = arrows.filter((a) => a.backward);
  const cycles = importCycles(edges);
  return [
    `layers: ${arrows.length} arrows between folders, ${backward.length} backward, ${cycles.length} import cycles`,
    ...backward.map((a) => `  backward ${a.from} → ${a.to} (${a.imports.length}: ${a.imports.map((e) => e.from.slice(4)).join(', ')})`),
    ...cycles.map((c) => `  cycle ${c.map((f) => f.slice(4)).join(' ↔ ')}`),
  ].join('\n');
}
