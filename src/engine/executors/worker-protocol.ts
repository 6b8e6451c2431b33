// <step>.result.json: how a step that ran in a job (`repro exec-step`, src/engine/executors/worker.ts)
// ended, for the runner (slurm.ts) that records it. One typed format, written and read here only:
// a StepOutcome with the resolved fingerprint spelled out (a ResolvedStep's `with` does not cross
// the process boundary), under a format version, so a runner and a job of different repro versions
// on one cluster fail with words instead of misreading each other.
import type { ArtifactRecord, StepExecutorRecord } from '../../formats/run-record.js';
import type { FingerprintComponents, ResolvedStep } from '../fingerprint.js';
import { STEP_STATUSES, type StepStatus } from '../../core/status.js';
import { jobFile, readJson, writeJson } from './job-files.js';
import type { StepOutcome } from './types.js';

export const JOB_RESULT_FORMAT = 'repro-job-result/1';

export interface JobResult extends Omit<StepOutcome, 'resolved' | 'executor'> {
  format: typeof JOB_RESULT_FORMAT;
  /** '' when the step failed before it was resolved. */
  fingerprint: string;
  components: FingerprintComponents | null;
  inputs: Record<string, ArtifactRecord>;
  /** Where the job ran: {name: 'slurm', jobId, node}. */
  executor: StepExecutorRecord;
}

/** The result of an outcome: `resolved` (when the step got that far) spelled out. */
export function jobResult(outcome: Omit<StepOutcome, 'executor'>, executor: StepExecutorRecord): JobResult {
  const { resolved, ...rest } = outcome;
  return {
    format: JOB_RESULT_FORMAT,
    ...rest,
    fingerprint: resolved?.fingerprint ?? '',
    components: resolved?.components ?? null,
    inputs: resolved?.inputs ?? {},
    executor,
  };
}

/** The inverse of jobResult: the outcome the engine records, run where `executor` says. */
export function outcomeOf(result: JobResult, executor: StepExecutorRecord): StepOutcome {
  const { format: _format, fingerprint: _fp, components: _c, inputs: _i, executor: _x, ...rest } = result;
  const resolved = resolvedOf(result);
  return { ...rest, ...(resolved ? { resolved } : {}), executor };
}

/** The fingerprint the job resolved, when it got that far. */
export function resolvedOf(result: JobResult): ResolvedStep | undefined {
  return result.components ? { with: {}, components: result.components, fingerprint: result.fingerprint, inputs: result.inputs } : undefined;
}

export function writeJobResult(runDir: string, stepId: string, result: JobResult): void {
  writeJson(jobFile(runDir, stepId, 'result.json'), result);
}

/**
 * The result the job left, or null when there is none (yet). A file this repro cannot read (another
 * format version, a damaged file) is a failed result that says so: the step's record names the cause.
 */
export function readJobResult(runDir: string, stepId: string): JobResult | null {
  const raw = readJson<unknown>(jobFile(runDir, stepId, 'result.json'));
  if (raw === null) return null;
  const problem = resultProblem(raw);
  if (!problem) return raw as JobResult;
  const format = raw && typeof raw === 'object' && typeof (raw as { format?: unknown }).format === 'string' ? (raw as { format: string }).format : null;
  return {
    format: JOB_RESULT_FORMAT,
    status: 'failed',
    error: `the job's result for ${stepId} cannot be read: ${problem}`,
    hint:
      format && format !== JOB_RESULT_FORMAT
        ? `the job ran another version of repro (it wrote ${format}, this runner reads ${JOB_RESULT_FORMAT}): install one repro on the cluster and the runner's machine`
        : `see the job's output, ${jobFile(runDir, stepId, 'out')}`,
    fingerprint: '',
    components: null,
    inputs: {},
    executor: { name: 'slurm' },
  };
}

function resultProblem(raw: unknown): string | null {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return 'not a JSON object';
  const r = raw as Record<string, unknown>;
  if (r.format !== JOB_RESULT_FORMAT) return `format ${JSON.stringify(r.format ?? null)}, expected ${JOB_RESULT_FORMAT}`;
  if (!STEP_STATUSES.includes(r.status as StepStatus)) return `status ${JSON.stringify(r.status ?? null)} is not a step status`;
  if (typeof r.fingerprint !== 'string') return 'no fingerprint';
  if (r.components !== null && (typeof r.components !== 'object' || Array.isArray(r.components))) return 'components is not an object';
  if (!r.inputs || typeof r.inputs !== 'object') return 'no inputs';
  if (r.outputs !== undefined && (!r.outputs || typeof r.outputs !== 'object')) return 'outputs is not an object';
  if (!r.executor || typeof r.executor !== 'object' || typeof (r.executor as { name?: unknown }).name !== 'string') return 'no executor';
  for (const k of ['summary', 'error', 'hint', 'logFile', 'startedAt', 'finishedAt'] as const) {
    if (r[k] !== undefined && typeof r[k] !== 'string') return `${k} is not a string`;
  }
  if (r.durationMs !== undefined && typeof r.durationMs !== 'number') return 'durationMs is not a number';
  return null;
}
