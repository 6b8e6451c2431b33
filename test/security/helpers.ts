// The security tests drive the real CLI (`node bin/repro.js`, i.e. dist/: `npm test` builds it) on
// workflows written to real temporary folders.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll } from 'vitest';
import { removeTree } from '../../src/engine/store.js';

export const BIN = resolve('bin/repro.js');

const created: string[] = [];
afterAll(() => {
  for (const dir of created) {
    try {
      removeTree(dir);
    } catch {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});

export function tempDir(prefix = 'repro-sec-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  created.push(dir);
  return dir;
}

/** A project folder holding `wf.yaml` with this text. */
export function project(workflow: string | Buffer, name = 'wf.yaml'): string {
  const dir = tempDir();
  writeFileSync(join(dir, name), workflow);
  return dir;
}

export function repro(cwd: string, args: string[], env: Record<string, string | undefined> = {}, input?: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    encoding: 'utf8',
    input,
    env: { ...process.env, NO_COLOR: '1', REPRO_CACHE: join(cwd, '.cache'), ...env },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
