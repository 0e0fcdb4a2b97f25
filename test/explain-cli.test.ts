// `textdream explain` on the tiny fixture model: records computed from the held-out corpus match the model run
// on each window alone; offline and --llm (against a loopback server) runs; the uplift with dreams; user
// errors; and the API key in no output.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src-main/backend.js';
import { computeNeuronRecords, windowStarts } from '../src-main/explain/records.js';
import { recordMax } from '../src-main/explain/protocol.js';
import { loadModel, type LoadedModel } from '../src-main/model/load.js';
import { hookName } from '../src-main/model/hooks.js';
import { openStore } from '../src-main/store/open.js';
import { summarizeUplift, upliftBatch, type UpliftRow } from '../src-main/explain/batch.js';
import { offlineExplainer, offlineSimulator } from '../src-main/explain/offline.js';
import { LLMError } from '../src-main/explain/openai.js';
import { runCli } from './helpers/cli.js';
import { fakeInterpreter, startOpenAIServer, type OpenAIServer } from './helpers/openaiServer.js';
import { FIXTURE } from './helpers/shared.js';

const KEY = 'sk-cli-secret-9f8e7d6c5b4a39281706';
// Settings from the developer's own shell must not change what these tests see.
for (const k of ['OPENAI_API_KEY', 'OPENAI_BASE_URL', 'TEXTDREAM_LLM_BASE_URL', 'TEXTDREAM_LLM_MODEL', 'TEXTDREAM_LLM_TIMEOUT_MS']) delete process.env[k];

const BASE = ['explain', '--model', FIXTURE, '--backend', 'wasm', '--layer', '1', '--neuron', '7', '--corpus-tokens', '3000'];

let lm: LoadedModel;
let server: OpenAIServer;
const DIR = mkdtempSync(join(tmpdir(), 'textdream-explain-'));
const DB = join(DIR, 'store.db');
process.env.TEXTDREAM_DB = DB;
beforeAll(async () => {
  await initBackend('wasm');
  lm = await loadModel(FIXTURE);
  server = await startOpenAIServer(fakeInterpreter);
});
afterAll(async () => {
  lm?.model.dispose();
  await server?.stop();
  rmSync(DIR, { recursive: true, force: true });
});

describe('records from a corpus', () => {
  it('are each window run alone behind the prefix; top by max, random disjoint from top, deterministic', () => {
    const text = 'The cat sat on the mat. A dog barked at the moon while the cat slept. '.repeat(12);
    const ids = Int32Array.from(lm.tokenizer.encode(text));
    const W = 16;
    const stream = { tokens: ids, docs: [{ id: 'a', start: 0, end: ids.length }] };
    const recs = computeNeuronRecords(lm.model, lm.tokenizer, stream, 1, [7, 3], { windowTokens: W, top: 4, random: 3, batch: 5 });
    const nr = recs.get(7)!;
    expect(nr.top).toHaveLength(4);
    expect(nr.random).toHaveLength(3);
    const maxes = nr.top.map(recordMax);
    expect([...maxes].sort((a, b) => b - a)).toEqual(maxes);
    expect(nr.maxActivation).toBe(maxes[0]);
    const topTexts = new Set(nr.top.map((r) => r.tokens.join('')));
    // Random windows may repeat text (the corpus repeats), so compare windows by position instead.
    const starts = windowStarts(stream, W);
    expect(starts.length).toBe(Math.floor(ids.length / W));
    expect(topTexts.size).toBeGreaterThan(0);

    // Every record's activations are the model's on that window alone.
    for (const r of [...nr.top, ...nr.random]) {
      const w = lm.tokenizer.encode(r.tokens.join(''));
      expect(w).toHaveLength(W);
      const direct = tf.tidy(() => {
        const bos = lm.config.bosTokenId;
        const run = lm.model.run({ ids: tf.tensor2d([[bos, ...w]], [1, W + 1], 'int32') }, { hooks: [hookName(1, 'mlp.hook_post')], stopAtLayer: 2 });
        // Position 0 is the <|endoftext|> prefix, not part of the record.
        return (run.cache.get(hookName(1, 'mlp.hook_post'))!.arraySync() as number[][][])[0].slice(1).map((row) => row[7]);
      });
      direct.forEach((v, i) => expect(r.activations[i]).toBeCloseTo(v, 5));
    }
    const again = computeNeuronRecords(lm.model, lm.tokenizer, stream, 1, [7], { windowTokens: W, top: 4, random: 3 }).get(7)!;
    expect(again).toEqual(nr);
    expect(tf.memory().numTensors).toBeLessThan(200);
  });
});

describe('uplift batch', () => {
  it('explains each neuron without and with dreams on the same records; an endpoint failure skips one neuron', async () => {
    const text = 'The cat sat on the mat. A dog barked at the moon while the cat slept. '.repeat(12);
    const ids = Int32Array.from(lm.tokenizer.encode(text));
    const stream = { tokens: ids, docs: [{ id: 'a', start: 0, end: ids.length }] };
    let calls = 0;
    const offline = offlineSimulator();
    const flaky = {
      name: 'flaky',
      simulate: (e: string, t: string[]) => {
        // Both runs of the first neuron (20 simulations) succeed; the endpoint is down afterwards.
        if (++calls > 20) throw new LLMError('endpoint down', 'http', 503);
        return offline.simulate(e, t);
      },
    };
    const rows: UpliftRow[] = [];
    const gen = upliftBatch({ model: lm.model, tokenizer: lm.tokenizer }, stream, [{ layer: 0, neuron: 1 }, { layer: 1, neuron: 2 }], {
      explainer: offlineExplainer(),
      simulator: flaky,
      records: { windowTokens: 8, top: 20, random: 10 },
      dream: { steps: 2, lambdas: [0, 1], candidates: 4, seqLen: 5 },
    });
    for await (const r of gen) rows.push(r);
    expect(rows.map((r) => `L${r.layer}N${r.neuron}`)).toEqual(['L0N1', 'L1N2']);
    const [a, b] = rows;
    expect(a.without!.withDreams).toBe(false);
    expect(a.with!.withDreams).toBe(true);
    expect(a.with!.counts.synthetic).toBe(a.dreams!.length);
    expect(a.dreams!.length).toBeGreaterThan(0);
    expect(a.with!.score.records.map((r) => r.tokens)).toEqual(a.without!.score.records.map((r) => r.tokens));
    expect(b.skipped).toMatch(/endpoint failed: endpoint down/);
    expect(summarizeUplift(rows)).toMatchObject({ neurons: 2, skipped: 1 });
  });
});

interface ExplainJSON {
  layer: number;
  neuron: number;
  llm: { baseURL: string; model: string; usage: { requests: number; total: number } } | null;
  runs: { explanation: string; withDreams: boolean; explainer: string; score: { all: number | null; records: { kind: string; correlation: number | null }[] } }[];
  dreams: { dreams: { label: string; text: string }[] } | null;
  uplift: number | null;
  modelFingerprint: string;
  store: { path: string; explanations: string[] };
}

describe('textdream explain', () => {
  it('offline, --json: one explanation scored on 5 top + 5 random records', async () => {
    const r = await runCli([...BASE, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as ExplainJSON;
    expect(j).toMatchObject({ layer: 1, neuron: 7, llm: null, dreams: null, uplift: null });
    expect(j.runs).toHaveLength(1);
    expect(j.runs[0].explainer).toBe('offline');
    expect(j.runs[0].explanation).toMatch(/^tokens: .*; bigrams: /);
    expect(j.runs[0].score.records.map((x) => x.kind)).toEqual(['top', 'top', 'top', 'top', 'top', 'random', 'random', 'random', 'random', 'random']);
    expect(r.stderr).toMatch(/records: \d+ held-out windows of 63 tokens/);
    // Saved to the store, with the score and how it was made.
    expect(j.store.path).toBe(DB);
    const store = openStore(DB);
    try {
      const rows = store.listExplanations({ layer: 1, neuron: 7 });
      const row = rows.find((x) => x.id === j.store.explanations[0])!;
      expect(row).toMatchObject({ modelFingerprint: j.modelFingerprint, text: j.runs[0].explanation, source: 'offline', score: j.runs[0].score.all });
      expect(row.meta).toMatchObject({ simulator: 'offline', withDreams: false, counts: { explain: 10, synthetic: 0, scoreTop: 5, scoreRandom: 5 } });
    } finally {
      store.close();
    }
  });

  it('--with-dreams: without and with, the dreams, and the uplift (text output)', async () => {
    const r = await runCli([...BASE, '--with-dreams', '--dream-steps', '2']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/without dreams: tokens: /);
    expect(r.stdout).toMatch(/with dreams: tokens: /);
    expect(r.stdout).toMatch(/dreams \(best per λ/);
    expect(r.stdout).toMatch(/uplift from dreams: [+-]\d\.\d{3}/);
  });

  it('--llm against a loopback endpoint: the key is sent, and appears in no output', async () => {
    server.calls.length = 0;
    const env = { TEXTDREAM_LLM_BASE_URL: server.url, TEXTDREAM_LLM_MODEL: 'fake-model', OPENAI_API_KEY: KEY };
    const r = await runCli([...BASE, '--llm', '--with-dreams', '--dream-steps', '2', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as ExplainJSON;
    expect(j.llm).toMatchObject({ baseURL: server.url, model: 'fake-model' });
    expect(j.llm!.usage.requests).toBe(22); // (1 explanation + 10 simulations) × (without, with)
    expect(j.runs.map((x) => x.withDreams)).toEqual([false, true]);
    expect(j.runs[0].explanation).toMatch(/^the word "/);
    expect(server.calls.every((c) => c.authorization === `Bearer ${KEY}`)).toBe(true);
    expect(r.stderr).toMatch(/llm explain L1N7: tokens prompt \d+ \+ completion \d+ = \d+/);
    for (const out of [r.stdout, r.stderr]) {
      expect(out).not.toContain(KEY);
      expect(out).not.toContain(KEY.slice(0, 10));
      expect(out).not.toContain(KEY.slice(-8));
    }
    const text = await runCli([...BASE, '--llm'], env);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/llm fake-model at http:\/\/127\.0\.0\.1:\d+\/v1: 11 requests/);
    expect(text.stdout + text.stderr).not.toContain(KEY);
    // Nor in the store: every byte of the database file, and every explanation row.
    const store = openStore(DB);
    try {
      const rows = store.listExplanations({ layer: 1, neuron: 7, limit: 1000 });
      expect(rows.filter((x) => x.source === 'llm:fake-model').length).toBeGreaterThanOrEqual(3);
      expect(JSON.stringify(rows)).not.toContain(KEY);
      expect(JSON.stringify(store.exportHistory())).not.toContain(KEY);
    } finally {
      store.close();
    }
    for (const f of [DB, `${DB}-wal`]) {
      const bytes = existsSync(f) ? readFileSync(f).toString('latin1') : '';
      expect(bytes.includes(KEY) || bytes.includes(KEY.slice(0, 10))).toBe(false);
    }
  });

  it('an endpoint failure is a user error naming the cause, without the key', async () => {
    server.queue.push(...Array.from({ length: 3 }, () => ({ status: 401, body: `{"error":{"message":"Incorrect API key provided: ${KEY}"}}` })));
    const r = await runCli([...BASE, '--llm'], { TEXTDREAM_LLM_BASE_URL: server.url, TEXTDREAM_LLM_MODEL: 'm', OPENAI_API_KEY: KEY });
    server.queue.length = 0;
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error: .*answered HTTP 401 \(check OPENAI_API_KEY\)/);
    expect(r.stderr + r.stdout).not.toContain(KEY);
  });

  it('user errors exit 2 with the setting to change', async () => {
    const cases: [string[], RegExp][] = [
      [['explain', '--layer', '1'], /--neuron is required/],
      [[...BASE, '--llm'], /set TEXTDREAM_LLM_BASE_URL/],
      [[...BASE, '--llm-model', 'x'], /--llm-model needs --llm/],
      [[...BASE, '--dream-steps', '3'], /--dream-steps needs --with-dreams/],
      [['explain', '--model', FIXTURE, '--backend', 'wasm', '--layer', '9', '--neuron', '1'], /--layer 9 is out of range: this model has layers 0-1/],
      [[...BASE.slice(0, -2), '--corpus-tokens', '10'], /--corpus-tokens 10 is too small/],
    ];
    for (const [args, re] of cases) {
      const r = await runCli(args);
      expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(re);
    }
  });
});
