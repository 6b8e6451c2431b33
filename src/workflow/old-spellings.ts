// User-facing keys are snake_case. Keys a kind renamed (e.g. the train kind's warmupEpochs →
// warmup_epochs, KindDescriptor.oldSpellings) are still accepted; this reports each one where it is
// written — in a step's `with` or in the objects its `matrix` supplies — as a warning with the new
// spelling. Warnings do not fail validation: old workflows keep running, and keep their fingerprints.
import type { KindDescriptor, Workflow } from './types.js';
import { pointer, type DiagnosticSink } from './diagnostics.js';

export function reportOldSpellings(wf: Workflow, kinds: ReadonlyMap<string, KindDescriptor<any>>, sink: DiagnosticSink): void {
  const walk = (renamed: ReadonlyMap<string, string>, value: unknown, path: string): void => {
    if (Array.isArray(value)) {
      value.forEach((v, i) => walk(renamed, v, pointer(path, i)));
    } else if (value !== null && typeof value === 'object') {
      for (const [key, v] of Object.entries(value)) {
        const now = renamed.get(key);
        if (now !== undefined) {
          sink.warning(pointer(path, key), `'${key}' is the old spelling of '${now}'`, {
            key: true,
            code: 'deprecated-key',
            hint: `write '${now}': user-facing keys are snake_case; '${key}' is still read the same way`,
          });
        }
        walk(renamed, v, pointer(path, key));
      }
    }
  };
  // Values that may reach those steps through ${{ params.… }}: params' defaults and profiles' values,
  // checked against the renamed keys of every kind the workflow uses (param names themselves are the user's).
  const used = new Map<string, string>();
  for (const [id, step] of Object.entries(wf.steps)) {
    const renamed = kinds.get(step.uses)?.oldSpellings;
    if (!renamed?.size) continue;
    for (const [old, now] of renamed) used.set(old, now);
    const base = pointer('/steps', id);
    walk(renamed, step.with, pointer(base, 'with'));
    if (step.matrix) walk(renamed, step.matrix, pointer(base, 'matrix'));
  }
  if (used.size === 0) return;
  for (const [name, decl] of Object.entries(wf.params)) walk(used, decl.default, pointer(pointer('/params', name), 'default'));
  for (const [name, profile] of Object.entries(wf.profiles)) {
    for (const [param, value] of Object.entries(profile.params ?? {})) walk(used, value, pointer(pointer(pointer('/profiles', name), 'params'), param));
  }
}
