// Runs a Plan: schedules its DAG over CPU/GPU tokens, skips steps whose fingerprint is cached,
// stores outputs by content, and keeps results/<workflow>/<run-id>/run.json up to date.
import { createWriteStream, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, type WriteStream } from 'node:fs';
import os from 'node:os';
import { join, relative, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ConcreteStep, Plan } from '../workflow/types.js';
import type { ExecutionFacts, StepContext, StepKind, StepResult } from '../steps/kind.js';
import { StepError } from '../steps/kind.js';
import type { EventListener, RunEvent, StepStatus } from './events.js';
import { RUN_RECORD_FORMAT, type ArtifactRecord, type RunRecord, type StepRecord } from '../formats/run-record.js';
import { writeFileAtomic } from './atomic.js';
import { Store, CorruptObjectError, removeTree, safeReaddir } from './store.js';
import { acquireLock, updateLockRecord, type LockInfo } from './lock.js';
import { SecretMask, MASK } from './secrets.js';
import { resolveStep, UpstreamPending, type ResolvedStep } from './fingerprint.js';
import { readHistory, writeHistory, whyRun } from './history.js';
import { collectEnvironment, detectGpus, gitState, type GpuInfo } from './environment.js';

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
  /** Step kinds by name (default: the registry). */
  kinds?: (name: string) => StepKind<any> | undefined;
  /** GPUs to schedule on (default: what nvidia-smi reports). */
  gpus?: GpuInfo[];
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
  cpu: number;
  gpu: number;
}

export function newRunId(now = new Date()): string {
  const iso = now.toISOString(); // 2025-01-31T12:30:05.123Z
  return `${iso.slice(0, 10).replace(/-/g, '')}-${iso.slice(11, 19).replace(/:/g, '')}-${randomBytes(2).toString('hex')}`;
}

export function safeName(id: string): string {
  return id.replace(/[^A-Za-z0-9._=,-]+/g, '_').slice(0, 120);
}

export async function execute(plan: Plan, options: ExecuteOptions = {}): Promise<RunRecord> {
  const t0 = Date.now();
  const cwd = process.cwd();
  const store = new Store(options.store ?? resolve(cwd, '.repro'));
  const resultsRoot = resolve(options.results ?? resolve(cwd, 'results'));
  const jobs = Math.max(1, Math.floor(options.jobs ?? os.availableParallelism?.() ?? os.cpus().length));
  const emit = (e: RunEvent) => options.onEvent?.(e);
  const now = () => new Date().toISOString();
  const lookupKind = options.kinds ?? (await import('../steps/registry.js')).getStepKind;
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
    const gpusPromise = options.gpus ? Promise.resolve(options.gpus) : detectGpus();
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
    const gpus = await gpusPromise;
    const freeGpus = new Set(gpus.map((g) => g.index));
    let freeCpu = jobs;

    const force = new Set(options.force ?? []);
    const states = new Map<string, StepState>();
    for (const step of plan.steps) {
      states.set(step.id, {
        step,
        status: 'waiting',
        cpu: Math.min(Math.max(1, Math.ceil(step.resources?.cpu ?? 1)), jobs),
        gpu: Math.max(0, Math.ceil(step.resources?.gpu ?? 0)),
      });
    }
    const order = plan.steps.map((s) => states.get(s.id)!);
    const counter = { started: 0 };

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

    const fail = (st: StepState, err: unknown, logFile?: string, extra: Partial<StepRecord> = {}) => {
      const user = err instanceof StepError;
      const message = secrets.mask(user ? err.message : `internal error: ${(err as Error)?.message ?? String(err)}`);
      const hint = user && err.hint ? secrets.mask(err.hint) : undefined;
      finish(st, 'failed', { error: message, ...(logFile ? { logFile: relative(runDir, logFile) } : {}), ...extra });
      emit({ type: 'step-failed', step: st.step.id, error: message, hint, logFile, time: now() });
    };

    /** Fingerprint, then cache lookup: cached → done; else queued to run. */
    const prepare = async (st: StepState) => {
      const kind = lookupKind(st.step.uses);
      try {
        if (!kind) throw new StepError(`unknown step kind '${st.step.uses}'`);
        st.resolved = await resolveStep(st.step, kind, {
          workflowDir: plan.workflow.dir,
          store,
          secrets,
          outputsOf: (id) => states.get(id)?.outputs,
          options: options.stepOptions ?? {},
          declaredOutputs: kind.outputs === null ? plan.workflow.steps[st.step.stepId]?.outputs : undefined,
        });
        // Every read verifies: the artifacts this step will read are checked before it may run.
        for (const rec of Object.values(st.resolved.inputs)) if (rec.storePath) await store.verifyArtifact(rec);
      } catch (err) {
        if (err instanceof UpstreamPending) throw err; // a bug: deps are done before prepare
        fail(st, err instanceof CorruptObjectError ? new StepError(err.message, 'run `repro verify`, then re-run with --force on the step that produced it') : err);
        return;
      }
      const fp = st.resolved.fingerprint;
      const forced = force.has(st.step.id) || force.has(st.step.stepId);
      const entry = forced ? null : store.readCacheEntry(fp);
      const problem = entry ? await store.checkOutputs(entry.outputs) : null;
      if (entry && !problem) {
        st.outputs = entry.outputs;
        finish(st, 'cached', { facts: entry.facts, summary: entry.summary, durationMs: 0 });
        emit({ type: 'step-cached', step: st.step.id, fingerprint: fp, time: now() });
        return;
      }
      st.reason = forced ? 'forced (--force)' : (problem ?? whyRun(history, st));
      st.status = 'queued';
    };

    const runOne = async (st: StepState, kind: StepKind<any>, gpuIds: number[]) => {
      const { step } = st;
      const resolved = st.resolved!;
      const n = ++counter.started;
      const workDir = join(store.tmpDir(runId), `${n}-${safeName(step.id)}`);
      const scratchDir = store.scratchDir(step.id, resolved.fingerprint);
      mkdirSync(workDir, { recursive: true });
      mkdirSync(scratchDir, { recursive: true });
      const logFile = join(runDir, 'logs', `${safeName(step.id)}.log`);
      const log: WriteStream = createWriteStream(logFile, { flags: 'a' });
      const writeLog = (line: string) => {
        const masked = secrets.mask(line);
        log.write(masked + '\n');
        emit({ type: 'step-log', step: step.id, line: masked, time: now() });
      };
      const startedAt = now();
      const started = Date.now();
      const prevDuration = history.steps[step.id]?.durationMs;
      emit({
        type: 'step-started',
        step: step.id,
        fingerprint: resolved.fingerprint,
        reason: st.reason ?? '',
        time: startedAt,
        ...(prevDuration !== undefined ? { estimateMs: prevDuration } : {}),
        ...(gpuIds.length ? { gpus: gpuIds } : {}),
      });
      writeLog(`# ${step.id} (${step.uses}) fingerprint ${resolved.fingerprint}`);
      writeLog(`# why: ${st.reason ?? ''}`);
      if (st.gpu > 0 && gpuIds.length === 0) writeLog(`# requested ${st.gpu} GPU(s) but none was detected (nvidia-smi): running on the CPU`);
      const ctx: StepContext = {
        id: step.id,
        workflowDir: plan.workflow.dir,
        workDir,
        scratchDir,
        matrix: step.matrix,
        params: plan.params,
        secret(name: string) {
          const v = process.env[name];
          if (v !== undefined) secrets.add(v);
          return v;
        },
        signal: stepAbort.signal,
        log: writeLog,
        progress(fraction, message) {
          emit({ type: 'step-progress', step: step.id, fraction, message: secrets.mask(message), time: now() });
        },
        threads: st.cpu,
        options: { ...(options.stepOptions ?? {}), gpus: gpuIds },
        ...(kind.outputs === null ? { declaredOutputs: plan.workflow.steps[step.stepId]?.outputs ?? {} } : {}),
      };
      let result: StepResult | undefined;
      let error: unknown;
      try {
        result = await kind.run(ctx, resolved.with);
        if (interrupted) throw stepAbort.signal.reason ?? new Error('interrupted');
        const expected = kind.outputs ?? step.outputs;
        const missing = expected.filter((o) => !(o in result!.outputs));
        if (missing.length) throw new StepError(`the step did not produce its output(s): ${missing.join(', ')}`);
        st.outputs = await store.putOutputs(result.outputs, workDir);
      } catch (err) {
        error = err;
      }
      const durationMs = Date.now() - started;
      const timing = { startedAt, finishedAt: now(), durationMs };
      if (error === undefined && result) {
        store.writeCacheEntry({
          format: 'repro-cache/1',
          fingerprint: resolved.fingerprint,
          step: step.id,
          uses: step.uses,
          outputs: st.outputs!,
          ...(result.facts ? { facts: result.facts } : {}),
          ...(result.summary ? { summary: secrets.mask(result.summary) } : {}),
          durationMs,
          createdAt: now(),
        });
        removeTree(scratchDir);
        writeLog(`# succeeded in ${(durationMs / 1000).toFixed(1)} s`);
        await closeStream(log);
        const summary = result.summary ? secrets.mask(result.summary) : undefined;
        finish(st, 'succeeded', { ...timing, facts: result.facts, summary, logFile: relative(runDir, logFile) });
        emit({
          type: 'step-finished',
          step: step.id,
          fingerprint: resolved.fingerprint,
          durationMs,
          ...(summary ? { summary } : {}),
          ...(result.facts ? { facts: result.facts } : {}),
          time: now(),
        });
      } else if (interrupted) {
        writeLog('# interrupted');
        await closeStream(log);
        finish(st, 'interrupted', { ...timing, error: 'interrupted', logFile: relative(runDir, logFile) });
      } else {
        const e = error as Error;
        writeLog(`# failed: ${e instanceof StepError ? e.message : (e?.stack ?? String(e))}`);
        await closeStream(log);
        fail(st, error, logFile, timing);
      }
      removeTree(workDir);
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
          const deps = st.step.deps.map((d) => states.get(d));
          if (deps.some((d) => d && !isDone(d.status))) continue;
          const bad = deps.find((d) => d && !(d.status === 'succeeded' || d.status === 'cached'));
          if (bad) {
            skip(st, bad.status === 'skipped' ? (bad.record?.error ?? `needs ${bad.step.id} which was skipped`) : `needs ${bad.step.id} which ${bad.status === 'failed' ? 'failed' : 'was interrupted'}`);
            skipped = true;
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
          const kind = lookupKind(st.step.uses)!;
          if (st.cpu > freeCpu) continue;
          // A step asking for GPUs takes real ones when the machine has them; on a machine without
          // any it runs as a CPU step (and says so in its log). It never waits for GPUs that do not exist.
          const wantGpu = gpus.length ? Math.min(st.gpu, gpus.length) : 0;
          if (wantGpu > freeGpus.size) continue;
          const gpuIds = [...freeGpus].sort((a, b) => a - b).slice(0, wantGpu);
          for (const g of gpuIds) freeGpus.delete(g);
          freeCpu -= st.cpu;
          st.status = 'running';
          track(
            runOne(st, kind, gpuIds).finally(() => {
              freeCpu += st.cpu;
              for (const g of gpuIds) freeGpus.add(g);
            }),
          );
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
    removeTree(store.tmpDir(runId));
    lock.release();
  }
}

function isDone(status: StepState['status']): boolean {
  return status === 'succeeded' || status === 'cached' || status === 'failed' || status === 'skipped' || status === 'interrupted';
}

function closeStream(s: WriteStream): Promise<void> {
  return new Promise((r) => s.end(() => r()));
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
