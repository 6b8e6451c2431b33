// One step, start to end, the same wherever it runs: resolve its inputs (fingerprint), look the
// cache up, run the kind in a fresh work directory, move the outputs into the store, write the
// cache entry. The local executor calls this in the engine's process; a Slurm job calls it through
// worker.ts. Sharing it is what keeps results and fingerprints identical on both.
import { copyFileSync, createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { ConcreteStep } from '../../workflow/types.js';
import { type StepContext, type StepKind, type StepResult } from '../../steps/kind.js';
import type { ArtifactRecord } from '../../formats/run-record.js';
import { CorruptObjectError, removeTree, type CacheEntry } from '../store.js';
import { resolveStep, type ResolvedStep } from '../fingerprint.js';
import { whyRun } from '../history.js';
import type { ExecutorRun, StepOutcome } from './types.js';
import { StepError } from '../../core/errors.js';

export function safeName(id: string): string {
  return id.replace(/[^A-Za-z0-9._=,-]+/g, '_').slice(0, 120);
}

/** The step's log file: results/<wf>/<run-id>/logs/<step>.log. */
export function logFileOf(runDir: string, stepId: string): string {
  return join(runDir, 'logs', `${safeName(stepId)}.log`);
}

/** A failure as the user reads it: a StepError's message and hint; anything else is a bug in repro. */
export function describeError(err: unknown): { error: string; hint?: string } {
  if (err instanceof CorruptObjectError) return { error: err.message, hint: 'run `repro verify`, then re-run with --force on the step that produced it' };
  if (err instanceof StepError) return { error: err.message, ...(err.hint ? { hint: err.hint } : {}) };
  return { error: `internal error: ${(err as Error)?.message ?? String(err)}` };
}

export type Prepared =
  | { resolved: ResolvedStep; cached: CacheEntry }
  | { resolved: ResolvedStep; cached: null; reason: string };

/**
 * Fingerprint, then cache lookup. Every stored artifact the step will read is verified first.
 * Throws StepError / CorruptObjectError (see describeError) when the step cannot run.
 */
export async function prepareStep(
  run: ExecutorRun,
  step: ConcreteStep,
  outputsOf: (id: string) => Record<string, ArtifactRecord> | undefined,
): Promise<Prepared> {
  const kind = run.lookupKind(step.uses);
  if (!kind) throw new StepError(`unknown step kind '${step.uses}'`);
  const resolved = await resolveStep(step, kind, {
    workflowDir: run.plan.workflow.dir,
    store: run.store,
    secrets: run.secrets,
    outputsOf,
    options: run.stepOptions,
    declaredOutputs: kind.outputs === null ? run.plan.workflow.steps[step.stepId]?.outputs : undefined,
    ...(run.plan.untrusted ? { confine: { from: run.plan.untrusted.from, roots: [run.plan.untrusted.root, run.store.root] } } : {}),
  });
  for (const rec of Object.values(resolved.inputs)) if (rec.storePath) await run.store.verifyArtifact(rec);
  const forced = run.force.includes(step.id) || run.force.includes(step.stepId);
  const entry = forced ? null : run.store.readCacheEntry(resolved.fingerprint);
  const problem = entry ? await run.store.checkOutputs(entry.outputs) : null;
  if (entry && !problem) return { resolved, cached: entry };
  return { resolved, cached: null, reason: forced ? 'forced (--force)' : (problem ?? whyRun(run.history, { step, resolved })) };
}

/**
 * A cache hit as an outcome. The log of the run that produced the outputs (kept in the store with
 * the cache entry) is copied into this run's logs/, so every step of every run has its log.
 */
export function cachedOutcome(run: Pick<ExecutorRun, 'runDir' | 'store'>, step: ConcreteStep, resolved: ResolvedStep, entry: CacheEntry): StepOutcome {
  const stored = entry.log ? run.store.artifactPath(entry.log) : null;
  let logFile: string | undefined;
  if (stored && existsSync(stored)) {
    logFile = logFileOf(run.runDir, step.id);
    mkdirSync(join(run.runDir, 'logs'), { recursive: true });
    const from = entry.runId ? `run ${entry.runId}` : 'an earlier run';
    writeFileSync(logFile, `# cached: outputs and log from ${from}\n${readFileSync(stored, 'utf8')}`);
  }
  return { status: 'cached', resolved, outputs: entry.outputs, facts: entry.facts, summary: entry.summary, durationMs: 0, ...(logFile ? { logFile } : {}) };
}

export interface InProcessStep {
  step: ConcreteStep;
  kind: StepKind<any>;
  resolved: ResolvedStep;
  reason: string;
  /** Numbers the work directory (tmp/<run-id>/<n>-<step>). */
  n: number;
  threads: number;
  /** GPU indices the step may use (CUDA_VISIBLE_DEVICES of `run` steps). */
  gpus: number[];
  /** Cancels the step (Ctrl-C). */
  signal: AbortSignal;
}

/** Runs a step's kind in this process and stores its outputs. Never throws for a step failure. */
export async function runStepInProcess(run: ExecutorRun, s: InProcessStep): Promise<StepOutcome> {
  const { step, kind, resolved, signal } = s;
  const { store, secrets, emit } = run;
  const now = () => new Date().toISOString();
  const workDir = join(store.tmpDir(run.runId), `${s.n}-${safeName(step.id)}`);
  const scratchDir = store.scratchDir(step.id, resolved.fingerprint);
  removeTree(workDir); // left by an earlier attempt of this step in the same run (a requeued job)
  mkdirSync(workDir, { recursive: true });
  mkdirSync(scratchDir, { recursive: true });
  const logFile = logFileOf(run.runDir, step.id);
  mkdirSync(join(run.runDir, 'logs'), { recursive: true });
  const log: WriteStream = createWriteStream(logFile, { flags: 'a' });
  let logOpen = true;
  const closeLog = () => (logOpen ? ((logOpen = false), new Promise<void>((r) => log.end(() => r()))) : Promise.resolve());
  const writeLog = (line: string) => {
    const masked = secrets.mask(line);
    log.write(masked + '\n');
    emit({ type: 'step-log', step: step.id, line: masked, time: now() });
  };
  const startedAt = now();
  const started = Date.now();
  const prevDuration = run.history.steps[step.id]?.durationMs;
  emit({
    type: 'step-started',
    step: step.id,
    fingerprint: resolved.fingerprint,
    reason: s.reason,
    time: startedAt,
    ...(prevDuration !== undefined ? { estimateMs: prevDuration } : {}),
    ...(s.gpus.length ? { gpus: s.gpus } : {}),
  });
  writeLog(`# ${step.id} (${step.uses}) fingerprint ${resolved.fingerprint}`);
  writeLog(`# why: ${s.reason}`);
  const gpuRequest = Math.max(0, Math.ceil(step.resources?.gpu ?? 0));
  if (gpuRequest > 0 && s.gpus.length === 0) writeLog(`# requested ${gpuRequest} GPU(s) but none was detected (nvidia-smi): running on the CPU`);
  const ctx: StepContext = {
    id: step.id,
    workflowDir: run.plan.workflow.dir,
    workDir,
    scratchDir,
    matrix: step.matrix,
    params: run.plan.params,
    secret(name: string) {
      const v = process.env[name];
      if (v !== undefined) secrets.add(v);
      return v;
    },
    signal,
    log: writeLog,
    progress(fraction, message) {
      emit({ type: 'step-progress', step: step.id, fraction, message: secrets.mask(message), time: now() });
    },
    threads: s.threads,
    options: { ...run.stepOptions, gpus: s.gpus },
    ...(kind.outputs === null ? { declaredOutputs: run.plan.workflow.steps[step.stepId]?.outputs ?? {} } : {}),
  };
  let result: StepResult | undefined;
  let outputs: Record<string, ArtifactRecord> | undefined;
  let error: unknown;
  try {
    result = await kind.run(ctx, resolved.with);
    if (signal.aborted) throw signal.reason ?? new Error('interrupted');
    const expected = kind.outputs ?? step.outputs;
    const missing = expected.filter((o) => !(o in result!.outputs));
    if (missing.length) throw new StepError(`the step did not produce its output(s): ${missing.join(', ')}`);
    outputs = await store.putOutputs(result.outputs, workDir);
  } catch (err) {
    error = err;
  }
  const durationMs = Date.now() - started;
  const timing = { startedAt, finishedAt: now(), durationMs, logFile };
  let outcome: StepOutcome;
  if (error === undefined && result && outputs) {
    const summary = result.summary ? secrets.mask(result.summary) : undefined;
    writeLog(`# succeeded in ${(durationMs / 1000).toFixed(1)} s`);
    await closeLog();
    // The log goes into the store beside the outputs (a copy: this run's logs/ keeps its own).
    const logCopy = join(workDir, '.repro-step.log');
    copyFileSync(logFile, logCopy);
    const storedLog = await store.putFile(logCopy, `${safeName(step.id)}.log`);
    // The cache entry is written last: an entry always points at complete, stored outputs.
    store.writeCacheEntry({
      format: 'repro-cache/1',
      fingerprint: resolved.fingerprint,
      step: step.id,
      uses: step.uses,
      outputs,
      ...(result.facts ? { facts: result.facts } : {}),
      ...(summary ? { summary } : {}),
      durationMs,
      createdAt: now(),
      runId: run.runId,
      log: storedLog,
    });
    removeTree(scratchDir);
    outcome = { status: 'succeeded', outputs, ...(result.facts ? { facts: result.facts } : {}), ...(summary ? { summary } : {}), ...timing };
  } else if (signal.aborted) {
    writeLog('# interrupted');
    outcome = { status: 'interrupted', error: 'interrupted', ...timing };
  } else {
    const e = error as Error;
    writeLog(`# failed: ${e instanceof StepError ? e.message : (e?.stack ?? String(e))}`);
    const d = describeError(error);
    outcome = { status: 'failed', error: secrets.mask(d.error), ...(d.hint ? { hint: secrets.mask(d.hint) } : {}), ...timing };
  }
  await closeLog();
  removeTree(workDir);
  return outcome;
}
