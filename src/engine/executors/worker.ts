// What a Slurm job does (`repro exec-step <run-dir> <step>` is a thin wrapper): it executes one step
// of a run in progress against the shared store, exactly as the local executor would (same prepare,
// same in-process run, same store writes and cache entry), and leaves its outcome in
// <run-dir>/jobs/<step>.result.json (worker-protocol.ts) for the runner, which alone writes run.json
// and the history. It takes no lock: the runner holds the store's lock for the run and its jobs,
// and a job refuses to work for a run that is not the lock's holder.
import { appendFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { ReproError } from '../../core/errors.js';
import type { StepKind } from '../../steps/kind.js';
import { Store } from '../store.js';
import { SecretMask } from '../secrets.js';
import { readHistory } from '../history.js';
import { jobFile, jobsDir, readJson, restorePlan, JOB_SPEC_FORMAT, SECRET_PARAMS_ENV, type JobSpec, type JobTask } from './job-files.js';
import { jobResult, readJobResult, writeJobResult, type JobResult } from './worker-protocol.js';
import { describeError, prepareStep, runStepInProcess } from './step.js';
import type { ExecutorRun } from './types.js';

export interface WorkerOptions {
  /** Step kinds by name: handed in by the CLI (the registry). */
  lookupKind(name: string): StepKind<any> | undefined;
  /** The job's environment: SLURM_JOB_ID, SLURMD_NODENAME, CUDA_VISIBLE_DEVICES, REPRO_SECRET_PARAMS. */
  env?: NodeJS.ProcessEnv;
  /** Aborted on SIGTERM / SIGINT (Slurm's scancel, a time limit). */
  signal?: AbortSignal;
}

/**
 * Runs step `stepId` of the run in `runDir` and writes its result file. Returns the result it wrote.
 * Throws ReproError('invalid') before writing anything when `runDir` is not a run in progress with a
 * job for this step.
 */
export async function runJobStep(runDir: string, stepId: string, options: WorkerOptions): Promise<JobResult> {
  const env = options.env ?? process.env;
  const spec = readJson<JobSpec>(join(jobsDir(runDir), 'spec.json'));
  if (!spec || spec.format !== JOB_SPEC_FORMAT) throw new ReproError(`${runDir} is not a run with jobs (no jobs/spec.json)`, 'invalid');
  const task = readJson<JobTask>(jobFile(runDir, stepId, 'task.json'));
  if (!task || task.step !== stepId) throw new ReproError(`run ${spec.runId} submitted no job for step ${stepId}`, 'invalid');
  const lock = readJson<{ record?: string }>(join(spec.store, 'lock'));
  if (!lock?.record || resolve(lock.record) !== join(runDir, 'run.json')) {
    throw new ReproError(`run ${spec.runId} is not in progress: the store's lock is not held by its runner`, 'invalid', 'its runner was stopped; run `repro run` again, which resumes from the cache');
  }

  let secretParams: Record<string, unknown> = {};
  try {
    secretParams = JSON.parse(env[SECRET_PARAMS_ENV] ?? '{}') as Record<string, unknown>;
  } catch {
    /* none */
  }
  const plan = restorePlan(spec.plan, secretParams);
  const step = plan.steps.find((s) => s.id === stepId);
  if (!step) throw new ReproError(`step ${stepId} is not in the plan of run ${spec.runId}`, 'invalid');
  const store = new Store(spec.store);
  const secrets = new SecretMask();
  for (const name of plan.secretParams) secrets.add(plan.params[name]);
  const eventsFile = jobFile(runDir, stepId, 'events.jsonl');
  const signal = options.signal ?? new AbortController().signal;
  const run: ExecutorRun = {
    plan,
    runId: spec.runId,
    runDir,
    store,
    secrets,
    history: readHistory(store, plan.workflow.name, plan.profile),
    stepOptions: spec.stepOptions,
    force: spec.force,
    emit: (e) => appendFileSync(eventsFile, JSON.stringify(e) + '\n'),
    signal,
    lookupKind: options.lookupKind,
  };
  const executor = { name: 'slurm', ...(env.SLURM_JOB_ID ? { jobId: env.SLURM_JOB_ID } : {}), node: env.SLURMD_NODENAME ?? hostname() };
  const finish = (outcome: Parameters<typeof jobResult>[0]): JobResult => {
    const r = jobResult(outcome, executor);
    writeJobResult(runDir, stepId, r);
    return r;
  };

  // Upstream outputs: known at submission, or left by the upstream jobs this one waited for.
  const upstream = { ...task.upstream };
  for (const d of task.pendingDeps) {
    const r = readJobResult(runDir, d);
    if (!r?.outputs || !(r.status === 'succeeded' || r.status === 'cached')) {
      return finish({ status: 'failed', error: `upstream step ${d} left no result` });
    }
    upstream[d] = r.outputs;
  }
  let prepared;
  try {
    prepared = await prepareStep(run, step, (id) => upstream[id]);
  } catch (err) {
    const d = describeError(err);
    return finish({ status: 'failed', error: secrets.mask(d.error), ...(d.hint ? { hint: secrets.mask(d.hint) } : {}) });
  }
  const { resolved } = prepared;
  if (prepared.cached) {
    const e = prepared.cached;
    return finish({ status: 'cached', resolved, outputs: e.outputs, ...(e.facts ? { facts: e.facts } : {}), ...(e.summary ? { summary: e.summary } : {}), durationMs: 0 });
  }
  const cpu = Math.max(1, Math.ceil(step.resources?.cpu ?? 1));
  // Slurm names the GPUs it gave the job in CUDA_VISIBLE_DEVICES; `run` steps pass them on.
  const gpus = (env.CUDA_VISIBLE_DEVICES ?? '')
    .split(',')
    .filter((g) => /^\s*\d+\s*$/.test(g))
    .map(Number);
  const { executor: _local, ...outcome } = await runStepInProcess(run, {
    step,
    kind: options.lookupKind(step.uses)!,
    resolved,
    reason: task.reason ?? prepared.reason,
    n: task.n,
    threads: cpu,
    gpus: Math.ceil(step.resources?.gpu ?? 0) > 0 ? gpus : [],
    signal,
  });
  return finish({ ...outcome, resolved });
}
