// Decoders: continuous input embeddings → token ids (nearest token by cosine or dot product, or logit lens).
import * as tf from '@tensorflow/tfjs-core';
import type { GPT2 } from '../model/gpt2.js';
import { lensLogits } from '../model/lens.js';
import { unembed } from '../model/ops.js';
import type { DecoderName } from './config.js';

export type { DecoderName } from './config.js';
export const DECODERS: readonly DecoderName[] = ['cosine', 'dot', 'lens'];

/** Unit-norm rows of wte, as Eᵀ chunks, cached per model (cosine decoding reads them every step). */
const unitCache = new WeakMap<GPT2, { E: tf.Tensor2D; ETChunks: tf.Tensor2D[] }>();
function unitEmbeddings(model: GPT2): { E: tf.Tensor2D; ETChunks: tf.Tensor2D[] } {
  let u = unitCache.get(model);
  if (!u) {
    u = tf.tidy(() => {
      const E = model.weights.wte;
      const En = tf.div(E, tf.maximum(tf.norm(E, 2, 1, true), 1e-8)) as tf.Tensor2D;
      const ET = tf.transpose(En);
      const chunks: tf.Tensor2D[] = [];
      const V = ET.shape[1];
      for (let s = 0; s < V; s += 8192) chunks.push(tf.slice(ET, [0, s], [-1, Math.min(8192, V - s)]));
      return { E: tf.keep(En), ETChunks: chunks.map((c) => tf.keep(c)) };
    });
    unitCache.set(model, u);
  }
  return u;
}

export function releaseDecoderCache(model: GPT2): void {
  const u = unitCache.get(model);
  if (u) tf.dispose([u.E, ...u.ETChunks]);
  unitCache.delete(model);
}

/** Scores of every vocabulary token for each embedding: [N, d] → [N, V]. */
export function tokenScores(model: GPT2, emb: tf.Tensor2D, decoder: DecoderName): tf.Tensor2D {
  return tf.tidy(() => {
    if (decoder === 'lens') return lensLogits(model, emb) as tf.Tensor2D;
    if (decoder === 'dot') return unembed(emb, model.weights.unembed);
    const n = tf.div(emb, tf.maximum(tf.norm(emb, 2, 1, true), 1e-8)) as tf.Tensor2D;
    return unembed(n, unitEmbeddings(model));
  });
}

/** Token ids for embeddings [B, T, d] → int32 [B, T]. */
export function decodeTensor(model: GPT2, emb: tf.Tensor3D, decoder: DecoderName): tf.Tensor2D {
  return tf.tidy(() => {
    const [B, T, d] = emb.shape;
    return tf.reshape(tf.argMax(tokenScores(model, tf.reshape(emb, [B * T, d]) as tf.Tensor2D, decoder), 1), [B, T]) as tf.Tensor2D;
  });
}

export function decodeIds(model: GPT2, emb: tf.Tensor3D, decoder: DecoderName): number[][] {
  const t = decodeTensor(model, emb, decoder);
  const out = t.arraySync() as number[][];
  t.dispose();
  return out;
}
