// The trust line. A workflow from a remote repository is someone else's code: without --trust it may
// plan and run the built-in step kinds on data, but nothing in it may
//   - run a command (a `run` step),
//   - read the user's environment into anything (a param bound to `env:`, a fetch's basic-auth
//     variables, a run step's `secrets:`): such a value could leave the machine in a URL or a header,
//   - pass settings or flags to another program (an `executor:` section: partition, account, time and
//     flags become sbatch arguments).
// Each such place is reported at its line and column, so the user reads exactly those before --trust.
import { pointer, type DiagnosticSink } from './diagnostics.js';
import type { KindDescriptor, Workflow } from './types.js';

/** The executor keys that pass nothing to another program. */
const HARMLESS_EXECUTOR_KEYS = new Set(['type', 'poll']);

/** Reports, as errors, every place of a remote workflow that needs --trust; returns how many. */
export function reportUntrusted(wf: Workflow, kinds: ReadonlyMap<string, KindDescriptor<any>>, sink: DiagnosticSink, disabled: ReadonlySet<string>): number {
  let count = 0;
  const refuse = (path: string, what: string, key = false): void => {
    count++;
    sink.error(path, `this workflow comes from a remote repository: it ${what}, which needs --trust`, {
      code: 'needs-trust',
      key,
      hint: 'read it at this place; pass --trust to run it as it is',
    });
  };
  for (const [name, decl] of Object.entries(wf.params)) {
    if (decl.env) refuse(`${pointer('/params', name)}/env`, `reads your environment variable ${decl.env} into param '${name}'`);
  }
  for (const key of Object.keys(wf.executor ?? {})) {
    if (!HARMLESS_EXECUTOR_KEYS.has(key)) refuse(pointer('/executor', key), `passes its executor setting '${key}' to sbatch`, true);
  }
  for (const [id, step] of Object.entries(wf.steps)) {
    if (disabled.has(id)) continue;
    const kind = kinds.get(step.uses);
    for (const place of kind?.needsTrust?.(step.with ?? {}) ?? []) {
      const at = place.path ? `${pointer('/steps', id)}/with${place.path}` : `${pointer('/steps', id)}/uses`;
      refuse(at, `${place.what} (step '${id}')`);
    }
  }
  return count;
}
