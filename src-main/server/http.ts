// `textdream serve`'s HTTP face: POST /api/<channel> (JSON in, envelope out), GET /api/events (SSE), and the
// built renderer as static files. One engine per server; the server only moves requests and events.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HTTP_API_PREFIX, HTTP_EVENTS_PATH, isApiChannel, settle, type ApiChannel, type ApiEnvelope, type ApiHandlers, type ApiRequest } from '../api/contract.js';
import type { Engine } from '../engine/service.js';
import { authorize, checkBinding, sameOrigin, TOKEN_COOKIE, tokenMatches } from './auth.js';
import { serveEvents } from './sse.js';
import { serveStatic } from './static.js';

export interface ServerOptions {
  engine: Engine;
  /** Folder of the built renderer (out/renderer). */
  staticDir: string;
  host: string;
  port: number;
  token?: string;
  /** Largest request body accepted. */
  maxBodyBytes?: number;
}

export interface RunningServer {
  server: Server;
  /** `http://host:port/` as a browser should open it (without the token). */
  url: string;
  port: number;
  close(): Promise<void>;
}

function sendJson(res: ServerResponse, status: number, body: ApiEnvelope<unknown>): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(text);
}

const fail = (res: ServerResponse, status: number, name: string, message: string) => sendJson(res, status, { error: { name, message } });

class BodyError extends Error {}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new BodyError(`request body over ${limit} bytes`));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function dispatch<K extends ApiChannel>(handlers: ApiHandlers, channel: K, req: ApiRequest<K>) {
  const handler: ApiHandlers[K] = handlers[channel];
  return settle(() => handler(req));
}

async function handleApi(opts: ServerOptions, channel: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'POST') return fail(res, 405, 'MethodNotAllowedError', `use POST ${HTTP_API_PREFIX}${channel}`);
  if (!isApiChannel(channel)) return fail(res, 404, 'UnknownChannelError', `unknown API channel: ${channel}`);
  // A JSON content type cannot be sent cross-site without a CORS preflight, which this server never grants.
  if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
    return fail(res, 415, 'ProtocolError', 'send the request as JSON (content-type: application/json)');
  }
  let body: unknown;
  try {
    const text = await readBody(req, opts.maxBodyBytes ?? 8 * 1024 * 1024);
    body = text.trim() === '' ? null : JSON.parse(text);
  } catch (e) {
    return fail(res, e instanceof BodyError ? 413 : 400, 'ProtocolError', e instanceof Error ? e.message : String(e));
  }
  const envelope = await dispatch(opts.engine.handlers, channel, (body ?? undefined) as ApiRequest<typeof channel>);
  sendJson(res, 200, envelope);
}

/** `?token=…` on a page URL: set the cookie and redirect to the same URL without it. */
function tokenBootstrap(url: URL, token: string | undefined, res: ServerResponse): boolean {
  const given = url.searchParams.get('token');
  if (token === undefined || given === null || !tokenMatches(given, token)) return false;
  url.searchParams.delete('token');
  res.writeHead(303, {
    location: url.pathname + url.search,
    'set-cookie': `${TOKEN_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`,
    'cache-control': 'no-store',
  });
  res.end();
  return true;
}

export function createApiServer(opts: ServerOptions): Server {
  return createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const isApi = url.pathname.startsWith(HTTP_API_PREFIX);
    if (!isApi && tokenBootstrap(url, opts.token, res)) return;
    const verdict = authorize(req, opts.token);
    if (!verdict.ok) {
      if (isApi) return fail(res, verdict.status, verdict.status === 401 ? 'UnauthorizedError' : 'ForbiddenError', verdict.message);
      res.writeHead(verdict.status, { 'content-type': 'text/plain; charset=utf-8' });
      return void res.end(verdict.message + '\n');
    }
    if (!sameOrigin(req)) return fail(res, 403, 'ForbiddenError', 'cross-origin requests are not allowed');
    if (url.pathname === HTTP_EVENTS_PATH) {
      if (req.method !== 'GET') return fail(res, 405, 'MethodNotAllowedError', `use GET ${HTTP_EVENTS_PATH}`);
      return serveEvents(opts.engine, url, req, res);
    }
    if (isApi) {
      handleApi(opts, url.pathname.slice(HTTP_API_PREFIX.length), req, res).catch((e: unknown) => {
        if (!res.headersSent) fail(res, 500, 'InternalError', e instanceof Error ? e.message : String(e));
        else res.destroy();
      });
      return;
    }
    serveStatic(opts.staticDir, url.pathname, req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
}

/** Check the binding rule, listen, and report the address (port 0 picks a free port). */
export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  checkBinding(opts.host, opts.token);
  const server = createApiServer(opts);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    server,
    port,
    url: `http://${host}:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
