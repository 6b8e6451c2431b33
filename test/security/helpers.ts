// The security tests drive the real CLI (`node bin/repro.js`, i.e. dist/: `npm test` builds it) on
// workflows written to real temporary folders.
import { spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
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

export function git(cwd: string, ...args: string[]): string {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

/**
 * A real git repository with one commit holding `files` (a `{link}` value is a symbolic link to that
 * target, committed as a link); returns its folder and commit.
 */
export function repository(files: Record<string, string | { link: string }>): { dir: string; commit: string } {
  const dir = tempDir('repro-sec-repo-');
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'config', 'user.email', 't@example.org');
  git(dir, 'config', 'user.name', 'test');
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    if (typeof content === 'string') writeFileSync(join(dir, name), content);
    else symlinkSync(content.link, join(dir, name));
  }
  git(dir, 'add', '.');
  git(dir, 'commit', '-qm', 'one');
  return { dir, commit: git(dir, 'rev-parse', 'HEAD') };
}
