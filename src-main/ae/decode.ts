// Latents to tokens. The decoder predicts every position at once and independently, so its argmax can be the right
// words in an order no one writes; the language model it belongs to knows the order. `fused` decoding (shallow
// fusion) walks left to right and, among the autoencoder's top K tokens at each position, takes the one with the
// highest autoencoder logit + λ · the model's logit given the tokens chosen so far. Both logits are compared at one
// position only, so their normalisers cancel and the model's next-token logits suffice. λ = 0 is the plain argmax.
import * as tf from '@tensorflow/tfjs-core';
import { lensLogits } from '../model/lens.js';
import { gatherPerRow } from '../model/ops.js';
import type { GPT2 } from '../model/gpt2.js';
import type { SentenceAE } from './model.js';

export interface LatentDecoding {
  /** λ, the weight of the language model's logits; 0 decodes by the autoencoder's argmax alone. */
  lmWeight: number;
  /** Autoencoder candidates per position the language model chooses among. */
  topK: number;
}

export const ARGMAX_DECODING: LatentDecoding = { lmWeight: 0, topK: 1 };
/** λ chosen on validation pairs of held-out sentences for the default model (AE_CARD.md: seed 99, 12 pairs). */
export const FUSED_DECODING: LatentDecoding = { lmWeight: 0.5, topK: 8 };

export interface DecodedLatents {
  /** T token ids per latent (`<|endoftext|>` where the sentence has ended). */
  ids: number[][];
  /** Where each sentence ends: the first position whose autoencoder argmax is `<|endoftext|>`, else T. */
  lengths: number[];
}

export async function decodeLatents(model: GPT2, ae: SentenceAE, z: tf.Tensor2D, decoding: LatentDecoding = ARGMAX_DECODING): Promise<DecodedLatents> {
  const { T, dModel } = ae.shape;
  const B = z.shape[0];
  const K = decoding.lmWeight > 0 ? Math.max(1, decoding.topK) : 1;
  const points = () => tf.reshape(ae.head(ae.decode(z), 'logit'), [-1, dModel]) as tf.Tensor2D;
  // Argmax: the same tokens the straight-through path reads (tokensAt); fused: the top K with their logits.
  const top: { ids: tf.Tensor; logits?: tf.Tensor } = K === 1 ? { ids: tf.tidy(() => ae.tokensAt(model, points())) } : tf.tidy(() => ae.topTokensAt(model, points(), K));
  const [cand, aeLogit] = await Promise.all([top.ids.data(), top.logits?.data()]);
  tf.dispose([top.ids, ...(top.logits ? [top.logits] : [])]);
  const eos = model.config.eosTokenId;
  const at = (b: number, t: number, j: number) => (b * T + t) * K + j;
  const ids = Array.from({ length: B }, () => new Array<number>(T).fill(eos));
  const lengths = new Array<number>(B).fill(T);
  for (let b = 0; b < B; b++) {
    for (let t = T - 1; t >= 0; t--) if (cand[at(b, t, 0)] === eos) lengths[b] = t;
  }
  if (K === 1) {
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) ids[b][t] = cand[at(b, t, 0)];
    return { ids, lengths };
  }
  for (let t = 0; t < T; t++) {
    // Where the autoencoder ends the sentence (or has ended it), it decides alone: the model never saw sentence ends.
    const live: number[] = [];
    for (let b = 0; b < B; b++) {
      if (cand[at(b, t, 0)] === eos) ids[b][t] = eos;
      else live.push(b);
    }
    if (!live.length) continue;
    const lmT = tf.tidy(() => {
      // The model reads <|endoftext|> (its document start) and the tokens chosen so far; its last position predicts t.
      const prefix = live.flatMap((b) => [eos, ...ids[b].slice(0, t)]);
      const { resid } = model.run({ ids: tf.tensor2d(prefix, [live.length, t + 1], 'int32') }, { skipLogits: true });
      const last = tf.reshape(tf.slice(resid, [0, t, 0], [live.length, 1, model.config.dModel]), [live.length, model.config.dModel]);
      const logits = lensLogits(model, last) as tf.Tensor2D;
      const pick = tf.tensor2d(live.flatMap((b) => Array.from(cand.subarray(at(b, t, 0), at(b, t, 0) + K))), [live.length, K], 'int32');
      return gatherPerRow(logits, pick);
    });
    const lm = await lmT.data();
    lmT.dispose();
    live.forEach((b, i) => {
      let best = 0;
      let bestScore = -Infinity;
      for (let j = 0; j < K; j++) {
        // A lower-ranked <|endoftext|> never ends a sentence the autoencoder continues.
        if (cand[at(b, t, j)] === eos) continue;
        const score = aeLogit![at(b, t, j)] + decoding.lmWeight * lm[i * K + j];
        if (score > bestScore) {
          bestScore = score;
          best = j;
        }
      }
      ids[b][t] = cand[at(b, t, best)];
    });
  }
  return { ids, lengths };
}
