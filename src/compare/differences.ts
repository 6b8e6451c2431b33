// Why two runs' results differ: what the machines, the packages and each step's execution facts
// say, listed only where they differ. diffRuns (runs.ts) puts these beside the parameters, the
// fingerprints and the metric deltas; diff-text.ts prints the whole RunDiff.

import type { EnvironmentRecord, StepRecord } from '../formats/run-record.js';

const show = (v: unknown): string => (v === undefined || v === null ? 'none' : typeof v === 'string' ? v : JSON.stringify(v));

function changed(out: string[], what: string, a: unknown, b: unknown): void {
  if (show(a) !== show(b)) out.push(`${what}: ${show(a)} → ${show(b)}`);
}

/** Lines like `cpu model: AMD EPYC → Intel Xeon`, `package sharp: 0.35.5 → 0.36.0`, `cpu features: +avx512f −sse4a`. */
export function environmentChanges(a: Partial<EnvironmentRecord> | undefined, b: Partial<EnvironmentRecord> | undefined): string[] {
  const out: string[] = [];
  if (!a || !b) return a === b ? out : ['environment: recorded in one run only'];
  changed(out, 'os', a.os, b.os);
  changed(out, 'kernel', a.kernel, b.kernel);
  changed(out, 'arch', a.arch, b.arch);
  changed(out, 'cpu model', a.cpuModel, b.cpuModel);
  if (a.cpuFeatures && b.cpuFeatures) {
    const fa = new Set(a.cpuFeatures);
    const fb = new Set(b.cpuFeatures);
    const plus = [...fb].filter((f) => !fa.has(f));
    const minus = [...fa].filter((f) => !fb.has(f));
    if (plus.length || minus.length) out.push(`cpu features: ${[...plus.map((f) => `+${f}`), ...minus.map((f) => `−${f}`)].join(' ')}`);
  }
  changed(out, 'cores', a.cores, b.cores);
  changed(out, 'memory', a.memoryBytes, b.memoryBytes);
  changed(out, 'node', a.node, b.node);
  changed(out, 'repro', a.repro, b.repro);
  changed(out, "repro's lockfile", a.lockfileSha256?.slice(0, 12), b.lockfileSha256?.slice(0, 12));
  const pa = a.packages ?? {};
  const pb = b.packages ?? {};
  for (const name of [...new Set([...Object.keys(pa), ...Object.keys(pb)])].sort()) changed(out, `package ${name}`, pa[name], pb[name]);
  changed(out, 'gpus', (a.gpus ?? []).map((g) => g.name).join(', ') || 'none', (b.gpus ?? []).map((g) => g.name).join(', ') || 'none');
  const ya = a.python ?? null;
  const yb = b.python ?? null;
  if (ya || yb) {
    changed(out, 'python', ya?.version, yb?.version);
    changed(out, 'python path', ya?.path, yb?.path);
    changed(out, 'torch', ya?.torch, yb?.torch);
    changed(out, 'torch cuda', ya?.cuda, yb?.cuda);
    changed(out, 'torch device', ya?.device, yb?.device);
    changed(out, 'torch blas', ya?.blas, yb?.blas);
  }
  return out;
}

export interface FactChange {
  /** `backend wasm → cpu`, `scikit-learn 1.2.1 → 1.5.0`. */
  change: string;
  steps: string[];
}

/** A fact's name as people say it: `package:scikit-learn` → `scikit-learn`. */
const factName = (key: string) => (key.startsWith('package:') ? key.slice('package:'.length) : key);

/** The execution facts (engine, backend, device, threads, interpreter, package versions) that differ, step by step, grouped by change. */
export function factChanges(a: readonly StepRecord[], b: readonly StepRecord[]): FactChange[] {
  const other = new Map(b.map((s) => [s.id, s]));
  const byChange = new Map<string, string[]>();
  for (const sa of a) {
    const sb = other.get(sa.id);
    if (!sb) continue;
    const fa = sa.facts ?? {};
    const fb = sb.facts ?? {};
    for (const k of [...new Set([...Object.keys(fa), ...Object.keys(fb)])].sort()) {
      if (show(fa[k]) === show(fb[k])) continue;
      const change = `${factName(k)} ${show(fa[k])} → ${show(fb[k])}`;
      byChange.set(change, [...(byChange.get(change) ?? []), sa.id]);
    }
  }
  return [...byChange].map(([change, steps]) => ({ change, steps }));
}
