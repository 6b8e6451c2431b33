// The one interface every step kind implements (fetch, extract, dataset, preprocess, train,
// evaluate, compare, report, run). The engine knows steps only through it: it never imports
// TensorFlow, undici or sharp; the kinds do.

import type { KindDescriptor } from '../workflow/types.js';
import type { ExecutionFacts } from '../core/facts.js';

export interface StepContext {
  /** Concrete step id, e.g. 'train[loss=emd2,seed=1]'. */
  id: string;
  /** The workflow file's directory: relative paths in `with` resolve against it. */
  workflowDir: string;
  /**
   * An empty directory owned by this attempt. A kind writes its artifacts here; the engine moves
   * them into the content-addressed store only after `run` resolves, so a failed or interrupted
   * step never leaves a half-written output behind.
   */
  workDir: string;
  /**
   * A directory that survives between attempts of the same step id (and the same fingerprint),
   * for checkpoints: a killed training resumes from here. Never part of the outputs.
   */
  scratchDir: string;
  /** Matrix values of this instance. */
  matrix: Record<string, unknown>;
  /** Resolved params of the run (secrets included: never write them to outputs). */
  params: Record<string, unknown>;
  /**
   * Reads a credential from the environment variable `name` and registers its value, so the
   * engine masks it in logs and never records it. The workflow holds only the variable's name.
   */
  secret(name: string): string | undefined;
  /** Cancelled on Ctrl-C, or when the run is stopped after another step failed. */
  signal: AbortSignal;
  /** One line to the step's log file (and, in verbose mode, to the terminal). */
  log(line: string): void;
  /** Progress for the terminal: fraction 0..1 when known, and a short message ('epoch 3/20 loss 0.41'). */
  progress(fraction: number | null, message: string): void;
  /** CPU threads this step may use (from `resources.cpu`). */
  threads: number;
  /**
   * Options from the command line that steps honour (e.g. { backend: 'wasm', engine: 'tfjs', python: '/usr/bin/python3', trust: false }).
   * The engine adds `gpus: number[]`: the GPU indices (nvidia-smi) this step was given; empty when it has none.
   */
  options: Record<string, unknown>;
  /** The step's `outputs:` map (output name → path in workDir), for kinds whose outputs the workflow declares (`run`). */
  declaredOutputs?: Record<string, string>;
}

/**
 * An output as a kind returns it. A `file` or `dir` is a path inside `workDir`; the engine stores it
 * by content hash. A `value` is small JSON, stored inline in the cache entry and the run record.
 */
export type StepOutput =
  | { type: 'file'; path: string }
  | { type: 'dir'; path: string }
  | { type: 'value'; value: unknown };

export interface StepResult {
  outputs: Record<string, StepOutput>;
  /** Where it actually ran (engine, backend, device...). Recorded in run.json; never guessed. */
  facts?: ExecutionFacts;
  /** Short human summary for the final table ('acc 0.61 one-off 0.87'). */
  summary?: string;
}

/**
 * A step kind: what the planner knows of it (KindDescriptor: name, `with` schema, outputs, checks)
 * and how it runs.
 */
export interface StepKind<W = Record<string, unknown>> extends KindDescriptor<W> {
  /**
   * Bumped whenever the kind's behaviour changes in a way that changes its outputs: it is part
   * of every fingerprint, so old cache entries stop matching.
   */
  version: string;
  description: string;
  /**
   * Local files or directories named by `with` that the result depends on (paths relative to the
   * workflow); their content hashes enter the fingerprint. Optional: most kinds take inputs only
   * through other steps' outputs.
   */
  inputPaths?(w: W, workflowDir: string): string[];
  /**
   * Facts decided before running that change the result (the ML backend a train step will use):
   * they enter the fingerprint, so a run on another backend is a cache miss, not a false hit.
   */
  plannedFacts?(w: W, options: Record<string, unknown>): Promise<ExecutionFacts> | ExecutionFacts;
  /**
   * The fields of this kind's JSON outputs that measure the machine rather than the result (timings,
   * throughput, host): keys as the last segment of a path (`ms_per_step` matches
   * `epochs[3].ms_per_step`). Records keep them; `repro reproduce` and `repro diff` report them as
   * informative and never call a re-run different for them. A property of the kind (its code writes
   * them), so it is not part of the fingerprint; `w` lets a kind whose outputs the workflow writes
   * (`run`) take the list from the workflow.
   */
  measurements?(w: W): readonly string[];
  run(ctx: StepContext, w: W): Promise<StepResult>;
}
