// The dreaming suite that runs on every available backend (test/dream-<backend>.test.ts): decoders, hard
// evaluation, and dream runs (each method raises the hard activation, determinism, abort, memory). One file per
// backend so that vitest runs them in parallel.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src-main/backend.js';
import { METHODS } from '../../src-main/dream/config.js';
import { decodeIds } from '../../src-main/dream/decode.js';
import { measureTexts } from '../../src-main/dream/hard.js';
import { neuronTarget } from '../../src-main/dream/objectives.js';
import { dreamToEnd, runDream } from '../../src-main/dream/run.js';
import type { Dream } from '../../src-main/dream/records.js';
import { lensLogits } from '../../src-main/model/lens.js';
import { loadModel, type LoadedModel } from '../../src-main/model/load.js';
import { rng } from '../../src-main/corpus/rng.js';
import { FIXTURE } from './shared.js';
import { brownTagLexicon, keepsPartsOfSpeech } from '../../src-main/readability/partOfSpeech.js';
import { keepsSentenceForm } from '../../src-main/readability/assess.js';
import { loadShippedJudge } from '../../src-main/readability/shipped.js';
import type { ReadabilityJudge } from '../../src-main/readability/judge.js';
import type { SeedSource } from '../../src-main/dream/seeded.js';
import { seedPoolDocuments, seedSourceFrom } from '../../src-main/dream/seedPool.js';
import { readabilitySplits } from '../../src-main/readability/splits.js';
import { loadCorpus } from '../../src-main/corpus/documents.js';
import { repetition } from '../../src-main/readability/repetition.js';
import { sampleSequences } from '../../src-main/model/generate.js';
import { brownSentences, trainFixtureAE } from './fixtureAE.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const target = { kind: 'neuron' as const, layer: 1, neuron: 7 };

export function dreamSuite(backend: 'wasm' | 'cpu' | 'webgpu' | 'tensorflow'): void {
  let lm: LoadedModel;
  // The fixture's own sentence autoencoder (trained briefly here) for `latent`.
  const aeDir = join(mkdtempSync(join(tmpdir(), 'td-suite-ae-')), 'k8');
  // `seeded` starts from windows of the Brown seed pool (a few documents, to keep the suite quick).
  let seedSource: SeedSource;
  let seedPoolIds: Set<string>;
  // The readability judge, as the CLI and the workbench run with it: `seeded` keeps only readable edits by default.
  let judge: ReadabilityJudge;
  const ctx = () => ({ model: lm.model, tokenizer: lm.tokenizer, seedSource, judge });
  beforeAll(async () => {
    const info = await initBackend(backend);
    expect(info.name).toBe(backend);
    lm = await loadModel(FIXTURE);
    const pool = (await seedPoolDocuments('brown', lm.tokenizer)).slice(0, 6);
    seedPoolIds = new Set(pool.map((d) => d.id));
    seedSource = seedSourceFrom(lm.model, lm.tokenizer, pool, 120);
    judge = (await loadShippedJudge(lm.tokenizer)).judge;
    await trainFixtureAE(lm, aeDir, await brownSentences(lm, 8, 64), { steps: 80, lr: 1e-2 });
  }, 600_000);
  afterAll(() => lm?.model.dispose());


describe('decoders', () => {
  it('cosine nearest token round-trips token embeddings exactly', async () => {
    const rand = rng(5);
    const ids = [Array.from({ length: 16 }, () => Math.floor(rand() * 50257))];
    const e = tf.tidy(() => lm.model.embed(tf.tensor2d(ids, [1, 16], 'int32')));
    expect(await decodeIds(lm.model, e, 'cosine')).toEqual(ids);
    e.dispose();
  });
  it('dot and lens decoders are the argmax of their closed forms', async () => {
    const e = tf.tidy(() => tf.randomNormal([1, 3, 32], 0, 0.1, 'float32', 11) as tf.Tensor3D);
    const wte = (await lm.model.weights.wte.array()) as number[][];
    const vecs = ((await e.array()) as number[][][])[0];
    const argmax = (scores: number[]) => scores.reduce((b, v, i, a) => (v > a[b] ? i : b), 0);
    expect((await decodeIds(lm.model, e, 'dot'))[0]).toEqual(vecs.map((v) => argmax(wte.map((row) => row.reduce((s, w, j) => s + w * v[j], 0)))));
    const lensT = tf.tidy(() => lensLogits(lm.model, e));
    const lens = (await lensT.array()) as number[][][];
    lensT.dispose();
    expect((await decodeIds(lm.model, e, 'lens'))[0]).toEqual(lens[0].map(argmax));
    e.dispose();
  });
});

describe('hard evaluation', () => {
  it('re-tokenises and measures the text with a BOS prefix, independently recomputed', async () => {
    const text = 'The quick brown fox jumps';
    const [h] = await measureTexts(lm.model, lm.tokenizer, neuronTarget(1, 7), [text], 'mean');
    const ids = [50256, ...lm.tokenizer.encode(text)];
    const [postT, logitsT] = tf.tidy(() => {
      const r = lm.model.run({ ids: tf.tensor2d([ids], [1, ids.length], 'int32') }, { hooks: ['blocks.1.mlp.hook_post'] });
      return [r.cache.get('blocks.1.mlp.hook_post')!, r.logits!];
    });
    const post = (await postT.array()) as number[][][];
    const logits = (await logitsT.array()) as number[][][];
    tf.dispose([postT, logitsT]);
    const { acts, ce } = (() => {
      let nats = 0;
      for (let t = 0; t < ids.length - 1; t++) {
        const row = logits[0][t];
        const m = Math.max(...row);
        const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
        nats += lse - row[ids[t + 1]];
      }
      return { acts: post[0].slice(1).map((p) => p[7]), ce: nats / (ids.length - 1) };
    })();
    expect(h.ids).toEqual(ids.slice(1));
    h.perToken.forEach((v, i) => expect(v).toBeCloseTo(acts[i], 5));
    expect(h.mean).toBeCloseTo(acts.reduce((a, b) => a + b, 0) / acts.length, 5);
    expect(h.max).toBeCloseTo(Math.max(...acts), 5);
    expect(h.ce).toBeCloseTo(ce, 4);
  });
});

// wasm runs the full lengths; cpu and software WebGPU (lavapipe) are 5-15× slower: shorter runs, longer timeouts.
const slow = backend !== 'wasm';
describe('dream runs', { timeout: slow ? 600_000 : 120_000 }, () => {
  // `seeded` checks form and grammar only here: the fixture's edits seldom pass the readability rule, whose check
  // (the default) test/seed-focus.test.ts tests on its own.
  const small = { target, steps: 12, every: 4, seqLen: 6, batch: 3, lambdas: [0, 0.5, 2], candidates: 6, editCheck: 'form' as const };

  it.each(METHODS.filter((m) => m !== 'beam'))('%s raises the hard activation above its start', async (method) => {
    const res = await dreamToEnd(runDream(ctx(), { ...small, method, autoencoder: aeDir, steps: method === 'fluent' ? (slow ? 6 : 12) : method === 'seeded' ? (slow ? 6 : 12) : slow ? 12 : 30, lr: 0.1 }));
    const start = Math.max(...res.initial.map((d) => d.value));
    expect(res.stopped).toBe('completed');
    expect(res.best!.value).toBeGreaterThan(start);
    // The best dream's value is a hard measurement of its own text.
    const [again] = await measureTexts(lm.model, lm.tokenizer, neuronTarget(1, 7), [res.best!.text], 'mean');
    expect(again.value).toBeCloseTo(res.best!.value, 4);
  });

  it.each([
    ['the residual stream at layer 1', { latentLayer: 1 }],
    ['straight-through decoded tokens', { straightThrough: true }],
    ['decoding fused with the model', { latentDecode: 'fused' }],
  ] as const)('latent through %s raises the hard activation above its start', async (_, over) => {
    // Straight-through: the model reads decoded tokens, which change only once z has moved far enough to flip one
    // (the decoder emits only its training candidates), so it takes larger steps.
    const lr = 'straightThrough' in over ? 0.3 : 0.1;
    const res = await dreamToEnd(runDream(ctx(), { ...small, method: 'latent', autoencoder: aeDir, steps: slow ? 12 : 30, lr, ...over }));
    expect(res.stopped).toBe('completed');
    expect(res.best!.value).toBeGreaterThan(Math.max(...res.initial.map((d) => d.value)));
    const [again] = await measureTexts(lm.model, lm.tokenizer, neuronTarget(1, 7), [res.best!.text], 'mean');
    expect(again.value).toBeCloseTo(res.best!.value, 4);
  });

  // The LM-guided searches are backend-independent code over hardEvaluate and proposeTokens, which every backend's
  // run above exercises (seeded's "raises" case included); their longer checks run where a run takes seconds.
  const searchIt = it.skipIf(slow);

  searchIt('beam writes texts that activate more than the model writes unguided, and never a word three times', async () => {
    const texts: string[] = [];
    const res = await dreamToEnd(runDream(ctx(), { ...small, method: 'beam', seqLen: 6, steps: 2, every: 1, beamWidth: 2, expand: slow ? 6 : 10, lambdas: [0, 1] }), (r) => texts.push(...r.dreams.map((d) => d.text)));
    expect(res.stopped).toBe('completed');
    // Unguided: the model's own top-p samples of the same length (what the beam's λ → ∞ would approach).
    const samples = await sampleSequences(lm.model, 6, 6, { topP: 0.9, seed: 1 });
    const unguided = await measureTexts(lm.model, lm.tokenizer, neuronTarget(1, 7), samples.map((s) => lm.tokenizer.decode(s)), 'mean');
    expect(res.best!.value).toBeGreaterThan(Math.max(...unguided.map((e) => e.value)));
    expect(res.best!.ids).toHaveLength(6);
    for (const t of texts) {
      expect(repetition(t).maxWordCount).toBeLessThanOrEqual(2);
      expect(t).not.toMatch(/\n|<\|endoftext\|>/);
    }
    const [again] = await measureTexts(lm.model, lm.tokenizer, neuronTarget(1, 7), [res.best!.text], 'mean');
    expect(again.value).toBeCloseTo(res.best!.value, 4);
  });

  searchIt('seeded edits seed-pool windows only, within its edit budget, reporting seed, edits and lift', async () => {
    const texts: string[] = [];
    const dreams: Dream[] = [];
    // With the judge loaded, as the CLI and the workbench run it: each dream's readability is judged beside its seed.
    const res = await dreamToEnd(runDream(ctx(), { ...small, method: 'seeded', steps: slow ? 6 : 12, every: 2, maxEdits: 2, batch: 3 }), (r) => {
      texts.push(...r.dreams.map((d) => d.text));
      dreams.push(...r.dreams);
    });
    const best = res.best!;
    expect(best.origin).toBeDefined();
    expect(best.origin!.edits).toBeGreaterThan(0);
    expect(best.origin!.edits).toBeLessThanOrEqual(2);
    expect(best.value).toBeGreaterThan(best.origin!.seedValue);
    for (const t of texts) expect(repetition(t).maxWordCount).toBeLessThanOrEqual(2);
    // Seeds start as sentences, and no edit breaks that form (a lower-case start, a doubled word, a run-on).
    for (const t of texts) expect(keepsSentenceForm(t), t).toBe(true);
    // By default an edit swaps a word for one of the same part of speech, inserts a plain word or deletes a modifier
    // (lined up with the seed run on into its document's next tokens): the seed's grammar stays.
    const tags = await brownTagLexicon();
    for (const d of dreams) expect(keepsPartsOfSpeech(tags, d.origin!.seedText, d.text, undefined, true, d.origin!.seedNext), `${d.origin!.seedText} → ${d.text}`).toBe(true);
    for (const d of dreams) expect(d.readability!.seedLogProb).toBeCloseTo(judge.scores(d.origin!.seedText).logProb, 12);
    // A seed not yet edited is corpus text: the run starts from seeds, but none is on the readability front or its
    // most activating readable dream.
    expect(res.initial.every((d) => d.origin!.edits === 0)).toBe(true);
    for (const d of [...res.pareto!, ...(res.bestReadable ? [res.bestReadable] : [])]) expect(d.origin!.edits, d.text).toBeGreaterThan(0);
    // Every seed came from the seed pool: never a held-out document, never one the judge counts.
    const splits = readabilitySplits(await loadCorpus('brown'));
    const forbidden = new Set([...splits.heldOut, ...splits.judge].map((d) => d.id));
    for (const d of res.initial) {
      expect(seedPoolIds.has(d.origin!.seedDoc)).toBe(true);
      expect(forbidden.has(d.origin!.seedDoc)).toBe(false);
    }
  });

  it('latent refuses a layer past the target, before reading any file', () => {
    expect(() => runDream(ctx(), { ...small, target: { kind: 'neuron', layer: 0, neuron: 3 }, method: 'latent', latentLayer: 1, autoencoder: '/nonexistent' })).toThrow(/--latent-layer 1 is past what the target reads \(layer 0\)/);
  });

  it.each(slow ? (['embed', 'fluent'] as const) : (['embed', 'fluent', 'beam', 'seeded'] as const))('%s is deterministic for a seed', async (method) => {
    const run = async (seed: number) => {
      const texts: string[] = [];
      const steps = method === 'embed' ? small.steps : method === 'beam' ? 2 : slow ? 4 : 6;
      const res = await dreamToEnd(runDream(ctx(), { ...small, method, seed, steps, expand: 6, beamWidth: 2 }), (r) => texts.push(...r.dreams.map((d) => d.text)));
      return { texts, best: res.best!.value };
    };
    const a = await run(3);
    const b = await run(3);
    const c = await run(4);
    expect(b).toEqual(a);
    expect(c.texts).not.toEqual(a.texts);
  });

  it.each(slow ? (['embed'] as const) : (['embed', 'beam', 'seeded'] as const))('%s stops on an AbortSignal in the middle of a run', async (method) => {
    const ac = new AbortController();
    let records = 0;
    const res = await dreamToEnd(runDream(ctx(), { ...small, method, steps: 1000, every: 2, expand: 4, beamWidth: 2 }, ac.signal), () => {
      records += 1;
      if (records === 3) ac.abort();
    });
    expect(res.stopped).toBe('aborted');
    expect(res.steps).toBe(6);
    expect(res.best).not.toBeNull();
  });

  it.each([
    ['embed', slow ? 60 : 500],
    ['projected', slow ? 40 : 150],
    ['subspace', slow ? 40 : 150],
    ['latent', slow ? 40 : 150],
  ] as const)('%s keeps tf.memory().numTensors flat over %i steps', { timeout: 400_000 }, async (method, steps) => {
    let atBurnIn = -1;
    let bytesAtBurnIn = -1;
    const res = await dreamToEnd(
      runDream(ctx(), { ...small, method, steps, every: 10, seqLen: 4, batch: 2, fluency: 0.1, manifold: method === 'embed' ? 0.1 : 0, k: 8, autoencoder: aeDir }),
      (r) => {
        if (r.step === 10) {
          atBurnIn = tf.memory().numTensors;
          bytesAtBurnIn = tf.memory().numBytes;
        }
        if (r.step > 10) {
          expect(tf.memory().numTensors).toBe(atBurnIn);
          expect(tf.memory().numBytes).toBe(bytesAtBurnIn);
        }
      },
    );
    expect(res.steps).toBe(steps);
  });

  it.each(slow ? (['fluent'] as const) : (['fluent', 'beam', 'seeded'] as const))('%s keeps tf.memory().numTensors flat', async (method) => {
    const counts: number[] = [];
    // A beam step is a whole round (seqLen extensions): fewer steps, each recorded.
    const steps = method === 'beam' ? 5 : slow ? 15 : 30;
    await dreamToEnd(runDream(ctx(), { ...small, method, steps, every: method === 'beam' ? 1 : 5, topP: 0.9, expand: 4, beamWidth: 2, seqLen: 5 }), () => counts.push(tf.memory().numTensors));
    expect(new Set(counts.slice(1)).size).toBe(1);
  });

  it('leaves no tensors behind after a run', async () => {
    const cfg = { ...small, method: 'subspace' as const, steps: 4 };
    await dreamToEnd(runDream(ctx(), cfg)); // warms the model's per-length mask cache
    const before = tf.memory().numTensors;
    await dreamToEnd(runDream(ctx(), cfg));
    expect(tf.memory().numTensors).toBe(before);
  });});
}
