// Checksummed download: try each source in order (https/http URLs, file: URLs, paths relative to
// the workflow), stream the bytes through SHA-256 into a partial file, and keep the file only when
// the hash matches. HTTP goes through undici with short connect timeouts (an offline machine
// must fall through to the next source at once), retries with backoff, and Range resume.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, renameSync, rmSync, statSync, copyFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { StepError } from '../core/errors.js';

export interface FetchAuth {
  user: string;
  password: string;
}

export interface FetchOptions {
  /** Sources as written in the workflow, tried in order. */
  sources: string[];
  /** Directory that relative sources resolve against. */
  baseDir: string;
  /** Expected hex SHA-256; null accepts any content (used by `repro fetch --pin`). */
  sha256: string | null;
  /** Final path of the verified file. */
  dest: string;
  /** Where an HTTP download accumulates; it survives a killed run so the next one resumes with Range. */
  partial: string;
  /** Credential values (sent only to http(s) sources, never to another host after a redirect). */
  auth?: FetchAuth;
  /** Names of the variables holding them, for hints. Never the values. */
  authVars?: { user: string; password: string };
  /** Inactivity timeout: a connection that sends nothing for this long is dropped and retried. */
  timeoutMs?: number;
  /** Retries per source after a failure that made no progress. */
  retries?: number;
  /** First backoff delay, doubled on each retry. */
  backoffMs?: number;
  signal?: AbortSignal;
  log?(line: string): void;
  progress?(fraction: number | null, message: string): void;
}

export interface FetchOutcome {
  /** The source that delivered (credentials in a URL are never shown). */
  source: string;
  sha256: string;
  bytes: number;
  /** Bytes that were not downloaded again thanks to Range resume. */
  resumedBytes: number;
}

/** A source-level failure: the next source is tried; `hint` may end up under the final error. */
class SourceFailure extends Error {
  constructor(message: string, readonly hint?: string) {
    super(message);
  }
}

/** A failure worth retrying on the same source (dropped connection, 5xx, timeout). */
class Transient extends Error {}

const CONNECT_TIMEOUT_MS = 10_000;
// Errors that mean "this host is not reachable from here": retrying only wastes time offline.
const UNREACHABLE = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ENETUNREACH', 'EHOSTUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

export function isHttpSource(source: string): boolean {
  return /^https?:\/\//i.test(source);
}

/** The local path of a file: URL or relative/absolute path source; null for http(s). */
export function localSourcePath(source: string, baseDir: string): string | null {
  if (isHttpSource(source)) return null;
  if (/^file:/i.test(source)) return fileURLToPath(source);
  return isAbsolute(source) ? source : resolve(baseDir, source);
}

/** A source as it may be shown: user:password@ in a URL is masked. */
export function displaySource(source: string): string {
  return source.replace(/^(\w+:\/\/)[^/@]*@/, '$1***@');
}

export async function fetchVerified(opts: FetchOptions): Promise<FetchOutcome> {
  if (opts.sources.length === 0) throw new StepError('fetch: no sources given');
  mkdirSync(dirname(opts.dest), { recursive: true });
  const failures: Array<{ source: string; message: string; hint?: string }> = [];
  const { Agent } = await import('undici');
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const agent = new Agent({
    connect: { timeout: Math.min(CONNECT_TIMEOUT_MS, timeoutMs) },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  try {
    for (const source of opts.sources) {
      opts.signal?.throwIfAborted();
      try {
        const local = localSourcePath(source, opts.baseDir);
        const outcome = local ? await copyLocal(local, source, opts) : await downloadHttp(source, opts, agent);
        opts.log?.(`fetched ${displaySource(source)}: ${outcome.bytes} bytes, sha256 ${outcome.sha256}${outcome.resumedBytes ? ` (resumed after ${outcome.resumedBytes} bytes)` : ''}`);
        return outcome;
      } catch (err) {
        if (!(err instanceof SourceFailure)) throw err;
        opts.log?.(`source failed: ${displaySource(source)}: ${err.message}`);
        failures.push({ source: displaySource(source), message: err.message, hint: err.hint });
      }
    }
  } finally {
    await agent.close().catch(() => undefined);
  }
  const hints = [...new Set(failures.map((f) => f.hint).filter((h): h is string => !!h))];
  if (failures.length === 1) {
    throw new StepError(`could not fetch ${failures[0]!.source}: ${failures[0]!.message}`, hints.join('\n') || undefined);
  }
  throw new StepError(
    `could not fetch from any of ${failures.length} sources:\n${failures.map((f) => `  - ${f.source}: ${f.message}`).join('\n')}`,
    hints.join('\n') || 'check the URLs, or add a local copy as a further source',
  );
}

function mismatch(expected: string, actual: string): SourceFailure {
  return new SourceFailure(`checksum mismatch: expected sha256 ${expected}, got ${actual}`,
    'the file differs from the one the workflow pins: a changed mirror, a login page or a truncated file; nothing was stored');
}

async function copyLocal(path: string, source: string, opts: FetchOptions): Promise<FetchOutcome> {
  if (!existsSync(path) || !statSync(path).isFile()) throw new SourceFailure(`${path} does not exist or is not a file`);
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * 1024 * 1024 })) hash.update(chunk as Buffer);
  const actual = hash.digest('hex');
  if (opts.sha256 && actual !== opts.sha256) throw mismatch(opts.sha256, actual);
  // Hash first, copy after: a mismatching file is never written anywhere. The copy goes through
  // a temporary name so the destination is either absent or complete.
  const tmp = `${opts.dest}.part`;
  copyFileSync(path, tmp);
  renameSync(tmp, opts.dest);
  return { source: displaySource(source), sha256: actual, bytes: statSync(opts.dest).size, resumedBytes: 0 };
}

interface Progress {
  hash: Hash;
  bytes: number;
}

async function seedFromPartial(partial: string): Promise<Progress> {
  const hash = createHash('sha256');
  let bytes = 0;
  if (existsSync(partial)) {
    for await (const chunk of createReadStream(partial, { highWaterMark: 4 * 1024 * 1024 })) {
      hash.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
  }
  return { hash, bytes };
}

async function downloadHttp(url: string, opts: FetchOptions, agent: import('undici').Agent): Promise<FetchOutcome> {
  mkdirSync(dirname(opts.partial), { recursive: true });
  const retries = opts.retries ?? 3;
  const backoffMs = opts.backoffMs ?? 500;
  // A partial file left by an earlier, killed attempt: its bytes are trusted only until the
  // final hash says otherwise, and then the download restarts from zero once.
  let state = await seedFromPartial(opts.partial);
  let resumedBytes = 0;
  let freshRestart = state.bytes === 0;
  let failures = 0;
  const meter = progressMeter(opts, state.bytes);
  for (;;) {
    opts.signal?.throwIfAborted();
    const before = state.bytes;
    try {
      const total = await httpAttempt(url, opts, agent, state, meter);
      if (total !== null && state.bytes !== total) throw new Transient(`connection closed after ${state.bytes} of ${total} bytes`);
      const actual = state.hash.digest('hex');
      if (opts.sha256 && actual !== opts.sha256) {
        rmSync(opts.partial, { force: true });
        if (!freshRestart) {
          opts.log?.(`the partial download from an earlier attempt did not verify; starting ${displaySource(url)} again from zero`);
          state = { hash: createHash('sha256'), bytes: 0 };
          freshRestart = true;
          resumedBytes = 0;
          continue;
        }
        throw mismatch(opts.sha256, actual);
      }
      renameSync(opts.partial, opts.dest);
      return { source: displaySource(url), sha256: actual, bytes: state.bytes, resumedBytes };
    } catch (err) {
      if (err instanceof SourceFailure) throw err;
      if (opts.signal?.aborted) throw err;
      const reason = err instanceof Transient ? err.message : describeNetworkError(err);
      const code = (err as { code?: string }).code;
      if (code && UNREACHABLE.has(code)) throw new SourceFailure(`unreachable (${reason})`);
      if (state.bytes > before) {
        // Progress was made: resume with Range at once, and the retry budget starts over.
        resumedBytes = state.bytes;
        failures = 0;
        opts.log?.(`${displaySource(url)}: ${reason}; resuming at byte ${state.bytes}`);
        continue;
      }
      failures++;
      if (failures > retries) throw new SourceFailure(`${reason} (gave up after ${retries} retries)`);
      const delay = backoffMs * 2 ** (failures - 1);
      opts.log?.(`${displaySource(url)}: ${reason}; retry ${failures}/${retries} in ${delay} ms`);
      await sleep(delay, undefined, { signal: opts.signal });
    }
  }
}

function describeNetworkError(err: unknown): string {
  const e = err as { code?: string; message?: string };
  return e.code ? `${e.code}: ${e.message}` : String(e.message ?? err);
}

/**
 * One GET (following redirects), appending the body to the partial file and the hash.
 * Returns the total size when the server said it, else null.
 */
async function httpAttempt(
  url: string,
  opts: FetchOptions,
  agent: import('undici').Agent,
  state: Progress,
  meter: (bytes: number, total: number | null) => void,
): Promise<number | null> {
  const { request } = await import('undici');
  let target = new URL(url);
  const origin = target.origin;
  for (let redirects = 0; ; redirects++) {
    const headers: Record<string, string> = { 'user-agent': 'repro-fetch/1', 'accept-encoding': 'identity' };
    if (state.bytes > 0) headers.range = `bytes=${state.bytes}-`;
    // Credentials go only to the origin the workflow named, never to a host a redirect picks.
    if (opts.auth && target.origin === origin) {
      headers.authorization = `Basic ${Buffer.from(`${opts.auth.user}:${opts.auth.password}`).toString('base64')}`;
    }
    const res = await request(target, { method: 'GET', headers, dispatcher: agent, signal: opts.signal });
    const status = res.statusCode;
    if ([301, 302, 303, 307, 308].includes(status) && res.headers.location) {
      await res.body.dump();
      if (redirects >= 5) throw new SourceFailure('too many redirects');
      target = new URL(String(res.headers.location), target);
      continue;
    }
    if (status === 401 || status === 403) {
      await res.body.dump();
      throw new SourceFailure(`HTTP ${status} ${status === 401 ? 'Unauthorized' : 'Forbidden'}`, authHint(opts));
    }
    if (status === 416 && state.bytes > 0) {
      // The partial file is as long as (or longer than) the resource: start over.
      await res.body.dump();
      rmSync(opts.partial, { force: true });
      state.hash = createHash('sha256');
      state.bytes = 0;
      throw new Transient('range not satisfiable; restarting from zero');
    }
    if (status === 429 || status >= 500) {
      await res.body.dump();
      throw new Transient(`HTTP ${status}`);
    }
    if (status !== 200 && status !== 206) {
      await res.body.dump();
      throw new SourceFailure(`HTTP ${status}`);
    }
    const length = Number(res.headers['content-length'] ?? NaN);
    let start = 0;
    if (status === 206) {
      const m = /^bytes (\d+)-\d+\/(\d+|\*)/.exec(String(res.headers['content-range'] ?? ''));
      start = m ? Number(m[1]) : -1;
    }
    if (status === 200 || start !== state.bytes) {
      // The server ignored our Range (or answered another one): take the whole body afresh.
      const asked = state.bytes;
      if (state.bytes > 0) {
        rmSync(opts.partial, { force: true });
        state.hash = createHash('sha256');
        state.bytes = 0;
      }
      if (status === 206 && start !== 0) {
        await res.body.dump();
        throw new Transient(`server answered a range from byte ${start}, not ${asked}; restarting from zero`);
      }
    }
    const total = Number.isFinite(length) ? state.bytes + length : null;
    const file = await open(opts.partial, state.bytes > 0 ? 'a' : 'w');
    // Chunks arrive at ~64 KiB; writing them in batches of a few MiB is several times faster.
    // state.bytes counts only bytes on disk, so a resume never skips what was still pending.
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const flush = async () => {
      if (!pendingBytes) return;
      const batch = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
      await file.write(batch);
      state.hash.update(batch);
      state.bytes += batch.length;
      meter(state.bytes, total);
    };
    try {
      for await (const chunk of res.body) {
        pending.push(chunk as Buffer);
        pendingBytes += (chunk as Buffer).length;
        if (pendingBytes >= 4 * 1024 * 1024) await flush();
      }
    } finally {
      // Keep what did arrive (also when the connection dropped): it is what Range resumes from.
      await flush().finally(() => file.close());
    }
    return total;
  }
}

function authHint(opts: FetchOptions): string {
  if (!opts.authVars) {
    return 'the server wants credentials: add auth: {user: $USER_VAR, password: $PASSWORD_VAR} to the step and set those environment variables';
  }
  const { user, password } = opts.authVars;
  return opts.auth
    ? `the credentials in $${user} / $${password} were refused: check their values`
    : `set the environment variables ${user} and ${password} to your credentials (they are read at run time and never recorded)`;
}

/** Throttled progress: bytes, rate and ETA, at most every 250 ms. */
function progressMeter(opts: FetchOptions, startBytes: number): (bytes: number, total: number | null) => void {
  const started = Date.now();
  let last = 0;
  return (bytes, total) => {
    const now = Date.now();
    if (!opts.progress || (now - last < 250 && bytes !== total)) return;
    last = now;
    const seconds = Math.max((now - started) / 1000, 1e-3);
    // Bytes resumed from an earlier attempt are not part of this attempt's rate.
    const rate = Math.max(bytes - startBytes, 0) / seconds;
    const eta = total && rate > 0 ? Math.ceil((total - bytes) / rate) : null;
    const mb = (n: number) => (n / 1e6).toFixed(1);
    opts.progress(total ? bytes / total : null,
      `${mb(bytes)}${total ? `/${mb(total)}` : ''} MB, ${mb(rate)} MB/s${eta !== null ? `, ETA ${eta}s` : ''}`);
  };
}
