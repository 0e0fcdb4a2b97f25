// The sentence autoencoder on the fixture model: sentence splitting, the training loss's gradients against
// finite differences, the candidate softmax against the full one, memorising a handful of real sentences, the
// closed-form residual heads against their normal equations, files (round trip, wrong model refused), a training
// step that leaks no tensors, and decoding latents (argmax, and fused with the model) against a brute-force reference.
import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src-main/backend.js';
import { AutoencoderFileError, decodeTokenSet, encodeTokenSet, loadAutoencoder, modelFingerprint, saveAutoencoder } from '../src-main/ae/files.js';
import { fitResidualHeads, solveRidge } from '../src-main/ae/residualHeads.js';
import { padRows, sentencesOf } from '../src-main/ae/sentences.js';
import { ARGMAX_DECODING, decodeLatents } from '../src-main/ae/decode.js';
import { AETrainer, reconstructionAccuracy } from '../src-main/ae/train.js';
import { hookName } from '../src-main/model/hooks.js';
import { loadModel, type LoadedModel } from '../src-main/model/load.js';
import { rng } from '../src-main/corpus/rng.js';
import { brownSentences, fixtureAEOptions } from './helpers/fixtureAE.js';
import { FIXTURE } from './helpers/shared.js';
import { expectGradientsMatchFD } from './helpers/finiteDifferences.js';

let lm: LoadedModel;
let rows: number[][];
const tmp = () => mkdtempSync(join(tmpdir(), 'td-ae-'));

beforeAll(async () => {
  await initBackend('wasm');
  lm = await loadModel(FIXTURE);
  rows = await brownSentences(lm, 8, 64);
});
afterAll(() => lm?.model.dispose());

describe('sentences', () => {
  it('splits prose at sentence ends followed by a capital, and at paragraphs', () => {
    expect(sentencesOf('He left. She stayed! "Why?" he asked.\n\nA new   paragraph e.g. here.')).toEqual(['He left.', 'She stayed!', '"Why?" he asked.', 'A new paragraph e.g. here.']);
  });
  it('pads rows with the pad id and keeps their lengths', () => {
    const { ids, lengths } = padRows([[1, 2], [3, 4, 5]], 4, 9);
    expect(Array.from(ids)).toEqual([1, 2, 9, 9, 3, 4, 5, 9]);
    expect(lengths).toEqual([2, 3]);
  });
});

describe('training loss', () => {
  it('matches finite differences in every parameter family (noise off; full softmax, candidates, and mixup toward the nearer sentence)', async () => {
    for (const [candidates, mix] of [[0, 0], [512, 0], [512, 0.5]]) {
      const tr = new AETrainer(lm.model, fixtureAEOptions({ noise: 0, candidates, mixNearest: mix }), join(tmp(), 'ck'));
      await tr.init(rows, () => {});
      const batch = rows.slice(0, 4);
      const loss = () => tf.tidy(() => tr.loss(batch, 1).total);
      const vars = [...tr.ae.params].filter(([n]) => !n.startsWith('dec.resid'));
      expectGradientsMatchFD(loss, vars, { top: 1, rand: rng(2), eps: 2e-3, tolerance: (fd) => 3e-2 * Math.abs(fd) + 3e-3, label: `candidates ${candidates}, mixNearest ${mix}` });
      tr.dispose();
    }
  });

  it('the candidate softmax equals the full softmax when every token is a candidate', async () => {
    const losses: number[] = [];
    for (const candidates of [0, 50_257]) {
      const tr = new AETrainer(lm.model, fixtureAEOptions({ candidates }), join(tmp(), 'ck'));
      await tr.init(rows, () => {});
      losses.push(tf.tidy(() => tr.loss(rows.slice(0, 8), 3).ce.dataSync()[0]));
      tr.dispose();
    }
    expect(losses[1]).toBeCloseTo(losses[0], 4);
  });

  it('mixup toward the nearer sentence is the cross-entropy of the nearer sentence at each mixed latent (reference built whole)', async () => {
    const seed = 7;
    const batch = rows.slice(0, 4);
    const B = batch.length;
    const totals: number[] = [];
    let reference = 0;
    for (const mixNearest of [0, 1]) {
      // Every token a candidate: the candidate softmax is then the full one (tested above), so the reference can use all rows.
      const tr = new AETrainer(lm.model, fixtureAEOptions({ noise: 0, candidates: 50_257, mixNearest }), join(tmp(), 'ck'));
      await tr.init(rows, () => {});
      totals.push(tf.tidy(() => tr.loss(batch, seed).total.dataSync()[0]));
      if (mixNearest === 0) {
        const ae = tr.ae;
        const { T, dModel: d } = ae.shape;
        const V = lm.model.config.vocabSize;
        const { ids, lengths } = padRows(batch, T, 50256);
        const rand = rng(seed + 29); // the loss's mixing weights
        const alpha = Array.from({ length: B }, () => rand());
        const logp = tf.tidy(() => {
          const u = ae.normalize(ae.encode(lm.model, tf.tensor2d(ids, [B, T], 'int32'), lengths)).arraySync();
          const zm = tf.tensor2d(u.map((ub, b) => ub.map((x, j) => alpha[b] * x + (1 - alpha[b]) * u[(b + 1) % B][j])));
          const E = tf.reshape(lm.model.embed(tf.tensor2d(Array.from({ length: V }, (_, i) => i), [1, V], 'int32')), [V, d]);
          const aug = tf.concat([E, tf.sum(tf.square(E), 1, true)], 1);
          const f = tf.reshape(ae.head(ae.decode(zm), 'logit'), [-1, d]) as tf.Tensor2D;
          return tf.logSoftmax(tf.matMul(ae.logitQuery(f), aug, false, true)).arraySync() as number[][];
        });
        let num = 0;
        let den = 0;
        alpha.forEach((a, b) => {
          const src = a >= 0.5 ? b : (b + 1) % B;
          for (let t = 0; t < T; t++) {
            const w = t <= lengths[src] ? 1 : 0.1; // padWeight after the terminator
            num -= w * logp[b * T + t][ids[src * T + t]];
            den += w;
          }
        });
        reference = num / den;
        // Both sides of the pairing occur, or the test would not tell the nearer sentence from a fixed one.
        expect(new Set(alpha.map((a) => a >= 0.5)).size).toBe(2);
      }
      tr.dispose();
    }
    expect(totals[1] - totals[0]).toBeCloseTo(reference, 3);
  });

  it('a training step (with mixup toward the nearer sentence) leaves tf.memory().numTensors where it was', async () => {
    const tr = new AETrainer(lm.model, fixtureAEOptions({ mixNearest: 0.5 }), join(tmp(), 'ck'));
    await tr.init(rows, () => {});
    await tr.trainStep(tr.batchRows(rows, 0));
    const before = tf.memory().numTensors;
    for (let s = 1; s < 6; s++) await tr.trainStep(tr.batchRows(rows, s));
    expect(tf.memory().numTensors).toBe(before);
    tr.dispose();
  });
});

describe('learning', () => {
  // Full softmax here: with the fixture's 32-wide embeddings, a candidate softmax leaves near-duplicate
  // non-candidate rows free to win the argmax, which says nothing about learning.
  it('memorises 8 real sentences (held-in reconstruction accuracy ≥ 90 %) and resumes from its checkpoint', { timeout: 300_000 }, async () => {
    const few = rows.slice(0, 8);
    const dir = join(tmp(), 'ck');
    const o = fixtureAEOptions({ steps: 200, batch: 8, noise: 0.02, lr: 1e-2, warmupSteps: 10, checkpointEvery: 50, candidates: 0 });
    const first = new AETrainer(lm.model, { ...o, steps: 100 }, dir);
    await first.init(few, () => {});
    const before = await reconstructionAccuracy(lm.model, first.ae, few);
    await first.train(few, few, () => {});
    first.dispose();
    const second = new AETrainer(lm.model, o, dir);
    const lines: string[] = [];
    await second.init(few, (s) => lines.push(s));
    expect(lines.join("\n")).toContain('at step 100');
    await second.train(few, few, () => {});
    const after = await reconstructionAccuracy(lm.model, second.ae, few);
    expect(before.accuracy).toBeLessThan(0.3);
    expect(after.accuracy).toBeGreaterThanOrEqual(0.9);
    second.dispose();
  });
});

describe('residual heads', () => {
  it('solveRidge solves (A + λI)·X = B', () => {
    const A = Float64Array.from([4, 1, 0, 1, 3, 1, 0, 1, 2]);
    const B = Float64Array.from([1, 2, 3, 4, 5, 6]);
    const X = solveRidge(A, B, 3, 2, 0.5);
    for (let i = 0; i < 3; i++) {
      for (let c = 0; c < 2; c++) {
        let s = 0.5 * X[i * 2 + c];
        for (let k = 0; k < 3; k++) s += A[i * 3 + k] * X[k * 2 + c];
        expect(s).toBeCloseTo(B[i * 2 + c], 10);
      }
    }
  });

  it('the fitted head satisfies its normal equations and explains some of the variance', async () => {
    const tr = new AETrainer(lm.model, fixtureAEOptions(), join(tmp(), 'ck'));
    await tr.init(rows, () => {});
    await tr.train(rows, rows, () => {});
    const ae = tr.ae;
    const [fit] = await fitResidualHeads(lm.model, ae, rows, rows, 1e-6);
    expect(fit.layer).toBe(1);
    expect(fit.r2).toBeGreaterThan(0);
    // Hᵀ·(H·W + b − R) ≈ 0: the residual is orthogonal to every decoder feature (and to the constant).
    const { T, dModel: d } = ae.shape;
    const { ids, lengths } = padRows(rows, T, 50256);
    const withBos = new Int32Array(rows.length * (T + 1)).fill(50256);
    rows.forEach((_, b) => withBos.set(ids.subarray(b * T, (b + 1) * T), b * (T + 1) + 1));
    const [ortho, scale] = tf.tidy(() => {
      const h = ae.decode(ae.encode(lm.model, tf.tensor2d(ids, [rows.length, T], 'int32'), lengths));
      const pred = tf.reshape(ae.head(h, 'resid1'), [-1, d]);
      const r = lm.model.run({ ids: tf.tensor2d(withBos, [rows.length, T + 1], 'int32') }, { hooks: [hookName(1, 'hook_resid_pre')], stopAtLayer: 2 }).cache.get(hookName(1, 'hook_resid_pre'))!;
      const R = tf.reshape(tf.slice(r, [0, 1, 0], [rows.length, T, d]), [-1, d]);
      const H = tf.reshape(h, [-1, d]);
      const g = tf.matMul(tf.transpose(H), tf.sub(pred, R));
      return [tf.max(tf.abs(g)).dataSync()[0], tf.max(tf.abs(tf.matMul(tf.transpose(H), R))).dataSync()[0]];
    });
    expect(ortho / scale).toBeLessThan(1e-3);
    tr.dispose();
  });
});

describe('files', () => {
  it('round-trips through ae.json + F16 safetensors and refuses another model', async () => {
    const tr = new AETrainer(lm.model, fixtureAEOptions({ steps: 5 }), join(tmp(), 'ck'));
    await tr.init(rows, () => {});
    await tr.train(rows, rows, () => {});
    const dir = tmp();
    await saveAutoencoder(tr.ae, dir, { model: await modelFingerprint(lm.model), training: {}, metrics: {} });
    const { ae } = await loadAutoencoder(dir, lm.model);
    const { ids, lengths } = padRows(rows.slice(0, 4), 8, 50256);
    const [a, b] = [tr.ae, ae].map((m) => tf.tidy(() => m.head(m.decode(m.encode(lm.model, tf.tensor2d(ids, [4, 8], 'int32'), lengths)), 'embed').dataSync()));
    let worst = 0;
    a.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - b[i]) / (Math.abs(v) + 1e-2))));
    expect(worst).toBeLessThan(2e-2); // F16 storage
    // The decoding vocabulary travels with the weights.
    expect(Array.from(ae.vocabulary!)).toEqual(Array.from(tr.ae.vocabulary!));
    expect(JSON.parse(readFileSync(join(dir, 'ae.json'), 'utf8')).decoderVocabulary.tokens).toBe(512);
    ae.dispose();
    tr.dispose();
    const meta = JSON.parse(readFileSync(join(dir, 'ae.json'), 'utf8'));
    meta.model.probe[0] += 1;
    writeFileSync(join(dir, 'ae.json'), JSON.stringify(meta));
    await expect(loadAutoencoder(dir, lm.model)).rejects.toThrow(AutoencoderFileError);
    await expect(loadAutoencoder(dir, lm.model)).rejects.toThrow(/trained for another model.*train-ae/);
    await expect(loadAutoencoder(join(dir, 'nope'), lm.model)).rejects.toThrow(/ae\.json is missing.*train-ae/);
    meta.model.probe[0] -= 1;
    meta.decoderVocabulary.tokens += 1;
    writeFileSync(join(dir, 'ae.json'), JSON.stringify(meta));
    await expect(loadAutoencoder(dir, lm.model)).rejects.toThrow(/decoderVocabulary does not describe 513 tokens.*train-ae/);
  });

  it('a token set survives its bitmask, and ids outside the vocabulary are refused', () => {
    const ids = [0, 7, 8, 50256, 1234, 7];
    const set = encodeTokenSet(ids, 50257);
    expect(set.tokens).toBe(5);
    expect(Array.from(decodeTokenSet(set, 50257, 'x'))).toEqual([0, 7, 8, 1234, 50256]);
    expect(() => encodeTokenSet([50257], 50257)).toThrow(/outside the vocabulary/);
    expect(() => decodeTokenSet(set, 1000, 'x')).toThrow(AutoencoderFileError);
  });
});

describe('hard evaluation of decoded sentences', () => {
  it('scores an empty decoded sentence (the decoder ended it at once) as NaN instead of failing', async () => {
    const { hardEvaluate } = await import('../src-main/dream/hard.js');
    const { neuronTarget } = await import('../src-main/dream/objectives.js');
    const [empty, text] = await hardEvaluate(lm.model, lm.tokenizer, neuronTarget(1, 7), [[], rows[0]], 'mean');
    expect(empty.text).toBe('');
    expect(Number.isNaN(empty.value)).toBe(true);
    expect(Number.isFinite(text.value)).toBe(true);
  });
});

describe('decoding latents (ae/decode.ts)', () => {
  // Both the whole vocabulary and the decoding vocabulary the trainer gives the autoencoder (its candidate tokens).
  for (const vocabulary of ['whole', 'training'] as const) {
    it(`argmax is the ${vocabulary} vocabulary's argmax; fused takes, among its top K, the best autoencoder logit + λ · model logit`, async () => {
      const tr = new AETrainer(lm.model, fixtureAEOptions(), tmp());
      await tr.init(rows, () => {});
      const ae = tr.ae;
      if (vocabulary === 'whole') ae.restrictVocabulary(null);
      const allowed = ae.vocabulary ? new Set(ae.vocabulary) : null;
      if (vocabulary === 'training') expect(allowed!.size).toBe(512);
      const { T, dModel: d } = ae.shape;
      const B = 3;
      const K = 5;
      const lambda = 2;
      const eos = lm.model.config.eosTokenId;
      const V = lm.model.config.vocabSize;
      const z = tf.tensor2d(Array.from({ length: B * ae.shape.k }, (_, i) => Math.sin(i * 1.7 + 0.3)), [B, ae.shape.k]);
      // Reference autoencoder logits built whole, [B·T, V]: the query against every embedding row (the decoder chunks).
      const aeLogits = tf.tidy(() => {
        const E = tf.reshape(lm.model.embed(tf.tensor2d(Array.from({ length: V }, (_, i) => i), [1, V], 'int32')), [V, d]);
        const aug = tf.concat([E, tf.sum(tf.square(E), 1, true)], 1);
        const f = tf.reshape(ae.head(ae.decode(z), 'logit'), [-1, d]) as tf.Tensor2D;
        return tf.matMul(ae.logitQuery(f), aug, false, true).arraySync() as number[][];
      });
      const topK = (row: number[]) =>
        row
          .map((v, i) => [v, i] as const)
          .filter(([, i]) => !allowed || allowed.has(i))
          .sort((a, b) => b[0] - a[0])
          .slice(0, K);
      const argmax = (await decodeLatents(lm.model, ae, z, ARGMAX_DECODING)).ids;
      const fused = (await decodeLatents(lm.model, ae, z, { lmWeight: lambda, topK: K })).ids;
      const expected: number[][] = [];
      let outside = 0;
      for (let b = 0; b < B; b++) {
        const row: number[] = [];
        for (let t = 0; t < T; t++) {
          const cands = topK(aeLogits[b * T + t]);
          expect(argmax[b][t]).toBe(cands[0][1]);
          // Where the vocabulary is restricted, the whole vocabulary's argmax is sometimes outside it.
          if (allowed && !allowed.has(aeLogits[b * T + t].indexOf(Math.max(...aeLogits[b * T + t])))) outside += 1;
          if (cands[0][1] === eos) {
            row.push(eos);
            continue;
          }
          // The model's own next-token logits after <|endoftext|> + the tokens chosen so far (full logits, not the lens).
          const next = tf.tidy(() => {
            const logits = lm.model.run({ ids: tf.tensor2d([[eos, ...row]], [1, t + 1], 'int32') }).logits!;
            return tf.squeeze(tf.slice(logits, [0, t, 0], [1, 1, V])).arraySync() as number[];
          });
          const best = cands.filter(([, id]) => id !== eos).reduce((p, q) => (q[0] + lambda * next[q[1]] > p[0] + lambda * next[p[1]] ? q : p));
          row.push(best[1]);
        }
        expected.push(row);
      }
      expect(fused).toEqual(expected);
      // The model changed some choices (else this test would not tell fused from argmax).
      expect(fused.flat().filter((id, i) => id !== argmax.flat()[i]).length).toBeGreaterThan(0);
      // And the restriction changed some (else it would not be tested).
      if (allowed) expect(outside).toBeGreaterThan(0);
      z.dispose();
      tr.dispose();
    });
  }
});
