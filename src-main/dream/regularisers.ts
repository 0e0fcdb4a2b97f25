// Regularisers: terms subtracted from the objective to keep dreams on the data manifold.
import * as tf from '@tensorflow/tfjs-core';
import type { GPT2 } from '../model/gpt2.js';
import { meanCrossEntropy } from '../model/ops.js';
import { tokenScores } from './decode.js';

/**
 * Fluency penalty: the model's own next-token cross-entropy of the sequence it is reading, with the decoded
 * tokens as targets. logits [B, T+1, V] include the BOS position; targets int32 [B, T] are the free tokens.
 */
export function fluencyPenalty(logits: tf.Tensor3D, targets: tf.Tensor2D): tf.Scalar {
  const [B, T1, V] = logits.shape;
  const T = T1 - 1;
  const pred = tf.reshape(tf.slice(logits, [0, 0, 0], [B, T, V]), [B * T, V]) as tf.Tensor2D;
  return meanCrossEntropy(pred, tf.reshape(targets, [-1]) as tf.Tensor1D);
}

/** Distance to the embedding manifold: mean over positions of 1 − max cosine to any token embedding. */
export function manifoldDistance(model: GPT2, emb: tf.Tensor3D): tf.Scalar {
  const [B, T, d] = emb.shape;
  const sims = tokenScores(model, tf.reshape(emb, [B * T, d]) as tf.Tensor2D, 'cosine');
  return tf.mean(tf.sub(1, tf.max(sims, 1))) as tf.Scalar;
}
