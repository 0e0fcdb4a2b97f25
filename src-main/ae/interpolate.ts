// Walking the latent between two sentences: encode both, mix their (normalised) latents, decode each point to text.
// The decoder reads directions only, so a linear mix is a path along the sphere between the two.
import * as tf from '@tensorflow/tfjs-core';
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
