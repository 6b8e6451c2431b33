// The executor interface: where a step that must run actually runs. The engine owns everything
// else — fingerprints, cache hits and skipping dependents (../scheduler.ts), the run record and the
// events that end a step (../recorder.ts) — and hands each step that must run to one StepExecutor:
//   local.ts  in this process, over CPU/GPU tokens;
//   slurm.ts  as a Slurm batch job running `repro exec-step` against the shared store.
// A Kubernetes or Ray executor would be one more implementation of this file's interface.
import type { ConcreteStep, Plan } from '../../workflow/types.js';
import type { StepKind } from '../../steps/kind.js';
import type { RunEvent } from '../events.js';
import type { ArtifactRecord, StepExecutorRecord } from '../../formats/run-record.js';
import type { Store } from '../store.js';
import type { SecretMask } from '../secrets.js';
import type { History } from '../history.js';
import type { ResolvedStep } from '../fingerprint.js';
import type { ExecutionFacts } from '../../core/facts.js';
import type { StepStatus } from '../../core/status.js';

/** What an executor needs to know about the run it serves. */
export interface ExecutorRun {
  plan: Plan;
  runId: string;
  /** results/<workflow>/<run-id>: run.json, logs/<step>.log. */
  runDir: string;
  store: Store;
  secrets: SecretMask;
  history: History;
  /** ctx.options of every step (backend, engine, trust…). */
  stepOptions: Record<string, unknown>;
  /** Step ids given with --force (concrete or declared). */
  force: string[];
  /** For the events of a running step: step-started, step-progress, step-log. The engine emits the rest. */
  emit(e: RunEvent): void;
  /** Aborted on Ctrl-C / SIGTERM: stop the running steps. */
  signal: AbortSignal;
  lookupKind(name: string): StepKind<any> | undefined;
}

/** A step handed to an executor. */
export interface StepTask {
  step: ConcreteStep;
  /**
   * The fingerprint and resolved `with`, when every upstream step was done at hand-over (the engine
   * has already looked the cache up: it missed). Absent when an upstream is still running on this
   * executor: the executor resolves the step and looks the cache up itself once the upstream is done.
   */
  resolved?: ResolvedStep;
  /** Why it runs ('no previous run', 'with key `epochs`: 3 → 5'…), when resolved. */
  reason?: string;
  /** Outputs of the upstream steps that were done at hand-over, by concrete id. */
  upstream: Record<string, Record<string, ArtifactRecord>>;
  /** Upstream steps handed to this executor and not finished yet: this one must wait for them. */
  pendingDeps: string[];
}

/** How a handed-over step ended. The engine records it exactly like a local step's. */
export interface StepOutcome {
  status: StepStatus;
  /** Set when the executor resolved the step itself (task.resolved was absent). */
  resolved?: ResolvedStep;
  outputs?: Record<string, ArtifactRecord>;
  facts?: ExecutionFacts;
  summary?: string;
  /** failed: the message (secrets masked); skipped: why. */
  error?: string;
  hint?: string;
  /** Absolute path of the step's log. */
  logFile?: string;
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
  /** Where it ran: a Slurm job id and node… (recorded in run.json). */
  executor?: StepExecutorRecord;
}

export interface StepExecutor {
  readonly name: string;
  /**
   * false (local): a step is handed over only when all its upstream steps are done.
   * true (Slurm): a step whose upstream steps are still running on this executor is handed over at
   * once, with those steps in `pendingDeps`, and the executor orders it after them (afterok).
   */
  readonly handsOverAhead: boolean;
  /** Called once the run record exists, before any step is handed over. May throw ReproError. */
  open(run: ExecutorRun): Promise<void>;
  /**
   * Starts the step. Returns null when it cannot start now (no free CPU tokens): the engine asks
   * again after the next step ends. A rejected promise is a fatal error of the run (e.g. the
   * scheduler refused a submission): the engine stops and close() cancels the rest.
   */
  start(task: StepTask): Promise<StepOutcome> | null;
  /** Called once at the end, also after an error: nothing this executor started may outlive it. */
  close(): Promise<void>;
  /** What run.json says about this executor (absent for the local one): {name: 'slurm', partition…}. */
  describe?(): { name: string; [option: string]: unknown };
}
