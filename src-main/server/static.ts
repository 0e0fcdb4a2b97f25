// The built renderer (out/renderer) served as static files: GET and HEAD only, nothing outside the folder,
// a MIME type per extension, the same Content-Security-Policy the page declares, and no sniffing.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

export const PAGE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self'; " +
  "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

function plain(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' });
  res.end(text + '\n');
}

/** Serve `pathname` from `root`; `/` is index.html. */
export async function serveStatic(root: string, pathname: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return plain(res, 405, 'method not allowed');
  let rel: string;
  try {
    rel = decodeURIComponent(pathname);
  } catch {
    return plain(res, 400, 'bad path');
  }
  if (rel.includes('\0')) return plain(res, 400, 'bad path');
  if (rel.endsWith('/')) rel += 'index.html';
  const base = resolve(root);
  const file = resolve(join(base, rel));
  if (file !== base && !file.startsWith(base + sep)) return plain(res, 404, 'not found');
  let size: number;
  try {
    const s = await stat(file);
    if (!s.isFile()) return plain(res, 404, 'not found');
    size = s.size;
  } catch {
    if (rel === '/index.html') {
      return plain(res, 503, `the renderer is not built (no ${join(base, 'index.html')}): run \`npm run build\`, or pass --static <dir>`);
    }
    return plain(res, 404, 'not found');
  }
  const ext = extname(file).toLowerCase();
  res.writeHead(200, {
    'content-type': MIME[ext] ?? 'application/octet-stream',
    'content-length': size,
    'x-content-type-options': 'nosniff',
    'cache-control': ext === '.html' ? 'no-cache' : 'public, max-age=3600',
    ...(ext === '.html' ? { 'content-security-policy': PAGE_CSP, 'x-frame-options': 'DENY', 'referrer-policy': 'no-referrer' } : {}),
  });
  if (req.method === 'HEAD') return void res.end();
  createReadStream(file).pipe(res);
}
