// Processes end cleanly (issue 17, item 7; issue 14, item 8): output to a closed pipe ends quietly and
// closes the run record; after `kill -9` of repro, the step's own processes do not keep running.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repro, startRepro, until } from '../support/index.js';
import { project } from './helpers.js';

/** Running (a zombie waiting for a parent that does not reap it counts as ended). */
const alive = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
};

describe('a closed output pipe', () => {
  it('`repro run --json | head -1`: no stack trace, the record is closed, the lock released', async () => {
    const dir = project(`name: pipe
steps:
  slow:
    uses: run
    with: {command: "sleep 3; echo b > b.txt"}
    outputs: {o: b.txt}
`);
    const { child, done } = startRepro(['run', 'wf.yaml', '--json', '--no-report'], { cwd: dir });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    // Like `head -1`: read the first line, then close the pipe.
    await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
    child.stdout!.destroy();
    const code = await done;
    expect(stderr).not.toMatch(/EPIPE|internal error|\n\s+at /);
    expect(code).toBe(130);
    const record = JSON.parse(readFileSync(join(dir, 'results', 'pipe', 'latest', 'run.json'), 'utf8'));
    expect(record.status).toBe('interrupted');
    expect(existsSync(join(dir, '.repro', 'lock'))).toBe(false);
    // The next run is not blocked by a stale lock.
    const again = repro(['run', 'wf.yaml', '--no-report'], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
  });
});

describe('kill -9 of repro', () => {
  it("ends the step's process group (a watchdog holds a pipe from repro)", async () => {
    const dir = project(`name: k9
steps:
  hold:
    uses: run
    with: {command: 'sleep 60 & echo $! > "$PIDS/bg.pid"; echo $$ > "$PIDS/sh.pid"; wait'}
    outputs: {o: o.txt}
`);
    const { child } = startRepro(['run', 'wf.yaml', '--no-report'], { cwd: dir, env: { PIDS: dir } });
    await until(() => existsSync(join(dir, 'sh.pid')) && existsSync(join(dir, 'bg.pid')), 60_000);
    // Both files are written before the step waits; let the shell finish writing them.
    await new Promise((r) => setTimeout(r, 300));
    const pids = ['sh.pid', 'bg.pid'].map((f) => Number(readFileSync(join(dir, f), 'utf8').trim()));
    try {
    expect(pids.every(alive)).toBe(true);
    child.kill('SIGKILL');
    await until(() => !pids.some(alive), 10_000).catch(() => undefined);
    expect(pids.filter(alive)).toEqual([]);
    } finally {
      for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
  });
});
