// Walking the latent between two sentences: encode both, mix their (normalised) latents, decode each point to text.
// The decoder reads directions only, so a linear mix is a path along the sphere between the two.
import * as tf from '@tensorflow/tfjs-core';
import { rng, shuffle } from '../corpus/rng.js';
import { crossEntropies } from '../dream/hard.js';
import type { GPT2 } from '../model/gpt2.js';
import type { TextTokenizer } from '../model/tokenizer.js';
import { decodeLatents, type LatentDecoding } from './decode.js';
import type { SentenceAE } from './model.js';
import { padRows } from './sentences.js';

export interface LatentPoint {
  /** 0 at the first sentence, 1 at the second. */
  t: number;
  ids: number[];
  text: string;
}

export async function interpolateSentences(model: GPT2, tok: TextTokenizer, ae: SentenceAE, a: number[], b: number[], points: number, decoding?: LatentDecoding): Promise<LatentPoint[]> {
  if (points < 2) throw new Error(`interpolation needs at least 2 points, got ${points}`);
  const { T } = ae.shape;
  const ts = Array.from({ length: points }, (_, i) => i / (points - 1));
  const z = tf.tidy(() => {
    const { ids, lengths } = padRows([a, b], T, model.config.eosTokenId);
    const [za, zb] = tf.split(ae.normalize(ae.encode(model, tf.tensor2d(ids, [2, T], 'int32'), lengths)), 2, 0);
    const w = tf.tensor2d(ts, [points, 1]);
    return tf.add(tf.mul(tf.sub(1, w), za), tf.mul(w, zb)) as tf.Tensor2D;
  });
  const { ids, lengths } = await decodeLatents(model, ae, z, decoding);
  z.dispose();
  return ts.map((t, i) => {
    const row = ids[i].slice(0, lengths[i]);
    return { t, ids: row, text: tok.decode(row) };
  });
}

/**
 * The interpolation check of AE_CARD.md (test/ae-default.test.ts, bench/ae-decoding.ts): with seed 17, 300 held-out
 * sentences whose median cross-entropy is the yardstick, then 4 pairs of held-out sentences. Other seeds and more
 * pairs give validation samples to choose decoding settings on, so that the check's own pairs stay unseen.
 */
export function interpolationCheckSample(heldOut: readonly number[][], seed = 17, pairs = 4): { medianRows: number[][]; pairs: number[][][] } {
  const rand = rng(seed);
  const medianRows = shuffle(heldOut, rand).slice(0, 300);
  return { medianRows, pairs: Array.from({ length: pairs }, () => shuffle(heldOut, rand).slice(0, 2)) };
}

/** The median of the sentences' hard cross-entropies (the upper middle one for an even count). */
export async function medianCrossEntropy(model: GPT2, tok: TextTokenizer, rows: number[][]): Promise<number> {
  const ce = (await crossEntropies(model, tok, rows)).sort((p, q) => p - q);
  return ce[Math.floor(ce.length / 2)];
}

/** The 3 interior points of each pair's 5-point path, decoded, and scored as any text would be (re-tokenised, hard). */
export async function interiorCrossEntropies(model: GPT2, tok: TextTokenizer, ae: SentenceAE, pairs: number[][][], decoding: LatentDecoding): Promise<{ text: string; ce: number }[]> {
  const interior: { text: string; ce: number }[] = [];
  for (const [a, b] of pairs) {
    const path = (await interpolateSentences(model, tok, ae, a, b, 5, decoding)).slice(1, -1);
    const scores = await crossEntropies(model, tok, path.map((p) => tok.encode(p.text)));
    path.forEach((p, i) => interior.push({ text: p.text, ce: scores[i] }));
  }
  return interior;
}
