// The trust line. A workflow from a git URL or from an archive (`repro reproduce`) is someone else's
// code: without --trust it may plan and run the built-in step kinds on data, but nothing in it may
//   - run a command (a `run` step),
//   - read the user's environment into anything (a param bound to `env:`, a fetch's basic-auth
//     variables, a run step's `secrets:`): such a value could leave the machine in a URL or a header,
//   - pass settings or flags to another program (an `executor:` section: the Slurm executor itself,
//     partition, account, time and flags become sbatch arguments, the steps' resources too),
//   - read files outside its own folder (checked when the steps' inputs are hashed, src/engine/fingerprint.ts).
// Each place is reported at its line and column, so the user reads exactly those before --trust.
// One decision for every way a workflow arrives: only the wording of where it came from differs.
import { pointer, type DiagnosticSink } from './diagnostics.js';
import type { KindDescriptor, Workflow } from './types.js';

/** How a workflow that is not the user's own arrived. A local file is the user's, and trusted. */
export type UntrustedOrigin = 'git' | 'archive';

/** Where an untrusted workflow came from, as a refusal says it. */
export function originText(from: UntrustedOrigin): string {
  return from === 'git' ? 'a remote repository' : 'an archive';
}

/** The executor settings that pass nothing to another program (`type: local`, `poll`). */
function harmlessExecutorSetting(key: string, value: unknown): boolean {
  return key === 'poll' || (key === 'type' && value === 'local');
}

/**
 * Reports every place of an untrusted workflow that needs --trust, as errors (a command that runs it)
 * or as warnings (one that only reads it: validate, plan, why); returns how many.
 */
export function reportUntrusted(
  wf: Workflow,
  kinds: ReadonlyMap<string, KindDescriptor<any>>,
  sink: DiagnosticSink,
  disabled: ReadonlySet<string>,
  from: UntrustedOrigin = 'git',
  severity: 'error' | 'warning' = 'error',
): number {
  let count = 0;
  const refuse = (path: string, what: string, key = false): void => {
    count++;
    sink[severity](path, `this workflow comes from ${originText(from)}: it ${what}, which needs --trust`, {
      code: 'needs-trust',
      key,
      hint: `--trust would allow exactly this (it ${what}); read it here first`,
    });
  };
  for (const [name, decl] of Object.entries(wf.params)) {
    if (decl.env) refuse(`${pointer('/params', name)}/env`, `reads your environment variable ${decl.env} into param '${name}'`);
  }
  for (const [key, value] of Object.entries(wf.executor ?? {})) {
    if (harmlessExecutorSetting(key, value)) continue;
    const what =
      key === 'type'
        ? `submits its steps to your Slurm cluster (executor type '${String(value)}'), with the resources it asks for as sbatch arguments`
        : `passes its executor setting '${key}' to sbatch`;
    refuse(pointer('/executor', key), what, key !== 'type');
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
