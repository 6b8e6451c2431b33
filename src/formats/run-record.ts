// results/<workflow>/<run-id>/run.json: the provenance record of one run. Written by the
// executor, read by compare, report, export and verify. Secrets never appear in it.
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import type { ExecutionFacts } from '../core/facts.js';
import type { StepStatus } from '../core/status.js';

export const RUN_RECORD_FORMAT = 'repro-run/1';

export interface ArtifactRecord {
  type: 'file' | 'dir' | 'value';
  /** sha256 of the file, of the dir's manifest, or of the value's canonical JSON. */
  sha256: string;
  /** Path inside the store (for file/dir), relative to the store root. */
  storePath?: string;
  size?: number;
  value?: unknown;
}

/**
 * What a step does for the run, declared by its kind (KindDescriptor.role) and recorded with the step,
 * so that commands and reports ask the role, never the kind's name, and a new kind is one line:
 * - `data`: fetches or prepares data; its time is the time to prepare the workflow.
 * - `training`: trains a model; its facts say the device the training ran on, its time is training time.
 * - `evaluation`: measures a model.
 * - `comparison`: decides the paper's claims. Its `with` has compare's shape (`results`, `claims`,
 *   `metrics`, `pair_by`, `variant_key`) and its output `verdicts` is a VerdictFile (src/formats/verdict.ts).
 * - `report`: a document about its run (names its run and time), not a result.
 * - `command`: the user's own command line (`with.command`), which may do any of these.
 */
export type StepRole = 'data' | 'training' | 'evaluation' | 'comparison' | 'report' | 'command';

/**
 * Records written before roles were recorded name only the kinds that existed then; their roles are
 * this frozen table. A kind added later records its role and never needs a line here.
 */
const ROLES_OF_UNRECORDED_KINDS: ReadonlyMap<string, StepRole> = new Map<string, StepRole>([
  ['fetch', 'data'],
  ['extract', 'data'],
  ['dataset', 'data'],
  ['preprocess', 'data'],
  ['train', 'training'],
  ['evaluate', 'evaluation'],
  ['compare', 'comparison'],
  ['report', 'report'],
  ['run', 'command'],
]);

/** The role of a planned or recorded step: the one its kind declared, or for an older record, its kind's role then. */
export function roleOf(step: { uses: string; role?: StepRole }): StepRole | undefined {
  return step.role ?? ROLES_OF_UNRECORDED_KINDS.get(step.uses);
}

export interface StepRecord {
  id: string;
  stepId: string;
  uses: string;
  /** What the step does for the run (its kind's role); absent in records written before roles were recorded (roleOf). */
  role?: StepRole;
  matrix: Record<string, unknown>;
  status: StepStatus;
  fingerprint: string;
  /** The components hashed into the fingerprint, so `repro why` can diff them. */
  fingerprintComponents: Record<string, unknown>;
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
  inputs: Record<string, ArtifactRecord>;
  outputs: Record<string, ArtifactRecord>;
  facts?: ExecutionFacts;
  summary?: string;
  error?: string;
  logFile?: string;
  /** Where the step ran when an executor other than the local one ran it (absent for cached steps). */
  executor?: StepExecutorRecord;
}

/** Where a step ran: for Slurm, its job id and node. */
export interface StepExecutorRecord {
  /** 'slurm' */
  name: string;
  /** The job that ran the step (the last one, when it was requeued). */
  jobId?: string;
  node?: string;
  /** The scheduler's final state of the job (COMPLETED, FAILED, NODE_FAIL…). */
  state?: string;
  /** Jobs this one waited for (afterok). */
  dependsOn?: string[];
  /** Earlier jobs of this step that a node failure or preemption ended, before the requeue. */
  requeuedFrom?: string[];
}

export interface EnvironmentRecord {
  os: string;
  kernel: string;
  arch: string;
  cpuModel: string;
  /** The CPU's instruction-set features (Linux: the `flags` of /proc/cpuinfo), sorted; absent elsewhere and in older records. */
  cpuFeatures?: string[];
  cores: number;
  memoryBytes: number;
  node: string;
  repro: string;
  lockfileSha256: string | null;
  /** Direct dependencies as installed (node_modules/NAME/package.json), not as the lockfile pins them. */
  packages: Record<string, string>;
  /** Declared dependencies that are not installed here (optional ones such as @tensorflow/tfjs-node); absent in older records. */
  packagesAbsent?: string[];
  gpus: Array<{ name: string; driver?: string; memory?: string }>;
  python?: { path: string; version: string; torch?: string; cuda?: boolean; device?: string; blas?: string } | null;
  /** The distinct execution facts steps reported (engine, backend, device…): the ML backends actually used. */
  backends?: ExecutionFacts[];
}

export interface RunRecord {
  format: typeof RUN_RECORD_FORMAT;
  runId: string;
  workflow: { name: string; file: string; sha256: string; title?: string; paper?: unknown; source?: { url: string; path: string; rev: string; commit: string } };
  git: { commit: string | null; dirty: boolean | null; branch?: string | null };
  profile: string | null;
  /** Resolved params, secrets replaced by '***'. */
  params: Record<string, unknown>;
  status: 'running' | 'succeeded' | 'failed' | 'interrupted';
  startedAt: string;
  finishedAt?: string;
  durationMs?: number;
  command: string[];
  /**
   * Absolute path of the artifact store root when the run was made; ArtifactRecord.storePath is
   * relative to it. Readers use locateRun(), which finds it again after the project moved.
   */
  store: string;
  /**
   * The store and the workflow file relative to the folder of this run.json, so that a project moved
   * or copied as a whole still finds them (locateRun). Absent in older records.
   */
  relative?: { store: string; workflow: string };
  environment: EnvironmentRecord;
  steps: StepRecord[];
  /** The executor that ran the steps, when not the local one: e.g. {name: 'slurm', partition: 'gpu'}. */
  executor?: { name: string; [option: string]: unknown };
  /** 'full' only for the paper's own protocol on its own data; 'proxy' for stand-ins, 'smoke' for tiny runs. */
  scale?: 'full' | 'proxy' | 'smoke';
}

/** A run record as read from disk, with where it was found. */
export interface LoadedRun {
  /** Absolute path of run.json. */
  path: string;
  record: RunRecord;
}

/**
 * The record with `store` and `workflow.file` naming where they are now, for a run.json found at
 * `runJson`. In order: the recorded relative location (a project moved or copied whole), the
 * recorded absolute one (a store outside the project, which did not move), and for older records
 * without `relative` the recorded path's tail under the nearest folder above run.json that has it
 * (`/old/proj/.repro` is `/new/proj/.repro` for `/new/proj/results/wf/ID/run.json`). When none
 * exists the recorded path stays, so the error that follows names it.
 */
export function locateRun(record: RunRecord, runJson: string): RunRecord {
  const runDir = dirname(resolve(runJson));
  const store = locate(record.store, record.relative?.store, runDir, isDir);
  const file = record.workflow ? locate(record.workflow.file, record.relative?.workflow, runDir, isFile) : undefined;
  if (store === record.store && file === record.workflow?.file) return record;
  return { ...record, store: store!, ...(record.workflow ? { workflow: { ...record.workflow, file: file! } } : {}) };
}

const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();
const isFile = (p: string) => existsSync(p) && statSync(p).isFile();

function locate(recorded: string | undefined, rel: string | undefined, runDir: string, ok: (p: string) => boolean): string | undefined {
  if (typeof rel === 'string') {
    const p = resolve(runDir, rel);
    if (ok(p)) return p;
  }
  if (typeof recorded !== 'string' || ok(recorded)) return recorded;
  const parts = resolve(recorded).split(sep).filter(Boolean);
  for (let dir = runDir; ; dir = dirname(dir)) {
    // Longest tail first: /old/proj/data/.repro prefers data/.repro over a stray .repro.
    for (let i = 1; i < parts.length; i++) {
      const p = join(dir, ...parts.slice(i));
      if (ok(p)) return p;
    }
    if (dirname(dir) === dir) return recorded;
  }
}

/**
 * Newest first. Run ids start with the UTC second, so two runs begun in one second would fall back on
 * their random suffix: the start time, to the millisecond, decides first.
 */
export function newestRunFirst(a: { runId: string; startedAt?: string }, b: { runId: string; startedAt?: string }): number {
  const t = (b.startedAt ?? '').localeCompare(a.startedAt ?? '');
  return t !== 0 ? t : a.runId < b.runId ? 1 : a.runId > b.runId ? -1 : 0;
}
