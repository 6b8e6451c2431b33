// A real HTTP server on 127.0.0.1 for the fetch tests: serves named bodies with Range support, and
// can misbehave on purpose (drop the socket mid-body, demand basic auth, fail with 503).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Route {
  body: Buffer;
  /** Cut the connection after this many body bytes, for the first `times` requests. */
  dropAfter?: { bytes: number; times: number };
  /** Required 'user:password'. */
  basicAuth?: string;
  /** Answer 503 to the first n requests. */
  failFirst?: number;
  /** Ignore Range headers (answer 200 with the whole body). */
  noRange?: boolean;
  /** 302 to this URL. */
  redirect?: string;
}

export interface TestServer {
  url: string;
  requests: Array<{ path: string; range?: string; authorization?: string }>;
  close(): Promise<void>;
}

export async function startServer(routes: Record<string, Route>): Promise<TestServer> {
  const requests: TestServer['requests'] = [];
  const counts = new Map<string, number>();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '/';
    requests.push({ path, range: req.headers.range, authorization: req.headers.authorization });
    const n = (counts.get(path) ?? 0) + 1;
    counts.set(path, n);
    const route = routes[path];
    if (!route) {
      res.writeHead(404).end('not found');
      return;
    }
    if (route.redirect) {
      res.writeHead(302, { location: route.redirect }).end();
      return;
    }
    if (route.basicAuth) {
      const want = `Basic ${Buffer.from(route.basicAuth).toString('base64')}`;
      if (req.headers.authorization !== want) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="test"' }).end('unauthorized');
        return;
      }
    }
    if (route.failFirst && n <= route.failFirst) {
      res.writeHead(503).end('busy');
      return;
    }
    let start = 0;
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (m && !route.noRange) start = Number(m[1]);
    if (start >= route.body.length && start > 0) {
      res.writeHead(416).end();
      return;
    }
    const part = route.body.subarray(start);
    const headers: Record<string, string | number> = { 'content-length': part.length, 'accept-ranges': 'bytes' };
    if (start > 0) headers['content-range'] = `bytes ${start}-${route.body.length - 1}/${route.body.length}`;
    res.writeHead(start > 0 ? 206 : 200, headers);
    if (route.dropAfter && n <= route.dropAfter.times) {
      res.write(part.subarray(0, route.dropAfter.bytes), () => {
        // Give the client time to read the bytes (generous: the test machine may be busy), then
        // cut the connection mid-body.
        setTimeout(() => res.socket?.destroy(), 250);
      });
      return;
    }
    res.end(part);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** A port with nothing listening: connections to it are refused at once. */
export async function refusedUrl(): Promise<string> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
