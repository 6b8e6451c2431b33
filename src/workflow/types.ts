// The workflow as the analyzer sees it, and the plan it hands to the executor.
// Parse → validate → plan: each stage only adds information, so these types grow in that order.
import type { JSONSchemaType } from 'ajv';
import type { CommandLine, Embedding } from './shell.js';
import type { StepRole } from '../formats/run-record.js';

/** A position in the workflow file; line and column are 1-based, as editors show them. */
export interface SourcePos {
  file: string;
  line: number;
  column: number;
}

/** A range in the workflow file, carried by every node a diagnostic may point at. */
export interface SourceRange {
  file: string;
  start: { line: number; column: number; offset: number };
  end: { line: number; column: number; offset: number };
}

export type ParamType = 'string' | 'number' | 'integer' | 'boolean' | 'array' | 'object';

export interface ParamDecl {
  type: ParamType;
  default?: unknown;
  description?: string;
  /** Allowed values, when the param is an enum. */
  enum?: unknown[];
  /** The value comes from this environment variable (e.g. credentials); when `secret`, it is never logged or recorded. */
  env?: string;
  secret?: boolean;
}

export interface ProfileDecl {
  description?: string;
  default?: boolean;
  /** Param overrides, applied over the declared defaults. */
  params: Record<string, unknown>;
}

export interface Resources {
  cpu?: number;
  gpu?: number;
  /** Bytes, parsed from strings like '2GiB'. */
  memory?: number;
}

export interface StepDecl {
  id: string;
  uses: string;
  needs: string[];
  /** Raw `with` values: strings may hold `${{ … }}` expressions. */
  with: Record<string, unknown>;
  /** Axis name → values (values may be an expression yielding an array). */
  matrix?: Record<string, unknown>;
  resources?: Resources;
  /** Declared outputs, for steps whose kind does not fix them (e.g. `run`). */
  outputs?: Record<string, string>;
  description?: string;
  /**
   * `if:` — true, false, or one `${{ ... }}` expression over params, profile and workflow. A step
   * whose `if` is false is disabled: it is left out of the plan, and references to it give null.
   */
  if?: boolean | string;
}

/** The `executor:` section (schemas/workflow.schema.json): local, or Slurm with its sbatch settings. */
export interface ExecutorDecl {
  type?: 'local' | 'slurm';
  partition?: string;
  account?: string;
  /** sbatch --time. */
  time?: string;
  /** More sbatch flags, as they are. */
  flags?: string[];
  /** Seconds between two looks at the queue. */
  poll?: number;
}

export interface PaperRef {
  title?: string;
  authors?: string[];
  arxiv?: string;
  version?: string;
  doi?: string;
  year?: number;
  url?: string;
}

export interface Workflow {
  /** Absolute path of the file, and its directory (relative paths in the workflow resolve against it). */
  file: string;
  dir: string;
  /** SHA-256 of the file's bytes. */
  sha256: string;
  name: string;
  title?: string;
  description?: string;
  paper?: PaperRef;
  params: Record<string, ParamDecl>;
  profiles: Record<string, ProfileDecl>;
  steps: Record<string, StepDecl>;
  /** The workflow's `executor:` section: where steps run (the command line overrides it). */
  executor?: ExecutorDecl;
  /** Set when the workflow came from a git URL (`repro run URL#path@rev`): recorded in run.json. */
  source?: { url: string; path: string; rev: string; commit: string };
  /** Where each node came from: a JSON-pointer-like path ('/steps/train/with/epochs') → its range. */
  ranges: Map<string, SourceRange>;
  /** Ranges of mapping keys by the same paths, for diagnostics about a key itself ('unknown key'). */
  keyRanges?: Map<string, SourceRange>;
}

/** One concrete step after matrix expansion: the unit the executor runs and caches. */
export interface ConcreteStep {
  /** 'train[loss=emd2,seed=1]' — the declared id with the matrix values, stable across runs. */
  id: string;
  /** The declared step id ('train'). */
  stepId: string;
  uses: string;
  /** Its kind's role (KindDescriptor.role): what commands and reports ask instead of the kind's name. */
  role?: StepRole;
  matrix: Record<string, unknown>;
  /** `with` after every expression that does not name another step's output is evaluated. */
  with: Record<string, unknown>;
  /** Concrete step ids this one waits for (from `needs` and from output references). */
  deps: string[];
  resources: Required<Resources>;
  /** Output names the step will produce. */
  outputs: string[];
}

/** The expanded, resolved DAG, in a topological order. */
export interface Plan {
  workflow: Workflow;
  profile: string | null;
  /** Final param values after defaults, profile and --set. */
  params: Record<string, unknown>;
  /** Names of params whose values are secret (never recorded). */
  secretParams: string[];
  steps: ConcreteStep[];
  /** Declared steps left out because their `if:` is false under this profile and params (declaration order). */
  disabled?: string[];
  /**
   * Set when the workflow is someone else's (a git URL, an archive) and runs without --trust: its
   * steps may read local files only inside `root` (the checkout, the unpacked project) and the store.
   */
  untrusted?: { from: 'git' | 'archive'; root: string };
}

/**
 * A reference to another concrete step's output, left in `ConcreteStep.with` by the planner.
 * The executor replaces it with the output's value: for an artifact, the absolute path of its
 * read-only copy in the store; for a value output, the JSON value. The fingerprint uses the output's hash.
 */
export interface OutputRef {
  $ref: { step: string; output: string };
  /** Inside a command line's $concat: how the value is quoted when it is known (src/workflow/shell.ts). */
  $quote?: Embedding;
}

/** A string with embedded references: `"${{ steps.fetch.outputs.path }}/train.csv"`. */
export interface Concat {
  $concat: Array<string | OutputRef>;
}

/**
 * What a reference to a matrix step resolves to from a step that does not share its matrix:
 * one entry per instance, so a compare step can pair results by seed or fold.
 */
export interface Gathered<T = unknown> {
  matrix: Record<string, unknown>;
  step: string;
  value: T;
}

/** Whether a step's classes have an order, and the declared step whose `with` decides it. */
export interface ClassOrder {
  ordered: boolean;
  step: string;
}

export function isOutputRef(v: unknown): v is OutputRef {
  return typeof v === 'object' && v !== null && '$ref' in v;
}

export function isConcat(v: unknown): v is Concat {
  return typeof v === 'object' && v !== null && '$concat' in v;
}

/**
 * What the workflow language knows of a step kind: enough to plan and check a step that uses it.
 * The kinds themselves (src/steps/) add how to run; the CLI hands them to the planner
 * (LoadOptions.kinds), so this layer never imports them.
 */
export interface KindDescriptor<W = Record<string, unknown>> {
  /** The name used in `uses:`. */
  name: string;
  /**
   * What a step of this kind does for the run (src/formats/run-record.ts, StepRole): the planner copies
   * it into each concrete step and the recorder into run.json, so `repro check`, `repro compare`, the
   * run list and the reports find the comparison, data and training steps without knowing kind names.
   */
  role?: StepRole;
  /** JSON Schema of `with`, checked after expressions are evaluated. Also merged into the workflow schema docs. */
  withSchema: JSONSchemaType<W> | Record<string, unknown>;
  /**
   * Output names this kind produces. `null` means "declared by the step's `outputs:`" (the `run` kind).
   */
  outputs: string[] | null;
  /**
   * Keys of `with` (at any depth, including objects a matrix supplies) that were renamed: old
   * spelling → new. The kind still reads the old one; `repro validate` reports it as deprecated.
   */
  oldSpellings?: ReadonlyMap<string, string>;
  /**
   * Semantic checks beyond the schema, run at plan time on the concrete `with` (references to
   * other steps are still OutputRef / Gathered entries, whose `matrix` values say which variants and
   * seeds exist). `path` is a slash path inside `with` ('claims/0/variants/1'): the diagnostic points
   * at that node's line and column.
   */
  check?(
    w: W,
    context: {
      steps: ConcreteStep[];
      /** The workflow file's directory, when the caller knows it: relative paths in `with` resolve against it. */
      workflowDir?: string;
      /**
       * Whether the classes of the data behind a reference in `with` (another step's output) have an
       * order, where the plan already tells; undefined where only running the steps will.
       */
      classOrder?: (ref: unknown) => ClassOrder | undefined;
    },
  ): Array<{ path: string; message: string; hint?: string }>;
  /**
   * Whether the classes of the data this step's outputs carry have an order, where the plan tells:
   * true or false when the step itself decides it, the answer for a reference in `with` (`upstream`)
   * when its data passes through, undefined when only running it will tell. A metric that exists
   * only for ordered classes (MAE, QWK, one-off accuracy) is then refused before anything runs.
   */
  classOrder?(w: W, upstream: (ref: unknown) => ClassOrder | undefined): boolean | ClassOrder | undefined;
  /**
   * Strings in `with` that are command lines ('/command' of a `run` step): a value embedded there by
   * `${{ ... }}` is quoted for its place (src/workflow/shell.ts), so it reaches the program as data.
   * Called on the step's `with` as written (before expressions are evaluated).
   */
  commandLines?(w: Record<string, unknown>): CommandLine[];
  /**
   * What a step of this kind does that a remote workflow may do only with --trust (src/workflow/trust.ts):
   * run a command, read the user's environment, pass flags to another program. `path` is a slash path
   * inside `with` ('' for the step itself). Called on the step's `with` as written.
   */
  needsTrust?(w: Record<string, unknown>): Array<{ path: string; what: string }>;
}
