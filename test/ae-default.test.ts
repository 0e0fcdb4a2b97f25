// The shipped sentence autoencoders of the embedded default model, on held-out sentences (the LM's document split,
// never seen by the model or the autoencoder): k = 32 reconstructs at least 60 % of held-out tokens, as its card
// says, and the points between two held-out sentences' latents, decoded fused with the model (ae/decode.ts), have a
// cross-entropy within 1 nat of the corpus median (the project's two targets; AE_CARD.md). Fixed seeds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src-main/backend.js';
import { autoencoderDirFor, loadAutoencoder, readAEFile } from '../src-main/ae/files.js';
import { FUSED_DECODING } from '../src-main/ae/decode.js';
import { interiorCrossEntropies, interpolationCheckSample, medianCrossEntropy } from '../src-main/ae/interpolate.js';
import type { SentenceAE } from '../src-main/ae/model.js';
import { sentenceRows } from '../src-main/ae/sentences.js';
import { reconstructionAccuracy } from '../src-main/ae/train.js';
import { loadCorpus } from '../src-main/corpus/documents.js';
import { rng, shuffle } from '../src-main/corpus/rng.js';
import { splitDocuments } from '../src-main/corpus/split.js';
import { defaultModelDir, loadModel, type LoadedModel } from '../src-main/model/load.js';
import { LM_SPLIT } from '../src-main/train/lmCorpus.js';

let lm: LoadedModel;
let ae: SentenceAE;
let heldOut: number[][];

beforeAll(async () => {
  await initBackend('wasm');
  lm = await loadModel(defaultModelDir());
  ae = (await loadAutoencoder(autoencoderDirFor(defaultModelDir(), 32), lm.model)).ae;
  const docs = splitDocuments(await loadCorpus('brown+sotu'), LM_SPLIT).heldOut;
  heldOut = sentenceRows(docs, lm.tokenizer, ae.shape.T, 4).rows;
}, 120_000);
afterAll(() => {
  ae?.dispose();
  lm?.model.dispose();
});

describe('the default k = 32 sentence autoencoder', { timeout: 300_000 }, () => {
  it('reconstructs held-out sentence tokens as accurately as its ae.json states (recomputed on a sample)', async () => {
    const sample = shuffle(heldOut, rng(3)).slice(0, 500);
    const { accuracy } = await reconstructionAccuracy(lm.model, ae, sample);
    const stated = (await readAEFile(autoencoderDirFor(defaultModelDir(), 32))).metrics.heldOutTokenAccuracy as number;
    expect(Math.abs(accuracy - stated)).toBeLessThan(0.03);
    expect(stated).toBeGreaterThanOrEqual(0.6);
    expect(accuracy).toBeGreaterThanOrEqual(0.6);
  });

  it('decodes the path between two held-out sentences (fused with the model) within 1 nat of the corpus median cross-entropy', async () => {
    const { medianRows, pairs } = interpolationCheckSample(heldOut);
    const corpusMedian = await medianCrossEntropy(lm.model, lm.tokenizer, medianRows);
    // Hard: each decoded text is re-tokenised and scored as any text would be.
    const interior = await interiorCrossEntropies(lm.model, lm.tokenizer, ae, pairs, FUSED_DECODING);
    const mean = interior.reduce((s, p) => s + p.ce, 0) / interior.length;
    expect(interior.every((p) => p.text.trim().length > 0)).toBe(true);
    expect(Math.abs(mean - corpusMedian), `interior mean CE ${mean.toFixed(2)} vs corpus median ${corpusMedian.toFixed(2)}: ${JSON.stringify(interior)}`).toBeLessThanOrEqual(1);
  });
});
