// Regularisers: terms subtracted from the objective to keep dreams on the data manifold. Each is an Objective like a
// target's (fluencyObjective, manifoldObjective), composed with it by weightedObjective; fluencyPenalty and
// manifoldDistance are their batch means.
import * as tf from '@tensorflow/tfjs-core';
import type { GPT2 } from '../model/gpt2.js';
import { meanCrossEntropy, tokenCrossEntropy } from '../model/ops.js';
import { tokenScores } from './decode.js';
import type { Objective } from './objectives.js';

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

/**
 * The model's own cross-entropy of `targets` (the free tokens, [B][T]), per sequence: the mean over the tokens the
 * mask counts of the next-token loss the runner provides (position t predicts free token t).
 */
export function fluencyObjective(targets: number[][]): Objective {
  return {
    description: 'fluency CE',
    hooks: [],
    maxLayer: -1,
    needsLogits: false,
    nextTokens: targets,
    value: ({ nextTokenLoss, mask }) => {
      if (!nextTokenLoss) throw new Error('fluencyObjective needs nextTokenLoss: run it through a runner that provides it');
      const [B, T] = [targets.length, targets[0]!.length];
      const loss = tf.slice(nextTokenLoss, [0, 0], [B, T]);
      const weights = mask ? tf.slice(mask, [0, 1], [B, T]) : tf.onesLike(loss);
      return tf.div(tf.sum(tf.mul(loss, weights), 1), tf.maximum(tf.sum(weights, 1), 1)) as tf.Tensor1D;
    },
  };
}

/** Distance to the embedding manifold per sequence: the mean over positions of 1 − max cosine to any token embedding. */
export function manifoldObjective(model: GPT2): Objective {
  return {
    description: 'manifold distance',
    hooks: [],
    maxLayer: -1,
    needsLogits: false,
    needsEmbeds: true,
    value: ({ embeds }) => {
      if (!embeds) throw new Error('manifoldObjective needs the input embeddings');
      const [B, T, d] = embeds.shape;
      const sims = tokenScores(model, tf.reshape(embeds, [B * T, d]) as tf.Tensor2D, 'cosine');
      return tf.mean(tf.reshape(tf.sub(1, tf.max(sims, 1)), [B, T]), 1) as tf.Tensor1D;
    },
  };
}

/** [B, T] next-token cross-entropy from logits [B, T, V] and next ids [B, T] (the unfused path). */
export function nextTokenLossFromLogits(logits: tf.Tensor3D, next: tf.Tensor2D): tf.Tensor2D {
  const [B, T, V] = logits.shape;
  return tf.reshape(tokenCrossEntropy(tf.reshape(logits, [B * T, V]) as tf.Tensor2D, tf.reshape(next, [-1]) as tf.Tensor1D), [B, T]) as tf.Tensor2D;
}
