// The one shape every report is rendered from. Two paths assemble it: `loadRunReport` reads a
// finished run (run.json + the store objects it names); the `report` step builds it mid-run from
// the files it was handed. Renderers never read files themselves, so both paths look the same.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep, basename } from 'node:path';
import type { EvaluationMetrics, MetricDecl, TrainingHistory } from '../formats/metrics.js';
import { planMetricCatalog, undeclaredMetric } from '../formats/metrics.js';
import { depthProblem } from '../formats/json.js';
import type { VerdictFile } from '../formats/verdict.js';
import { roleOf, type EnvironmentRecord, type RunRecord, type StepRecord, type ArtifactRecord } from '../formats/run-record.js';
import type { DatasetDescription, DatasetManifest, ImageListManifest } from '../formats/dataset.js';
import type { PaperRef } from '../workflow/types.js';
import { sha256 } from '../core/hash.js';
import { variantName } from '../compare/spec.js';

export type Scale = 'full' | 'proxy' | 'smoke';

/** An artifact a number came from: every number in a report points at one of these. */
export interface Source {
  id: string;
  /** What it is, for people: 'metrics of evaluate[variant=emd2,seed=1]'. */
  label: string;
  /** sha256 of the file's bytes, as read when the report was made. */
  sha256: string;
  /** Path inside the artifact store, when it came from the store. */
  storePath?: string;
  /** Link from the report's own location (relative), when one can be made. */
  href?: string;
}

export interface EvaluationEntry {
  variant: string;
  /** 'seed=1', 'fold=0': what distinguishes repeats of one variant. */
  replicate: string;
  step: string;
  metrics: EvaluationMetrics;
  source: string;
}

export interface TrainingEntry {
  variant: string;
  replicate: string;
  step: string;
  history: TrainingHistory;
  source: string;
  /** Where it ran (engine, backend, device...): the step's recorded facts, else the history's (less its training choices). */
  facts: Record<string, string | number | boolean | null>;
  durationMs: number | null;
}

export interface StepTiming {
  step: string;
  uses: string;
  status: string;
  durationMs: number | null;
  facts: Record<string, string | number | boolean | null> | null;
}

export interface RunSummary {
  runId: string;
  status: RunRecord['status'];
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  command: string[];
  profile: string | null;
  git: RunRecord['git'];
  workflow: { name: string; file: string; sha256: string };
}

/** A file a `run` step executed or read (its script, its inputs), with its hash: the program of the run. */
export interface ProgramFile {
  step: string;
  /** The path as the workflow names it (relative to the workflow's folder when it is inside it). */
  path: string;
  sha256: string;
  /** Whether the step's command names it (a script), or it is only one of its declared inputs. */
  role: 'script' | 'input';
}

export interface ReportInput {
  title: string;
  /**
   * The matrix axis whose values are the variants compared (compare's `variant_key`), or null when
   * nothing names one (then `variant`/`loss`, or the one axis besides seed/fold, is used).
   */
  variantKey: string | null;
  /** How each metric reads (label, direction, unit, format): built-in, declared by the workflow, or from verdicts.json. */
  metricCatalog: ReadonlyMap<string, MetricDecl>;
  /** What the dataset steps recorded about their data (name, classes, splits, licence, citation). Empty for the `report` step. */
  datasets: DatasetFacts[];
  /** The commands of the run steps that ran, and the files they read, by hash. Empty for the `report` step. */
  program: Array<{ step: string; command: string[]; files: ProgramFile[] }>;
  paper: PaperRef | null;
  /** null when neither the run record nor the verdicts say: the banner then says "scale not recorded". */
  scale: Scale | null;
  scaleNote: string | null;
  run: RunSummary | null;
  verdicts: { file: VerdictFile; source: string } | null;
  evaluations: EvaluationEntry[];
  trainings: TrainingEntry[];
  environment: EnvironmentRecord | null;
  steps: StepTiming[];
  sources: Record<string, Source>;
  /** Things the report could not show, said in the report rather than dropped silently. */
  warnings: string[];
  generatedAt: string;
  generator: string;
}

/** Axes that repeat a variant rather than name one. */
const REPEAT_AXES = new Set(['seed', 'fold', 'repeat', 'replicate', 'run']);

/**
 * The axis that names variants: compare's `variant_key` when a compare step says one; else `variant`
 * or `loss` when a matrix has it; else the one axis that is not a repeat (seed, fold). Null when none.
 */
export function resolveVariantKey(declared: string | null | undefined, matrices: Array<Record<string, unknown>>): string | null {
  if (declared) return declared;
  const axes = new Set(matrices.flatMap((m) => Object.keys(m)));
  for (const k of ['variant', 'loss']) if (axes.has(k)) return k;
  const others = [...axes].filter((k) => !REPEAT_AXES.has(k));
  return others.length === 1 ? others[0]! : null;
}

/**
 * The name of a matrix instance's variant: the value of the variant axis (a string, or an object's
 * `name`), named the way compare names it so reports and verdicts agree.
 */
export function variantOf(matrix: Record<string, unknown>, key: string | null, fallback?: string): string {
  if (key && matrix[key] !== undefined && matrix[key] !== null) return variantName(matrix[key]);
  return fallback ?? 'default';
}

/** What tells repeats of one variant apart: every matrix key but the variant's own ('seed=1,fold=0'). */
export function replicateOf(matrix: Record<string, unknown>, key: string | null): string {
  const parts = Object.keys(matrix)
    .filter((k) => k !== key)
    .sort()
    .map((k) => `${k}=${typeof matrix[k] === 'object' ? JSON.stringify(matrix[k]) : String(matrix[k])}`);
  return parts.length ? parts.join(',') : 'single';
}

/**
 * The metric declarations a report reads: the built-in ones, the workflow's (compare `metrics:`), and
 * verdicts.json's; a metric none declares reads as its values suggest (a count as an integer).
 */
export function reportCatalog(compareWith: Array<{ uses: string; with?: unknown }>, verdicts: VerdictFile | null, evaluations: readonly EvaluationEntry[] = []): Map<string, MetricDecl> {
  const catalog = planMetricCatalog(compareWith);
  for (const [name, d] of Object.entries(verdicts?.metrics ?? {})) catalog.set(name, d);
  const seen = new Map<string, number[]>();
  for (const e of evaluations) {
    for (const [name, v] of Object.entries(e.metrics)) {
      if (typeof v === 'number' && Number.isFinite(v) && name !== 'n') seen.set(name, [...(seen.get(name) ?? []), v]);
    }
  }
  for (const [name, values] of seen) {
    if ((catalog.get(name)?.origin ?? 'undeclared') === 'undeclared') catalog.set(name, undeclaredMetric(name, values));
  }
  return catalog;
}

/** The resolved `with` of a recorded step (its fingerprint components keep it). */
function recordedWith(step: StepRecord): Record<string, unknown> {
  const w = step.fingerprintComponents?.with;
  return w && typeof w === 'object' && !Array.isArray(w) ? (w as Record<string, unknown>) : {};
}

/**
 * The program of a run: each `run` step's command and the files it read, with their hashes (one entry
 * per declared step; a matrix repeats the same command). A file the command names is its script.
 */
export function programOf(record: RunRecord): ReportInput['program'] {
  const out: ReportInput['program'] = [];
  const seen = new Set<string>();
  for (const s of record.steps) {
    if (roleOf(s) !== 'command' || seen.has(s.stepId) || (s.status !== 'succeeded' && s.status !== 'cached')) continue;
    seen.add(s.stepId);
    const cmd = recordedWith(s).command;
    const command = Array.isArray(cmd) ? cmd.map(String) : typeof cmd === 'string' ? [cmd] : [];
    const files: ProgramFile[] = [];
    for (const [path, a] of Object.entries(s.inputs)) {
      if (path.startsWith('steps.') || a.type === 'value') continue; // another step's output, not the program
      const named = command.some((arg) => arg === path || arg.endsWith(`/${path}`) || basename(arg) === basename(path));
      files.push({ step: s.stepId, path, sha256: a.sha256, role: named ? 'script' : 'input' });
    }
    files.sort((a, b) => (a.role === b.role ? a.path.localeCompare(b.path) : a.role === 'script' ? -1 : 1));
    out.push({ step: s.stepId, command, files });
  }
  return out;
}

/** Reads a JSON artifact from a file, or from `<dir>/<name>` when the output is a directory. */
export function readJsonArtifact<T>(path: string, name: string): { value: T; bytes: Buffer; path: string } {
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, name) : path;
  const bytes = readFileSync(file);
  const text = bytes.toString('utf8');
  const deep = depthProblem(text);
  if (deep !== null) throw new ArtifactError(`${file}: ${deep}`);
  try {
    return { value: JSON.parse(text) as T, bytes, path: file };
  } catch (err) {
    throw new ArtifactError(`${file}: not valid JSON (${(err as Error).message})`);
  }
}

/** A recorded artifact is missing, unreadable or does not match its hash. */
export class ArtifactError extends Error {
  constructor(
    message: string,
    public readonly corrupt = false,
  ) {
    super(message);
    this.name = 'ArtifactError';
  }
}

/** Collects sources and gives each a short id ('m3'), so tables can cite them compactly. */
export class SourceBook {
  readonly sources: Record<string, Source> = {};
  private counts = new Map<string, number>();

  add(prefix: string, source: Omit<Source, 'id'>): string {
    const n = (this.counts.get(prefix) ?? 0) + 1;
    this.counts.set(prefix, n);
    const id = `${prefix}${n}`;
    this.sources[id] = { id, ...source };
    return id;
  }
}

/** A link from `fromDir` to `target` that works in a browser (forward slashes, no leading ./). */
export function relativeHref(fromDir: string, target: string): string {
  return relative(fromDir, target).split(sep).map(encodeURIComponent).join('/');
}

/** The output holding `fileName`: by output name, by file name, or a directory output that contains it. */
function findOutput(step: StepRecord, name: string, fileName: string, store: string): ArtifactRecord | undefined {
  if (step.outputs[name] && step.outputs[name].type !== 'value') return step.outputs[name];
  const outs = Object.values(step.outputs);
  return (
    outs.find((o) => o.type === 'file' && o.storePath?.endsWith(fileName)) ??
    outs.find((o) => o.type === 'dir' && o.storePath && existsSync(join(store, o.storePath, fileName)))
  );
}

export interface LoadOptions {
  /** Directory the report files will be written to: artifact links are made relative to it. */
  outDir: string;
  generator: string;
  now?: Date;
}

/**
 * Assembles the report input of a recorded run. Every JSON artifact it reads is checked against the
 * sha256 in run.json: a report must never cite a number from a file that changed after the run.
 */
export function loadRunReport(record: RunRecord, runJsonPath: string, opts: LoadOptions): ReportInput {
  const book = new SourceBook();
  const warnings: string[] = [];
  const runBytes = readFileSync(runJsonPath);
  const runSource = book.add('r', {
    label: `run record ${record.runId}`,
    sha256: sha256(runBytes),
    href: relativeHref(opts.outDir, runJsonPath),
  });

  const read = <T>(step: StepRecord, art: ArtifactRecord, fileName: string, prefix: string, what: string) => {
    const abs = join(record.store, art.storePath ?? '');
    if (!art.storePath || !existsSync(abs)) {
      warnings.push(`${what} of ${step.id}: ${art.storePath ?? '(no path)'} is not in the store (removed by gc?)`);
      return null;
    }
    const got = readJsonArtifact<T>(abs, fileName);
    const digest = sha256(got.bytes);
    if (art.type === 'file' && digest !== art.sha256) {
      throw new ArtifactError(
        `${what} of ${step.id} (${art.storePath}) has sha256 ${digest}, but run.json recorded ${art.sha256}`,
        true,
      );
    }
    const storePath = art.type === 'dir' ? `${art.storePath}/${basename(got.path)}` : art.storePath;
    const id = book.add(prefix, {
      label: `${what} of ${step.id}`,
      sha256: digest,
      storePath,
      href: relativeHref(opts.outDir, got.path),
    });
    return { value: got.value, id };
  };

  const compareStep = record.steps.find((s) => roleOf(s) === 'comparison');
  const declaredKey = compareStep ? recordedWith(compareStep).variant_key : undefined;
  // compare's default axis is `variant`; without a compare step, the matrices say.
  const variantKey = resolveVariantKey(
    typeof declaredKey === 'string' ? declaredKey : null,
    record.steps.map((s) => s.matrix ?? {}),
  );
  let verdicts: ReportInput['verdicts'] = null;
  const evaluations: EvaluationEntry[] = [];
  const trainings: TrainingEntry[] = [];
  // Steps are recognised by what they produced, not by their kind: a `run` step that writes
  // metrics.json and history.json (a script standing in for training) is reported like train+evaluate.
  for (const step of record.steps) {
    if (step.status !== 'succeeded' && step.status !== 'cached') continue;
    if (roleOf(step) === 'report') continue;
    const verdictsArt = findOutput(step, 'verdicts', 'verdicts.json', record.store);
    const got = verdictsArt && read<VerdictFile>(step, verdictsArt, 'verdicts.json', 'v', 'verdicts');
    if (got) verdicts = { file: got.value, source: got.id };
    const metricsArt = findOutput(step, 'metrics', 'metrics.json', record.store);
    const m = metricsArt && read<EvaluationMetrics>(step, metricsArt, 'metrics.json', 'm', 'metrics');
    if (m) {
      evaluations.push({
        variant: variantOf(step.matrix, variantKey),
        replicate: replicateOf(step.matrix, variantKey),
        step: step.id,
        metrics: m.value,
        source: m.id,
      });
    }
    const historyArt = findOutput(step, 'history', 'history.json', record.store);
    const h = historyArt && read<TrainingHistory>(step, historyArt, 'history.json', 'h', 'history');
    if (h) {
      trainings.push({
        variant: variantOf(step.matrix, variantKey, h.value.loss),
        replicate: replicateOf(step.matrix, variantKey),
        step: step.id,
        history: h.value,
        source: h.id,
        facts: step.facts ?? whereItRan(h.value.facts ?? {}),
        durationMs: step.durationMs ?? null,
      });
    }
  }

  if (record.status !== 'succeeded') {
    const unfinished = record.steps.filter((s) => s.status !== 'succeeded' && s.status !== 'cached').map((s) => `${s.id} (${s.status})`);
    warnings.unshift(
      `the run ${record.status === 'running' ? 'had not finished' : `was ${record.status}`} when this report was made` +
        (unfinished.length ? `; steps without results: ${unfinished.slice(0, 8).join(', ')}${unfinished.length > 8 ? ` and ${unfinished.length - 8} more` : ''}` : ''),
    );
  }
  const scale = record.scale ?? verdicts?.file.scale ?? null;
  return {
    title: record.workflow.title ?? titleOfPaper(record.workflow.paper) ?? record.workflow.name,
    variantKey,
    metricCatalog: reportCatalog(record.steps.map((s) => ({ uses: s.uses, with: recordedWith(s) })), verdicts?.file ?? null, evaluations),
    program: programOf(record),
    datasets: datasetFacts(record),
    paper: (record.workflow.paper as PaperRef | undefined) ?? null,
    scale,
    scaleNote: verdicts?.file.scaleNote ?? null,
    run: {
      runId: record.runId,
      status: record.status,
      startedAt: record.startedAt,
      finishedAt: record.finishedAt ?? null,
      durationMs: record.durationMs ?? null,
      command: record.command,
      profile: record.profile,
      git: record.git,
      workflow: { name: record.workflow.name, file: record.workflow.file, sha256: record.workflow.sha256 },
    },
    verdicts,
    evaluations,
    trainings,
    environment: record.environment ?? null,
    steps: record.steps.map((s) => ({
      step: s.id,
      uses: s.uses,
      status: s.status,
      durationMs: s.durationMs ?? null,
      facts: s.facts ?? null,
    })),
    sources: { ...book.sources, [runSource]: book.sources[runSource]! },
    warnings,
    generatedAt: (opts.now ?? new Date()).toISOString(),
    generator: opts.generator,
  };
}

function titleOfPaper(paper: unknown): string | undefined {
  const title = (paper as PaperRef | undefined)?.title;
  return title ? `Reproduction of “${title}”` : undefined;
}

/** The id of the run record's source in `input.sources`, if the input came from a run. */
export function runSourceId(input: ReportInput): string | undefined {
  return Object.values(input.sources).find((s) => s.id.startsWith('r'))?.id;
}

/**
 * A history's facts less what training chose (select_by, the calibrated α): those differ from one
 * training to the next and would split the report's "what ran where" table into one row per training.
 */
function whereItRan(facts: Record<string, string | number | boolean | null>): Record<string, string | number | boolean | null> {
  const { select_by: _selectBy, alpha: _alpha, ...rest } = facts;
  return rest;
}

/** Variants in the order they first appear, so every plot gives a variant the same colour. */
export function variantOrder(input: ReportInput): string[] {
  const seen: string[] = [];
  for (const v of [...input.evaluations.map((e) => e.variant), ...input.trainings.map((t) => t.variant)]) {
    if (!seen.includes(v)) seen.push(v);
  }
  return seen;
}

export interface DatasetFacts {
  step: string;
  name: string;
  classes: number | null;
  ordered: boolean | null;
  /** 'train 1080, val 120, test 400' */
  splits: string | null;
  sources: Array<{ path: string; sha256: string; licence: string | null }>;
  /** The data's own licence, description and citation (the workflow's declaration, or a built-in's). */
  licence: string | null;
  description: string | null;
  citation: string[];
}

/**
 * What each dataset step recorded about its data: the manifest.json of its output directory
 * (src/formats/dataset.ts: name, classes, splits, sources with sha256 and licence), else its facts.
 */
export function datasetFacts(record: RunRecord): DatasetFacts[] {
  const out: DatasetFacts[] = [];
  for (const s of record.steps.filter((x) => x.uses === 'dataset')) {
    let found = false;
    for (const a of Object.values(s.outputs)) {
      if (a.type !== 'dir' || !a.storePath) continue;
      const file = join(record.store, a.storePath, 'manifest.json');
      if (!existsSync(file)) continue;
      try {
        // Either dataset format (repro-tensors/1 or repro-images/1): only the fields they share.
        const m = JSON.parse(readFileSync(file, 'utf8')) as Partial<Pick<DatasetManifest, 'name' | 'classes' | 'ordered' | 'sources'>> &
          DatasetDescription & { splits?: DatasetManifest['splits'] | ImageListManifest['splits'] };
        const splits = m.splits
          ? Object.entries(m.splits)
              .map(([k, v]) => `${k} ${Array.isArray(v) ? v.length : (v as { shape?: number[] })?.shape?.[0] ?? '?'}`)
              .join(', ')
          : null;
        out.push({
          step: s.id,
          name: m.name ?? s.id,
          classes: Array.isArray(m.classes) ? m.classes.length : null,
          ordered: typeof m.ordered === 'boolean' ? m.ordered : null,
          splits,
          sources: (m.sources ?? []).map((x) => ({ path: x.path, sha256: x.sha256, licence: x.licence ?? m.licence ?? null })),
          licence: m.licence ?? (m.sources ?? []).find((x) => x.licence)?.licence ?? null,
          description: m.description ?? null,
          citation: Array.isArray(m.citation) ? m.citation.map(String) : [],
        });
        found = true;
      } catch {
        // An unreadable manifest: fall back to the facts below.
      }
    }
    if (!found) {
      out.push({
        step: s.id,
        name: factOf(s.facts, 'dataset', 'name') ?? s.id,
        classes: null,
        ordered: null,
        splits: null,
        sources: Object.values(s.inputs).map((a) => ({ path: a.storePath ?? '(value)', sha256: a.sha256, licence: factOf(s.facts, 'license', 'licence') })),
        licence: factOf(s.facts, 'license', 'licence'),
        description: null,
        citation: [],
      });
    }
  }
  return out;
}

/** The first of `keys` that the facts hold as a non-empty value, as text. */
export function factOf(facts: Record<string, string | number | boolean | null> | undefined, ...keys: string[]): string | null {
  for (const k of keys) {
    const v = facts?.[k];
    if (v !== undefined && v !== null && v !== '') return String(v);
  }
  return null;
}
