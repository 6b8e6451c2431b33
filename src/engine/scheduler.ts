// The scheduler: walks a plan's DAG, looks each step up in the cache, hands the others to an
// executor (local tokens or Slurm jobs), skips the dependents of a step that did not succeed, and
// stops running steps on Ctrl-C. It records nothing itself: every end of a step is one StepEnded
// event, and the recorder (recorder.ts) turns those into run.json, history and the user's events.
import { relative } from 'node:path';
import type { ConcreteStep, Plan } from '../workflow/types.js';
import type { RunEvent } from './events.js';
import type { ArtifactRecord, StepRecord } from '../formats/run-record.js';
import { UpstreamPending, type ResolvedStep } from './fingerprint.js';
import type { ExecutorRun, StepExecutor, StepOutcome, StepTask } from './executors/types.js';
import { cachedOutcome, describeError, prepareStep } from './executors/step.js';
import type { StepStatus } from '../core/status.js';
import { nullRecord } from '../core/names.js';

/** One step has ended (ran, came from the cache, failed, was skipped or interrupted). */
export interface StepEnded {
  type: 'step-ended';
  step: ConcreteStep;
  status: StepStatus;
  /** Its fingerprint and resolved `with`, when it got that far. */
  resolved?: ResolvedStep;
  outputs?: Record<string, ArtifactRecord>;
  /** What the outcome adds to the step's record: timing, facts, summary, error, logFile (relative to the run directory), executor. */
  detail: Partial<StepRecord>;
  /** What the user is told about it (step-cached, -finished, -failed, -skipped); none when interrupted. */
  event?: RunEvent;
}

export type SchedulerEvent = StepEnded;

export interface ScheduleOptions {
  /** The caller's Ctrl-C: running steps are cancelled (through `stepAbort`), waiting ones skipped. */
  signal?: AbortSignal;
  /** Aborts the running steps; its signal is the one the executor's run hands to steps. */
  stepAbort: AbortController;
  /** How long to wait for running steps to stop after an abort before giving up on them. */
  abortGraceMs?: number;
}

/** A step's state as the scheduler tracks it. */
interface StepState {
  step: ConcreteStep;
  status: 'waiting' | 'preparing' | 'queued' | 'running' | StepStatus;
  resolved?: ResolvedStep;
  outputs?: Record<string, ArtifactRecord>;
  reason?: string;
  /** Why it failed or was skipped, for the steps that needed it. */
  error?: string;
}

/**
 * Runs every step of the plan on `executor`, calling `onEvent` once per step as it ends (steps
 * still running after an abort's grace period end as interrupted). Resolves to whether the run was
 * interrupted; rejects on an internal error of the engine or the executor.
 */
export async function schedule(
  plan: Plan,
  run: ExecutorRun,
  executor: StepExecutor,
  options: ScheduleOptions,
  onEvent: (e: SchedulerEvent) => void,
): Promise<{ interrupted: boolean }> {
  const now = () => new Date().toISOString();
  const states = new Map<string, StepState>();
  for (const step of plan.steps) states.set(step.id, { step, status: 'waiting' });
  const order = plan.steps.map((s) => states.get(s.id)!);

  // Cancels running steps on Ctrl-C (the caller's signal) — and nothing else: a failed step
  // lets independent steps finish.
  let interrupted = false;
  const onAbort = () => {
    interrupted = true;
    options.stepAbort.abort(options.signal?.reason);
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

  const end = (st: StepState, status: StepStatus, detail: Partial<StepRecord>, event?: RunEvent) => {
    st.status = status;
    if (detail.error !== undefined) st.error = detail.error;
    onEvent({ type: 'step-ended', step: st.step, status, resolved: st.resolved, outputs: st.outputs, detail, event });
  };

  const skip = (st: StepState, because: string) => {
    end(st, 'skipped', { error: because }, { type: 'step-skipped', step: st.step.id, because, time: now() });
  };

  const fail = (st: StepState, described: { error: string; hint?: string }, logFile?: string, extra: Partial<StepRecord> = {}) => {
    const message = run.secrets.mask(described.error);
    const hint = described.hint ? run.secrets.mask(described.hint) : undefined;
    end(
      st,
      'failed',
      { error: message, ...(logFile ? { logFile: relative(run.runDir, logFile) } : {}), ...extra },
      { type: 'step-failed', step: st.step.id, error: message, hint, logFile, time: now() },
    );
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

  /** How a step ended, whichever executor ran it (or the cache). */
  const settle = (st: StepState, o: StepOutcome) => {
    if (o.resolved) st.resolved = o.resolved;
    if (o.outputs) st.outputs = o.outputs;
    const logFile = o.logFile ? relative(run.runDir, o.logFile) : undefined;
    const timing = { startedAt: o.startedAt, finishedAt: o.finishedAt, durationMs: o.durationMs };
    const where = o.executor ? { executor: o.executor } : {};
    switch (o.status) {
      case 'cached':
        end(
          st,
          'cached',
          { facts: o.facts, summary: o.summary, durationMs: 0, ...(logFile ? { logFile } : {}), ...where },
          { type: 'step-cached', step: st.step.id, fingerprint: st.resolved!.fingerprint, time: now() },
        );
        return;
      case 'succeeded': {
        const summary = o.summary ? run.secrets.mask(o.summary) : undefined;
        end(
          st,
          'succeeded',
          { ...timing, facts: o.facts, summary, ...(logFile ? { logFile } : {}), ...where },
          {
            type: 'step-finished',
            step: st.step.id,
            fingerprint: st.resolved!.fingerprint,
            durationMs: o.durationMs ?? 0,
            ...(summary ? { summary } : {}),
            ...(o.facts ? { facts: o.facts } : {}),
            time: now(),
          },
        );
        return;
      }
      case 'interrupted':
        end(st, 'interrupted', { ...timing, error: 'interrupted', ...(logFile ? { logFile } : {}), ...where });
        return;
      case 'skipped':
        skip(st, o.error ?? 'skipped');
        return;
      case 'failed':
        fail(st, { error: o.error ?? 'failed', ...(o.hint ? { hint: o.hint } : {}) }, o.logFile, { ...timing, ...where });
        return;
    }
  };

  /** The outputs of the step's upstream steps that are done, by step id. */
  const upstreamOf = (st: StepState): StepTask['upstream'] => {
    const upstream: StepTask['upstream'] = nullRecord(); // keyed by step ids, which are the user's names
    for (const d of st.step.deps) {
      const outs = states.get(d)?.outputs;
      if (outs) upstream[d] = outs;
    }
    return upstream;
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
          skip(st, bad.status === 'skipped' ? (bad.error ?? `needs ${bad.step.id} which was skipped`) : `needs ${bad.step.id} which ${bad.status === 'failed' ? 'failed' : 'was interrupted'}`);
          skipped = true;
          continue;
        }
        const pendingDeps = deps.filter(handed).map((d) => d.step.id);
        if (pendingDeps.length) {
          handOver(st, { step: st.step, upstream: upstreamOf(st), pendingDeps });
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
        handOver(st, { step: st.step, resolved: st.resolved, reason: st.reason ?? '', upstream: upstreamOf(st), pendingDeps: [] });
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
    if (!isDone(st.status)) end(st, st.status === 'running' ? 'interrupted' : 'skipped', { error: 'run interrupted' });
  }
  return { interrupted };
}

function isDone(status: StepState['status']): boolean {
  return status === 'succeeded' || status === 'cached' || status === 'failed' || status === 'skipped' || status === 'interrupted';
}
