import { createHash } from 'node:crypto';
import { copyFile, lstat, mkdtemp, readdir, readFile, readlink, rm, unlink, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelFileError } from '../src-main/model/errors.js';
import { hubCacheRoot, resolveModel, type DownloadProgress, type HubOptions } from '../src-main/model/hub.js';
import { readCheckpointTensors, readSafetensorsFile, writeSafetensorsFile } from '../src-main/model/safetensors.js';
import { FIXTURE } from './helpers/shared.js';
import { DEFAULT_COMMIT, startHubServer, type HubServer } from './helpers/hubServer.js';

const ID = 'acme/tiny-gpt2';
const REPO = 'models--acme--tiny-gpt2';

let server: HubServer;
let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'textdream-hub-'));
  server = await startHubServer({ repos: { [ID]: FIXTURE } });
});
afterAll(async () => {
  await server?.stop();
  await rm(tmp, { recursive: true, force: true });
});

/** Options for a fresh, empty cache pointed at the loopback hub; nothing comes from the real environment. */
async function fresh(extra: Partial<HubOptions> = {}, env: NodeJS.ProcessEnv = {}) {
  const hfHome = await mkdtemp(join(tmp, 'hf-'));
  const events: DownloadProgress[] = [];
  const opts: HubOptions = {
    env: { HF_HOME: hfHome, HF_ENDPOINT: server.url, ...env },
    onProgress: (p) => events.push(p),
    ...extra,
  };
  return { hfHome, events, opts, repoDir: join(hfHome, 'hub', REPO) };
}

async function errorOf(p: Promise<unknown>): Promise<ModelFileError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ModelFileError);
  return err as ModelFileError;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('hubCacheRoot', () => {
  it('follows huggingface_hub precedence', () => {
    expect(hubCacheRoot({ env: { HF_HUB_CACHE: '/a', HF_HOME: '/b', XDG_CACHE_HOME: '/c' } })).toBe('/a');
    expect(hubCacheRoot({ env: { HF_HOME: '/b', XDG_CACHE_HOME: '/c' } })).toBe('/b/hub');
    expect(hubCacheRoot({ env: { XDG_CACHE_HOME: '/c' } })).toBe('/c/huggingface/hub');
    expect(hubCacheRoot({ env: {} })).toBe(join(homedir(), '.cache', 'huggingface', 'hub'));
    expect(hubCacheRoot({ env: { HF_HUB_CACHE: '/a' }, hfHome: '/opt' })).toBe('/opt/hub');
    expect(hubCacheRoot({ env: { HF_HOME: '~/hf' } })).toBe(join(homedir(), 'hf', 'hub'));
  });
});

describe('resolveModel', () => {
  it('downloads into the standard cache layout with progress, then reuses the cache without requests', async () => {
    const { events, opts, repoDir } = await fresh();
    const before = server.requests.length;
    const got = await resolveModel(ID, opts);
    const snap = join(repoDir, 'snapshots', DEFAULT_COMMIT);
    expect(got).toEqual({ dir: snap, source: 'download', id: ID, revision: DEFAULT_COMMIT });
    expect((await readFile(join(repoDir, 'refs', 'main'), 'utf8')).trim()).toBe(DEFAULT_COMMIT);

    const files = ['config.json', 'tokenizer.json', 'model.safetensors', 'tokenizer_config.json'];
    expect((await readdir(snap)).sort()).toEqual([...files].sort());
    for (const f of files) {
      expect((await lstat(join(snap, f))).isSymbolicLink(), f).toBe(true);
      expect(await readlink(join(snap, f))).toMatch(/^\.\.\/\.\.\/blobs\/[0-9a-f]{40,64}$/);
      // Buffer.equals: toEqual walks megabytes byte by byte and takes tens of seconds.
      expect((await readFile(join(snap, f))).equals(await readFile(join(FIXTURE, f))), f).toBe(true);
    }
    // LFS files are stored under their sha256 (X-Linked-Etag), others under the git blob id (ETag).
    const weights = await readFile(join(FIXTURE, 'model.safetensors'));
    expect(await readlink(join(snap, 'model.safetensors'))).toBe(`../../blobs/${sha256(weights)}`);
    const cfg = await readFile(join(FIXTURE, 'config.json'));
    const gitId = createHash('sha1').update(`blob ${cfg.length}\0`).update(cfg).digest('hex');
    expect(await readlink(join(snap, 'config.json'))).toBe(`../../blobs/${gitId}`);
    expect((await readdir(join(repoDir, 'blobs'))).filter((f) => f.includes('incomplete'))).toEqual([]);

    // Requests: first by branch, later by the commit it resolved to, so the snapshot is one commit.
    const reqs = server.requests.slice(before);
    expect(reqs[0].path).toBe(`/${ID}/resolve/main/config.json`);
    expect(reqs.slice(1).every((r) => r.revision === DEFAULT_COMMIT)).toBe(true);
    expect(reqs.map((r) => r.file)).toContain('generation_config.json'); // optional; its 404 is fine
    expect(reqs.every((r) => r.authorization === undefined)).toBe(true);

    // Progress: initiate → progress… → done per file, in file order, then ready.
    const seq = events.map((e) => ('file' in e ? `${e.type}:${e.file}` : e.type));
    const compact = seq.filter((s, i) => s !== seq[i - 1]);
    expect(compact).toEqual([...files.flatMap((f) => [`initiate:${f}`, `progress:${f}`, `done:${f}`]), 'ready']);
    const last = events.filter((e) => e.type === 'progress' && e.file === 'model.safetensors').at(-1);
    expect(last).toEqual({ type: 'progress', file: 'model.safetensors', loaded: weights.length, total: weights.length });
    expect(events.filter((e) => e.type === 'progress' && e.file === 'model.safetensors').length).toBeGreaterThan(2);
    expect(events.at(-1)).toEqual({ type: 'ready', dir: snap });

    const { tensors } = await readCheckpointTensors(got.dir);
    expect(tensors.get('transformer.wte.weight')!.shape).toEqual([50257, 32]);

    const mid = server.requests.length;
    const events2: DownloadProgress[] = [];
    const again = await resolveModel(ID, { ...opts, onProgress: (p) => events2.push(p) });
    expect(again).toEqual({ dir: snap, source: 'cache', id: ID, revision: DEFAULT_COMMIT });
    expect(server.requests.length).toBe(mid);
    expect(events2).toEqual([{ type: 'ready', dir: snap }]);
    // The commit hash itself also resolves from the cache.
    expect((await resolveModel(ID, { ...opts, revision: DEFAULT_COMMIT, offline: true })).source).toBe('cache');
  });

  it('offline with an empty cache fails naming the id, without a request', async () => {
    const before = server.requests.length;
    const a = await fresh({ offline: true });
    expect((await errorOf(resolveModel(ID, a.opts))).message).toMatch(/acme\/tiny-gpt2.*offline/);
    const b = await fresh({}, { HF_HUB_OFFLINE: '1' });
    const err = await errorOf(resolveModel(ID, b.opts));
    expect(err.message).toContain(ID);
    expect(err.fix).toContain('HF_HUB_OFFLINE');
    expect(server.requests.length).toBe(before);
  });

  it('an unknown model id (404) names the URL and says the id or revision is wrong', async () => {
    const { opts, repoDir } = await fresh();
    const err = await errorOf(resolveModel('acme/missing', opts));
    expect(err.message).toContain(`${server.url}/acme/missing/resolve/main/config.json`);
    expect(err.message).toContain('404');
    expect(err.message).toMatch(/id "acme\/missing" or revision "main" is wrong/);
    const bad = await errorOf(resolveModel(ID, { ...opts, revision: 'no-such-branch' }));
    expect(bad.message).toContain('/resolve/no-such-branch/config.json');
    expect(await readdir(repoDir).catch(() => [])).toEqual([]);
  });

  it('401 says the model may be gated or private and to set HF_TOKEN; the token is sent', async () => {
    const { opts } = await fresh({ token: 'hf_secret' });
    server.options.hook = () => ({ status: 401, headers: { 'x-error-code': 'GatedRepo' } });
    try {
      const before = server.requests.length;
      const err = await errorOf(resolveModel(ID, opts));
      expect(err.message).toMatch(/gated or private/);
      expect(err.message).toContain('HF_TOKEN');
      expect(server.requests[before].authorization).toBe('Bearer hf_secret');
    } finally {
      server.options.hook = undefined;
    }
  });

  it('a server error on the weights fails with the status and leaves no ref or partial blob', async () => {
    const { opts, repoDir } = await fresh();
    server.options.hook = (r) => (r.file === 'model.safetensors' ? { status: 500 } : undefined);
    try {
      expect((await errorOf(resolveModel(ID, opts))).message).toMatch(/HTTP 500.*model\.safetensors/s);
    } finally {
      server.options.hook = undefined;
    }
    await expect(readFile(join(repoDir, 'refs', 'main'))).rejects.toThrow();
    expect((await readdir(join(repoDir, 'blobs'))).filter((f) => f.startsWith('.'))).toEqual([]);

    // The next run picks up where this one stopped: config and tokenizer are not fetched again.
    const before = server.requests.length;
    expect((await resolveModel(ID, opts)).source).toBe('download');
    const files = server.requests.slice(before).map((r) => r.file);
    expect(files).not.toContain('tokenizer.json');
    expect(files).toContain('model.safetensors');
  });

  it('a connection cut mid-download is reported as an interrupted download', async () => {
    const { opts, repoDir } = await fresh();
    server.options.hook = (r) =>
      r.file === 'tokenizer.json' ? { status: 200, headers: { 'content-length': 100000 }, body: 'x'.repeat(10), cutConnection: true } : undefined;
    try {
      const err = await errorOf(resolveModel(ID, opts));
      expect(err.message).toMatch(/tokenizer\.json.*(interrupted|stopped)/);
    } finally {
      server.options.hook = undefined;
    }
    expect((await readdir(join(repoDir, 'blobs'))).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('an unreachable endpoint names it and suggests a local folder', async () => {
    const dead = await startHubServer({ repos: {} });
    await dead.stop();
    const { opts } = await fresh({ endpoint: dead.url });
    const err = await errorOf(resolveModel(ID, opts));
    expect(err.message).toContain(`could not reach ${dead.url}`);
    expect(err.fix).toContain('--model');
  });

  it('folders resolve locally; missing paths and malformed ids fail without a request', async () => {
    const before = server.requests.length;
    const { opts } = await fresh();
    expect(await resolveModel(FIXTURE, opts)).toEqual({ dir: FIXTURE, source: 'folder' });
    await errorOf(resolveModel('./no/such/folder', opts));
    await errorOf(resolveModel('/no/such/folder', opts));
    expect((await errorOf(resolveModel('~/no-such-textdream-folder', opts))).message).toContain(homedir());
    for (const bad of ['a/b/c', 'bad id', 'a--b', '-x', 'org/', join(FIXTURE, 'config.json')]) {
      await errorOf(resolveModel(bad, opts));
    }
    expect(server.requests.length).toBe(before);
  });

  it('downloads a sharded checkpoint: index and every shard', async () => {
    const repo = await mkdtemp(join(tmp, 'sharded-repo-'));
    for (const f of ['config.json', 'tokenizer.json']) await copyFile(join(FIXTURE, f), join(repo, f));
    const full = await readSafetensorsFile(join(FIXTURE, 'model.safetensors'));
    const names = [...full.keys()];
    const shards = ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'];
    const weightMap: Record<string, string> = {};
    for (const [i, part] of [names.slice(0, 5), names.slice(5)].entries()) {
      const ts = part.map((n) => ({ name: n, shape: full.get(n)!.shape, data: full.get(n)!.data, dtype: 'F32' as const }));
      await writeSafetensorsFile(join(repo, shards[i]), ts);
      for (const n of part) weightMap[n] = shards[i];
    }
    await writeFile(join(repo, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));

    const hub = await startHubServer({ repos: { 'acme/sharded': repo }, lfsRedirect: true, commit: 'f'.repeat(40) });
    try {
      const { opts, hfHome } = await fresh({ endpoint: hub.url });
      const got = await resolveModel('acme/sharded', opts);
      expect(got.source).toBe('download');
      expect(got.dir).toBe(join(hfHome, 'hub', 'models--acme--sharded', 'snapshots', 'f'.repeat(40)));
      const fetched = hub.requests.filter((r) => r.file).map((r) => r.file);
      expect(fetched).toEqual(expect.arrayContaining(['model.safetensors', 'model.safetensors.index.json', ...shards]));
      // Weights came through the CDN redirect, yet blobs are named by the hub's sha256, not the CDN's ETag.
      expect(hub.requests.filter((r) => r.path.startsWith('/cdn/')).length).toBe(2);
      for (const s of shards) {
        expect(await readlink(join(got.dir, s))).toBe(`../../blobs/${sha256(await readFile(join(repo, s)))}`);
      }
      const { tensors, files } = await readCheckpointTensors(got.dir);
      expect(files.length).toBe(2);
      expect(tensors.size).toBe(full.size);
      const [got1, want1] = [tensors.get('transformer.wte.weight')!.data, full.get('transformer.wte.weight')!.data];
      expect(Buffer.from(got1.buffer, got1.byteOffset, got1.byteLength).equals(Buffer.from(want1.buffer, want1.byteOffset, want1.byteLength))).toBe(true);

      // Cached now, including the shard check.
      const n = hub.requests.length;
      expect((await resolveModel('acme/sharded', opts)).source).toBe('cache');
      expect(hub.requests.length).toBe(n);
      // Losing a shard makes the cache incomplete, so it is fetched again.
      await unlink(join(got.dir, shards[1]));
      expect((await resolveModel('acme/sharded', opts)).source).toBe('download');
    } finally {
      await hub.stop();
    }
  });

  it('without a usable X-Repo-Commit the snapshot is named after the revision and refs still written', async () => {
    // null: no header; '../escape': a header that must not become a path.
    for (const commit of [null, '../escape']) {
      const hub = await startHubServer({ repos: { [ID]: FIXTURE }, commit });
      try {
        const { opts, repoDir } = await fresh({ endpoint: hub.url });
        const got = await resolveModel(ID, opts);
        expect(got).toEqual({ dir: join(repoDir, 'snapshots', 'main'), source: 'download', id: ID, revision: 'main' });
        expect(await readFile(join(repoDir, 'refs', 'main'), 'utf8')).toBe('main');
        expect((await readdir(repoDir)).sort()).toEqual(['blobs', 'refs', 'snapshots']);
        expect((await resolveModel(ID, opts)).source).toBe('cache');
      } finally {
        await hub.stop();
      }
    }
  });

  it('two concurrent downloads into one cache both succeed', async () => {
    const { opts } = await fresh();
    const [a, b] = await Promise.all([resolveModel(ID, opts), resolveModel(ID, opts)]);
    expect(a.dir).toBe(b.dir);
    expect((await readCheckpointTensors(a.dir)).tensors.size).toBe(28);
  });
});
