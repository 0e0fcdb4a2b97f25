/**
 * A loopback stand-in for huggingface.co's file endpoint, `/<org>/<name>/resolve/<rev>/<path>`,
 * serving the files of local folders (subfolders too, as SAE releases lay theirs out) with the headers the real hub sends:
 * X-Repo-Commit, ETag (git blob sha1 for small files), and for *.safetensors (LFS) X-Linked-Etag
 * (sha256) and X-Linked-Size. With `lfsRedirect` the weights come, as on the real hub, through a
 * 302 to a "CDN" path whose response carries neither the commit nor the sha256.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export interface HubRequest {
  method: string;
  path: string;
  repo?: string;
  revision?: string;
  file?: string;
  authorization?: string;
}

/**
 * Returning a response short-circuits the server (e.g. `{ status: 401 }`); undefined lets it serve
 * normally. `cutConnection` sends the headers and body, then drops the socket (a broken download).
 */
export type HubHook = (
  req: HubRequest,
) => { status: number; body?: string; headers?: Record<string, string | number>; cutConnection?: boolean } | undefined;

export interface HubServerOptions {
  /** Hub id → local folder whose top-level files it serves. */
  repos: Record<string, string>;
  /** X-Repo-Commit value; null sends none. Revisions other than 'main' and this commit are 404. */
  commit?: string | null;
  lfsRedirect?: boolean;
  hook?: HubHook;
}

export interface HubServer {
  url: string;
  /** Every request, in arrival order. */
  requests: HubRequest[];
  /** Mutable: tests may swap the hook between calls. */
  options: HubServerOptions;
  stop(): Promise<void>;
}

export const DEFAULT_COMMIT = '0123456789abcdef0123456789abcdef01234567';

export async function startHubServer(options: HubServerOptions): Promise<HubServer> {
  const requests: HubRequest[] = [];
  const hashes = new Map<string, { sha1: string; sha256: string }>();
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(err.message));
    });
  });

  async function fileHashes(path: string) {
    let h = hashes.get(path);
    if (!h) {
      const bytes = await readFile(path);
      // Git's blob id is what the hub sends as ETag for non-LFS files.
      const sha1 = createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
      h = { sha1, sha256: createHash('sha256').update(bytes).digest('hex') };
      hashes.set(path, h);
    }
    return h;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const entry: HubRequest = { method: req.method ?? 'GET', path, authorization: req.headers.authorization };
    requests.push(entry);

    const cdn = /^\/cdn\/([0-9a-f]{64})\/([^/]+)\/([^/]+)$/.exec(path);
    const parts = path.split('/').slice(1);
    const at = parts.indexOf('resolve');
    if (!cdn && at >= 1 && parts.length >= at + 3) {
      entry.repo = parts.slice(0, at).join('/');
      entry.revision = decodeURIComponent(parts[at + 1]);
      entry.file = parts.slice(at + 2).map(decodeURIComponent).join('/');
    }
    const hooked = options.hook?.(entry);
    if (hooked) {
      res.writeHead(hooked.status, hooked.headers);
      if (hooked.cutConnection) {
        res.write(hooked.body ?? '', () => res.socket?.destroy());
      } else {
        res.end(hooked.body ?? '');
      }
      return;
    }
    if (cdn) {
      // The CDN knows nothing about commits; its ETag is not the content hash.
      const [, sha, repo, rest] = cdn;
      const file = await locate(decodeURIComponent(repo), decodeURIComponent(rest));
      if (!file || (await fileHashes(file)).sha256 !== sha) return notFound(res, 'EntryNotFound');
      const size = (await stat(file)).size;
      res.writeHead(200, { 'content-length': size, etag: `"cdn-${sha.slice(0, 12)}"` });
      createReadStream(file).pipe(res);
      return;
    }
    if (!entry.repo || !entry.file) return notFound(res, 'EntryNotFound');
    const folder = options.repos[entry.repo];
    if (!folder) return notFound(res, 'RepoNotFound');
    const commit = options.commit === undefined ? DEFAULT_COMMIT : options.commit;
    if (entry.revision !== 'main' && entry.revision !== commit) return notFound(res, 'RevisionNotFound');
    const file = await locate(entry.repo, entry.file);
    if (!file) return notFound(res, 'EntryNotFound');

    const { sha1, sha256 } = await fileHashes(file);
    const size = (await stat(file)).size;
    const headers: Record<string, string | number> = {};
    if (commit) headers['x-repo-commit'] = commit;
    const lfs = entry.file.endsWith('.safetensors');
    if (lfs) {
      headers['x-linked-etag'] = `"${sha256}"`;
      headers['x-linked-size'] = size;
    }
    if (lfs && options.lfsRedirect) {
      headers.location = `/cdn/${sha256}/${encodeURIComponent(entry.repo)}/${encodeURIComponent(entry.file)}`;
      res.writeHead(302, headers);
      res.end();
      return;
    }
    headers.etag = `"${lfs ? sha256 : sha1}"`;
    headers['content-length'] = size;
    res.writeHead(200, headers);
    createReadStream(file).pipe(res);
  }

  /** A repo's `path/in/repo` → a regular file inside that repo's folder, or null. */
  async function locate(repo: string, file: string): Promise<string | null> {
    const folder = options.repos[repo];
    const segments = file.split('/');
    if (!folder || segments.some((s) => !s || s.startsWith('.') || s.includes('\\'))) return null;
    const path = join(folder, ...segments);
    const info = await stat(path).catch(() => null);
    return info?.isFile() ? path : null;
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    options,
    stop: () => stopHubServer(server),
  };
}

export function stopHubServer(server: Server | HubServer): Promise<void> {
  if ('requests' in server) return server.stop();
  server.closeAllConnections();
  return new Promise((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
}

function notFound(res: ServerResponse, code: string): void {
  res.writeHead(404, { 'x-error-code': code, 'content-type': 'text/plain' });
  res.end(`${code}\n`);
}
