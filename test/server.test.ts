// `textdream serve`'s HTTP face in-process (engine + server, in-memory store, the tiny fixture): the contract
// over POST + SSE, who may connect, static files, and runs that outlive their clients.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_CHANNELS } from '../src-main/api/contract.js';
import { openStore } from '../src-main/store/open.js';
import { defaultMnistDir } from '../src-main/mnist/models.js';
import { createEngine, type Engine } from '../src-main/engine/service.js';
import { checkBinding, isLoopbackHost } from '../src-main/server/auth.js';
import { startServer, type RunningServer } from '../src-main/server/http.js';
import { runCli } from './helpers/cli.js';
import { startHubServer } from './helpers/hubServer.js';
import { call, invoke, SseReader } from './helpers/serve.js';
import { FIXTURE } from './helpers/shared.js';

const TOKEN = 'test-token-0123456789';
const staticDir = mkdtempSync(join(tmpdir(), 'textdream-static-'));
writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>textdream</title>');
let engine: Engine;
let open: RunningServer;
let locked: RunningServer;
const readers: SseReader[] = [];
const sse = (url: string, headers?: Record<string, string>) => {
  const r = new SseReader(url, headers);
  readers.push(r);
  return r;
};
const target = { kind: 'neuron', layer: 1, neuron: 7 };
const SMALL = { target, method: 'embed', seqLen: 6, batch: 2, every: 1 };

beforeAll(async () => {
  engine = createEngine({ store: openStore(':memory:'), backend: 'wasm' });
  open = await startServer({ engine, staticDir, host: '127.0.0.1', port: 0 });
  locked = await startServer({ engine, staticDir, host: '127.0.0.1', port: 0, token: TOKEN });
});

afterAll(async () => {
  readers.forEach((r) => r.close());
  await open?.close();
  await locked?.close();
  await engine?.close();
  rmSync(staticDir, { recursive: true, force: true });
});

describe('binding and tokens', () => {
  it('listens on loopback freely and refuses any other address without a token', async () => {
    expect(isLoopbackHost('127.0.0.1') && isLoopbackHost('::1') && isLoopbackHost('localhost') && isLoopbackHost('127.8.0.1')).toBe(true);
    expect(isLoopbackHost('0.0.0.0') || isLoopbackHost('192.168.1.2') || isLoopbackHost('example.com')).toBe(false);
    expect(() => checkBinding('0.0.0.0', undefined)).toThrow(/refusing to listen on 0\.0\.0\.0 without a token/);
    expect(() => checkBinding('0.0.0.0', 'short')).toThrow(/at least 8 characters/);
    expect(() => checkBinding('0.0.0.0', TOKEN)).not.toThrow();
    const r = await runCli(['serve', '--host', '0.0.0.0', '--port', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: refusing to listen on 0\.0\.0\.0 without a token.*--token/);
  });

  it('with a token, requires it as a bearer header or the cookie the printed URL sets', async () => {
    const denied = await call(locked.url, 'app.info');
    expect(denied.status).toBe(401);
    expect(denied.body.error.name).toBe('UnauthorizedError');
    expect((await call(locked.url, 'app.info', null, { authorization: 'Bearer wrong-token-000000' })).status).toBe(401);
    expect((await call(locked.url, 'app.info', null, { authorization: `Bearer ${TOKEN}` })).body.result.version).toMatch(/^\d+\.\d+\.\d+/);
    expect((await fetch(locked.url)).status).toBe(401);
    const events = await fetch(new URL('/api/events', locked.url));
    expect(events.status).toBe(401);

    const boot = await fetch(new URL(`/?token=${TOKEN}`, locked.url), { redirect: 'manual' });
    expect(boot.status).toBe(303);
    expect(boot.headers.get('location')).toBe('/');
    const cookie = boot.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^textdream_token=.*HttpOnly; SameSite=Strict/);
    const pair = cookie.split(';')[0];
    expect((await fetch(locked.url, { headers: { cookie: pair } })).status).toBe(200);
    expect((await call(locked.url, 'app.info', null, { cookie: pair })).body.result).toBeDefined();
    const wrong = await fetch(new URL('/?token=nope', locked.url), { redirect: 'manual' });
    expect(wrong.status).toBe(401);
  });

  it('without a token, answers only loopback Host names and same-origin requests', async () => {
    // fetch may not set Host; node:http may (as a DNS-rebinding page's requests would arrive).
    const rebound = await new Promise<number>((resolve, reject) => {
      const req = request(new URL('/api/app.info', open.url), { method: 'POST', headers: { host: 'evil.example', 'content-type': 'application/json' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end('null');
    });
    expect(rebound).toBe(403);
    expect((await call(open.url, 'app.info', null, { origin: 'http://evil.example' })).status).toBe(403);
    expect((await call(open.url, 'app.info', null, { origin: open.url.replace(/\/$/, '') })).status).toBe(200);
  });
});

describe('the contract over HTTP', () => {
  it('answers envelopes; protocol mistakes get named errors', async () => {
    const info = await call(open.url, 'app.info');
    expect(info.status).toBe(200);
    expect(Object.keys(info.body)).toEqual(['result']);
    expect((await call(open.url, 'app.quit')).body.error.name).toBe('UnknownChannelError');
    const text = await fetch(new URL('/api/app.info', open.url), { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' });
    expect(text.status).toBe(415);
    const bad = await fetch(new URL('/api/app.info', open.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' });
    expect(bad.status).toBe(400);
    expect((await fetch(new URL('/api/app.info', open.url))).status).toBe(405);
    await expect(invoke(open.url, 'neurons.page', { layer: 0, neuron: 0 })).rejects.toMatchObject({ name: 'NoModelError' });
    await expect(invoke(open.url, 'dreams.get', { runId: 'nope' })).rejects.toMatchObject({ name: 'RunNotFoundError' });
    await expect(invoke(open.url, 'models.load', {})).rejects.toMatchObject({ name: 'InvalidRequestError' });
    expect(await invoke(open.url, 'tasks.cancel', { task: 'model:999' })).toEqual({ cancelled: false });
    expect(await invoke(open.url, 'mnist.status')).toMatchObject({ available: expect.any(Boolean) });
  });

  it('serves the built renderer with its CSP, and nothing outside it', async () => {
    const page = await fetch(open.url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect((await fetch(new URL('/%2e%2e/package.json', open.url))).status).toBe(404);
    expect((await fetch(new URL('/nothing.js', open.url))).status).toBe(404);
  });

  it('every channel of the contract has a handler in the engine', () => {
    expect(Object.keys(engine.handlers).sort()).toEqual([...API_CHANNELS].sort());
  });
});

describe('model, neurons and dreams', () => {
  it('loads a model with progress events on the stream', async () => {
    const events = sse(new URL('/api/events', open.url).href);
    await events.waitFor(() => events.status === 200, 5000, 'the stream');
    const info = await invoke(open.url, 'models.load', { spec: FIXTURE });
    expect(info).toMatchObject({ nLayer: 2, dMlp: 128, dModel: 32, vocabSize: 50257, backend: 'wasm' });
    await events.waitFor((e) => e.some((x) => x.event === 'progress' && x.data.type === 'done'), 10_000, 'progress done');
    expect(events.named('progress')[0].data).toMatchObject({ type: 'initiate', task: expect.stringMatching(/^model:/) });
    const changed = events.named('models.changed');
    expect(changed.at(-1)!.data.current.spec).toBe(FIXTURE);
    expect(events.events.every((e, i, all) => i === 0 || e.id! > all[i - 1].id!)).toBe(true);
    events.close();
  });

  it('downloads a hub id with byte progress (HF_ENDPOINT pointing at a loopback hub); a load can be cancelled', async () => {
    const hub = await startHubServer({ repos: { 'acme/tiny-gpt2': FIXTURE } });
    const hfHome = mkdtempSync(join(tmpdir(), 'textdream-hf-'));
    const other = createEngine({ store: openStore(':memory:'), backend: 'wasm', env: { ...process.env, HF_ENDPOINT: hub.url, HF_HOME: hfHome } });
    const seen: unknown[] = [];
    other.events.subscribe((e) => seen.push(e.payload));
    try {
      // Cancelled at once: the load fails, the task ends 'cancelled', nothing is loaded.
      const cancelled = other.handlers['models.load']({ spec: 'acme/tiny-gpt2' });
      expect(await other.handlers['tasks.cancel']({ task: 'model:1' })).toEqual({ cancelled: true });
      await expect(cancelled).rejects.toThrow();
      expect(seen).toContainEqual({ type: 'cancelled', task: 'model:1' });
      expect(other.models.state()).toMatchObject({ current: null, loading: null });
      seen.length = 0;

      const info = await other.handlers['models.load']({ spec: 'acme/tiny-gpt2' });
      expect(info).toMatchObject({ spec: 'acme/tiny-gpt2', source: 'download', nLayer: 2 });
      const progress = seen.filter((p): p is { type: 'progress'; done: number; total: number | null; detail?: string } => (p as { type?: string }).type === 'progress');
      expect(progress.length).toBeGreaterThan(0);
      const last = progress.at(-1)!;
      expect(last.done).toBeGreaterThan(1_000_000); // the weights are ~6.6 MB
      expect(last.total).toBe(last.done);
      expect(progress.some((p) => p.detail === 'model.safetensors')).toBe(true);
      expect(seen.at(-2)).toMatchObject({ type: 'done' });
      expect(other.models.state().choices.some((c) => c.spec === 'acme/tiny-gpt2' && c.kind === 'recent')).toBe(true);
    } finally {
      await other.close();
      await hub.stop();
      rmSync(hfHome, { recursive: true, force: true });
    }
  });

  it('neuron page: the logit lens of the output weights, and no scan in a fresh store', async () => {
    const page = await invoke(open.url, 'neurons.page', { layer: 1, neuron: 7 });
    expect(page).toMatchObject({ layer: 1, neuron: 7, hook: 'blocks.1.mlp.hook_post', stats: null, histogram: null, topExamples: [] });
    expect(page.scan.missing).toMatch(/scan/);
    expect(page.lens.top).toHaveLength(12);
    const top = page.lens.top.map((t: { logit: number }) => t.logit);
    const bottom = page.lens.bottom.map((t: { logit: number }) => t.logit);
    expect(top).toEqual([...top].sort((a, b) => b - a));
    expect(bottom).toEqual([...bottom].sort((a, b) => a - b));
    expect(top[0]).toBeGreaterThan(bottom[0]);
    await expect(invoke(open.url, 'neurons.page', { layer: 2, neuron: 0 })).rejects.toMatchObject({ name: 'ObjectiveError', message: expect.stringMatching(/layers 0-1/) });
    await expect(invoke(open.url, 'neurons.page', { layer: 0, neuron: 128 })).rejects.toMatchObject({ name: 'ObjectiveError' });
  });

  it('search by text agrees with the neuron activations of each hit', async () => {
    const text = 'The quick brown fox jumps over the lazy dog';
    const found = await invoke(open.url, 'neurons.search', { text, top: 5 });
    expect(found.tokens.join('')).toBe(text);
    expect(found.hits).toHaveLength(5);
    const maxes = found.hits.map((h: { max: number }) => h.max);
    expect(maxes).toEqual([...maxes].sort((a, b) => b - a));
    for (const h of found.hits.slice(0, 2)) {
      const acts = await invoke(open.url, 'neurons.activations', { layer: h.layer, neuron: h.neuron, text });
      const values = acts.map((t: { value: number }) => t.value);
      expect(Math.max(...values)).toBeCloseTo(h.max, 4);
      expect(values.indexOf(Math.max(...values))).toBe(h.at);
    }
    const inLayer = await invoke(open.url, 'neurons.search', { text, layer: 0, top: 3 });
    expect(inLayer.hits.every((h: { layer: number }) => h.layer === 0)).toBe(true);
  });

  it('rejects malformed dream settings with the field named', async () => {
    await expect(invoke(open.url, 'dreams.start', { settings: { ...SMALL, bogus: 1 } })).rejects.toMatchObject({ name: 'InvalidRequestError', message: expect.stringMatching(/settings\.bogus/) });
    await expect(invoke(open.url, 'dreams.start', { settings: { ...SMALL, method: 'nope' } })).rejects.toMatchObject({ message: expect.stringMatching(/settings\.method/) });
    await expect(invoke(open.url, 'dreams.start', { settings: { ...SMALL, steps: '5' } })).rejects.toMatchObject({ message: expect.stringMatching(/settings\.steps/) });
    await expect(invoke(open.url, 'dreams.start', { settings: { ...SMALL, target: { kind: 'neuron', layer: 5, neuron: 0 } } })).rejects.toMatchObject({ name: 'ObjectiveError' });
  });

  it('a run goes on without clients; a client that comes back gets its records so far, then stops it', async () => {
    const first = sse(new URL('/api/events', open.url).href);
    await first.waitFor(() => first.status === 200, 5000, 'the stream');
    const { runId } = await invoke(open.url, 'dreams.start', { settings: { ...SMALL, steps: 100_000 } });
    await first.waitFor((e) => e.filter((x) => x.event === 'dream.step' && x.data.runId === runId).length >= 3, 30_000, '3 steps');
    expect(first.named('dream.started')[0].data.run).toMatchObject({ id: runId, status: 'running', target: 'L1N7' });
    const lastSeen = first.events.at(-1)!.id!;
    first.close(); // the client goes away

    // The engine keeps stepping with nobody listening.
    const before = (await invoke(open.url, 'dreams.get', { runId })).records.length;
    await new Promise((r) => setTimeout(r, 800));
    const during = await invoke(open.url, 'dreams.get', { runId });
    expect(during.status).toBe('running');
    expect(during.records.length).toBeGreaterThan(before);
    expect((await invoke(open.url, 'dreams.active')).map((r: { id: string }) => r.id)).toEqual([runId]);

    // Coming back: ?run= replays every record so far (indices 0..n-1), Last-Event-ID what was missed.
    const back = sse(new URL(`/api/events?run=${runId}`, open.url).href, { 'last-event-id': String(lastSeen) });
    await back.waitFor((e) => e.filter((x) => x.event === 'dream.step').length >= during.records.length, 10_000, 'replay');
    const replayed = back.named('dream.step').filter((e) => e.id === null);
    expect(replayed.map((e) => e.data.index)).toEqual(replayed.map((_, i) => i));
    const missed = back.named('dream.step').filter((e) => e.id !== null);
    expect(missed[0].id).toBe(lastSeen + 1);

    expect(await invoke(open.url, 'dreams.stop', { runId })).toEqual({ stopped: true });
    await back.waitFor((e) => e.some((x) => x.event === 'dream.ended'), 30_000, 'dream.ended');
    const ended = back.named('dream.ended')[0].data;
    expect(ended).toMatchObject({ runId, status: 'aborted', error: null });
    expect(ended.result.stopped).toBe('aborted');
    const final = await invoke(open.url, 'dreams.get', { runId });
    expect(final.status).toBe('aborted');
    expect(final.records.map((r: { step: number }) => r.step)).toEqual(final.records.map((_: unknown, i: number) => i + 1));
    expect(await invoke(open.url, 'dreams.stop', { runId })).toEqual({ stopped: false });
    back.close();
  });

  it('history: list, search, compare two runs, export JSON and CSV; no model switch under a running dream', async () => {
    const { runId: b } = await invoke(open.url, 'dreams.start', { settings: { ...SMALL, steps: 3, seed: 5 } });
    await engine.runs.finished(b);
    const runs = await invoke(open.url, 'dreams.list', {});
    expect(runs.length).toBe(2);
    expect(runs[0]).toMatchObject({ id: b, status: 'completed', steps: 3, method: 'embed' });
    const a = runs[1].id;
    expect((await invoke(open.url, 'dreams.list', { search: 'L1N7' })).length).toBe(2);
    expect((await invoke(open.url, 'dreams.list', { search: 'no such thing' })).length).toBe(0);

    const cmp = await invoke(open.url, 'dreams.compare', { a, b });
    expect(cmp.a.id).toBe(a);
    expect(cmp.settingsDiff.map((d: { key: string }) => d.key).sort()).toEqual(['seed', 'steps']);

    const json = await invoke(open.url, 'dreams.export', { runIds: [a, b], format: 'json' });
    expect(json.mime).toBe('application/json');
    expect(JSON.parse(json.content).runs.map((r: { id: string }) => r.id)).toEqual([a, b]);
    const csv = await invoke(open.url, 'dreams.export', { runIds: [b], format: 'csv' });
    const lines = csv.content.trimEnd().split('\n');
    expect(lines[0]).toBe('run_id,model,target,method,status,step,soft,label,value,max,ce,text');
    expect(lines).toHaveLength(4);
    expect(lines[1].startsWith(`${b},`)).toBe(true);

    const { runId: c } = await invoke(open.url, 'dreams.start', { settings: { ...SMALL, steps: 100_000 } });
    await expect(invoke(open.url, 'models.load', { spec: FIXTURE })).rejects.toMatchObject({ name: 'BusyError' });
    await invoke(open.url, 'dreams.stop', { runId: c });
    await engine.runs.finished(c);
  });
});

describe('MNIST over the contract', () => {
  const nets = ['classifier', 'judge', 'autoencoder'];
  const trained = nets.every((n) => existsSync(join(defaultMnistDir(), `${n}.safetensors`)));

  it('says plainly when the networks are not trained, and refuses to start', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'textdream-mnist-'));
    const other = createEngine({ store: openStore(':memory:'), backend: 'wasm', mnistDir: empty });
    try {
      const status = await other.handlers['mnist.status']();
      expect(status).toMatchObject({ available: false, defaults: null, note: expect.stringMatching(/train-mnist/) });
      await expect(other.handlers['mnist.start']({ settings: { target: { kind: 'class', class: 3 } } })).rejects.toMatchObject({ name: 'NotAvailableError' });
      await expect(other.handlers['mnist.start']({ settings: { target: { kind: 'class', class: 12 } } })).rejects.toMatchObject({ name: 'InvalidRequestError' });
      expect(await other.handlers['mnist.get']({})).toBeNull();
    } finally {
      await other.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it.skipIf(!trained)('dreams raw and latent side by side, every record an event', async () => {
    const events = sse(new URL('/api/events', open.url).href);
    await events.waitFor(() => events.status === 200, 5000, 'the stream');
    const { runId } = await invoke(open.url, 'mnist.start', { settings: { target: { kind: 'class', class: 3 }, steps: 6, every: 2 } });
    await events.waitFor((e) => e.filter((x) => x.event === 'mnist.ended' && x.data.runId === runId).length === 2, 60_000, 'both sides ended');
    const run = await invoke(open.url, 'mnist.get', { runId });
    expect(run.sides.map((x: { space: string; status: string }) => [x.space, x.status])).toEqual([['raw', 'completed'], ['latent', 'completed']]);
    for (const side of run.sides) {
      expect(side.records.map((r: { step: number }) => r.step)).toEqual([0, 2, 4, 6]);
      expect(side.records[0].image).toHaveLength(784);
      expect(side.records[0].probs.reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(1, 4);
    }
    expect(events.named('mnist.step').length).toBe(8);
    events.close();
  });
});

