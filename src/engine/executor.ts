// Runs a Plan: walks its DAG, skips steps whose fingerprint is cached, hands the others to an
// executor (local: this process over CPU/GPU tokens; Slurm: batch jobs), stores outputs by content,
// and keeps results/<workflow>/<run-id>/run.json up to date.
import { mkdirSync, readFileSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ConcreteStep, Plan } from '../workflow/types.js';
import type { StepKind } from '../steps/kind.js';
import type { EventListener, RunEvent } from './events.js';
import { RUN_RECORD_FORMAT, type ArtifactRecord, type RunRecord, type StepRecord } from '../formats/run-record.js';
import { writeFileAtomic } from '../core/atomic.js';
import { Store, removeTree, safeReaddir } from './store.js';
import { acquireLock, updateLockRecord, type LockInfo } from './lock.js';
import { SecretMask, MASK } from './secrets.js';
import { UpstreamPending, type ResolvedStep } from './fingerprint.js';
import { readHistory, writeHistory } from './history.js';
import { collectEnvironment, gitState, type GpuInfo } from './environment.js';
import type { ExecutorRun, StepExecutor, StepOutcome, StepTask } from './executors/types.js';
import { LocalExecutor } from './executors/local.js';
import { cachedOutcome, describeError, prepareStep } from './executors/step.js';
import type { ExecutionFacts } from '../core/facts.js';
import type { StepStatus } from '../core/status.js';

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

/** A step's outcome as the scheduler tracks it. */
interface StepState {
  step: ConcreteStep;
  status: 'waiting' | 'preparing' | 'queued' | 'running' | StepStatus;
  resolved?: ResolvedStep;
  outputs?: Record<string, ArtifactRecord>;
  record?: StepRecord;
  reason?: string;
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
  const lookupKind = options.kinds;
  const wfName = plan.workflow.name;

  const runId = newRunId();
  const runDir = join(resultsRoot, wfName, runId);
  const recordPath = join(runDir, 'run.json');
  const command = options.command ?? process.argv.slice(2);

  const lock = await acquireLock(store.root, { command, record: recordPath, wait: options.waitLock, signal: options.signal });
  // Set once the record exists, so a bug in the engine still leaves a record that says 'failed'.
  let markFailed: (() => void) | null = null;
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
    const publicParams: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(plan.params)) publicParams[k] = plan.secretParams.includes(k) ? MASK : v;

    const gitPromise = gitState(plan.workflow.dir);
    const envPromise = collectEnvironment();

    const record: RunRecord = {
      format: RUN_RECORD_FORMAT,
      runId,
      workflow: {
        name: wfName,
        file: plan.workflow.file,
        sha256: plan.workflow.sha256,
        ...(plan.workflow.source ? { source: plan.workflow.source } : {}),
        ...(plan.workflow.title ? { title: plan.workflow.title } : {}),
        ...(plan.workflow.paper ? { paper: plan.workflow.paper } : {}),
      },
      git: { commit: null, dirty: null, branch: null },
      profile: plan.profile,
      params: publicParams,
      status: 'running',
      startedAt: new Date(t0).toISOString(),
      command,
      store: store.root,
      environment: await envPromise,
      steps: [],
    };
    const writeRecord = () => writeFileAtomic(recordPath, secrets.maskJsonText(JSON.stringify(record, null, 2)) + '\n');
    writeRecord();
    markFailed = () => {
      record.status = 'failed';
      record.finishedAt = now();
      record.durationMs = Date.now() - t0;
      writeRecord();
    };
    let recordTimer: NodeJS.Timeout | null = null;
    const writeRecordSoon = () => {
      recordTimer ??= setTimeout(() => {
        recordTimer = null;
        writeRecord();
      }, 250);
    };

    emit({ type: 'run-started', runId, workflow: wfName, steps: plan.steps.length, time: now() });

    const history = readHistory(store, wfName);
    let historyDirty = false;

    const states = new Map<string, StepState>();
    for (const step of plan.steps) states.set(step.id, { step, status: 'waiting' });
    const order = plan.steps.map((s) => states.get(s.id)!);

    // Cancels running steps on Ctrl-C (the caller's signal) — and nothing else: a failed step
    // lets independent steps finish.
    const stepAbort = new AbortController();
    let interrupted = false;
    const onAbort = () => {
      interrupted = true;
      stepAbort.abort(options.signal?.reason);
      wake();
    };
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });

    let wakeUp: (() => void) | null = null;
    const wake = () => {
      const w = wakeUp;
      wakeUp = null;
      w?.();
    };
    let active = 0; // preparing or running

    const run: ExecutorRun = {
      plan,
      runId,
      runDir,
      store,
      secrets,
      history,
      stepOptions: options.stepOptions ?? {},
      force: options.force ?? [],
      emit,
      signal: stepAbort.signal,
      lookupKind,
    };
    await executor.open(run);
    if (executor.describe) record.executor = executor.describe();

    const finish = (st: StepState, status: StepStatus, rec: Partial<StepRecord>) => {
      st.status = status;
      st.record = {
        id: st.step.id,
        stepId: st.step.stepId,
        uses: st.step.uses,
        matrix: st.step.matrix,
        status,
        fingerprint: st.resolved?.fingerprint ?? '',
        fingerprintComponents: (st.resolved?.components ?? {}) as unknown as Record<string, unknown>,
        inputs: st.resolved?.inputs ?? {},
        outputs: st.outputs ?? {},
        ...rec,
      };
      record.steps.push(st.record);
      const prev = history.steps[st.step.id];
      const unchanged = status === 'cached' && prev?.fingerprint === st.resolved?.fingerprint && (prev?.status === 'succeeded' || prev?.status === 'cached');
      if (st.resolved && status !== 'skipped' && !unchanged) {
        history.steps[st.step.id] = {
          fingerprint: st.resolved.fingerprint,
          components: st.resolved.components,
          params: publicParams,
          status,
          time: now(),
          durationMs: status === 'succeeded' ? rec.durationMs : prev?.durationMs,
          runId,
        };
        historyDirty = true;
      }
      if (status === 'cached' || status === 'skipped') writeRecordSoon();
      else {
        if (historyDirty) {
          writeHistory(store, history);
          historyDirty = false;
        }
        writeRecord();
      }
    };

    const skip = (st: StepState, because: string) => {
      finish(st, 'skipped', { error: because });
      emit({ type: 'step-skipped', step: st.step.id, because, time: now() });
    };

    const fail = (st: StepState, described: { error: string; hint?: string }, logFile?: string, extra: Partial<StepRecord> = {}) => {
      const message = secrets.mask(described.error);
      const hint = described.hint ? secrets.mask(described.hint) : undefined;
      finish(st, 'failed', { error: message, ...(logFile ? { logFile: relative(runDir, logFile) } : {}), ...extra });
      emit({ type: 'step-failed', step: st.step.id, error: message, hint, logFile, time: now() });
    };

    /** Fingerprint, then cache lookup: cached → done; else queued to run. */
    const prepare = async (st: StepState) => {
      let prepared;
      try {
        prepared = await prepareStep(run, st.step, (id) => states.get(id)?.outputs);
      } catch (err) {
        if (err instanceof UpstreamPending) throw err; // a bug: deps are done before prepare
        fail(st, describeError(err));
        return;
      }
      st.resolved = prepared.resolved;
      if (prepared.cached) {
        settle(st, cachedOutcome(run, st.step, prepared.resolved, prepared.cached));
        return;
      }
      st.reason = prepared.reason;
      st.status = 'queued';
    };

    /** Records how a step ended, whichever executor ran it (or the cache), and says so. */
    const settle = (st: StepState, o: StepOutcome) => {
      if (o.resolved) st.resolved = o.resolved;
      if (o.outputs) st.outputs = o.outputs;
      const logFile = o.logFile ? relative(runDir, o.logFile) : undefined;
      const timing = { startedAt: o.startedAt, finishedAt: o.finishedAt, durationMs: o.durationMs };
      const where = o.executor ? { executor: o.executor } : {};
      switch (o.status) {
        case 'cached':
          finish(st, 'cached', { facts: o.facts, summary: o.summary, durationMs: 0, ...(logFile ? { logFile } : {}), ...where });
          emit({ type: 'step-cached', step: st.step.id, fingerprint: st.resolved!.fingerprint, time: now() });
          return;
        case 'succeeded': {
          const summary = o.summary ? secrets.mask(o.summary) : undefined;
          finish(st, 'succeeded', { ...timing, facts: o.facts, summary, ...(logFile ? { logFile } : {}), ...where });
          emit({
            type: 'step-finished',
            step: st.step.id,
            fingerprint: st.resolved!.fingerprint,
            durationMs: o.durationMs ?? 0,
            ...(summary ? { summary } : {}),
            ...(o.facts ? { facts: o.facts } : {}),
            time: now(),
          });
          return;
        }
        case 'interrupted':
          finish(st, 'interrupted', { ...timing, error: 'interrupted', ...(logFile ? { logFile } : {}), ...where });
          return;
        case 'skipped':
          skip(st, o.error ?? 'skipped');
          return;
        case 'failed':
          fail(st, { error: o.error ?? 'failed', ...(o.hint ? { hint: o.hint } : {}) }, o.logFile, { ...timing, ...where });
          return;
      }
    };

    /** Gives a step to the executor; false when it cannot start now (no free tokens). */
    const handOver = (st: StepState, task: StepTask): boolean => {
      const started = executor.start(task);
      if (!started) return false;
      st.status = 'running';
      track(started.then((o) => settle(st, o)));
      return true;
    };

    // The scheduling loop: wake on every completion; start what is ready and fits.
    const running = new Set<Promise<void>>();
    const track = (p: Promise<void>) => {
      const q = p
        .catch((err) => {
          internalError ??= err;
        })
        .finally(() => {
          running.delete(q);
          active--;
          wake();
        });
      running.add(q);
      active++;
    };
    let internalError: unknown = null;
    for (;;) {
      if (internalError) throw internalError;
      let pending = 0;
      // A skip settles a step without any promise to wake the loop: look again before waiting.
      let skipped = false;
      for (const st of order) {
        if (st.status === 'waiting') {
          pending++;
          if (interrupted) {
            skip(st, 'run interrupted');
            skipped = true;
            continue;
          }
          const deps = st.step.deps.map((d) => states.get(d)).filter((d): d is StepState => d !== undefined);
          // An executor that orders steps itself (Slurm's afterok) gets a step as soon as its
          // upstream steps are all done or handed to it; otherwise a step waits for them to be done.
          const handed = (d: StepState) => executor.handsOverAhead && d.status === 'running';
          if (deps.some((d) => !isDone(d.status) && !handed(d))) continue;
          const bad = deps.find((d) => isDone(d.status) && !(d.status === 'succeeded' || d.status === 'cached'));
          if (bad) {
            skip(st, bad.status === 'skipped' ? (bad.record?.error ?? `needs ${bad.step.id} which was skipped`) : `needs ${bad.step.id} which ${bad.status === 'failed' ? 'failed' : 'was interrupted'}`);
            skipped = true;
            continue;
          }
          const pendingDeps = deps.filter(handed).map((d) => d.step.id);
          if (pendingDeps.length) {
            const upstream: StepTask['upstream'] = {};
            for (const d of deps) if (d.outputs) upstream[d.step.id] = d.outputs;
            handOver(st, { step: st.step, upstream, pendingDeps });
            continue;
          }
          st.status = 'preparing';
          track(prepare(st));
        } else if (st.status === 'queued') {
          pending++;
          if (interrupted) {
            skip(st, 'run interrupted');
            skipped = true;
            continue;
          }
          const upstream: StepTask['upstream'] = {};
          for (const d of st.step.deps) {
            const outs = states.get(d)?.outputs;
            if (outs) upstream[d] = outs;
          }
          handOver(st, { step: st.step, resolved: st.resolved, reason: st.reason ?? '', upstream, pendingDeps: [] });
        } else if (st.status === 'preparing' || st.status === 'running') {
          pending++;
        }
      }
      if (pending === 0 && active === 0) break;
      if (skipped) continue;
      if (interrupted && active > 0) {
        // Give running steps a moment to stop; an in-process step that ignores the signal is left behind.
        const grace = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), options.abortGraceMs ?? 5000).unref());
        const settled = Promise.all(running).then(() => 'done' as const);
        if ((await Promise.race([grace, settled])) === 'timeout') break;
        continue;
      }
      await new Promise<void>((r) => {
        wakeUp = r;
      });
    }
    options.signal?.removeEventListener('abort', onAbort);

    // Steps still running after the grace period, if any, are recorded as interrupted.
    for (const st of order) {
      if (!isDone(st.status)) finish(st, st.status === 'running' ? 'interrupted' : 'skipped', { error: 'run interrupted' });
    }
    if (recordTimer) clearTimeout(recordTimer);

    const counts: Record<StepStatus, number> = { succeeded: 0, cached: 0, failed: 0, skipped: 0, interrupted: 0 };
    for (const st of order) counts[st.record!.status]++;
    // Keep run.json in plan order, not completion order.
    record.steps = order.map((st) => st.record!);
    record.status = interrupted ? 'interrupted' : counts.failed > 0 || counts.skipped > 0 ? 'failed' : 'succeeded';
    record.finishedAt = now();
    record.durationMs = Date.now() - t0;
    const backends = new Map<string, ExecutionFacts>();
    for (const s of record.steps) if (s.facts) backends.set(JSON.stringify(s.facts), s.facts);
    if (backends.size) record.environment.backends = [...backends.values()];
    // The Python a torch-engine step ran on, as its facts report it (they are what actually ran).
    const torch = record.steps.find((s) => s.facts?.engine === 'torch' && typeof s.facts.python === 'string')?.facts;
    if (torch) {
      record.environment.python = {
        path: String(torch.python),
        version: String(torch.python_version ?? ''),
        ...(torch.torch != null ? { torch: String(torch.torch) } : {}),
        ...(torch.cuda != null ? { cuda: torch.cuda === true } : {}),
        ...(torch.device != null ? { device: String(torch.device) } : {}),
        ...(torch.blas != null ? { blas: String(torch.blas) } : {}),
      };
    }
    const git = await gitPromise;
    record.git = git;
    writeRecord();
    if (historyDirty) writeHistory(store, history);
    store.saveMemo();
    emit({ type: 'run-finished', runId, status: record.status as 'succeeded' | 'failed' | 'interrupted', counts, durationMs: record.durationMs, record: recordPath, time: now() });
    return record;
  } catch (err) {
    try {
      markFailed?.();
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

function isDone(status: StepState['status']): boolean {
  return status === 'succeeded' || status === 'cached' || status === 'failed' || status === 'skipped' || status === 'interrupted';
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
