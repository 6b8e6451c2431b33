// The guard every child process group of a step runs under (a `run` step's command, the PyTorch
// engine's Python): if repro itself dies without cleaning up (kill -9, a crash, the OOM killer), the
// group is ended anyway, so no training keeps a GPU or a core busy for nobody.
import { spawn, type ChildProcess } from 'node:child_process';

/** How long a process group gets between SIGTERM and SIGKILL. */
export const GRACE_MS = 3000;

/**
 * Ends process group `pgid` when this process ends, however it ends: a tiny /bin/sh in its own group
 * holds the read end of a pipe whose write end only repro holds. The kernel closes that end when
 * repro's process ends; `read` then returns and the watchdog sends the group SIGTERM, then SIGKILL
 * after the grace period. (Linux's PR_SET_PDEATHSIG would do it without a process, but Node cannot set
 * it for a child it spawns; a pipe works the same on every POSIX system.) The caller kills the
 * watchdog when the group ended normally. Null when no /bin/sh can be started: the step still runs,
 * without the guard.
 */
export function startWatchdog(pgid: number): ChildProcess | null {
  const script = `read _; kill -TERM -$1 2>/dev/null; sleep ${GRACE_MS / 1000}; kill -KILL -$1 2>/dev/null`;
  try {
    const w = spawn('/bin/sh', ['-c', script, 'repro-step-watchdog', String(pgid)], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
    w.on('error', () => undefined);
    w.stdin?.on('error', () => undefined);
    // The pipe must not keep repro alive by itself.
    w.unref();
    (w.stdin as unknown as { _handle?: { unref?: () => void } } | null)?._handle?.unref?.();
    return w;
  } catch {
    return null;
  }
}

/** Sends `sig` to the whole process group `pgid`; a group already gone is no error. */
export function killGroup(pgid: number | undefined, sig: NodeJS.Signals): void {
  if (pgid === undefined) return;
  try {
    process.kill(-pgid, sig);
  } catch {
    /* already gone */
  }
}
