// `fetch`: one file, pinned by SHA-256, from the first source that delivers it. See src/data/fetch.ts
// for the download itself; this kind maps `with` onto it and keeps credentials out of everything
// it writes (the workflow names environment variables; their values come through ctx.secret).
import { basename, join } from 'node:path';
import { existsSync } from 'node:fs';
import { type StepKind } from './kind.js';
// Only node built-ins at the top of this module: undici is loaded inside fetchVerified.
import { localSourcePath } from '../data/fetch.js';
import { StepError } from '../core/errors.js';

export interface FetchWith {
  sources: string[];
  sha256: string;
  filename?: string;
  auth?: { user: string; password: string };
  timeout_s?: number;
  retries?: number;
}

const ENV_VAR = '^\\$?[A-Za-z_][A-Za-z0-9_]*$';

const withSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['sources', 'sha256'],
  properties: {
    sources: {
      type: 'array',
      minItems: 1,
      items: { type: 'string', minLength: 1 },
      description: 'Where the file may be found, tried in order: https:// or http:// URLs, file: URLs, or paths relative to the workflow file (e.g. an embedded copy as the offline fallback).',
    },
    sha256: { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'The SHA-256 of the file (lowercase hex). `repro fetch --pin SOURCE` prints it.' },
    filename: { type: 'string', pattern: '^[^/\\\\]+$', description: 'Name of the stored file (default: the last path segment of the first source).' },
    auth: {
      type: 'object',
      additionalProperties: false,
      required: ['user', 'password'],
      description: 'HTTP basic auth. The values are NAMES of environment variables ($ADIENCE_USER), read at run time and never logged or recorded.',
      properties: {
        user: { type: 'string', pattern: ENV_VAR, description: 'Environment variable holding the user name, e.g. $ADIENCE_USER.' },
        password: { type: 'string', pattern: ENV_VAR, description: 'Environment variable holding the password, e.g. $ADIENCE_PASSWORD.' },
      },
    },
    timeout_s: { type: 'number', exclusiveMinimum: 0, description: 'Seconds without any data before a connection is dropped and retried (default 30). Connecting gives up after at most 10 s.' },
    retries: { type: 'integer', minimum: 0, maximum: 20, description: 'Retries per source, with exponential backoff, after failures that made no progress (default 3). A dropped connection that delivered bytes resumes with an HTTP Range request.' },
  },
} as const;

const varName = (v: string): string => v.replace(/^\$/, '');

export const fetchStep: StepKind<FetchWith> = {
  name: 'fetch',
  role: 'data',
  version: '1',
  description: 'Download one file from the first working source, verified by SHA-256 (mirrors, retries, resume, basic auth from env vars).',
  withSchema,
  outputs: ['path'],
  inputPaths(w, workflowDir) {
    // Local sources: editing the embedded copy changes the fingerprint (and then fails its checksum).
    const out: string[] = [];
    for (const s of w.sources ?? []) {
      const local = typeof s === 'string' ? localSourcePath(s, workflowDir) : null;
      if (local && existsSync(local)) out.push(local);
    }
    return out;
  },
  needsTrust(w) {
    // The credentials go to whatever server the workflow's URLs name.
    const auth = w.auth as { user?: unknown; password?: unknown } | undefined;
    return auth ? [{ path: '/auth', what: `sends your environment variables ${String(auth.user)} and ${String(auth.password)} as HTTP credentials` }] : [];
  },
  check(w) {
    const problems: Array<{ path: string; message: string }> = [];
    (w.sources ?? []).forEach((s, i) => {
      if (typeof s === 'string' && /^\w+:\/\/[^/]*@/.test(s)) {
        problems.push({ path: `sources/${i}`, message: 'credentials in a URL would be recorded: use auth: {user: $VAR, password: $VAR} instead' });
      }
      if (typeof s === 'string' && /^[a-z][a-z0-9+.-]*:\/\//i.test(s) && !/^(https?|file):/i.test(s)) {
        problems.push({ path: `sources/${i}`, message: `unsupported scheme in ${s.split(':')[0]}: (expected https, http, file or a relative path)` });
      }
    });
    return problems;
  },
  async run(ctx, w) {
    const { fetchVerified } = await import('../data/fetch.js');
    const first = w.sources[0]!;
    const filename = w.filename ?? (basename(localSourcePath(first, ctx.workflowDir) ?? new URL(first).pathname) || 'download');
    let auth: { user: string; password: string } | undefined;
    let authVars: { user: string; password: string } | undefined;
    if (w.auth) {
      authVars = { user: varName(w.auth.user), password: varName(w.auth.password) };
      const user = ctx.secret(authVars.user);
      const password = ctx.secret(authVars.password);
      if (user !== undefined && password !== undefined) auth = { user, password };
      else ctx.log(`auth: ${!user ? authVars.user : authVars.password} is not set; trying without credentials`);
    }
    const dest = join(ctx.workDir, filename);
    const outcome = await fetchVerified({
      sources: w.sources,
      baseDir: ctx.workflowDir,
      sha256: w.sha256,
      dest,
      // Keyed by the pinned hash: a later attempt of the same step resumes this download.
      partial: join(ctx.scratchDir, `${w.sha256}.part`),
      auth,
      authVars,
      timeoutMs: (w.timeout_s ?? 30) * 1000,
      retries: w.retries ?? 3,
      signal: ctx.signal,
      log: (l) => ctx.log(l),
      progress: (f, m) => ctx.progress(f, m),
    });
    if (!existsSync(dest)) throw new StepError(`fetch finished but ${dest} is missing`);
    return {
      outputs: { path: { type: 'file', path: dest } },
      summary: `${(outcome.bytes / 1e6).toFixed(1)} MB from ${outcome.source}`,
    };
  },
};
