// `repro exec-step <run-dir> <step>` (hidden): what a Slurm job runs. It executes one step of a
// run in progress against the shared store, exactly as the local executor would (same prepare,
// same in-process run, same store writes and cache entry), and leaves its outcome in
// <run-dir>/jobs/<step>.result.json for the runner, which alone writes run.json and the history.
// It takes no lock: the runner holds the store's lock for the run and its jobs, and this command
// refuses to work for a run that is not the lock's holder.
import type { Command } from 'commander';
import { appendFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { ExitCode } from '../exit-codes.js';
import { ReproError } from '../../core/errors.js';

export function execStepCommand(program: Command): void {
  program
    .command('exec-step', { hidden: true })
    .description('run one step of a run in progress (what a Slurm job runs); not for direct use')
    .argument('<run-dir>', 'results/<workflow>/<run-id> of the run')
    .argument('<step>', 'concrete step id')
    .action(async (runDir: string, stepId: string) => {
      const code = await execStep(resolve(runDir), stepId);
      // The outcome is on disk: end now, even if a library left a timer or worker behind, or the
      // job would hold its allocation until its time limit.
      process.exit(code);
    });
}

export async function execStep(runDir: string, stepId: string): Promise<number> {
  const { jobFile, jobsDir, readJson, restorePlan, writeJson, JOB_SPEC_FORMAT, SECRET_PARAMS_ENV } = await import('../../engine/executors/job-files.js');
  type JobSpec = import('../../engine/executors/job-files.js').JobSpec;
  type JobTask = import('../../engine/executors/job-files.js').JobTask;
  type JobResult = import('../../engine/executors/job-files.js').JobResult;
  const { Store } = await import('../../engine/store.js');
  const { SecretMask } = await import('../../engine/secrets.js');
  const { readHistory } = await import('../../engine/history.js');
  const { prepareStep, runStepInProcess, describeError } = await import('../../engine/executors/step.js');

  const spec = readJson<JobSpec>(join(jobsDir(runDir), 'spec.json'));
  if (!spec || spec.format !== JOB_SPEC_FORMAT) throw new ReproError(`${runDir} is not a run with jobs (no jobs/spec.json)`, 'invalid');
  const task = readJson<JobTask>(jobFile(runDir, stepId, 'task.json'));
  if (!task || task.step !== stepId) throw new ReproError(`run ${spec.runId} submitted no job for step ${stepId}`, 'invalid');
  const lock = readJson<{ record?: string; hostname?: string; pid?: number }>(join(spec.store, 'lock'));
  if (!lock?.record || resolve(lock.record) !== join(runDir, 'run.json')) {
    throw new ReproError(`run ${spec.runId} is not in progress: the store's lock is not held by its runner`, 'invalid', 'its runner was stopped; run `repro run` again, which resumes from the cache');
  }

  let secretParams: Record<string, unknown> = {};
  try {
    secretParams = JSON.parse(process.env[SECRET_PARAMS_ENV] ?? '{}') as Record<string, unknown>;
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
  const ac = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => ac.abort(new Error(`interrupted by ${sig}`));
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  const lookupKind = (await import('../../steps/registry.js')).getStepKind;
  const run = {
    plan,
    runId: spec.runId,
    runDir,
    store,
    secrets,
    history: readHistory(store, plan.workflow.name, plan.profile),
    stepOptions: spec.stepOptions,
    force: spec.force,
    emit: (e: unknown) => appendFileSync(eventsFile, JSON.stringify(e) + '\n'),
    signal: ac.signal,
    lookupKind,
  };
  const executor = { name: 'slurm', ...(process.env.SLURM_JOB_ID ? { jobId: process.env.SLURM_JOB_ID } : {}), node: process.env.SLURMD_NODENAME ?? hostname() };
  const resultFile = jobFile(runDir, stepId, 'result.json');
  const finish = (r: JobResult): number => {
    writeJson(resultFile, r);
    process.stdout.write(`repro exec-step: ${stepId}: ${r.status}${r.error ? `: ${r.error}` : ''}\n`);
    return r.status === 'succeeded' || r.status === 'cached' ? ExitCode.OK : r.status === 'interrupted' ? ExitCode.INTERRUPTED : ExitCode.STEP_FAILED;
  };

  // Upstream outputs: known at submission, or left by the upstream jobs this one waited for.
  const upstream = { ...task.upstream };
  for (const d of task.pendingDeps) {
    const r = readJson<JobResult>(jobFile(runDir, d, 'result.json'));
    if (!r?.outputs || !(r.status === 'succeeded' || r.status === 'cached')) {
      return finish({ status: 'failed', fingerprint: '', components: null, inputs: {}, error: `upstream step ${d} left no result`, executor });
    }
    upstream[d] = r.outputs;
  }
  let prepared;
  try {
    prepared = await prepareStep(run, step, (id) => upstream[id]);
  } catch (err) {
    const d = describeError(err);
    return finish({ status: 'failed', fingerprint: '', components: null, inputs: {}, error: secrets.mask(d.error), ...(d.hint ? { hint: secrets.mask(d.hint) } : {}), executor });
  }
  const { resolved } = prepared;
  const fp = { fingerprint: resolved.fingerprint, components: resolved.components, inputs: resolved.inputs };
  if (prepared.cached) {
    const e = prepared.cached;
    return finish({ status: 'cached', ...fp, outputs: e.outputs, ...(e.facts ? { facts: e.facts } : {}), ...(e.summary ? { summary: e.summary } : {}), durationMs: 0, executor });
  }
  const cpu = Math.max(1, Math.ceil(step.resources?.cpu ?? 1));
  // Slurm names the GPUs it gave the job in CUDA_VISIBLE_DEVICES; `run` steps pass them on.
  const gpus = (process.env.CUDA_VISIBLE_DEVICES ?? '')
    .split(',')
    .filter((g) => /^\s*\d+\s*$/.test(g))
    .map(Number);
  const outcome = await runStepInProcess(run, {
    step,
    kind: lookupKind(step.uses)!,
    resolved,
    reason: task.reason ?? prepared.reason,
    n: task.n,
    threads: cpu,
    gpus: Math.ceil(step.resources?.gpu ?? 0) > 0 ? gpus : [],
    signal: ac.signal,
  });
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  return finish({
    status: outcome.status,
    ...fp,
    ...(outcome.outputs ? { outputs: outcome.outputs } : {}),
    ...(outcome.facts ? { facts: outcome.facts } : {}),
    ...(outcome.summary ? { summary: outcome.summary } : {}),
    ...(outcome.error ? { error: outcome.error } : {}),
    ...(outcome.hint ? { hint: outcome.hint } : {}),
    ...(outcome.logFile ? { logFile: outcome.logFile } : {}),
    ...(outcome.startedAt ? { startedAt: outcome.startedAt, finishedAt: outcome.finishedAt, durationMs: outcome.durationMs } : {}),
    executor,
  });
}
