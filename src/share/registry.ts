// A results registry: any git repository people can push to (a hosting service, a shared folder, a
// local bare repository) collects signed submissions of what a workflow gave on each machine, and
// `repro results` pools them (docs/registry.md).
//
// Layout of the repository:
//   keys/NAME.pub.json                          the public keys the registry accepts (changed by its maintainers through review)
//   submissions/<workflow>/<sha256>.json        one submission: a DSSE envelope over an in-toto Statement whose
//                                               predicate is a Submission; <sha256> is the payload's SHA-256
// A submission carries the workflow's identity, profile and params, the environment facts, per-seed
// metrics per variant, claim verdicts, and the run's outputs (as the Statement's subjects) by sha256.
// Nothing names a person or a machine: no user or host names, no paths, no environment values.
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomic.js';
import { ReproError } from '../core/errors.js';
import { canonicalJson, sha256 } from '../core/hash.js';
import { toNullRecord } from '../core/names.js';
import { mean, normalQuantile, sd, tQuantile } from '../compare/stats.js';
import { runHardware, runMetrics, runVerdicts } from '../compare/runs.js';
import { TIMING_METRIC_NAMES } from '../formats/metrics.js';
import { roleOf, type EnvironmentRecord, type LoadedRun } from '../formats/run-record.js';
import { escapeMd } from '../core/markdown.js';
import { compileSchema } from '../workflow/schema.js';
import { checkEnvelope, IN_TOTO_PAYLOAD_TYPE, parseEnvelope, signEnvelope, STATEMENT_TYPE, type DsseEnvelope, type Statement } from './attest.js';
import { parsePublicKey, type SigningKey, type VerifyingKey } from './keys.js';

export const SUBMISSION_FORMAT = 'repro-submission/1';
export const SUBMISSION_PREDICATE_TYPE = 'https://repro.dev/predicates/submission/v1';
export const SUBMISSION_SCHEMA_URL = new URL('../../schemas/submission.schema.json', import.meta.url);
/** A submission file is refused above this size before it is parsed. */
export const MAX_SUBMISSION_BYTES = 1024 * 1024;
/** …and above this nesting of arrays and objects (counted on the text, before parsing). */
export const MAX_NESTING = 12;
const WORKFLOW_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** The predicate of a submission (schemas/submission.schema.json). */
export interface Submission {
  format: typeof SUBMISSION_FORMAT;
  workflow: { name: string; sha256: string; repository: string | null; path: string | null; commit: string | null };
  profile: string | null;
  params: Record<string, unknown>;
  run: { id: string; status: string; scale: string | null };
  /** The run record's environment facts that say what machine it was, and nothing that names it. */
  environment: Pick<EnvironmentRecord, 'os' | 'arch' | 'cpuModel' | 'cores' | 'memoryBytes' | 'node' | 'repro' | 'packages'> & {
    gpus: string[];
    /** Where the steps ran: `engine=tfjs backend=wasm device=cpu`, one per distinct combination. */
    backends: string[];
    python: { version: string; torch: string | null } | null;
  };
  /** Variant (the metrics step and its non-seed matrix values) → metric → one value per seed or fold. */
  variants: Record<string, Record<string, number[]>>;
  claims: Array<{ id: string; kind: string; metric: string | null; required: boolean; verdict: string }>;
}

// ─── making and publishing ─────────────────────────────────────────────────────────────────────

/** The submission of a run: its predicate and its subjects (every output but the report's, by sha256). */
export function submissionOf(run: LoadedRun): { submission: Submission; subjects: Statement['subject'] } {
  const { record } = run;
  if (!WORKFLOW_NAME.test(record.workflow.name)) throw new ReproError(`workflow name '${record.workflow.name}' cannot name a folder of a registry`, 'invalid');
  const variants: Submission['variants'] = {};
  for (const [label, metrics] of runMetrics(run)) variants[label] = Object.fromEntries(metrics);
  const claims: Submission['claims'] = [];
  for (const { file } of runVerdicts(run)) {
    for (const c of file.checks) {
      claims.push({ id: c.id, kind: c.kind, metric: 'metric' in c && typeof c.metric === 'string' ? c.metric : null, required: c.required === true, verdict: c.verdict });
    }
  }
  const env = record.environment;
  const source = record.workflow.source;
  const submission: Submission = {
    format: SUBMISSION_FORMAT,
    workflow: {
      name: record.workflow.name,
      sha256: record.workflow.sha256,
      // Only a repository the run was fetched from: a local folder's path would name the machine.
      repository: source?.url ?? null,
      path: source?.path ?? null,
      commit: source?.commit ?? record.git.commit ?? null,
    },
    profile: record.profile,
    params: withoutPaths(record.params) as Record<string, unknown>,
    run: { id: record.runId, status: record.status, scale: record.scale ?? null },
    environment: {
      os: env.os,
      arch: env.arch,
      cpuModel: env.cpuModel,
      cores: env.cores,
      memoryBytes: env.memoryBytes,
      node: env.node,
      repro: env.repro,
      gpus: (env.gpus ?? []).map((g) => g.name),
      backends: runHardware(run),
      python: env.python ? { version: env.python.version, torch: env.python.torch ?? null } : null,
      packages: env.packages,
    },
    variants,
    claims,
  };
  const subjects: Statement['subject'] = [];
  for (const step of record.steps) {
    if (roleOf(step) === 'report') continue; // a report names its run and time: never the same twice
    for (const [output, art] of Object.entries(step.outputs ?? {})) subjects.push({ name: `${step.id}/${output}`, digest: { sha256: art.sha256 } });
  }
  return { submission, subjects };
}

/** A param value with every absolute path replaced by '<path>': a path names a machine's layout (and often its user). */
function withoutPaths(v: unknown): unknown {
  if (typeof v === 'string') return /^(\/|~|[A-Za-z]:[\\/]|\\\\)/.test(v) ? '<path>' : v;
  if (Array.isArray(v)) return v.map(withoutPaths);
  if (v && typeof v === 'object') return toNullRecord(Object.entries(v).map(([k, x]) => [k, withoutPaths(x)] as const));
  return v;
}

/** The submission file (a DSSE envelope; unsigned when `key` is null) and its path in the registry. */
export function submissionFile(run: LoadedRun, key: SigningKey | null): { path: string; text: string; statement: Statement } {
  const { submission, subjects } = submissionOf(run);
  const statement: Statement = { _type: STATEMENT_TYPE, subject: subjects, predicateType: SUBMISSION_PREDICATE_TYPE, predicate: submission as unknown as Record<string, unknown> };
  const payload = Buffer.from(canonicalJson(statement));
  const envelope: DsseEnvelope = key ? signEnvelope(IN_TOTO_PAYLOAD_TYPE, payload, key) : { payloadType: IN_TOTO_PAYLOAD_TYPE, payload: payload.toString('base64'), signatures: [] };
  return { path: `submissions/${submission.workflow.name}/${sha256(payload)}.json`, text: JSON.stringify(envelope, null, 2) + '\n', statement };
}

/** A registry named on the command line: never empty, never read by git as an option. */
export function checkRegistryUrl(url: string): void {
  if (!url || url.startsWith('-')) throw new ReproError(`--registry ${url}: not a git URL or path`, 'invalid');
}

async function cloneRegistry(url: string): Promise<string> {
  checkRegistryUrl(url);
  const { simpleGit } = await import('simple-git');
  const dir = mkdtempSync(join(tmpdir(), 'repro-registry-'));
  try {
    await simpleGit().clone(url, dir, ['--quiet', '--no-checkout']);
    // Checked out without the repository's attributes or hooks taking part: plain files only.
    await simpleGit(dir).raw(['-c', 'core.symlinks=false', 'checkout', '--quiet', '--force', 'HEAD', '--', '.']).catch((err: unknown) => {
      // An empty repository (a registry nobody has written to yet) has no HEAD to check out.
      if (!/HEAD|did not match|unknown revision/i.test(String((err as Error)?.message))) throw err;
    });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw new ReproError(`cannot read the registry ${url}: ${String((err as Error)?.message ?? err).split('\n')[0]}`, 'step-failed', 'check the URL and your access to it');
  }
  return dir;
}

/**
 * Adds the file to the registry and pushes it (a commit by "repro publish", not by the user's git
 * identity). Returns the commit. A push that lost a race is rebased (a new file never conflicts) and retried.
 */
export async function publishSubmission(url: string, file: { path: string; text: string }): Promise<{ commit: string; already: boolean }> {
  const dir = await cloneRegistry(url);
  try {
    const { simpleGit } = await import('simple-git');
    const git = simpleGit(dir);
    const target = join(dir, file.path);
    if (existsSync(target)) return { commit: (await git.revparse(['HEAD'])).trim(), already: true };
    mkdirSync(join(target, '..'), { recursive: true });
    writeFileAtomic(target, file.text);
    await git.add([file.path]);
    await git.raw(['-c', 'user.name=repro publish', '-c', 'user.email=repro-publish@invalid', '-c', 'commit.gpgsign=false', 'commit', '--quiet', '--no-verify', '-m', `submission ${file.path}`]);
    const branch = (await git.raw(['symbolic-ref', '--short', 'HEAD'])).trim();
    for (let attempt = 1; ; attempt++) {
      try {
        await git.raw(['push', '--quiet', 'origin', `HEAD:refs/heads/${branch}`]);
        break;
      } catch (err) {
        if (attempt >= 3) throw new ReproError(`cannot push to the registry ${url}: ${String((err as Error)?.message ?? err).split('\n')[0]}`, 'step-failed', 'check that you may push to it');
        await git.raw(['-c', 'user.name=repro publish', '-c', 'user.email=repro-publish@invalid', 'pull', '--quiet', '--rebase', 'origin', branch]);
      }
    }
    return { commit: (await git.revparse(['HEAD'])).trim(), already: false };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ─── reading and checking ──────────────────────────────────────────────────────────────────────

export interface ReadSubmission {
  /** The file, relative to the registry's root. */
  file: string;
  /** accepted: signed by a registry key and valid. unverified: valid but unsigned or by a key the registry does not hold. rejected: see `reason`. */
  status: 'accepted' | 'unverified' | 'rejected';
  reason?: string;
  signer?: { keyid: string; name: string | null };
  /** The payload's sha256 (its content address), first 12 hex digits: the submission's short id. */
  id: string;
  submission?: Submission;
  subjects?: Statement['subject'];
}

/** The deepest nesting of arrays and objects in JSON text (strings skipped). */
export function jsonNesting(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) max = Math.max(max, ++depth);
    else if (c === 125 || c === 93) depth--;
  }
  return max;
}

let validator: ReturnType<typeof compileSchema> | null = null;

/** Checks one submission file's text: bounds, envelope, content address, signature, schema. Never throws. */
export function checkSubmission(file: string, bytes: Buffer, keys: VerifyingKey[]): ReadSubmission {
  const name = file.split('/').pop() ?? file;
  const base = { file, id: name.replace(/\.json$/, '').slice(0, 12) };
  const reject = (reason: string): ReadSubmission => ({ ...base, status: 'rejected', reason });
  if (bytes.length > MAX_SUBMISSION_BYTES) return reject(`larger than ${MAX_SUBMISSION_BYTES} bytes (${bytes.length})`);
  const text = bytes.toString('utf8');
  if (jsonNesting(text) > MAX_NESTING) return reject(`nested deeper than ${MAX_NESTING} levels`);
  let envelope: DsseEnvelope;
  try {
    envelope = parseEnvelope(text);
  } catch (err) {
    return reject((err as Error).message);
  }
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) return reject(`payloadType is not ${IN_TOTO_PAYLOAD_TYPE}`);
  const payload = Buffer.from(envelope.payload, 'base64');
  if (payload.length > MAX_SUBMISSION_BYTES || jsonNesting(payload.toString('utf8')) > MAX_NESTING) return reject(`its payload is larger than ${MAX_SUBMISSION_BYTES} bytes or nested deeper than ${MAX_NESTING} levels`);
  const address = sha256(payload);
  if (name !== `${address}.json`) return reject(`not at its content address (its payload's sha256 is ${address.slice(0, 12)}…)`);
  let signer: ReadSubmission['signer'];
  let unverified: string | null = null;
  if (envelope.signatures.length === 0) unverified = 'unsigned';
  else {
    const check = checkEnvelope(envelope, keys);
    if (check.state === 'invalid') return reject(`the signature by ${check.name ?? 'key'} ${check.keyid.slice(0, 16)}… does not verify: changed after signing`);
    if (check.state === 'unknown-key') unverified = `signed by key id ${check.keyids.map((k) => k.slice(0, 16)).join(', ')}…, which the registry does not hold (keys/)`;
    else signer = { keyid: check.keyid, name: check.name };
  }
  let statement: Statement;
  try {
    statement = JSON.parse(payload.toString('utf8')) as Statement;
  } catch (err) {
    return reject(`the payload is not JSON (${(err as Error).message})`);
  }
  validator ??= compileSchema(JSON.parse(readFileSync(SUBMISSION_SCHEMA_URL, 'utf8')));
  if (!validator(statement)) {
    const e = validator.errors?.[0];
    return reject(`does not match schemas/submission.schema.json: ${e ? `${e.instancePath || '/'} ${e.message}` : 'invalid'}`);
  }
  const submission = statement.predicate as unknown as Submission;
  const status = unverified ? 'unverified' : 'accepted';
  return { ...base, status, ...(unverified ? { reason: unverified } : {}), ...(signer ? { signer } : {}), submission, subjects: statement.subject };
}

/** Reads the registry's keys and every submission of `workflow`, each checked (checkSubmission). */
export async function readRegistry(url: string, workflow: string): Promise<{ keys: Array<{ name: string; keyid: string }>; submissions: ReadSubmission[]; problems: string[] }> {
  if (!WORKFLOW_NAME.test(workflow)) throw new ReproError(`'${workflow}' is not a workflow name`, 'invalid', 'name the workflow as its `name:` says, or give its file');
  const dir = await cloneRegistry(url);
  try {
    const problems: string[] = [];
    const keys: VerifyingKey[] = [];
    const keyDir = join(dir, 'keys');
    for (const f of existsSync(keyDir) ? readdirSync(keyDir).sort() : []) {
      if (!f.endsWith('.pub.json')) continue;
      // lstat: a link in a hostile registry must not make us read a file of this machine.
      if (!lstatSync(join(keyDir, f)).isFile()) {
        problems.push(`keys/${f}: not a plain file; ignored`);
        continue;
      }
      try {
        keys.push({ ...parsePublicKey(readFileSync(join(keyDir, f), 'utf8'), `keys/${f}`), name: f.slice(0, -'.pub.json'.length) });
      } catch (err) {
        problems.push(`keys/${f}: ${(err as Error).message}; ignored`);
      }
    }
    const subDir = join(dir, 'submissions', workflow);
    const submissions: ReadSubmission[] = [];
    for (const f of existsSync(subDir) ? readdirSync(subDir).sort() : []) {
      const rel = `submissions/${workflow}/${f}`;
      const st = lstatSync(join(subDir, f));
      if (!st.isFile()) submissions.push({ file: rel, id: f.slice(0, 12), status: 'rejected', reason: 'not a plain file' });
      else if (st.size > MAX_SUBMISSION_BYTES) submissions.push({ file: rel, id: f.slice(0, 12), status: 'rejected', reason: `larger than ${MAX_SUBMISSION_BYTES} bytes (${st.size})` });
      else submissions.push(checkSubmission(rel, readFileSync(join(subDir, f)), keys));
    }
    return { keys: keys.map((k) => ({ name: k.name!, keyid: k.keyid })), submissions, problems };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ─── pooling ───────────────────────────────────────────────────────────────────────────────────

export const POOLING_MODEL = 'random effects across submissions (DerSimonian–Laird), each submission weighted by 1 / (its seeds\' variance of the mean + τ²)';
export const POOLING_FALLBACK = 'mean of the submissions\' means, t interval across submissions (a submission with fewer than two seeds, or no spread across its seeds, has no variance to weight by)';

export interface PerSubmission {
  id: string;
  machine: string;
  n: number;
  mean: number;
  sd: number | null;
  outlier: boolean;
}

export interface Pooled {
  variant: string;
  metric: string;
  submissions: PerSubmission[];
  estimate: number;
  ci95: [number, number] | null;
  /** Between-submission variance (random effects); null for the fallback. */
  tau2: number | null;
  model: 'random-effects' | 'mean-of-means' | 'single';
}

export interface ClaimAgreement {
  id: string;
  verdicts: Record<string, number>;
  agree: boolean;
  machines: Array<{ id: string; machine: string; verdict: string }>;
}

export interface PoolSummary {
  workflowSha256: string;
  profile: string | null;
  submissions: Array<{ id: string; machine: string; signer: string; run: string; status: string }>;
  claims: ClaimAgreement[];
  metrics: Pooled[];
  /** Groups of submissions with bit-identical outputs (every subject), and with bit-identical per-seed metrics. */
  identical: { outputs: string[][]; metrics: string[][] };
}

export function machineOf(s: Submission): string {
  const e = s.environment;
  return [e.cpuModel, e.gpus.length ? e.gpus.join(' + ') : 'no GPU', e.backends.join('; ') || 'no ML engine'].join(' · ');
}

/** Random-effects pooling of per-submission means (see POOLING_MODEL); the fallback where variances are missing. */
export function pool(items: Array<{ mean: number; sd: number | null; n: number }>): { estimate: number; ci95: [number, number] | null; tau2: number | null; model: Pooled['model']; se: (i: number) => number | null } {
  const k = items.length;
  if (k === 1) {
    const it = items[0]!;
    const half = it.sd !== null && it.n >= 2 ? tQuantile(0.975, it.n - 1) * (it.sd / Math.sqrt(it.n)) : null;
    return { estimate: it.mean, ci95: half === null ? null : [it.mean - half, it.mean + half], tau2: null, model: 'single', se: () => null };
  }
  const v = items.map((it) => (it.sd !== null && it.n >= 2 ? it.sd ** 2 / it.n : 0));
  if (v.some((x) => !(x > 0))) {
    const means = items.map((it) => it.mean);
    const m = mean(means);
    const s = sd(means);
    const half = tQuantile(0.975, k - 1) * (s / Math.sqrt(k));
    return { estimate: m, ci95: [m - half, m + half], tau2: null, model: 'mean-of-means', se: () => (s > 0 ? s : null) };
  }
  const w = v.map((x) => 1 / x);
  const sw = w.reduce((a, b) => a + b, 0);
  const fixed = items.reduce((a, it, i) => a + w[i]! * it.mean, 0) / sw;
  const q = items.reduce((a, it, i) => a + w[i]! * (it.mean - fixed) ** 2, 0);
  const c = sw - w.reduce((a, b) => a + b * b, 0) / sw;
  const tau2 = Math.max(0, (q - (k - 1)) / c);
  const ws = v.map((x) => 1 / (x + tau2));
  const sws = ws.reduce((a, b) => a + b, 0);
  const mu = items.reduce((a, it, i) => a + ws[i]! * it.mean, 0) / sws;
  const half = normalQuantile(0.975) * Math.sqrt(1 / sws);
  return { estimate: mu, ci95: [mu - half, mu + half], tau2, model: 'random-effects', se: (i) => Math.sqrt(v[i]! + tau2) };
}

/** Pools the accepted submissions, separately per workflow version (its file's sha256) and profile. */
export function aggregate(accepted: ReadSubmission[]): PoolSummary[] {
  const pools = new Map<string, ReadSubmission[]>();
  for (const r of accepted) {
    const s = r.submission!;
    const key = `${s.workflow.sha256}\0${s.profile ?? ''}`;
    pools.set(key, [...(pools.get(key) ?? []), r]);
  }
  const out: PoolSummary[] = [];
  for (const group of pools.values()) {
    const first = group[0]!.submission!;
    const summary: PoolSummary = {
      workflowSha256: first.workflow.sha256,
      profile: first.profile,
      submissions: group.map((r) => ({ id: r.id, machine: machineOf(r.submission!), signer: r.signer?.name ?? r.signer?.keyid.slice(0, 16) ?? '', run: r.submission!.run.id, status: r.submission!.run.status })),
      claims: [],
      metrics: [],
      identical: { outputs: identicalGroups(group, (r) => canonicalJson([...r.subjects!].sort((a, b) => a.name.localeCompare(b.name)))), metrics: identicalGroups(group, (r) => canonicalJson(r.submission!.variants)) },
    };
    const claims = new Map<string, ClaimAgreement>();
    for (const r of group) {
      for (const c of r.submission!.claims) {
        const a = claims.get(c.id) ?? { id: c.id, verdicts: {}, agree: true, machines: [] };
        a.verdicts[c.verdict] = (a.verdicts[c.verdict] ?? 0) + 1;
        a.machines.push({ id: r.id, machine: machineOf(r.submission!), verdict: c.verdict });
        claims.set(c.id, a);
      }
    }
    for (const a of claims.values()) a.agree = Object.keys(a.verdicts).length === 1;
    summary.claims = [...claims.values()];

    const cells = new Map<string, Array<{ r: ReadSubmission; values: number[] }>>();
    for (const r of group) {
      for (const [variant, metrics] of Object.entries(r.submission!.variants)) {
        for (const [metric, values] of Object.entries(metrics)) {
          const key = JSON.stringify([variant, metric]);
          cells.set(key, [...(cells.get(key) ?? []), { r, values }]);
        }
      }
    }
    for (const [key, list] of [...cells].sort(([a], [b]) => a.localeCompare(b))) {
      const [variant, metric] = JSON.parse(key) as [string, string];
      // Timings measure the machine, not the result: kept in the submissions, never pooled across machines.
      if ((TIMING_METRIC_NAMES as readonly string[]).includes(metric)) continue;
      const items = list.filter((x) => x.values.length > 0).map((x) => ({ x, mean: mean(x.values), sd: x.values.length >= 2 ? sd(x.values) : null, n: x.values.length }));
      if (!items.length) continue;
      const p = pool(items);
      summary.metrics.push({
        variant,
        metric,
        estimate: p.estimate,
        ci95: p.ci95,
        tau2: p.tau2,
        model: p.model,
        // An outlier: its mean lies outside the pooled estimate ± 1.96 × its own standard error (σ_i² + τ²).
        submissions: items.map((it, i) => {
          const se = p.se(i);
          return { id: it.x.r.id, machine: machineOf(it.x.r.submission!), n: it.n, mean: it.mean, sd: it.sd, outlier: se !== null && Math.abs(it.mean - p.estimate) > normalQuantile(0.975) * se };
        }),
      });
    }
    out.push(summary);
  }
  return out;
}

function identicalGroups(group: ReadSubmission[], key: (r: ReadSubmission) => string): string[][] {
  const by = new Map<string, string[]>();
  for (const r of group) by.set(key(r), [...(by.get(key(r)) ?? []), r.id]);
  return [...by.values()];
}

// ─── rendering ─────────────────────────────────────────────────────────────────────────────────

/** Text from a submission, safe in a Markdown table that a forge renders as HTML. */
const cell = (s: string): string => escapeMd(s);
const num = (x: number) => (Number.isInteger(x) ? String(x) : x.toPrecision(4));

export function renderResultsMarkdown(workflow: string, url: string, read: { submissions: ReadSubmission[]; problems: string[] }, pools: PoolSummary[]): string {
  const L: string[] = [`## Reproductions of ${cell(workflow)}`, '', `Registry: ${cell(url)}. ${read.submissions.filter((s) => s.status === 'accepted').length} accepted, ${read.submissions.filter((s) => s.status === 'unverified').length} unverified (not pooled), ${read.submissions.filter((s) => s.status === 'rejected').length} rejected.`, ''];
  for (const p of pools) {
    L.push(`### Workflow ${p.workflowSha256.slice(0, 12)}…, profile ${cell(p.profile ?? '(default)')}`, '');
    L.push('| submission | machine (CPU · GPU · engine) | signed by | run |', '|---|---|---|---|');
    for (const s of p.submissions) L.push(`| ${s.id} | ${cell(s.machine)} | ${cell(s.signer)} | ${cell(s.run)} (${cell(s.status)}) |`);
    L.push('');
    if (p.claims.length) {
      L.push('**Claims**', '', '| claim | agreement | verdicts |', '|---|---|---|');
      for (const c of p.claims) {
        const counts = Object.entries(c.verdicts).map(([v, n]) => `${cell(v)}: ${n}`).join(', ');
        const kinds = new Set(c.machines.map((m) => m.machine)).size;
        L.push(`| ${cell(c.id)} | ${c.agree ? `all ${c.machines.length} agree` : 'disagree'} (${kinds} machine kind${kinds === 1 ? '' : 's'}) | ${counts}${c.agree ? '' : `<br>${c.machines.map((m) => `${m.id} ${cell(m.verdict)}`).join('; ')}`} |`);
      }
      L.push('');
    }
    if (p.metrics.length) {
      L.push('**Metrics across submissions**', '', '| variant | metric | pooled | 95 % CI | τ² | model | per submission (mean ± sd, n) |', '|---|---|---|---|---|---|---|');
      for (const m of p.metrics) {
        const per = m.submissions.map((s) => `${s.id}: ${num(s.mean)}${s.sd !== null ? ` ± ${num(s.sd)}` : ''} (${s.n})${s.outlier ? ' **outlier**' : ''}`).join('<br>');
        L.push(`| ${cell(m.variant)} | ${cell(m.metric)} | ${num(m.estimate)} | ${m.ci95 ? `[${num(m.ci95[0])}, ${num(m.ci95[1])}]` : '–'} | ${m.tau2 === null ? '–' : num(m.tau2)} | ${m.model} | ${per} |`);
      }
      L.push('', `Model: ${POOLING_MODEL}; where a submission has no variance, ${POOLING_FALLBACK}. Outlier: a submission mean outside the pooled estimate ± 1.96 × its standard error (with τ²).`, '');
    }
    const groups = (gs: string[][]) => gs.map((g) => g.join(' = ')).join('; ');
    L.push(`**Bit-identical**: every output: ${groups(p.identical.outputs)}. Per-seed metrics: ${groups(p.identical.metrics)}.`, '');
  }
  const others = read.submissions.filter((s) => s.status !== 'accepted');
  if (others.length) {
    L.push('### Not pooled', '', '| file | status | reason |', '|---|---|---|');
    for (const s of others) L.push(`| ${cell(s.file)} | ${s.status} | ${cell(s.reason ?? '')} |`);
    L.push('');
  }
  for (const p of read.problems) L.push(`- ${cell(p)}`);
  return L.join('\n') + '\n';
}
