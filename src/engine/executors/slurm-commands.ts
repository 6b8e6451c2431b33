// Slurm's command-line clients as functions: sbatch, squeue, scontrol, scancel, sinfo. Their
// failures become ReproErrors that quote Slurm's own message: "sbatch not found" and "controller
// unreachable" exit 7 (EXECUTOR_UNAVAILABLE), a request Slurm refuses exits 2 (INVALID).
// `sacct` is not used: it needs a slurmdbd database, which many clusters (and the CI one) lack;
// finished jobs are read from squeue/scontrol while the controller remembers them (MinJobAge),
// then from the jobcomp/filetxt file when the cluster writes one.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ReproError } from '../../core/errors.js';

export interface CommandResult {
  stdout: string;
  stderr: string;
}

/** Runs a Slurm client. ENOENT becomes "not found"; a non-zero exit rejects with Slurm's stderr. */
export function slurmCommand(cmd: string, args: string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: options.timeoutMs ?? 60_000, env: options.env ?? process.env, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (!err) return resolve({ stdout, stderr });
      const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: string | number };
      if (e.code === 'ENOENT') {
        reject(
          new ReproError(`${cmd} not found: the Slurm client commands are not on PATH`, 'executor-unavailable', 'run on a node of the cluster (a login node), install Slurm’s clients (Debian: apt-get install slurm-client), or use --executor local'),
        );
        return;
      }
      const message = (stderr || stdout || e.message).trim();
      reject(new SlurmCommandError(cmd, message, e.killed === true));
    });
  });
}

export class SlurmCommandError extends Error {
  constructor(
    readonly command: string,
    /** What Slurm printed (stderr), trimmed. */
    readonly slurmMessage: string,
    readonly timedOut: boolean,
  ) {
    super(`${command}: ${slurmMessage}`);
  }
}

/** Messages that mean the controller (slurmctld) does not answer, rather than "no". */
export function isUnreachable(message: string): boolean {
  return /unable to contact slurm controller|connection refused|connect failure|socket timed out|slurm_load_\w+: .*(timed out|unreachable)|could not establish|zero bytes were transmitted|Communication connection failure/i.test(message);
}

/** The one-line form of a Slurm message: its "error:" lines, without the "sbatch: error:" prefixes. */
export function slurmSays(message: string): string {
  const lines = message
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const errors = lines.filter((l) => /error/i.test(l));
  return (errors.length ? errors : lines)
    .map((l) => l.replace(/^(sbatch|squeue|scontrol|scancel|sinfo|srun): (error: )?/i, ''))
    .join('; ');
}

/** The error for a failed Slurm command: executor-unavailable, or invalid when Slurm refused it. */
export function commandFailure(err: unknown, what: string): ReproError {
  if (err instanceof ReproError) return err;
  if (err instanceof SlurmCommandError) {
    if (err.timedOut || isUnreachable(err.slurmMessage)) {
      return new ReproError(
        `the Slurm controller did not answer (${err.command}: ${slurmSays(err.slurmMessage) || 'timed out'})`,
        'executor-unavailable',
        'check that slurmctld runs and that SLURM_CONF (or /etc/slurm/slurm.conf) names it; `scontrol ping` says whether it is up',
      );
    }
    return new ReproError(`${what}: Slurm says: ${slurmSays(err.slurmMessage)}`, 'invalid');
  }
  return new ReproError(`${what}: ${(err as Error)?.message ?? String(err)}`, 'executor-unavailable');
}

// ---- reading job states ----------------------------------------------------------------------

export interface JobState {
  id: string;
  /** PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, TIMEOUT, OUT_OF_MEMORY, NODE_FAIL, PREEMPTED… */
  state: string;
  nodes: string;
  /** Why a pending job waits (Dependency, Resources, PartitionConfig…), or why it ended. */
  reason: string;
  exitCode?: string;
}

/** The squeue format the executor asks for, and its parser. */
export const SQUEUE_FORMAT = '%i|%T|%N|%r';

export function parseSqueue(text: string): Map<string, JobState> {
  const out = new Map<string, JobState>();
  for (const line of text.split('\n')) {
    const [id, state, nodes, reason] = line.trim().split('|');
    if (!id || !state) continue;
    out.set(id, { id, state: state.replace(/\+$/, ''), nodes: nodes && nodes !== '(null)' ? nodes : '', reason: reason ?? '' });
  }
  return out;
}

/** `JobId=12 … JobState=COMPLETED … NodeList=vm … ExitCode=0:0` lines of jobcomp/filetxt: the last record of each job. */
export function parseJobComp(text: string, ids: Set<string>): Map<string, JobState> {
  const out = new Map<string, JobState>();
  for (const line of text.split('\n')) {
    const id = /(?:^|\s)JobId=(\S+)/.exec(line)?.[1];
    if (!id || !ids.has(id)) continue;
    const field = (k: string) => new RegExp(`(?:^|\\s)${k}=(\\S*)`).exec(line)?.[1] ?? '';
    const nodes = field('NodeList');
    out.set(id, { id, state: field('JobState'), nodes: nodes === '(null)' ? '' : nodes, reason: '', exitCode: field('ExitCode') });
  }
  return out;
}

export function readJobComp(path: string, ids: Set<string>): Map<string, JobState> {
  try {
    return parseJobComp(readFileSync(path, 'utf8'), ids);
  } catch {
    return new Map();
  }
}

/** `Key = Value` lines of `scontrol show config`. */
export function parseConfig(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^(\w+)\s*=\s*(.*)$/.exec(line.trim());
    if (m) out[m[1]!] = m[2]!.trim();
  }
  return out;
}

/** Job states after which a job never runs again (unless requeued). */
export const TERMINAL_STATES = new Set([
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'TIMEOUT',
  'OUT_OF_MEMORY',
  'NODE_FAIL',
  'PREEMPTED',
  'BOOT_FAIL',
  'DEADLINE',
  'REVOKED',
  'SPECIAL_EXIT',
]);

/** Ends that are the machine's fault, not the step's: the step is submitted once more. */
export const REQUEUE_STATES = new Set(['NODE_FAIL', 'PREEMPTED', 'BOOT_FAIL']);

/**
 * Reasons a pending job gives when it can never start as submitted (a cluster without
 * EnforcePartLimits accepts such a job and leaves it pending forever).
 */
export const NEVER_RUNS_REASONS = new Set(['PartitionConfig', 'BadConstraints', 'PartitionNodeLimit', 'PartitionTimeLimit', 'InvalidAccount', 'InvalidQOS', 'QOSMaxCpuPerJobLimit', 'QOSMaxMemoryPerJob', 'QOSMaxWallDurationPerJobLimit']);
