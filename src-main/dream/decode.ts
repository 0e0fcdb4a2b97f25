// Decoders: continuous input embeddings → token ids (nearest token by cosine or dot product, or logit lens).
import * as tf from '@tensorflow/tfjs-core';
import type { GPT2 } from '../model/gpt2.js';
import { lensLogits } from '../model/lens.js';
import { unembed, type Unembedding } from '../model/ops.js';
import { tiedEmbeddingChunks } from '../model/weights.js';
import type { DecoderName } from './config.js';
import { DECODER_NAMES } from './settings/common.js';

export type { DecoderName } from './config.js';
/** The decoders, as the `decoder` setting declares them. */
export const DECODERS: readonly DecoderName[] = DECODER_NAMES;

/**
 * Unit-norm rows of the token embeddings, chunked like the model's own unembedding (so never bound whole on a
 * GPU), kept with the model (released when it is disposed): cosine decoding reads them every step.
 */
function unitEmbeddings(model: GPT2): Unembedding {
  return model.derived('unit-embeddings', () => {
    const rows = tiedEmbeddingChunks(model.weights) ?? [model.weights.wte];
    const unit = rows.map((r) => tf.div(r, tf.maximum(tf.norm(r, 2, 1, true), 1e-8)) as tf.Tensor2D);
    const ETChunks = unit.map((r) => tf.transpose(r) as tf.Tensor2D);
    // With several chunks `E` is never read (the chunked paths use EChunks); it names the first chunk.
    return { E: unit[0], ETChunks, ...(unit.length > 1 ? { EChunks: unit } : {}) };
  });
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

export async function decodeIds(model: GPT2, emb: tf.Tensor3D, decoder: DecoderName): Promise<number[][]> {
  const t = decodeTensor(model, emb, decoder);
  const out = (await t.array()) as number[][];
  t.dispose();
  return out;
}
