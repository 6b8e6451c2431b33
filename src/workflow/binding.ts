// Binding a reference to another step's output to the instances it means, by matrix values.
import type { DiagnosticSink } from './diagnostics.js';
import { matrixLabel } from './matrix.js';
import type { ConcreteStep, Gathered, OutputRef } from './types.js';

/**
 * Binds a reference to step `target` from an instance with matrix values `matrix` (axes `axes`):
 * - target has no matrix → that one step;
 * - every axis of target is also an axis here → the one instance with equal values;
 * - otherwise → every instance of target (those agreeing on shared axes), as Gathered[].
 */
export function bind(
  /** The referred step: its id, matrix axes and concrete instances (at least one). */
  target: { id: string; axes: string[]; instances: ConcreteStep[] },
  matrix: Record<string, unknown>,
  axes: string[],
  path: string,
  sink: DiagnosticSink,
  output?: string,
): OutputRef | Gathered<OutputRef>[] | null {
  const instances = target.instances;
  const ref = (s: ConcreteStep): OutputRef => ({ $ref: { step: s.id, output: output ?? '' } });
  const targetAxes = target.axes;
  if (targetAxes.length === 0) return ref(instances[0]!);
  const shared = targetAxes.filter((a) => axes.includes(a));
  // Instances match by their values as shown in ids (an object by its name), so a step may list
  // {name: emd2} without repeating the whole variant object of the step it refers to.
  const agree = (s: ConcreteStep): boolean => shared.every((a) => matrixLabel(s.matrix[a]) === matrixLabel(matrix[a]));
  if (shared.length === targetAxes.length) {
    const one = instances.find(agree);
    if (!one) {
      const want = shared.map((a) => `${a}=${matrixLabel(matrix[a])}`).join(',');
      sink.error(path, `step '${target.id}' has no instance with ${want}`, {
        code: 'bad-reference',
        hint: `its instances: ${instances.map((s) => s.id).slice(0, 6).join(', ')}${instances.length > 6 ? ', ...' : ''}`,
      });
      return null;
    }
    return ref(one);
  }
  return instances.filter(agree).map((s) => ({ matrix: s.matrix, step: s.id, value: ref(s) }));
}
