// Runs a Plan: takes the store's lock, sets up the run (its directory, the latest link, secrets,
// the environment), then lets the scheduler (scheduler.ts) walk the DAG on an executor while the
// recorder (recorder.ts) listens to it and keeps run.json and the history up to date.
import { mkdirSync, readFileSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Plan } from '../workflow/types.js';
import type { StepKind } from '../steps/kind.js';
import type { EventListener, RunEvent } from './events.js';
import type { RunRecord } from '../formats/run-record.js';
import { writeFileAtomic } from '../core/atomic.js';
import { nullRecord } from '../core/names.js';
import { Store, removeTree, safeReaddir } from './store.js';
import { acquireLock, updateLockRecord, type LockInfo } from './lock.js';
import { SecretMask, MASK } from './secrets.js';
import { collectEnvironment, gitState, type GpuInfo } from './environment.js';
import type { ExecutorRun, StepExecutor } from './executors/types.js';
import { LocalExecutor } from './executors/local.js';
import { RunRecorder } from './recorder.js';
import { schedule } from './scheduler.js';

export { safeName } from './executors/step.js';

export interface ExecuteOptions {
  /** Parallel CPU tokens (default: the number of cores). */
  jobs?: number;
  /** Concrete ('train[seed=1]') or declared ('train') step ids to run even when cached. */
  force?: string[];
  /** Artifact store root (default `.repro/` in cwd). */
  store?: string;
  /** Where run records go (default `results/` in cwd). */
  results?: string;
  onEvent?: EventListener;
  /** Abort = Ctrl-C: running steps are cancelled, the record says 'interrupted'. */
  signal?: AbortSignal;
  /** Passed to every step as ctx.options (backend, engine, python, trust, remote…). */
  stepOptions?: Record<string, unknown>;
  /** The command line, for the record. */
  command?: string[];
  /** Wait for another process's store lock instead of failing with LOCKED. */
  waitLock?: boolean;
  /** Step kinds by name: handed in by the CLI (the registry, src/steps/registry.ts) or a test. */
  kinds: (name: string) => StepKind<any> | undefined;
  /** GPUs to schedule on (default: what nvidia-smi reports). */
  gpus?: GpuInfo[];
  /** Where steps run (default: a LocalExecutor with `jobs` and `gpus`). */
  executor?: StepExecutor;
  /** How long to wait for running steps to stop after an abort before giving up on them. */
  abortGraceMs?: number;
}

export function newRunId(now = new Date()): string {
  const iso = now.toISOString(); // 2025-01-31T12:30:05.123Z
  return `${iso.slice(0, 10).replace(/-/g, '')}-${iso.slice(11, 19).replace(/:/g, '')}-${randomBytes(2).toString('hex')}`;
}

export async function execute(plan: Plan, options: ExecuteOptions): Promise<RunRecord> {
  const t0 = Date.now();
  const cwd = process.cwd();
  const store = new Store(options.store ?? resolve(cwd, '.repro'));
  const resultsRoot = resolve(options.results ?? resolve(cwd, 'results'));
  const executor: StepExecutor = options.executor ?? new LocalExecutor({ jobs: options.jobs, gpus: options.gpus });
  const emit = (e: RunEvent) => options.onEvent?.(e);
  const now = () => new Date().toISOString();
  const wfName = plan.workflow.name;

  const runId = newRunId();
  const runDir = join(resultsRoot, wfName, runId);
  const recordPath = join(runDir, 'run.json');
  const command = options.command ?? process.argv.slice(2);

  const lock = await acquireLock(store.root, { command, record: recordPath, wait: options.waitLock, signal: options.signal });
  // Set once the record exists, so a bug in the engine still leaves a record that says 'failed'.
  let recorder: RunRecorder | null = null;
  try {
    if (lock.tookOverFrom) markInterrupted(lock.tookOverFrom);
    // We hold the lock: every other tmp/ run directory belongs to a dead run.
    for (const dead of safeReaddir(join(store.root, 'tmp'))) removeTree(join(store.root, 'tmp', dead));
    mkdirSync(join(runDir, 'logs'), { recursive: true });
    updateLockRecord(lock, recordPath);
    pointLatest(join(resultsRoot, wfName), runId);

    // Secrets: param values marked secret, plus whatever steps read through ctx.secret().
    const secrets = new SecretMask();
    for (const name of plan.secretParams) secrets.add(plan.params[name]);
    const publicParams = nullRecord<unknown>(); // param names are the user's: '__proto__' stays a key
    for (const [k, v] of Object.entries(plan.params)) publicParams[k] = plan.secretParams.includes(k) ? MASK : v;

    const gitPromise = gitState(plan.workflow.dir);
    const environment = await collectEnvironment();
    const rec = new RunRecorder({ plan, runId, recordPath, store, secrets, publicParams, command, startedAt: t0, environment, emit });
    rec.write();
    recorder = rec;

    emit({ type: 'run-started', runId, workflow: wfName, steps: plan.steps.length, time: now() });

    const stepAbort = new AbortController();
    const run: ExecutorRun = {
      plan,
      runId,
      runDir,
      store,
      secrets,
      history: recorder.history,
      stepOptions: options.stepOptions ?? {},
      force: options.force ?? [],
      emit,
      signal: stepAbort.signal,
      lookupKind: options.kinds,
    };
    await executor.open(run);
    if (executor.describe) rec.record.executor = executor.describe();

    const { interrupted } = await schedule(plan, run, executor, { signal: options.signal, stepAbort, abortGraceMs: options.abortGraceMs }, (e) => rec.stepEnded(e));

    const counts = await rec.finish(interrupted, gitPromise);
    store.saveMemo();
    const record = rec.record;
    emit({ type: 'run-finished', runId, status: record.status as 'succeeded' | 'failed' | 'interrupted', counts, durationMs: record.durationMs!, record: recordPath, time: now() });
    return record;
  } catch (err) {
    try {
      recorder?.failed();
    } catch {
      /* the original error matters more */
    }
    throw err;
  } finally {
    try {
      await executor.close();
    } finally {
      removeTree(store.tmpDir(runId));
      lock.release();
    }
  }
}

/** results/<wf>/latest → <run-id>, replaced atomically. */
function pointLatest(wfDir: string, runId: string): void {
  const latest = join(wfDir, 'latest');
  const tmp = join(wfDir, `.latest.${process.pid}.${randomBytes(3).toString('hex')}`);
  try {
    symlinkSync(runId, tmp);
    renameSync(tmp, latest);
  } catch {
    rmSync(tmp, { force: true }); // a filesystem without symlinks: the record is still there
  }
}

/** A run killed with -9 left its record at 'running': say what happened to it. */
function markInterrupted(holder: LockInfo): void {
  if (!holder.record) return;
  try {
    const rec = JSON.parse(readFileSync(holder.record, 'utf8')) as RunRecord;
    if (rec.status !== 'running') return;
    rec.status = 'interrupted';
    writeFileAtomic(holder.record, JSON.stringify(rec, null, 2) + '\n');
  } catch {
    /* gone or unreadable: nothing to mend */
  }
}
