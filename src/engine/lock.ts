// One writer per store: `repro run` and `repro gc` hold `<store>/lock` while they work.
// The lock file is created atomically (written under a temporary name, then hard-linked to
// `lock`, which fails if it exists) and names its holder: pid, host, the process start time
// (from /proc, so a recycled pid is not mistaken for the holder) and the run record it writes.
// A lock whose holder is dead on this host is stale (a `kill -9`): the next run takes it over.
import { linkSync, readFileSync, renameSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { tempPathFor, writeJsonAtomic } from '../core/atomic.js';
import { ReproError } from '../core/errors.js';

export interface LockInfo {
  pid: number;
  hostname: string;
  /** Kernel start time of the holder (clock ticks since boot), when /proc has it. */
  pidStart: string | null;
  startedAt: string;
  command: string[];
  /** The run.json this holder writes, so a taker-over can mark it interrupted. */
  record?: string;
}

export interface Lock {
  path: string;
  info: LockInfo;
  /** The previous holder's info when this lock was taken over from a dead process. */
  tookOverFrom: LockInfo | null;
  release(): void;
}

function processStartTime(pid: number): string | null {
  try {
    // Field 22 of /proc/<pid>/stat; the command name (field 2) may hold spaces, so split after ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** Whether the holder is certainly gone. A holder on another host is never presumed dead. */
export function isStale(info: LockInfo): boolean {
  if (info.hostname !== hostname()) return false;
  try {
    process.kill(info.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return true;
  }
  // The pid lives: it is the holder unless it was recycled by a process that started later.
  if (info.pidStart !== null) {
    const now = processStartTime(info.pid);
    if (now !== null && now !== info.pidStart) return true;
  }
  return false;
}

function readLock(path: string): LockInfo | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LockInfo;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    // Half-visible content cannot happen (it is linked complete); unreadable JSON means a foreign file.
    return { pid: -1, hostname: '?', pidStart: null, startedAt: '?', command: [] };
  }
}

function describe(info: LockInfo): string {
  return `pid ${info.pid} on ${info.hostname} since ${info.startedAt}` + (info.command.length ? ` (${info.command.join(' ')})` : '');
}

export interface AcquireOptions {
  command?: string[];
  record?: string;
  /** Wait for the holder to finish instead of failing at once. */
  wait?: boolean;
  /** Poll interval while waiting. */
  pollMs?: number;
  signal?: AbortSignal;
}

/** Takes the store's lock, or throws a ReproError (locked) naming the holder. */
export async function acquireLock(storeRoot: string, options: AcquireOptions = {}): Promise<Lock> {
  mkdirSync(storeRoot, { recursive: true });
  const path = join(storeRoot, 'lock');
  const info: LockInfo = {
    pid: process.pid,
    hostname: hostname(),
    pidStart: processStartTime(process.pid),
    startedAt: new Date().toISOString(),
    command: options.command ?? process.argv.slice(2),
    record: options.record,
  };
  let tookOverFrom: LockInfo | null = null;
  for (;;) {
    const tmp = tempPathFor(path);
    writeFileSync(tmp, JSON.stringify(info) + '\n');
    try {
      linkSync(tmp, path);
      rmSync(tmp, { force: true });
      break;
    } catch (err) {
      rmSync(tmp, { force: true });
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = readLock(path);
    if (holder === null) continue; // released between our link and our read
    if (isStale(holder)) {
      // Move the stale lock aside; only one contender's rename succeeds. If what we moved is not
      // the stale lock we judged (someone took over in between), put it back and retry.
      const aside = `${path}.stale.${process.pid}`;
      try {
        renameSync(path, aside);
      } catch {
        continue;
      }
      const moved = readLock(aside);
      if (moved && moved.pid === holder.pid && moved.startedAt === holder.startedAt) {
        rmSync(aside, { force: true });
        tookOverFrom = holder;
      } else {
        try {
          linkSync(aside, path);
        } catch {
          /* a third process holds it now; ours is lost, theirs is kept */
        }
        rmSync(aside, { force: true });
      }
      continue;
    }
    if (!options.wait) {
      throw new ReproError(
        `the store ${storeRoot} is locked by another repro process: ${describe(holder)}`,
        'locked',
        'wait for it to finish, or pass --wait-lock to wait; if that process is gone (on another host), delete ' + path,
      );
    }
    if (options.signal?.aborted) throw new ReproError('interrupted while waiting for the store lock', 'interrupted');
    await new Promise((r) => setTimeout(r, options.pollMs ?? 200));
  }
  let released = false;
  return {
    path,
    info,
    tookOverFrom,
    release() {
      if (released) return;
      released = true;
      // Remove only our own lock (never one a taker-over wrote after judging us dead).
      const current = readLock(path);
      if (current && current.pid === info.pid && current.startedAt === info.startedAt) rmSync(path, { force: true });
    },
  };
}

/** Points the held lock at the run record once its path is known. */
export function updateLockRecord(lock: Lock, record: string): void {
  lock.info.record = record;
  writeJsonAtomic(lock.path, lock.info);
}
