// The files through which a runner and the `repro exec-step` jobs it submitted talk, all under
// results/<workflow>/<run-id>/jobs/ on the filesystem the cluster shares:
//   spec.json              the plan and the run's options (written once, before any job)
//   <step>.task.json       what one job needs: its step, upstream outputs known at submission
//   <step>.sh              the batch script
//   <step>.events.jsonl    step-started / -progress / -log events, appended by the job, tailed by the runner
//   <step>.result.json     how the step ended, written atomically by the job before it exits (worker-protocol.ts)
//   <step>.out             the job's stdout and stderr (Slurm's --output)
// Secret param values never go into these files: they are replaced by placeholders and travel in
// the job's environment (REPRO_SECRET_PARAMS), like any credential a step reads.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Plan, Workflow } from '../../workflow/types.js';
import type { ArtifactRecord } from '../../formats/run-record.js';
import { writeFileAtomic } from '../../core/atomic.js';
import { safeName } from './step.js';

export const JOB_SPEC_FORMAT = 'repro-job-spec/1';
export const SECRET_PARAMS_ENV = 'REPRO_SECRET_PARAMS';

export interface JobSpec {
  format: typeof JOB_SPEC_FORMAT;
  runId: string;
  /** Absolute store root. */
  store: string;
  /** The runner's working directory: jobs run there, so relative paths mean the same. */
  cwd: string;
  /** The plan without source ranges; secret values replaced by placeholders. */
  plan: Omit<Plan, 'workflow'> & { workflow: Omit<Workflow, 'ranges' | 'keyRanges'> };
  stepOptions: Record<string, unknown>;
  force: string[];
}

export interface JobTask {
  step: string;
  /** Numbers the job's work directory, as the local executor numbers its steps. */
  n: number;
  /** Outputs of upstream steps that were done at submission. */
  upstream: Record<string, Record<string, ArtifactRecord>>;
  /** Upstream steps that ran in jobs this one waited for: their outputs are in their result files. */
  pendingDeps: string[];
  /** The runner's fingerprint and reason, when it could resolve the step before submitting. */
  fingerprint?: string;
  reason?: string;
}

export const jobsDir = (runDir: string) => join(runDir, 'jobs');
export const jobFile = (runDir: string, stepId: string, ext: 'task.json' | 'sh' | 'events.jsonl' | 'result.json' | 'out') =>
  join(jobsDir(runDir), `${safeName(stepId)}.${ext}`);

// A placeholder cannot occur in a workflow's text (NUL) nor inside another secret of 4+ characters.
const placeholder = (i: number) => `\u0000S${i}\u0000`;

/** The plan as a job reads it: JSON, without ranges, secret param values replaced by placeholders. */
export function serializablePlan(plan: Plan): JobSpec['plan'] {
  const { ranges: _r, keyRanges: _k, ...workflow } = plan.workflow;
  const secrets = plan.secretParams.map((name, i) => ({ i, value: plan.params[name] }));
  const hide = (v: unknown): unknown => {
    for (const { i, value } of secrets) if (value !== undefined && value !== null && typeof value !== 'object' && v === value) return { $secret: i };
    if (typeof v === 'string') {
      let s = v;
      // Inside longer text, like the secret mask, only values of 4 characters or more.
      for (const { i, value } of secrets) if (typeof value === 'string' && value.length >= 4) s = s.split(value).join(placeholder(i));
      return s;
    }
    if (Array.isArray(v)) return v.map(hide);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, hide(x)]));
    return v;
  };
  return { ...(hide({ ...plan, workflow, secretParams: undefined }) as JobSpec['plan']), secretParams: plan.secretParams };
}

/** The inverse of serializablePlan, with the secret values (by param name) from the job's environment. */
export function restorePlan(spec: JobSpec['plan'], secretParams: Record<string, unknown>): Plan {
  const values = spec.secretParams.map((name) => secretParams[name]);
  const show = (v: unknown): unknown => {
    if (typeof v === 'string') {
      if (!v.includes('\u0000S')) return v;
      let s = v;
      values.forEach((value, i) => {
        s = s.split(placeholder(i)).join(String(value ?? ''));
      });
      return s;
    }
    if (Array.isArray(v)) return v.map(show);
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (typeof o.$secret === 'number' && Object.keys(o).length === 1) return values[o.$secret];
      return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, show(x)]));
    }
    return v;
  };
  const plan = show({ ...spec, secretParams: undefined }) as Plan;
  plan.secretParams = spec.secretParams;
  plan.workflow.ranges = new Map();
  return plan;
}

/** The secret params' values, for the jobs' environment. */
export function secretParamValues(plan: Plan): Record<string, unknown> {
  return Object.fromEntries(plan.secretParams.filter((n) => plan.params[n] !== undefined).map((n) => [n, plan.params[n]]));
}

export function writeJson(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

export function readJson<T>(path: string): T | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return null;
  }
}
