// The step kinds' own checks on each concrete step: its \`with\` against the kind's schema, then the
// kind's check(). Run after expansion, so a kind sees the values, the references and the matrix.
import type { DiagnosticSink } from './diagnostics.js';
import { pointer } from './diagnostics.js';
import { validateWith, type SchemaProblem } from './schema.js';
import { isOutputRef, type ClassOrder, type ConcreteStep, type KindDescriptor } from './types.js';

export interface KindCheckInput {
  kinds: ReadonlyMap<string, KindDescriptor<any>>;
  /** Paths inside each concrete step's \`with\` that still hold references (skipped by the kind's schema). */
  placeholders: ReadonlyMap<ConcreteStep, string[]>;
  workflowDir: string;
  sink: DiagnosticSink;
}

/**
 * Each instance's `with` against its kind's schema and `check()`. A problem shared by every
 * instance of a matrix step is reported once, naming the step; otherwise it lists the instances.
 */
export function checkWithKind(
  instances: ConcreteStep[],
  all: ConcreteStep[],
  { kinds, placeholders, workflowDir, sink }: KindCheckInput,
): void {
  if (!instances.length) return;
  const kind = kinds.get(instances[0]!.uses);
  if (!kind) return;
  const stepId = instances[0]!.stepId;
  const base = `${pointer('/steps', stepId)}/with`;
  const classOrder = classOrderOf(all, kinds);
  const found = new Map<string, { problem: SchemaProblem; where: string[] }>();
  const note = (p: SchemaProblem, where: string): void => {
    const key = `${p.path}\u0000${p.message}`;
    const entry = found.get(key) ?? { problem: p, where: [] };
    entry.where.push(where);
    found.set(key, entry);
  };
  for (const step of instances) {
    for (const p of validateWith(kind.withSchema as object, step.with, base, { stepLabel: stepId, skip: placeholders.get(step) ?? [] })) note(p, step.id);
    if (!kind.check) continue;
    try {
      for (const p of kind.check(step.with, { steps: all, workflowDir, classOrder })) {
        const rel = p.path.replace(/^\/+/, '');
        note({ path: rel ? `${base}/${rel}` : base, message: `step '${stepId}': ${p.message}`, code: 'kind-check', ...(p.hint ? { hint: p.hint } : {}) }, step.id);
      }
    } catch (err) {
      note({ path: base, message: `the '${kind.name}' kind could not check step '${stepId}': ${(err as Error).message}`, code: 'kind-check-failed' }, step.id);
    }
  }
  for (const { problem, where } of found.values()) {
    const some = where.length < instances.length;
    const shown = where.slice(0, 3).join(', ') + (where.length > 3 ? ` and ${where.length - 3} more` : '');
    sink.error(problem.path, some ? `${problem.message} (in ${shown})` : problem.message, { code: problem.code, hint: problem.hint, key: problem.key });
  }
}

/**
 * Whether the classes behind a reference have an order, asked of the kind of the step it names
 * (KindDescriptor.classOrder), which may ask in turn of the references in its own `with`.
 */
function classOrderOf(all: ConcreteStep[], kinds: ReadonlyMap<string, KindDescriptor<any>>): (ref: unknown) => ClassOrder | undefined {
  const byId = new Map(all.map((s) => [s.id, s]));
  const resolve = (ref: unknown): ClassOrder | undefined => {
    if (!isOutputRef(ref)) return undefined;
    const step = byId.get(ref.$ref.step);
    const said = step && kinds.get(step.uses)?.classOrder?.(step.with, resolve);
    return typeof said === 'boolean' ? { ordered: said, step: step!.stepId } : said;
  };
  return resolve;
}
