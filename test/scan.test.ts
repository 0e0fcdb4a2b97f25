// Corpus scans on a model with a planted neuron (test/helpers/plantedModel.ts): the top windows are exactly the
// windows holding the planted words, strongest first, with the right token marked; statistics, histogram and
// random windows match values computed by hand; a stopped scan resumes to the same results as an unbroken one.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src-main/backend.js';
import type { GPT2 } from '../src-main/model/gpt2.js';
import { loadCorpus } from '../src-main/corpus/documents.js';
import { splitDocuments } from '../src-main/corpus/split.js';
import { loadScanCorpus } from '../src-main/scan/corpus.js';
import { ScanCorpusError } from '../src-main/scan/errors.js';
import { HIST_BINS, binOf } from '../src-main/scan/histogram.js';
import { runScan, type ScanEvent, type ScanOptions } from '../src-main/scan/run.js';
import { SqliteStore } from '../src-main/store/sqlite.js';
import type { ModelRef, NeuronPageData, ScanConfig } from '../src-main/store/types.js';
import { gpt2Tokenizer, LM_SPLIT } from '../src-main/train/lmCorpus.js';
import { FAMILY, PLANTED, PLANTED_TEXTS, plantedActivation, plantedModel, writePlantedCorpus } from './helpers/plantedModel.js';

const dir = mkdtempSync(join(tmpdir(), 'textdream-scan-'));
const tok = gpt2Tokenizer();
const REF: ModelRef = { spec: 'planted', dir: '', fingerprint: 'planted-v1', nLayer: 2, dModel: 16, dMlp: 8 };
const W = 16;
const CORPUS = writePlantedCorpus(join(dir, 'planted.jsonl'));
const TEXTS = PLANTED_TEXTS;

/** Windows as the scan must cut them: W tokens at a time through each document, numbered in corpus order. */
const WINDOWS = TEXTS.flatMap((t) => {
  const ids = tok.encode(t);
  const out: number[][] = [];
  for (let s = 0; s < ids.length; s += W) out.push(ids.slice(s, s + W));
  return out;
});
const TOTAL_TOKENS = WINDOWS.reduce((a, w) => a + w.length, 0);

const config = (over: Partial<ScanConfig> = {}): ScanConfig => ({ layers: [0, 1], window: W, top: 8, random: 5, maxTokens: null, seed: 3, heldOut: false, sample: 1, ...over });

let model: GPT2;
beforeAll(async () => {
  await initBackend('wasm');
  model = plantedModel();
});
afterAll(() => {
  model?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

async function scan(store: SqliteStore, over: Partial<ScanOptions> = {}, cfg = config()): Promise<ScanEvent[]> {
  const corpus = await loadScanCorpus(CORPUS, false);
  const events: ScanEvent[] = [];
  for await (const e of runScan({ model, tokenizer: tok, modelRef: REF, corpus, config: cfg, batch: 4, store, checkpointOverhead: Infinity, ...over })) events.push(e);
  return events;
}

function page(store: SqliteStore, layer: number, neuron: number): NeuronPageData {
  return store.neuronPage({ model: REF.fingerprint, layer, neuron })!;
}

describe('scan with a planted neuron', () => {
  let store: SqliteStore;
  beforeAll(async () => {
    store = new SqliteStore(join(dir, 'planted.db'));
    await scan(store);
  });
  afterAll(() => store.close());

  it('cuts the corpus into the expected windows', () => {
    const s = store.listScans()[0];
    expect(s).toMatchObject({ status: 'completed', windowsTotal: WINDOWS.length, windowsDone: WINDOWS.length, tokensTotal: TOTAL_TOKENS, tokensDone: TOTAL_TOKENS });
  });

  it('finds exactly the planted windows, strongest first, with the planted token marked', () => {
    const strength = (w: number[]) => Math.max(-1, ...w.map((id) => FAMILY.find((f) => f.id === id)?.c ?? -1));
    const planted = WINDOWS.map((w, index) => ({ index, c: strength(w) }))
      .filter((w) => w.c > 0)
      .sort((a, b) => b.c - a.c || a.index - b.index);
    expect(planted.length).toBe(7); // cat ×2, kitten ×2 (one with a weaker Cat), cats, Cat, tiger
    const p = page(store, PLANTED.layer, PLANTED.neuron);
    expect(p.top).toHaveLength(8);
    expect(p.top.slice(0, planted.length).map((e) => e.window)).toEqual(planted.map((w) => w.index));
    for (const e of p.top) {
      expect(e.ids).toEqual(WINDOWS[e.window]);
      expect(e.text).toBe(tok.decode(WINDOWS[e.window]));
      e.acts.forEach((a, t) => expect(Math.abs(a - plantedActivation(e.ids[t]))).toBeLessThan(1e-4));
      const strongest = e.ids.map(plantedActivation).reduce((a, v, i, all) => (v > all[a] ? i : a), 0);
      if (e.rank <= planted.length) expect(e.maxAt).toBe(strongest); // (neutral windows are flat up to float noise)
      expect(Math.abs(e.max - plantedActivation(e.ids[strongest]))).toBeLessThan(1e-4);
    }
    expect(p.top.slice(0, planted.length).map((e) => e.tokens[e.maxAt])).toEqual([' cat', ' cat', ' kitten', ' kitten', ' cats', ' Cat', ' tiger']);
    // The last window (not planted) sits at gelu(-1) everywhere.
    expect(Math.abs(p.top[7].max - plantedActivation(0))).toBeLessThan(1e-4);
    expect(p.top.map((e) => e.rank)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('keeps exact statistics and a histogram that counts every token (sample = 1)', () => {
    const values = WINDOWS.flat().map(plantedActivation);
    const s = page(store, PLANTED.layer, PLANTED.neuron).stats!;
    expect(s.count).toBe(TOTAL_TOKENS);
    expect(s.sampled).toBe(TOTAL_TOKENS);
    expect(s.positive).toBeCloseTo(values.filter((v) => v > 0).length / values.length, 12);
    expect(s.max).toBeCloseTo(Math.max(...values), 4);
    expect(s.min).toBeCloseTo(Math.min(...values), 4);
    expect(s.mean).toBeCloseTo(values.reduce((a, b) => a + b, 0) / values.length, 4);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    expect(s.std).toBeCloseTo(Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length), 4);
    // Histogram: the neutral value's bin holds every other token; each planted value its own bin.
    const expected = new Map<number, number>();
    for (const v of values) expected.set(binOf(v), (expected.get(binOf(v)) ?? 0) + 1);
    expect(s.bins.reduce((a, b) => a + b.count, 0)).toBe(TOTAL_TOKENS);
    expect(s.bins.map((b) => b.count)).toEqual([...expected.entries()].sort((a, b) => a[0] - b[0]).map(([, c]) => c));
    expect(HIST_BINS).toBe(161);
    const median = s.quantiles.find((q) => q.q === 0.5)!.value;
    expect(Math.abs(median - plantedActivation(0))).toBeLessThan(0.01);
  });

  it('ranks ties by window index (layer 0 is exactly zero everywhere)', () => {
    const p = page(store, 0, 5);
    expect(p.top.map((e) => e.window)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(p.top.every((e) => e.max === 0)).toBe(true);
    expect(p.stats).toMatchObject({ count: TOTAL_TOKENS, max: 0, min: 0, mean: 0, positive: 0 });
  });

  it('keeps the same random windows for every neuron, with each neuron\'s own activations', () => {
    const a = page(store, PLANTED.layer, PLANTED.neuron).random;
    const b = page(store, 0, 1).random;
    expect(a).toHaveLength(5);
    expect(a.map((e) => e.window)).toEqual(b.map((e) => e.window));
    expect(new Set(a.map((e) => e.window)).size).toBe(5);
    for (const e of a) {
      expect(e.ids).toEqual(WINDOWS[e.window]);
      e.acts.forEach((v, t) => expect(Math.abs(v - plantedActivation(e.ids[t]))).toBeLessThan(1e-4));
    }
    expect(b.every((e) => e.acts.every((v) => v === 0))).toBe(true);
  });

  it('makes top windows searchable and keeps only windows that something refers to', () => {
    const hits = store.search('kitten', { kinds: ['window'] });
    expect(hits.length).toBe(2);
    const s = store.listScans()[0];
    const kept = store.db.prepare('SELECT COUNT(*) AS n FROM scan_windows WHERE scan_id = ?').pluck().get(s.id) as number;
    const referenced = new Set([...[0, 1].flatMap((l) => Array.from({ length: 8 }, (_, n) => page(store, l, n))).flatMap((p) => [...p.top, ...p.random].map((e) => e.window))]);
    expect(kept).toBe(referenced.size);
    expect(store.integrityCheck()).toBe('ok');
  });

  it('reports a finished scan instead of repeating it', async () => {
    const events = await scan(store);
    expect(events.find((e) => e.type === 'start')).toMatchObject({ alreadyComplete: true });
    expect(store.listScans()).toHaveLength(1);
  });
});

describe('corpus choice', () => {
  it("--held-out reads the default model's held-out documents of the requested corpus", async () => {
    const { ref, docs } = await loadScanCorpus('sotu', true);
    const split = splitDocuments(await loadCorpus('brown+sotu'), LM_SPLIT);
    expect(docs.length).toBeGreaterThan(0);
    expect(docs.map((d) => d.id)).toEqual(split.heldOut.filter((d) => d.source === 'sotu').map((d) => d.id));
    const train = new Set(split.train.map((d) => d.id));
    expect(docs.some((d) => train.has(d.id))).toBe(false);
    expect(ref.spec).toBe('sotu:held-out');
    await expect(loadScanCorpus(CORPUS, true)).rejects.toThrow(ScanCorpusError);
  });
});

describe('resuming', () => {
  it('a stopped scan resumes where it stopped and ends exactly like an unbroken one', async () => {
    const whole = new SqliteStore(join(dir, 'whole.db'));
    await scan(whole, { batch: 3 });
    const parts = new SqliteStore(join(dir, 'parts.db'));
    const ac = new AbortController();
    const corpus = await loadScanCorpus(CORPUS, false);
    let batches = 0;
    for await (const e of runScan({ model, tokenizer: tok, modelRef: REF, corpus, config: config(), batch: 3, store: parts, checkpointOverhead: Infinity, signal: ac.signal })) {
      if (e.type === 'progress' && ++batches === 2) ac.abort();
    }
    const stopped = parts.listScans()[0];
    expect(stopped).toMatchObject({ status: 'aborted', windowsDone: 6 });
    const events = await scan(parts, { batch: 3 });
    expect(events.find((e) => e.type === 'start')).toMatchObject({ resumed: true, scan: { id: stopped.id } });
    expect(parts.listScans()).toHaveLength(1);
    expect(parts.listScans()[0]).toMatchObject({ status: 'completed', windowsDone: WINDOWS.length, tokensDone: TOTAL_TOKENS });
    for (const layer of [0, 1]) {
      for (let n = 0; n < 8; n++) {
        const a = page(whole, layer, n);
        const b = page(parts, layer, n);
        expect(b.stats).toEqual(a.stats);
        expect(b.top).toEqual(a.top);
        expect(b.random).toEqual(a.random);
      }
    }
    whole.close();
    parts.close();
  });

  it('the batch size does not change which windows are kept', async () => {
    const a = new SqliteStore(join(dir, 'b2.db'));
    const b = new SqliteStore(join(dir, 'b7.db'));
    await scan(a, { batch: 2 }, config({ sample: 3 }));
    await scan(b, { batch: 7 }, config({ sample: 3 }));
    for (let n = 0; n < 8; n++) {
      const pa = page(a, 1, n);
      const pb = page(b, 1, n);
      expect(pb.top.map((e) => e.window)).toEqual(pa.top.map((e) => e.window));
      expect(pb.stats!.sampled).toBe(pa.stats!.sampled);
      expect(pb.stats!.bins.map((x) => x.count)).toEqual(pa.stats!.bins.map((x) => x.count));
      expect(pb.stats!.mean).toBeCloseTo(pa.stats!.mean, 5);
    }
    a.close();
    b.close();
  });
});
