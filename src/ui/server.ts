// `repro ui`'s HTTP server (node:http, no framework): loopback only, a random port unless one is
// given, and a random token as the first path segment of every URL (http://127.0.0.1:PORT/TOKEN/),
// so relative links keep it and a request without it gets 403. Read-only: GET and HEAD. Files are
// served only from under the folder given, after resolving links; a Host header other than the
// loopback address is refused (DNS rebinding). Every response forbids scripts from elsewhere; files
// from runs (report.html, logs, artifacts) are served sandboxed, with no script at all.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createReadStream, existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, relative, sep } from 'node:path';
import { createRequire } from 'node:module';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { StepRecord } from '../formats/run-record.js';
import { RunIndex } from './runs.js';
import { CSS, esc, page, type PageContext } from './html.js';
import { CLIENT_JS } from './client.js';
import { listPage, progressText } from './list-page.js';
import { runPage } from './run-page.js';
import { comparePage } from './compare-page.js';
import { driftPage, driftWorkflow } from './drift-page.js';
import { registryCache, type RegistrySource } from './registry.js';
import { loadRunReport, renderHtml, GENERATOR } from '../report/index.js';

export interface UiOptions {
  /** The folder served: its results/ (or itself, when it holds workflow folders) and the files under it. */
  dir: string;
  /** 0 or absent: a free port chosen by the system. */
  port?: number;
  /** Absent: 24 random bytes, hex. */
  token?: string;
  /** A results registry whose accepted submissions the across-runs page draws beside the local runs. */
  registry?: RegistrySource;
  /** The metrics a step's kind declares as measurements of the machine: the compare page marks them informative, as `repro diff` does. */
  measuredIn?: (step: StepRecord) => readonly string[];
}

export interface UiServer {
  url: string;
  server: Server;
  index: RunIndex;
  /** Resolves once every run's metrics and verdicts are read (started right after listening). */
  warmed: Promise<void>;
  close(): Promise<void>;
}

const HOST = '127.0.0.1';

/** Our pages: scripts only from this server (vega compiles expressions, hence 'unsafe-eval'). */
const PAGE_CSP =
  "default-src 'none'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'self'";
/** Files from runs: a sandbox without scripts; styles and pictures of the report itself only. */
const FILE_CSP = "sandbox allow-same-origin; default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'self'";

const TEXT_TYPES = new Set(['.json', '.md', '.yaml', '.yml', '.log', '.txt', '.csv', '.tsv', '.py', '.sh', '.svg', '.out', '.err']);
const IMAGE_TYPES: Record<string, string> = { '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif' };

/** vega and vega-lite's browser builds, from the installed packages: nothing is fetched from a CDN. */
function vendorAssets(): Record<string, string> {
  const require = createRequire(import.meta.url);
  const build = (pkg: string) => dirname(require.resolve(pkg));
  return {
    'vega.min.js': join(build('vega'), 'vega.min.js'),
    'vega-lite.min.js': join(build('vega-lite'), 'vega-lite.min.js'),
  };
}

/** The headers every response carries, pages and files alike. */
function guardHeaders(csp: string): Record<string, string> {
  return { 'content-security-policy': csp, 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'cache-control': 'no-store' };
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer, csp = PAGE_CSP): void {
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    ...guardHeaders(csp),
    'cross-origin-resource-policy': 'same-origin',
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

function notFound(res: ServerResponse, ctx: PageContext, what: string): void {
  send(res, 404, 'text/html; charset=utf-8', page(ctx, 'Not found', `<h1>Not found</h1><p>${esc(what)}</p><p><a href="${ctx.base}">all runs</a></p>`));
}

function sameToken(given: string, token: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Path segments after the token, each decoded; null for one that could climb out ('..', a slash, a NUL). */
function segmentsOf(pathname: string): string[] | null {
  const out: string[] = [];
  for (const raw of pathname.split('/').filter((s) => s !== '')) {
    let s: string;
    try {
      s = decodeURIComponent(raw);
    } catch {
      return null;
    }
    if (s === '.' || s === '..' || /[/\\\0]/.test(s)) return null;
    out.push(s);
  }
  return out;
}

export async function startUi(opts: UiOptions): Promise<UiServer> {
  const root = realpathSync(opts.dir);
  const token = opts.token ?? randomBytes(24).toString('hex');
  const ctx: PageContext = { base: `/${token}/`, root };
  const index = new RunIndex(root);
  index.refresh();
  const vendor = vendorAssets();
  const assets = new Map<string, { type: string; body: () => Buffer }>([
    ['ui.css', { type: 'text/css; charset=utf-8', body: () => Buffer.from(CSS) }],
    ['ui.js', { type: 'text/javascript; charset=utf-8', body: () => Buffer.from(CLIENT_JS) }],
    ...Object.entries(vendor).map(([name, path]) => [name, { type: 'text/javascript; charset=utf-8', body: () => readFileSync(path) }] as const),
  ]);
  const assetCache = new Map<string, Buffer>();
  const reportCache = new Map<string, { mtimeMs: number; html: string }>();
  const registry = opts.registry ? registryCache(opts.registry) : null;
  let port = 0;

  /** report.html of a run that has none (--no-report, or still running): rendered by src/report, kept until run.json changes. */
  async function renderedReport(runDir: string): Promise<string | null> {
    const runJson = join(runDir, 'run.json');
    if (!existsSync(runJson)) return null;
    const key = relative(index.resultsDir, runDir).split(sep).join('/');
    if (!index.get(key)) index.refresh(); // a run that started since the last page
    const run = index.get(key);
    if (!run) return null;
    const hit = reportCache.get(runDir);
    if (hit && hit.mtimeMs === run.mtimeMs) return hit.html;
    const { record } = index.load(run);
    const html = await renderHtml(loadRunReport(record, runJson, { outDir: runDir, generator: GENERATOR }));
    reportCache.set(runDir, { mtimeMs: run.mtimeMs, html });
    return html;
  }

  async function serveFile(res: ServerResponse, segs: string[]): Promise<void> {
    const abs = join(root, ...segs);
    let real: string | null = null;
    try {
      real = realpathSync(abs);
    } catch {
      /* not there: maybe a report to render */
    }
    if (real === null) {
      const html = basename(abs) === 'report.html' ? await renderedReport(dirname(abs)) : null;
      if (html === null) return notFound(res, ctx, `no file ${segs.join('/')}`);
      return send(res, 200, 'text/html; charset=utf-8', html, FILE_CSP);
    }
    if (real !== root && !real.startsWith(root + sep)) {
      return send(res, 403, 'text/plain; charset=utf-8', 'outside the folder served\n');
    }
    const st = statSync(real);
    if (!st.isFile()) return notFound(res, ctx, `${segs.join('/')} is not a file`);
    const ext = extname(real).toLowerCase();
    const type = ext === '.html' ? 'text/html; charset=utf-8' : TEXT_TYPES.has(ext) ? 'text/plain; charset=utf-8' : (IMAGE_TYPES[ext] ?? 'application/octet-stream');
    res.writeHead(200, {
      'content-type': type,
      'content-length': st.size,
      ...guardHeaders(FILE_CSP),
      ...(type === 'application/octet-stream' ? { 'content-disposition': 'attachment' } : {}),
    });
    if (res.req.method === 'HEAD') return void res.end();
    createReadStream(real).pipe(res);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const host = req.headers.host ?? '';
    if (host !== `${HOST}:${port}` && host !== `localhost:${port}`) return send(res, 403, 'text/plain; charset=utf-8', 'forbidden: not a loopback host\n');
    const url = new URL(req.url ?? '/', `http://${HOST}:${port}`);
    const [first, ...rest] = url.pathname.split('/').filter((s, i) => i > 0 || s !== '');
    if (!first || !sameToken(first, token)) return send(res, 403, 'text/plain; charset=utf-8', 'forbidden: this URL needs the token repro ui printed\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain; charset=utf-8', 'read-only: GET and HEAD only\n');
    const segs = segmentsOf(rest.join('/'));
    if (segs === null) return send(res, 403, 'text/plain; charset=utf-8', 'forbidden path\n');
    const q = url.searchParams;
    const param = (k: string) => q.get(k) || null;
    const [route, ...args] = segs;

    if (route === 'assets' && args.length === 1) {
      const asset = assets.get(args[0]!);
      if (!asset) return notFound(res, ctx, 'no such asset');
      let body = assetCache.get(args[0]!);
      if (!body) assetCache.set(args[0]!, (body = asset.body()));
      return send(res, 200, asset.type, body);
    }
    if (route === 'files') return serveFile(res, args);

    index.refresh();
    const html = (body: string) => send(res, 200, 'text/html; charset=utf-8', body);
    if (route === undefined || route === 'runs') {
      return html(listPage(ctx, index, { workflow: param('workflow'), profile: param('profile'), status: param('status'), text: param('q'), all: q.has('all') }));
    }
    if ((route === 'run' || route === 'progress') && args.length === 2) {
      const run = index.get(args.join('/'));
      if (!run) return notFound(res, ctx, `no run ${args.join('/')}`);
      if (route === 'run') return html(runPage(ctx, index, run));
      const body = JSON.stringify({ status: run.summary.status, text: run.summary.status === 'running' ? progressText(index, index.all(), run) : run.summary.status });
      return send(res, 200, 'application/json; charset=utf-8', body);
    }
    if (route === 'compare' && args.length === 0) return html(comparePage(ctx, index, q.getAll('run'), opts.measuredIn));
    if (route === 'drift' && args.length === 0) {
      const workflow = driftWorkflow(index, param('workflow'));
      const submissions = registry && workflow ? await registry(workflow) : null;
      const order = param('order') === 'commit' ? 'commit' : 'time';
      return html(driftPage(ctx, index, { workflow, group: param('group'), metric: param('metric'), a: param('a'), b: param('b'), order }, submissions));
    }
    return notFound(res, ctx, `no page ${segs.join('/')}`);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      process.stderr.write(`repro ui: ${(err as Error)?.stack ?? String(err)}\n`);
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', `internal error: ${(err as Error)?.message ?? String(err)}\n`);
      else res.destroy();
    });
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, HOST, () => ok());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://${HOST}:${port}/${token}/`,
    server,
    index,
    warmed: index.warm(),
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}
