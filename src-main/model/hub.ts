/**
 * Where a model's files live: a local folder, the standard Hugging Face cache, or a download into
 * that cache. The cache layout matches huggingface_hub, so models it downloaded are reused and
 * models we download are visible to Python tools:
 *   <root>/models--org--name/refs/<revision>            the commit hash
 *   <root>/models--org--name/snapshots/<commit>/<file>  relative symlink to ../../blobs/<etag>
 *   <root>/models--org--name/blobs/<etag>               the content
 */
import { createHash, randomBytes } from 'node:crypto';
import { copyFile, mkdir, open, readFile, rename, stat, symlink, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, relative, resolve as resolvePath } from 'node:path';
import { writeFileAtomic } from '../writeAtomic.js';
import { ModelFileError } from './errors.js';
import { settingsFromEnv } from '../environment.js';

export type DownloadProgress =
  | { type: 'initiate'; file: string }
  | { type: 'progress'; file: string; loaded: number; total: number | null }
  | { type: 'done'; file: string }
  | { type: 'ready'; dir: string };

export interface HubOptions {
  /** Overrides HF_HOME (the cache is `<hfHome>/hub`) and HF_HUB_CACHE. */
  hfHome?: string;
  /** Default: HF_ENDPOINT, else https://huggingface.co. */
  endpoint?: string;
  /** Branch, tag or commit; default 'main'. */
  revision?: string;
  /** Never touch the network; default: HF_HUB_OFFLINE. */
  offline?: boolean;
  /** Default: HF_TOKEN. */
  token?: string;
  onProgress?: (p: DownloadProgress) => void;
  /** Environment to read settings from; default process.env. */
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** The command-line flag that named the spec, for the fix a bad path's error names; default --model. */
  flag?: string;
}

export interface ResolvedModel {
  dir: string;
  source: 'folder' | 'cache' | 'download';
  id?: string;
  /** The commit the files came from (the revision name when the server gave no commit hash). */
  revision?: string;
}

const REQUIRED = ['config.json', 'tokenizer.json'];
const EXTRAS = ['tokenizer_config.json', 'generation_config.json'];
const SINGLE = 'model.safetensors';
const INDEX = 'model.safetensors.index.json';
const LOCAL_FIX = 'or pass --model with a local folder holding config.json, tokenizer.json and model.safetensors';
const PROGRESS_STEP = 256 * 1024;

/** The hub cache folder, with huggingface_hub's precedence (an explicit hfHome wins over the environment). */
export function hubCacheRoot(opts: Pick<HubOptions, 'hfHome' | 'env'> = {}): string {
  const env = opts.env ?? process.env;
  if (opts.hfHome) return join(expandHome(opts.hfHome), 'hub');
  const hub = settingsFromEnv(env).hub;
  if (hub.cache) return expandHome(hub.cache);
  if (hub.home) return join(expandHome(hub.home), 'hub');
  if (hub.xdgCacheHome) return join(expandHome(hub.xdgCacheHome), 'huggingface', 'hub');
  return join(homedir(), '.cache', 'huggingface', 'hub');
}

/**
 * Which files of a repo a resolution needs: `fetch` downloads them (through `get`, which says whether an allowed-absent
 * file was there) and `complete` says whether a cached snapshot already holds them. Files may be in subfolders.
 */
export interface HubFilePlan {
  /** What the files are, for messages: "model", "SAE". */
  what: string;
  /** Where an error tells the user to turn instead of the hub. */
  localFix: string;
  fetch(get: (file: string, need: 'required' | 'may-404' | 'optional') => Promise<boolean>, snapshotPath: (file: string) => string): Promise<void>;
  complete(snapshotDir: string): Promise<boolean>;
}

const MODEL_FILES: HubFilePlan = {
  what: 'model',
  localFix: LOCAL_FIX,
  async fetch(get, snapshotPath) {
    for (const f of REQUIRED) await get(f, 'required');
    if (!(await get(SINGLE, 'may-404'))) {
      await get(INDEX, 'required');
      for (const shard of await shardsOf(snapshotPath(INDEX))) await get(shard, 'required');
    }
    for (const f of EXTRAS) await get(f, 'optional');
  },
  complete: snapshotComplete,
};

/** Resolves a folder path or hub id (`name`, `org/name`) to a folder holding the model's files. */
export async function resolveModel(spec: string, opts: HubOptions = {}): Promise<ResolvedModel> {
  const onProgress = opts.onProgress ?? (() => undefined);
  const local = await folderOrNull(spec, opts.flag ?? '--model');
  if (local) {
    onProgress({ type: 'ready', dir: local });
    return { dir: local, source: 'folder' };
  }
  return resolveHubFiles(spec, MODEL_FILES, opts);
}

/**
 * A hub repo's snapshot holding the plan's files: the cached one when complete, else downloaded into the cache.
 * `dir` is the snapshot folder (files in subfolders stay in them).
 */
export async function resolveHubFiles(id: string, plan: HubFilePlan, opts: HubOptions = {}): Promise<ResolvedModel> {
  const env = opts.env ?? process.env;
  const onProgress = opts.onProgress ?? (() => undefined);
  const revision = opts.revision ?? 'main';
  checkRevision(revision);
  const repoDir = join(hubCacheRoot(opts), `models--${id.replace('/', '--')}`);

  const cached = await findCachedSnapshot(repoDir, revision, plan);
  if (cached) {
    onProgress({ type: 'ready', dir: cached.dir });
    return { dir: cached.dir, source: 'cache', id, revision: cached.commit };
  }
  const hub = settingsFromEnv(env).hub;
  if (opts.offline ?? hub.offline) {
    throw new ModelFileError(
      `${plan.what} "${id}" (revision ${revision}) is not in the local cache ${repoDir} and offline mode is on`,
      id,
      `unset HF_HUB_OFFLINE (or drop --offline) so it can be downloaded, ${plan.localFix}`,
    );
  }
  const endpoint = (opts.endpoint ?? hub.endpoint ?? 'https://huggingface.co').replace(/\/+$/, '');
  const dl = new Downloader(endpoint, id, revision, repoDir, opts.token ?? hub.token, onProgress, opts.signal, plan);
  const dir = await dl.run();
  onProgress({ type: 'ready', dir });
  return { dir, source: 'download', id, revision: dl.commit };
}

// ---------------------------------------------------------------------------------------------

/** A spec naming an existing folder, or null for a hub id; throws for missing paths and bad ids. */
async function folderOrNull(spec: string, flag: string): Promise<string | null> {
  const path = resolvePath(expandHome(spec));
  const info = await stat(path).catch(() => null);
  if (info?.isDirectory()) return path;
  if (info) {
    throw new ModelFileError('is a file, not a model folder', path, 'pass the folder that holds config.json');
  }
  // Anything shaped like a path is never treated as a hub id, so typos fail here, not on the network.
  if (looksLikePath(spec)) {
    throw new ModelFileError('folder does not exist', path, `check the path passed to ${flag}`);
  }
  const parts = spec.split('/');
  if (parts.length > 2 || !parts.every(isHubNamePart) || spec.length > 96) {
    throw new ModelFileError(
      'is neither an existing folder nor a valid Hugging Face model id',
      spec,
      'use an id like "gpt2" or "distilbert/distilgpt2" (letters, digits, "-", "_", "."), or a path to a local folder',
    );
  }
  return null;
}

function checkRevision(revision: string): void {
  if (!/^[A-Za-z0-9._/-]+$/.test(revision) || revision.split('/').some((p) => p === '' || p === '..' || p === '.')) {
    throw new ModelFileError('is not a valid revision', revision, 'use a branch, tag or commit hash such as "main"');
  }
}

/** A snapshot that holds everything the plan needs, for a branch/tag (via refs/) or a commit hash. */
async function findCachedSnapshot(repoDir: string, revision: string, plan: HubFilePlan): Promise<{ dir: string; commit: string } | null> {
  let commit = revision;
  const ref = await readFile(join(repoDir, 'refs', revision), 'utf8').catch(() => null);
  if (ref !== null) commit = ref.trim();
  else if (!isCommitHash(revision)) return null;
  if (!commit || commit.includes('/') || commit.includes('..')) return null;
  const dir = join(repoDir, 'snapshots', commit);
  return (await plan.complete(dir)) ? { dir, commit } : null;
}

async function snapshotComplete(dir: string): Promise<boolean> {
  for (const f of REQUIRED) if (!(await exists(join(dir, f)))) return false;
  if (await exists(join(dir, SINGLE))) return true;
  const shards = await shardsOf(join(dir, INDEX)).catch(() => null);
  if (!shards) return false;
  for (const s of shards) if (!(await exists(join(dir, s)))) return false;
  return true;
}

/** Shard file names listed in an index's weight_map, validated to stay inside the snapshot. */
async function shardsOf(indexPath: string): Promise<string[]> {
  let parsed: { weight_map?: Record<string, unknown> };
  try {
    parsed = JSON.parse(await readFile(indexPath, 'utf8'));
  } catch (err) {
    throw new ModelFileError(`is not valid JSON (${(err as Error).message})`, indexPath, 'download the model again');
  }
  const names = new Set<string>();
  for (const v of Object.values(parsed?.weight_map ?? {})) {
    if (typeof v !== 'string' || !/^[A-Za-z0-9._-]+$/.test(v) || v.startsWith('.')) {
      throw new ModelFileError(`names a shard ${JSON.stringify(v)} that is not a plain file name`, indexPath, 'download the model again');
    }
    names.add(v);
  }
  if (names.size === 0) {
    throw new ModelFileError('has an empty or missing weight_map', indexPath, 'download the model again');
  }
  return [...names];
}

/** One download of a repo revision into the cache. */
class Downloader {
  /** Known after the first response; every later file is fetched by this commit so the snapshot is consistent. */
  commit: string | undefined;

  constructor(
    private readonly endpoint: string,
    private readonly id: string,
    private readonly revision: string,
    private readonly repoDir: string,
    private readonly token: string | undefined,
    private readonly onProgress: (p: DownloadProgress) => void,
    private readonly signal: AbortSignal | undefined,
    private readonly plan: HubFilePlan,
  ) {}

  async run(): Promise<string> {
    await this.plan.fetch(
      (file, need) => this.fetchFile(file, need),
      (file) => this.snapshotPath(file),
    );
    // huggingface_hub writes no ref when asked for a commit hash directly.
    if (!(isCommitHash(this.revision) && this.commit === this.revision)) {
      await writeFileAtomic(join(this.repoDir, 'refs', this.revision), this.commitOrRevision());
    }
    return join(this.repoDir, 'snapshots', this.commitOrRevision());
  }

  private commitOrRevision(): string {
    return this.commit ?? this.revision;
  }

  private snapshotPath(file: string): string {
    return join(this.repoDir, 'snapshots', this.commitOrRevision(), file);
  }

  private url(file: string): string {
    const rev = encodeURIComponent(this.commitOrRevision());
    // Each path segment encoded, the slashes of a file in a subfolder kept (as huggingface_hub does).
    return `${this.endpoint}/${this.id}/resolve/${rev}/${file.split('/').map(encodeURIComponent).join('/')}`;
  }

  /**
   * Downloads one file into blobs/ and links it from the snapshot. Returns false when the file is
   * absent and that is allowed ('may-404' on 404, 'optional' on any HTTP error).
   */
  private async fetchFile(file: string, need: 'required' | 'may-404' | 'optional'): Promise<boolean> {
    // Files already linked for this commit (an earlier, interrupted run) are not fetched again.
    if (this.commit && (await exists(this.snapshotPath(file)))) return true;
    const url = this.url(file);
    const { res, meta } = await this.request(url);
    if (!res.ok) {
      await res.body?.cancel();
      if (need === 'optional' || (need === 'may-404' && res.status === 404)) return false;
      throw this.httpError(url, res);
    }
    if (!this.commit) {
      const c = meta.commit ?? (isCommitHash(this.revision) ? this.revision : undefined);
      // Without a commit header the snapshot is named after the revision (refs/ still points at it).
      this.commit = c ?? this.revision;
    }
    const blobsDir = join(this.repoDir, 'blobs');
    await mkdir(blobsDir, { recursive: true });
    let blobName = meta.etag;
    if (blobName && (await exists(join(blobsDir, blobName)))) {
      await res.body?.cancel(); // same content already cached (e.g. by another revision)
    } else {
      blobName = await this.streamToBlob(file, res, blobsDir, meta);
    }
    const link = this.snapshotPath(file);
    await mkdir(dirname(link), { recursive: true });
    await linkAtomic(join(blobsDir, blobName), link);
    return true;
  }

  /**
   * fetch with redirects followed by hand: the hub answers large files with a redirect to a CDN, and
   * the commit and content hash are only on the hub's own response, not the CDN's.
   */
  private async request(url: string): Promise<{ res: Response; meta: BlobMeta }> {
    const meta: BlobMeta = {};
    const origin = new URL(url).origin;
    let current = url;
    for (let hop = 0; hop < 10; hop++) {
      // identity: Content-Length must describe the bytes we count, and etags the bytes we store.
      const headers: Record<string, string> = { 'user-agent': 'textdream', 'accept-encoding': 'identity' };
      // The token goes to the hub only, never to a CDN it redirects to.
      if (this.token && new URL(current).origin === origin) headers.authorization = `Bearer ${this.token}`;
      let res: Response;
      try {
        res = await fetch(current, { headers, redirect: 'manual', signal: this.signal });
      } catch (err) {
        if (this.signal?.aborted) throw err;
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        throw new ModelFileError(
          `could not reach ${this.endpoint} to download "${this.id}" (${cause?.code ?? cause?.message ?? (err as Error).message})`,
          current,
          `check your internet connection and HF_ENDPOINT, ${this.plan.localFix}`,
        );
      }
      // The commit becomes a folder name, so only a plain name is accepted from the server.
      meta.commit ??= /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/.exec(res.headers.get('x-repo-commit') ?? '')?.[0];
      meta.etag ??= cleanEtag(res.headers.get('x-linked-etag')) ?? cleanEtag(res.headers.get('etag'));
      meta.linkedSha256 ??= sha256Etag(res.headers.get('x-linked-etag'));
      meta.size ??= toInt(res.headers.get('x-linked-size'));
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        await res.body?.cancel();
        current = new URL(location, current).toString();
        continue;
      }
      return { res, meta };
    }
    throw new ModelFileError('too many redirects', url, `check HF_ENDPOINT, ${this.plan.localFix}`);
  }

  private httpError(url: string, res: Response): ModelFileError {
    // The hub answers 401 for private, gated and nonexistent repos alike when it cannot tell them apart.
    const code = res.headers.get('x-error-code');
    if (res.status === 401 || res.status === 403) {
      const refused = this.token ? 'the token in HF_TOKEN was refused' : 'no token was sent';
      return new ModelFileError(
        `HTTP ${res.status}: the ${this.plan.what} "${this.id}" may be gated or private, or may not exist (${refused})`,
        url,
        `check the id; if the ${this.plan.what} is gated, accept its terms on the hub; set HF_TOKEN to a token with access, ${this.plan.localFix}`,
      );
    }
    if (res.status === 404) {
      return new ModelFileError(
        `HTTP 404${code ? ` (${code})` : ''}: not found`,
        url,
        `the ${this.plan.what} id "${this.id}" or revision "${this.revision}" is wrong (or the repo lacks this file); check them, ${this.plan.localFix}`,
      );
    }
    return new ModelFileError(
      `HTTP ${res.status} ${res.statusText} while downloading "${this.id}"`,
      url,
      `try again later, ${this.plan.localFix}`,
    );
  }

  /** Streams a body to a unique temp file in blobs/, then renames it into place (safe with concurrent writers). */
  private async streamToBlob(file: string, res: Response, blobsDir: string, meta: BlobMeta): Promise<string> {
    // A server may compress anyway; then Content-Length counts compressed bytes and cannot be checked.
    const encoded = (res.headers.get('content-encoding') ?? 'identity') !== 'identity';
    const total = encoded ? null : (toInt(res.headers.get('content-length')) ?? meta.size ?? null);
    const tmp = join(blobsDir, `.${randomBytes(8).toString('hex')}.incomplete`);
    const hash = createHash('sha256');
    let loaded = 0;
    let lastReport = -1;
    this.onProgress({ type: 'initiate', file });
    const out = await open(tmp, 'w');
    try {
      const url = this.url(file);
      try {
        for await (const chunk of (res.body ?? []) as unknown as AsyncIterable<Uint8Array>) {
          hash.update(chunk);
          await out.write(chunk);
          loaded += chunk.length;
          if (loaded - lastReport >= PROGRESS_STEP) {
            this.onProgress({ type: 'progress', file, loaded, total });
            lastReport = loaded;
          }
        }
      } catch (err) {
        if (this.signal?.aborted || err instanceof ModelFileError) throw err;
        const why = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
        throw new ModelFileError(`download interrupted after ${loaded} bytes (${why})`, url, 'run the command again');
      } finally {
        await out.close();
      }
      if (loaded !== lastReport) this.onProgress({ type: 'progress', file, loaded, total });
      if (total !== null && loaded !== total) {
        throw new ModelFileError(`download stopped after ${loaded} of ${total} bytes`, url, 'run the command again');
      }
      const sha = hash.digest('hex');
      if (meta.linkedSha256 && meta.linkedSha256 !== sha) {
        throw new ModelFileError(`content does not match its sha256 ${meta.linkedSha256}`, url, 'run the command again');
      }
      const name = meta.etag ?? sha;
      await rename(tmp, join(blobsDir, name));
      this.onProgress({ type: 'done', file });
      return name;
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
  }
}

interface BlobMeta {
  commit?: string;
  etag?: string;
  linkedSha256?: string;
  size?: number;
}

/** A relative symlink (as huggingface_hub makes), replaced atomically; a copy where symlinks are not allowed. */
async function linkAtomic(target: string, link: string): Promise<void> {
  const tmp = `${link}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await symlink(relative(dirname(link), target), tmp);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
    await copyFile(target, tmp);
  }
  await rename(tmp, link);
}

/** ETag → a safe blob file name; weak prefixes and quotes removed; anything odd is ignored. */
function cleanEtag(value: string | null): string | undefined {
  const v = value?.replace(/^W\//, '').replace(/"/g, '').trim();
  return v && /^[A-Za-z0-9_-]+$/.test(v) ? v : undefined;
}

function sha256Etag(value: string | null): string | undefined {
  const v = cleanEtag(value);
  return v && /^[0-9a-f]{64}$/.test(v) ? v : undefined;
}

function isCommitHash(s: string): boolean {
  return /^[0-9a-f]{40}$/.test(s);
}

function toInt(v: string | null): number | undefined {
  const n = v === null ? NaN : Number(v);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** A spec written as a path (relative, absolute, home or Windows), which is never read as a hub id. */
export function looksLikePath(spec: string): boolean {
  return /^[.~/\\]/.test(spec) || /^[A-Za-z]:[\\/]/.test(spec) || spec.includes('\\');
}

/** One segment of a hub id (or of a folder inside a repo): letters, digits, ".", "_", "-", no "--" or "..". */
export function isHubNamePart(p: string): boolean {
  return /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/.test(p) && !/--|\.\./.test(p);
}

export function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? join(homedir(), p.slice(1)) : p;
}

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null)) !== null;
}
