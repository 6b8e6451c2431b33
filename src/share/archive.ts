// `repro export RUN` and `repro verify ARCHIVE`: one file that carries a run to another machine
// (an evaluator's, a reviewer's) together with a lock of every hash, so the receiver can check that
// nothing changed on the way and that the record, the workflow and the artifacts agree.
//
// Layout of <workflow>-<run-id>.repro.tar.gz:
//   repro.lock.json          the lock (ExportLock): every file's sha256, every step's fingerprint and outputs
//   repro.lock.sig.json      with `export --sign`: a DSSE envelope signing the lock's bytes (share/attest.ts)
//   run.json                 the run record, unchanged
//   workflow/<file>.yaml     the workflow file the run used
//   project/…                what `repro reproduce` needs to run it again: the workflow file, its claims
//                            files and every local file a step read (scripts, data), at their places
//                            relative to each other
//   artifacts/<step>/<name>.<ext>  the step outputs (files and directories) from the store
//   report/…                 report.html, report.md, checklist, RO-Crate, when the run has them
//   logs/…                   the per-step logs (a cached step's log is the one of the run that produced it)
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, relative, resolve } from 'node:path';
import { isInside } from '../engine/fingerprint.js';
import { tmpdir } from 'node:os';
import { sha256File } from '../core/hash.js';
import { hashInputPath, listFiles } from '../engine/store.js';
import { writeFileAtomic, writeJsonAtomic } from '../core/atomic.js';
import { ReproError } from '../core/errors.js';
import type { RunRecord } from '../formats/run-record.js';
import type { LoadedRun } from '../formats/run-record.js';
import { extractArchive } from '../data/archive.js';

export const LOCK_FORMAT = 'repro-lock/1';
/** The archive member that signs the lock; not listed in the lock (it signs it). */
export const LOCK_SIGNATURE = 'repro.lock.sig.json';

export interface ExportLock {
  format: typeof LOCK_FORMAT;
  createdAt: string;
  run: { id: string; status: RunRecord['status']; workflow: string; git: RunRecord['git'] };
  workflow: { path: string; sha256: string };
  /**
   * What re-runs it: the workflow at `workflow` inside the `project/` folder, with the profile and
   * command-line settings of the run. `outside`: inputs the run read from outside its project
   * (absolute paths), not shipped; the receiver needs them at the same place.
   */
  project?: { workflow: string; profile: string | null; set: string[]; options: string[]; outside: string[] };
  /** Differences the exporter declares acceptable when the run is reproduced (`accuracy=0.01`, `ms_per_step=50%`). */
  tolerances?: string[];
  /** Every plain file in the archive but the lock itself: path → sha256. */
  files: Record<string, string>;
  steps: Record<
    string,
    {
      fingerprint: string;
      status: string;
      outputs: Record<string, { type: 'file' | 'dir' | 'value'; sha256: string; path?: string; omitted?: string }>;
    }
  >;
}

const REPORT_FILES = ['report.html', 'report.md', 'checklist.yaml', 'checklist.md', 'ro-crate-metadata.json'];

/** Directory-safe name for a concrete step id ('train[variant=emd2,seed=1]' → 'train_variant=emd2,seed=1_'). */
function stepDirName(id: string): string {
  return id.replace(/[^A-Za-z0-9=,._-]/g, '_');
}

/** An output's name in the archive: its name plus the extension of the file the step wrote (`metrics` → `metrics.json`). */
function artifactFileName(name: string, storePath: string): string {
  const ext = extname(basename(storePath));
  return ext && !name.endsWith(ext) ? `${name}${ext}` : name;
}

/** The settings of the original command that change what runs: --profile, --set, --backend, --engine. */
export function rerunSettings(command: string[]): { set: string[]; options: string[] } {
  const set: string[] = [];
  const options: string[] = [];
  for (let i = 0; i < command.length; i++) {
    const arg = command[i]!;
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const value = () => (arg.startsWith('--') && eq > 0 ? arg.slice(eq + 1) : command[++i]);
    if (name === '--set' || name === '-s') {
      const v = value();
      if (v !== undefined) set.push(v);
    } else if (name === '--backend' || name === '--engine') {
      const v = value();
      if (v !== undefined) options.push(name, v);
    }
  }
  return { set, options };
}

/** A step's fingerprinted inputs as run.json keeps them: path (relative to the workflow, or absolute) → sha256. */
function stepInputs(step: RunRecord['steps'][number]): Record<string, string> {
  return (step.fingerprintComponents as { inputs?: Record<string, string> } | undefined)?.inputs ?? {};
}

/**
 * The local files the run read (the workflow, its claims files, scripts, data: every relative key of
 * a step's fingerprinted inputs), as paths relative to their common folder, and the absolute ones
 * that lie outside the project.
 */
function projectFiles(record: RunRecord): { base: string; files: string[]; outside: string[] } {
  const wfFile = resolve(record.workflow.file);
  const wfDir = dirname(wfFile);
  const abs = new Set<string>([wfFile]);
  const outside = new Set<string>();
  for (const step of record.steps) {
    const inputs = stepInputs(step);
    for (const key of Object.keys(inputs)) {
      if (isAbsolute(key)) outside.add(key);
      else abs.add(resolve(wfDir, key));
    }
  }
  let base = wfDir;
  for (const p of abs) while (!isInside(p, base)) base = dirname(base);
  return { base, files: [...abs].map((p) => relative(base, p)).sort(), outside: [...outside].sort() };
}

export interface ExportOptions {
  out?: string;
  /** Outputs larger than this are listed in the lock with their hash but not copied. */
  maxArtifactBytes?: number;
  /** Tolerances for `repro reproduce`, already checked (parseTolerance). */
  tolerances?: string[];
  /** Signs the lock's bytes: its result is stored as LOCK_SIGNATURE (share/attest.ts signLock). */
  signLock?: (lock: Buffer) => string;
}

export async function exportRun(run: LoadedRun, options: ExportOptions = {}): Promise<{ archive: string; lock: ExportLock }> {
  const { path: runJson, record } = run;
  const runDir = dirname(runJson);
  const maxBytes = options.maxArtifactBytes ?? 512 * 2 ** 20;
  const stage = mkdtempSync(join(tmpdir(), 'repro-export-'));
  try {
    cpSync(runJson, join(stage, 'run.json'));
    const wfFile = record.workflow.file;
    if (!existsSync(wfFile)) throw new ReproError(`the run's workflow file ${wfFile} is gone; cannot export it`, 'invalid');
    const wfRel = join('workflow', basename(wfFile));
    mkdirSync(join(stage, 'workflow'));
    cpSync(wfFile, join(stage, wfRel));

    const project = projectFiles(record);
    for (const rel of project.files) {
      const src = join(project.base, rel);
      if (!existsSync(src)) throw new ReproError(`${src}, which the run read, is gone; cannot export a run that re-runs`, 'invalid');
      mkdirSync(dirname(join(stage, 'project', rel)), { recursive: true });
      cpSync(src, join(stage, 'project', rel), { recursive: true, dereference: true });
    }

    const steps: ExportLock['steps'] = {};
    for (const step of record.steps) {
      const outputs: ExportLock['steps'][string]['outputs'] = {};
      for (const [name, art] of Object.entries(step.outputs ?? {})) {
        if (art.type === 'value' || !art.storePath) {
          outputs[name] = { type: art.type, sha256: art.sha256 };
          continue;
        }
        const src = join(record.store, art.storePath);
        const rel = join('artifacts', stepDirName(step.id), artifactFileName(name, art.storePath));
        if (!existsSync(src)) {
          outputs[name] = { type: art.type, sha256: art.sha256, omitted: 'missing from the store' };
        } else if ((art.size ?? 0) > maxBytes) {
          outputs[name] = { type: art.type, sha256: art.sha256, omitted: `larger than ${maxBytes} bytes` };
        } else {
          mkdirSync(dirname(join(stage, rel)), { recursive: true });
          cpSync(src, join(stage, rel), { recursive: true, dereference: true });
          outputs[name] = { type: art.type, sha256: art.sha256, path: rel };
        }
      }
      steps[step.id] = { fingerprint: step.fingerprint, status: step.status, outputs };
    }
    for (const f of REPORT_FILES) {
      if (existsSync(join(runDir, f))) {
        mkdirSync(join(stage, 'report'), { recursive: true });
        cpSync(join(runDir, f), join(stage, 'report', f));
      }
    }
    if (existsSync(join(runDir, 'logs'))) cpSync(join(runDir, 'logs'), join(stage, 'logs'), { recursive: true });

    const files: Record<string, string> = {};
    for (const rel of listFiles(stage)) files[rel] = await sha256File(join(stage, rel));
    const lock: ExportLock = {
      format: LOCK_FORMAT,
      createdAt: new Date().toISOString(),
      run: { id: record.runId, status: record.status, workflow: record.workflow.name, git: record.git },
      workflow: { path: wfRel, sha256: record.workflow.sha256 },
      project: {
        workflow: relative(project.base, resolve(wfFile)),
        profile: record.profile,
        ...rerunSettings(record.command ?? []),
        outside: project.outside,
      },
      ...(options.tolerances?.length ? { tolerances: options.tolerances } : {}),
      files,
      steps,
    };
    writeJsonAtomic(join(stage, 'repro.lock.json'), lock);
    if (options.signLock) writeFileAtomic(join(stage, LOCK_SIGNATURE), options.signLock(readFileSync(join(stage, 'repro.lock.json'))));

    const archive = resolve(options.out ?? `${record.workflow.name}-${record.runId}.repro.tar.gz`);
    const tar = await import('tar');
    const tmp = `${archive}.${process.pid}.tmp`;
    try {
      await tar.create({ gzip: true, file: tmp, cwd: stage, portable: true }, readdirSync(stage).sort());
      renameSync(tmp, archive);
    } finally {
      rmSync(tmp, { force: true });
    }
    return { archive, lock };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

export interface ArchiveProblem {
  /** `outside`: a path in the lock or the record that leaves the archive; it is never opened. */
  kind: 'corrupted' | 'missing' | 'mismatch' | 'unlisted' | 'outside';
  path: string;
  detail: string;
}

export interface ArchiveCheck {
  lock: ExportLock;
  /** The archive's run.json, as parsed for the check. */
  record: RunRecord;
  problems: ArchiveProblem[];
  checked: number;
}

/**
 * Where `rel` (a path the lock or the record names, relative to `base` inside the extracted archive)
 * lies, when it stays inside `root`; null when it leaves it (absolute, `..`, or through a link).
 * Nothing outside the archive is ever opened: a hostile lock cannot make verify hash /etc/hostname.
 */
function insideArchive(root: string, base: string, rel: unknown): string | null {
  if (typeof rel !== 'string' || rel === '' || rel.includes('\0') || isAbsolute(rel)) return null;
  const p = resolve(base, rel);
  if (!isInside(p, root)) return null;
  try {
    // Extraction refuses escaping links; this holds even if a link were let through.
    return isInside(realpathSync(p), realpathSync(root)) ? p : null;
  } catch {
    return p; // absent: reported as missing by the caller, nothing to open
  }
}

const outside = (path: string, what: string): ArchiveProblem => ({ kind: 'outside', path, detail: `${what} leaves the archive; not opened` });

/** Extracts the archive into `dir` and checks it: every hash in the lock against the bytes, and the record against the lock; the caller removes `dir`. */
export async function openArchive(archive: string, dir: string): Promise<ArchiveCheck> {
  await extractArchive(archive, dir); // refuses absolute paths, '..' and escaping links
  const lockPath = join(dir, 'repro.lock.json');
  if (!existsSync(lockPath)) throw new Error(`${archive} has no repro.lock.json: not an archive written by \`repro export\``);
  const lock = JSON.parse(readFileSync(lockPath, 'utf8')) as ExportLock;
  if (lock?.format !== LOCK_FORMAT) throw new Error(`${archive}: unknown lock format ${String(lock?.format)}`);
  if (!lock.files || typeof lock.files !== 'object' || !lock.steps || typeof lock.steps !== 'object' || !lock.workflow || !lock.run) {
    throw new Error(`${archive}: the lock lacks files, steps, workflow or run`);
  }
  const problems: ArchiveProblem[] = [];
  let checked = 0;

  const present = new Set(listFiles(dir).filter((f) => f !== 'repro.lock.json' && f !== LOCK_SIGNATURE));
  for (const [rel, sha] of Object.entries(lock.files)) {
    checked++;
    const p = insideArchive(dir, dir, rel);
    if (!p) {
      problems.push(outside(rel, 'a file of the lock'));
      continue;
    }
    const key = relative(dir, p);
    if (!present.has(key)) {
      problems.push({ kind: 'missing', path: rel, detail: 'listed in the lock, absent from the archive' });
      continue;
    }
    present.delete(key);
    const actual = await sha256File(p);
    if (actual !== sha) problems.push({ kind: 'corrupted', path: rel, detail: `sha256 ${actual.slice(0, 12)}…, lock says ${String(sha).slice(0, 12)}…` });
  }
  for (const rel of present) problems.push({ kind: 'unlisted', path: rel, detail: 'in the archive but not in the lock' });

  // The workflow the record names is the one shipped.
  const wf = insideArchive(dir, dir, lock.workflow.path);
  if (!wf) problems.push(outside(String(lock.workflow.path), "the lock's workflow"));
  else if (existsSync(wf)) {
    const actual = await sha256File(wf);
    if (actual !== lock.workflow.sha256) {
      problems.push({ kind: 'mismatch', path: lock.workflow.path, detail: `sha256 ${actual.slice(0, 12)}… differs from the run record's ${String(lock.workflow.sha256).slice(0, 12)}…` });
    }
  }
  // Artifacts hash to what the run recorded (a directory as its tree manifest, like the store).
  if (!existsSync(join(dir, 'run.json'))) throw new Error(`${archive} has no run.json`);
  const record = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as RunRecord;
  if (!Array.isArray(record?.steps)) throw new Error(`${archive}: run.json has no steps`);
  for (const step of record.steps) {
    const locked = Object.hasOwn(lock.steps, step.id) ? lock.steps[step.id] : undefined;
    for (const [name, art] of Object.entries(step.outputs ?? {})) {
      const l = locked?.outputs && Object.hasOwn(locked.outputs, name) ? locked.outputs[name] : undefined;
      const label = `${step.id} → ${name}`;
      if (!l || l.sha256 !== art.sha256) {
        problems.push({ kind: 'mismatch', path: label, detail: 'the run record and the lock disagree on this output' });
        continue;
      }
      if (l.path === undefined) continue;
      const p = insideArchive(dir, dir, l.path);
      if (!p) {
        problems.push(outside(String(l.path), `the shipped output ${label}`));
        continue;
      }
      checked++;
      if (!existsSync(p)) {
        problems.push({ kind: 'missing', path: l.path, detail: `${label}: absent from the archive` });
        continue;
      }
      const actual = await hashInputPath(p);
      if (actual.sha256 !== art.sha256) problems.push({ kind: 'corrupted', path: l.path, detail: `${label}: content does not hash to the recorded ${art.sha256.slice(0, 12)}…` });
    }
  }
  // The shipped project files are the ones the steps read (their hashes are in the fingerprints).
  if (lock.project) {
    const projectDir = join(dir, 'project');
    const wfFile = insideArchive(projectDir, projectDir, lock.project.workflow);
    if (!wfFile) {
      problems.push(outside(String(lock.project.workflow), "the project's workflow"));
      return { lock, record, problems, checked };
    }
    if (!existsSync(wfFile)) problems.push({ kind: 'missing', path: `project/${lock.project.workflow}`, detail: "the project's workflow is absent from the archive" });
    const wfDir = dirname(wfFile);
    const seen = new Set<string>();
    for (const step of record.steps) {
      const inputs = stepInputs(step);
      for (const [key, sha] of Object.entries(inputs)) {
        if (isAbsolute(key) || seen.has(key)) continue;
        seen.add(key);
        const p = insideArchive(projectDir, wfDir, key);
        if (!p) {
          problems.push(outside(`project input ${key}`, `read by ${step.id}, it`));
          continue;
        }
        if (!existsSync(p)) {
          problems.push({ kind: 'missing', path: `project input ${key}`, detail: `read by ${step.id}, absent from project/` });
          continue;
        }
        checked++;
        if ((await hashInputPath(p)).sha256 !== sha) problems.push({ kind: 'mismatch', path: `project input ${key}`, detail: `differs from what ${step.id} read` });
      }
    }
  }
  return { lock, record, problems, checked };
}
