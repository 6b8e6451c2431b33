// Matrix expansion: a step's `matrix:` into its combinations (axes, include, exclude), the concrete
// id of each, and the resources an instance asks for.
import { canonicalJson } from '../core/hash.js';
import { kindOf, pointer, showValue, type DiagnosticSink } from './diagnostics.js';
import type { EvalContext, Evaluator } from './expressions.js';
import { didYouMean } from './suggest.js';
import type { Resources, StepDecl } from './types.js';

/** One step's matrix may not expand beyond this: a typo in a generated list should not plan a million runs. */
export const MAX_INSTANCES_PER_STEP = 10_000;

/** The matrix axes of a declared step (include and exclude are not axes). */
export function axesOf(step: StepDecl): string[] {
  return Object.keys(step.matrix ?? {}).filter((k) => k !== 'include' && k !== 'exclude');
}

/** The matrix's combinations (one empty combination without a matrix), or null after an error. */
export function expandMatrix(step: StepDecl, evaluator: Evaluator, sink: DiagnosticSink): Array<Record<string, unknown>> | null {
  if (!step.matrix) return [{}];
  const base = `${pointer('/steps', step.id)}/matrix`;
  const axes = axesOf(step);
  const values: unknown[][] = [];
  let ok = true;
  const noMatrix: EvalContext = { step, matrix: null, axes: [], deps: () => {}, skip: [] };
  for (const axis of axes) {
    const at = pointer(base, axis);
    const v = evaluator.evaluate(step.matrix[axis], at, '', noMatrix);
    if (!Array.isArray(v)) {
      if (v !== undefined) sink.error(at, `matrix axis '${axis}' must be a list of values, but its expression gives ${kindOf(v)}`, { code: 'bad-matrix' });
      ok = false;
      continue;
    }
    if (v.length === 0) {
      sink.error(at, `matrix axis '${axis}' has no values, so step '${step.id}' would never run`, { code: 'bad-matrix' });
      ok = false;
      continue;
    }
    const seen = new Map<string, number>();
    v.forEach((x, i) => {
      const key = canonicalJson(x);
      if (seen.has(key)) {
        sink.error(pointer(at, i), `matrix axis '${axis}' lists ${showValue(x)} twice (items ${seen.get(key)! + 1} and ${i + 1})`, { code: 'bad-matrix' });
        ok = false;
      } else seen.set(key, i);
      if (x === null || x === undefined) {
        sink.error(pointer(at, i), `matrix axis '${axis}' has an empty value`, { code: 'bad-matrix' });
        ok = false;
      }
    });
    values.push(v);
  }
  if (!ok) return null;

  let total = 1;
  for (const v of values) total *= v.length;
  if (total > MAX_INSTANCES_PER_STEP) {
    sink.error(base, `the matrix of step '${step.id}' expands to ${total} combinations (at most ${MAX_INSTANCES_PER_STEP})`, { code: 'bad-matrix' });
    return null;
  }
  let combos: Array<Record<string, unknown>> = [{}];
  axes.forEach((axis, k) => {
    combos = combos.flatMap((c) => values[k]!.map((x) => ({ ...c, [axis]: x })));
  });

  const entries = (key: 'include' | 'exclude'): Array<[string, Record<string, unknown>]> => {
    const list = step.matrix![key];
    if (list === undefined) return [];
    return (list as Array<Record<string, unknown>>).map((e, i) => {
      const at = pointer(`${base}/${key}`, i);
      return [at, evaluator.evaluate(e, at, '', noMatrix) as Record<string, unknown>];
    });
  };
  const matches = (c: Record<string, unknown>, e: Record<string, unknown>): boolean =>
    Object.entries(e).every(([k, v]) => canonicalJson(c[k]) === canonicalJson(v));
  for (const [at, e] of entries('exclude')) {
    const unknown = Object.keys(e).filter((k) => !axes.includes(k));
    if (unknown.length) {
      sink.error(pointer(at, unknown[0]!), `exclude names unknown matrix axis '${unknown[0]}'${didYouMean(unknown[0]!, axes)}`, { code: 'bad-matrix', key: true });
      continue;
    }
    combos = combos.filter((c) => !matches(c, e));
  }
  for (const [at, e] of entries('include')) {
    const keys = Object.keys(e);
    const unknown = keys.filter((k) => !axes.includes(k));
    const missing = axes.filter((a) => !keys.includes(a));
    if (unknown.length) {
      sink.error(pointer(at, unknown[0]!), `include names unknown matrix axis '${unknown[0]}'${didYouMean(unknown[0]!, axes)}`, { code: 'bad-matrix', key: true });
      continue;
    }
    if (missing.length) {
      sink.error(at, `include entry gives no value for axis ${missing.map((m) => `'${m}'`).join(', ')}: each entry is a full combination`, { code: 'bad-matrix' });
      continue;
    }
    if (!combos.some((c) => matches(c, e))) combos.push(Object.fromEntries(axes.map((a) => [a, e[a]])));
  }
  if (combos.length === 0) {
    sink.error(base, `every combination of step '${step.id}' is excluded, so it would never run`, { code: 'bad-matrix' });
    return null;
  }
  return combos;
}

export function resources(step: StepDecl, ctx: EvalContext, evaluator: Evaluator, sink: DiagnosticSink): Required<Resources> {
  const base = `${pointer('/steps', step.id)}/resources`;
  const raw = (step.resources ? evaluator.evaluate(step.resources, base, '', ctx) : {}) as Record<string, unknown>;
  const out: Required<Resources> = { cpu: 1, gpu: 0, memory: 0 };
  if (raw.cpu !== undefined) {
    if (typeof raw.cpu === 'number' && raw.cpu > 0) out.cpu = raw.cpu;
    else sink.error(`${base}/cpu`, `resources.cpu must be a number above 0, found ${showValue(raw.cpu)}`, { code: 'wrong-type' });
  }
  if (raw.gpu !== undefined) {
    if (typeof raw.gpu === 'number' && Number.isInteger(raw.gpu) && raw.gpu >= 0) out.gpu = raw.gpu;
    else sink.error(`${base}/gpu`, `resources.gpu must be a whole number (0 or more), found ${showValue(raw.gpu)}`, { code: 'wrong-type' });
  }
  if (raw.memory !== undefined) {
    const bytes = parseMemory(raw.memory);
    if (bytes === null) sink.error(`${base}/memory`, `resources.memory must be a byte count or a size such as '2GiB', found ${showValue(raw.memory)}`, { code: 'wrong-type' });
    else out.memory = bytes;
  }
  return out;
}

/** How a matrix value appears in a concrete id: scalars as written, objects by their `name`. */
export function matrixLabel(v: unknown): string {
  if (v && typeof v === 'object' && !Array.isArray(v) && typeof (v as { name?: unknown }).name === 'string') return (v as { name: string }).name;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return canonicalJson(v);
}

/** 'train[variant=emd2,seed=1]', or the declared id without a matrix. */
export function concreteId(stepId: string, axes: string[], matrix: Record<string, unknown>): string {
  if (!axes.length) return stepId;
  return `${stepId}[${axes.map((a) => `${a}=${matrixLabel(matrix[a])}`).join(',')}]`;
}

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/** Bytes from 2147483648, '2GiB', '1.5 GB' or '512MiB'; null when it is not a size. */
export function parseMemory(v: unknown): number | null {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 ? v : null;
  if (typeof v !== 'string') return null;
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([kmgt]i?b|b)?\s*$/i.exec(v);
  if (!m) return null;
  return Math.round(Number(m[1]) * UNITS[(m[2] ?? 'b').toLowerCase()]!);
}
