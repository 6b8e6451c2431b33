// The security tests drive the real CLI (`node bin/repro.js`, i.e. dist/: `npm test` builds it) on
// workflows written to real temporary folders.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repro as launch, tempDir } from '../support/index.js';

export { tempDir };

/** A project folder holding `wf.yaml` with this text. */
export function project(workflow: string | Buffer, name = 'wf.yaml'): string {
  const dir = tempDir('repro-sec-');
  writeFileSync(join(dir, name), workflow);
  return dir;
}

/** The CLI in `cwd`, with a cache of its own there (REPRO_CACHE) so tests never share one. */
export function repro(cwd: string, args: string[], env: Record<string, string | undefined> = {}, input?: string) {
  return launch(args, { cwd, env: { REPRO_CACHE: join(cwd, '.cache'), ...env }, input, timeout: 120_000 });
}
