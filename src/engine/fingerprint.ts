// A concrete step's fingerprint: SHA-256 of the canonical JSON of what can change its result.
// The components are kept (cache history, run.json) so `repro why` can say which one changed.
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { sha256, sha256Json } from '../core/hash.js';
import { hashInputPath, type Store } from './store.js';
import { cpuTokens, defaultJobs } from './resources.js';
import { MASK, type SecretMask } from './secrets.js';
import type { ArtifactRecord } from '../formats/run-record.js';
import type { ConcreteStep, OutputRef } from '../workflow/types.js';
import { isConcat, isOutputRef } from '../workflow/types.js';
import { type StepKind } from '../steps/kind.js';
import { StepError } from '../core/errors.js';
import type { ExecutionFacts } from '../core/facts.js';
import { quoteFor } from '../workflow/shell.js';
import { nullRecord, own, setOwn } from '../core/names.js';

export const FINGERPRINT_FORMAT = 'repro-fingerprint/1';

/** How an output reference appears in the fingerprinted `with`: which output, and its content hash. */
export interface ArtifactMarker {
  $artifact: string;
  sha256: string;
}

export interface FingerprintComponents {
  kind: string;
  kindVersion: string;
  /** Resolved `with`: references replaced by ArtifactMarkers, secret values by '***'. */
  with: unknown;
  /** The step's declared `outputs:` map (for kinds whose outputs the workflow declares). */
  outputs?: Record<string, string>;
  /** Local inputs (kind.inputPaths), path relative to the workflow dir → sha256. */
  inputs: Record<string, string>;
  env: { node: string; lockfile: string | null };
  /** kind.plannedFacts: engine, backend, device… */
  facts: ExecutionFacts;
}

export function fingerprintOf(c: FingerprintComponents): string {
  return sha256Json({ format: FINGERPRINT_FORMAT, ...c });
}

let lockfile: Buffer | null | undefined;
/**
 * repro's own lockfile (the installed library versions): package-lock.json in a checkout; in an
 * installed package (`npm pack` leaves package-lock.json out) the same bytes as npm-shrinkwrap.json,
 * which `prepack` copies in, so a checkout and an installation share cache entries.
 */
export function reproLockfile(): Buffer | null {
  if (lockfile === undefined) {
    lockfile = null;
    for (const name of ['package-lock.json', 'npm-shrinkwrap.json']) {
      try {
        lockfile = readFileSync(new URL(`../../${name}`, import.meta.url));
        break;
      } catch {
        /* try the next */
      }
    }
  }
  return lockfile;
}

let lockfileHash: string | null | undefined;
/** SHA-256 of reproLockfile(), computed once: every step's fingerprint includes it. */
export function lockfileSha256(): string | null {
  if (lockfileHash === undefined) {
    const bytes = reproLockfile();
    lockfileHash = bytes ? sha256(bytes) : null;
  }
  return lockfileHash;
}

export function envComponents(): FingerprintComponents['env'] {
  return { node: process.version, lockfile: lockfileSha256() };
}

/** Thrown while resolving a step whose upstream output is not known yet (plan/why before the upstream ran). */
export class UpstreamPending extends Error {
  constructor(public readonly step: string) {
    super(`upstream ${step} has no outputs yet`);
  }
}

export interface ResolveContext {
  workflowDir: string;
  store: Store;
  secrets: SecretMask;
  /** Outputs of finished upstream steps, by concrete id. */
  outputsOf(step: string): Record<string, ArtifactRecord> | undefined;
  options: Record<string, unknown>;
  declaredOutputs?: Record<string, string>;
  /**
   * An untrusted workflow (Plan.untrusted): every local input must lie, after symlinks, inside one
   * of `roots` (its checkout or unpacked project, and the store), else the step is refused.
   */
  confine?: { from: 'git' | 'archive'; roots: string[] };
}

export interface ResolvedStep {
  /** `with` as the kind receives it: references replaced by store paths or values. */
  with: Record<string, unknown>;
  components: FingerprintComponents;
  fingerprint: string;
  /** Everything the step reads: upstream artifacts by 'steps.X.outputs.Y', local inputs by path. */
  inputs: Record<string, ArtifactRecord>;
}

// ---- position independence -------------------------------------------------------------------
// A project copied to another folder, a second clone, a CI runner: the absolute location differs,
// the content does not. So no absolute path under the project enters a fingerprint: the workflow's
// folder, written into `with` by `${{ workflow.dir }}` / `${{ workflow.file }}`, is replaced by
// this placeholder, and a file named that way enters `inputs` by its content hash.

/** What stands for the workflow's folder in a fingerprinted `with`. */
export const WORKFLOW_DIR_TOKEN = '${{ workflow.dir }}';

const roots = new Map<string, string>();
// A git-URL workflow's checkout is a plain tree of one commit (no .git), at
// <cache>/checkouts/<url key>/<commit> (src/share/remote.ts): it counts as the repository.
const isCheckout = (d: string) => /^[0-9a-f]{40}$/.test(basename(d)) && basename(dirname(dirname(d))) === 'checkouts';
/**
 * The folder inside which paths enter fingerprints as relative paths: the git repository holding
 * the workflow (or the checkout of a git-URL workflow), or else the workflow's own folder.
 */
export function projectRoot(workflowDir: string): string {
  let root = roots.get(workflowDir);
  if (root === undefined) {
    root = workflowDir;
    for (let d = workflowDir; ; d = dirname(d)) {
      if (existsSync(resolve(d, '.git')) || isCheckout(d)) {
        root = d;
        break;
      }
      if (dirname(d) === d) break;
    }
    roots.set(workflowDir, root);
  }
  return root;
}

/** Whether absolute path `p` is `dir` or lies under it. */
export function isInside(p: string, dir: string): boolean {
  return p === dir || p.startsWith(dir.endsWith(sep) ? dir : dir + sep);
}

/**
 * A local input of an untrusted workflow that leaves its folder (an absolute path elsewhere, a `..`,
 * or a symlink in the checkout pointing out of it, also inside an input folder) is refused before
 * it is read: a shared workflow reads only its own files without --trust.
 */
function refuseOutside(abs: string, shown: string, confine: NonNullable<ResolveContext['confine']>): void {
  const roots = confine.roots.flatMap((r) => {
    try {
      return [realpathSync(r)];
    } catch {
      return [];
    }
  });
  const inside = (p: string) => roots.some((r) => isInside(p, r));
  const where = confine.from === 'git' ? "the repository's checkout" : "the archive's project";
  const refuse = (what: string): never => {
    throw new StepError(
      `input ${shown} ${what} ${where}: a workflow from ${confine.from === 'git' ? 'a remote repository' : 'an archive'} reads only its own files without --trust`,
      'read the workflow; pass --trust to let it read files elsewhere on this machine',
    );
  };
  let real: string;
  try {
    real = realpathSync(abs);
  } catch {
    if (!inside(resolve(abs))) refuse('lies outside');
    return; // a missing file inside: the kind reports it
  }
  if (!inside(real)) refuse(real === resolve(abs) ? 'lies outside' : `is a symbolic link to ${real}, outside`);
  if (!statSync(real).isDirectory()) return;
  // Folders reached through links, once each: links between two folders outside `real` would otherwise be walked forever.
  const walked = new Set<string>([real]);
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isSymbolicLink()) {
        let target: string;
        try {
          target = realpathSync(p);
        } catch {
          continue; // dangling: reads nothing
        }
        if (!inside(target)) refuse(`holds ${relative(real, p)}, a symbolic link to ${target}, outside`);
        if (statSync(target).isDirectory() && !isInside(target, real) && !walked.has(target)) {
          walked.add(target);
          walk(target);
        }
      } else if (e.isDirectory()) walk(p);
    }
  };
  walk(real);
}

/** A local input's key in `inputs`: relative to the workflow's folder when inside the project, else absolute. */
export function inputKey(abs: string, workflowDir: string): string {
  return isInside(abs, projectRoot(workflowDir)) ? relative(workflowDir, abs) || '.' : abs;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
// A path in a command line ends at white space, a quote or a shell separator.
const PATH_END = /[\s'"`;|&<>()=,:]/;

/**
 * `s` with the workflow's folder replaced by WORKFLOW_DIR_TOKEN, and the existing files inside the
 * project that it names (`${{ workflow.dir }}/gen.mjs`) as absolute paths: those enter `inputs`.
 */
export function relocate(s: string, workflowDir: string): { text: string; files: string[] } {
  if (!s.includes(workflowDir)) return { text: s, files: [] };
  // The folder itself, not a longer name that starts with it (/a/proj vs /a/project2).
  const re = new RegExp(`${escapeRegExp(workflowDir)}(?![A-Za-z0-9._~+-])`, 'g');
  const files: string[] = [];
  const root = projectRoot(workflowDir);
  for (const m of s.matchAll(re)) {
    const rest = s.slice(m.index! + workflowDir.length);
    const end = rest.search(PATH_END);
    const abs = resolve(workflowDir + (end < 0 ? rest : rest.slice(0, end)));
    if (!isInside(abs, root)) continue;
    try {
      if (statSync(abs).isFile()) files.push(abs);
    } catch {
      // not a file (yet): enters by its relative path only
    }
  }
  return { text: s.replace(re, WORKFLOW_DIR_TOKEN), files };
}

export function refName(ref: OutputRef): string {
  return `steps.${ref.$ref.step}.outputs.${ref.$ref.output}`;
}

export async function resolveStep(step: ConcreteStep, kind: StepKind<any>, rc: ResolveContext): Promise<ResolvedStep> {
  const inputs: Record<string, ArtifactRecord> = {};
  const lookup = (ref: OutputRef): { value: unknown; marker: ArtifactMarker } => {
    const outs = rc.outputsOf(ref.$ref.step);
    if (!outs) throw new UpstreamPending(ref.$ref.step);
    const rec = own<ArtifactRecord>(outs, ref.$ref.output);
    if (!rec) throw new StepError(`step ${ref.$ref.step} has no output \`${ref.$ref.output}\``);
    const name = refName(ref);
    inputs[name] = rec;
    return { value: rec.type === 'value' ? rec.value : rc.store.artifactPath(rec), marker: { $artifact: name, sha256: rec.sha256 } };
  };
  const named = new Set<string>();
  const fpString = (s: string): string => {
    const { text, files } = relocate(s, rc.workflowDir);
    for (const f of files) named.add(f);
    return rc.secrets.mask(text);
  };
  // Two walks of the same tree: what the kind gets, and what is hashed.
  const walk = (v: unknown): [unknown, unknown] => {
    if (isOutputRef(v)) {
      const { value, marker } = lookup(v);
      return [value, marker];
    }
    if (isConcat(v)) {
      const parts = v.$concat.map(walk);
      // In a command line, a value known only now is quoted for its place (src/workflow/shell.ts).
      const text = (p: [unknown, unknown], i: number): string => {
        const s = typeof p[0] === 'string' ? p[0] : JSON.stringify(p[0]);
        const piece = v.$concat[i];
        return typeof piece === 'object' && piece.$quote ? quoteFor(piece.$quote, s) : s;
      };
      return [parts.map(text).join(''), { $concat: parts.map((p) => p[1]) }];
    }
    if (typeof v === 'string') return [v, fpString(v)];
    if (Array.isArray(v)) {
      const pairs = v.map(walk);
      return [pairs.map((p) => p[0]), pairs.map((p) => p[1])];
    }
    if (v && typeof v === 'object') {
      const a: Record<string, unknown> = {};
      const b: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        // Keys are the user's: a key `__proto__` stays a key (src/core/names.ts).
        const [ka, kb] = walk(x);
        setOwn(a, k, ka);
        setOwn(b, k, kb);
      }
      return [a, b];
    }
    // A secret number/boolean (rare) is masked whole.
    if ((typeof v === 'number' || typeof v === 'boolean') && rc.secrets.mask(String(v)) !== String(v)) return [v, MASK];
    return [v, v];
  };
  const [resolvedWith, fpWith] = walk(step.with) as [Record<string, unknown>, unknown];

  const localInputs = nullRecord<string>();
  const paths = (kind.inputPaths?.(resolvedWith, rc.workflowDir) ?? [])
    .map((p) => (isAbsolute(p) ? p : resolve(rc.workflowDir, p)))
    // A path in the store is an upstream output, already in `with` by its content hash (its
    // ArtifactMarker); by its path it would tie the fingerprint to where the store is, and a second
    // clone sharing the store would re-run the step.
    .filter((p) => !isInside(p, rc.store.root));
  for (const abs of [...paths, ...[...named].sort()]) {
    const rel = inputKey(abs, rc.workflowDir);
    if (rc.confine) refuseOutside(abs, rel, rc.confine);
    if (Object.hasOwn(localInputs, rel)) continue;
    let h;
    try {
      h = await hashInputPath(abs);
    } catch (err) {
      if (err instanceof StepError) throw err;
      throw new StepError(`input ${rel} cannot be read: ${(err as Error).message}`);
    }
    localInputs[rel] = h.sha256;
    inputs[rel] = { type: h.type, sha256: h.sha256, size: h.size };
  }
  // The threads a step will get (its cpu tokens, capped by --jobs): data-parallel training splits each
  // batch across them, which changes the float sums, so a kind may put them into its planned facts.
  const threads = cpuTokens(step, defaultJobs(Number(rc.options.jobs) || undefined));
  const facts = (await kind.plannedFacts?.(resolvedWith, { ...rc.options, threads })) ?? {};
  const components: FingerprintComponents = {
    kind: kind.name,
    kindVersion: kind.version,
    with: fpWith,
    ...(rc.declaredOutputs ? { outputs: rc.declaredOutputs } : {}),
    inputs: localInputs,
    env: envComponents(),
    facts,
  };
  return { with: resolvedWith, components, fingerprint: fingerprintOf(components), inputs };
}

// ---- explaining a difference ---------------------------------------------------------------

const short = (sha: string | null | undefined) => (sha ? `${sha.slice(0, 12)}…` : 'none');

function show(v: unknown): string {
  const s = v === undefined ? 'unset' : JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}…` : s;
}

function isMarker(v: unknown): v is ArtifactMarker {
  return typeof v === 'object' && v !== null && '$artifact' in v && 'sha256' in v;
}

function diffWith(a: unknown, b: unknown, path: string[], out: string[]): void {
  if (sha256Json(a ?? null) === sha256Json(b ?? null)) return;
  const key = path.join('.');
  if (isMarker(a) && isMarker(b)) {
    if (a.$artifact !== b.$artifact) out.push(`with key \`${key}\`: input ${a.$artifact} → ${b.$artifact}`);
    else out.push(`input artifact ${b.$artifact} changed (sha256 ${short(a.sha256)} → ${short(b.sha256)})`);
    return;
  }
  const bothObjects =
    a && b && typeof a === 'object' && typeof b === 'object' && !isMarker(a) && !isMarker(b) && Array.isArray(a) === Array.isArray(b);
  if (bothObjects && (!Array.isArray(a) || (a as unknown[]).length === (b as unknown[]).length)) {
    const keys = new Set([...Object.keys(a as object), ...Object.keys(b as object)]);
    for (const k of [...keys].sort()) diffWith((a as any)[k], (b as any)[k], [...path, k], out);
    return;
  }
  if (a === undefined) out.push(`with key \`${key}\` added: ${show(b)}`);
  else if (b === undefined) out.push(`with key \`${key}\` removed (was ${show(a)})`);
  else out.push(`with key \`${key}\`: ${show(a)} → ${show(b)}`);
}

/** What changed from `prev` to `next`, one line per component; empty when nothing did. */
export function diffComponents(prev: FingerprintComponents, next: FingerprintComponents): string[] {
  const out: string[] = [];
  if (prev.kind !== next.kind) out.push(`kind ${prev.kind} → ${next.kind}`);
  else if (prev.kindVersion !== next.kindVersion) out.push(`kind ${next.kind} version ${prev.kindVersion} → ${next.kindVersion}`);
  diffWith(prev.with, next.with, [], out);
  const po = prev.outputs ?? {};
  const no = next.outputs ?? {};
  for (const k of [...new Set([...Object.keys(po), ...Object.keys(no)])].sort()) {
    if (po[k] !== no[k]) out.push(`declared output \`${k}\`: ${po[k] ?? 'unset'} → ${no[k] ?? 'unset'}`);
  }
  for (const k of [...new Set([...Object.keys(prev.inputs), ...Object.keys(next.inputs)])].sort()) {
    const a = prev.inputs[k];
    const b = next.inputs[k];
    if (a === b) continue;
    if (a === undefined) out.push(`input file ${k} added`);
    else if (b === undefined) out.push(`input file ${k} no longer used`);
    else out.push(`input file ${k} changed (sha256 ${short(a)} → ${short(b)})`);
  }
  if (prev.env.node !== next.env.node) out.push(`node ${prev.env.node} → ${next.env.node}`);
  if (prev.env.lockfile !== next.env.lockfile) {
    out.push(`package-lock.json changed (sha256 ${short(prev.env.lockfile)} → ${short(next.env.lockfile)})`);
  }
  for (const k of [...new Set([...Object.keys(prev.facts), ...Object.keys(next.facts)])].sort()) {
    if (prev.facts[k] !== next.facts[k]) out.push(`${k} ${show(prev.facts[k])} → ${show(next.facts[k])}`.replace(/"/g, ''));
  }
  if (out.length === 0 && fingerprintOf(prev) !== fingerprintOf(next)) out.push('fingerprint format changed');
  return out;
}

/** Param changes between two runs (secrets already masked in both). */
export function diffParams(prev: Record<string, unknown>, next: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const k of [...new Set([...Object.keys(prev), ...Object.keys(next)])].sort()) {
    if (sha256Json(prev[k] ?? null) !== sha256Json(next[k] ?? null)) out.push(`param \`${k}\`: ${show(prev[k])} → ${show(next[k])}`);
  }
  return out;
}
