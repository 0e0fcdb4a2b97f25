// Logit lens: read any residual-stream vector as the model's final layer would, through ln_f and the unembedding.
import * as tf from '@tensorflow/tfjs-core';
import type { GPT2 } from './gpt2.js';
import { layerNorm, unembed } from './ops.js';

/** resid [..., d] → logits [..., V]. */
export function lensLogits(model: GPT2, resid: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const { dModel: d, vocabSize: V, layerNormEps } = model.config;
    const w = model.weights;
    const flat = tf.reshape(resid, [-1, d]) as tf.Tensor2D;
    const logits = unembed(layerNorm(flat, w.lnf.g, w.lnf.b, layerNormEps) as tf.Tensor2D, w.unembed);
    return tf.reshape(logits, [...resid.shape.slice(0, -1), V]);
  });
}

export interface TopToken {
  id: number;
  logit: number;
  prob: number;
}

/** Top-k tokens (with softmax probabilities) for each row of logits [N, V]. */
export async function topTokens(logits: tf.Tensor2D, k: number): Promise<TopToken[][]> {
  const [vals, idx, lse] = tf.tidy(() => {
    const t = tf.topk(logits, k);
    return [t.values, t.indices, tf.logSumExp(logits, -1, true)];
  });
  const [v, i, l] = await Promise.all([vals.array(), idx.array(), lse.array()]);
  tf.dispose([vals, idx, lse]);
  return (v as number[][]).map((row, r) =>
    row.map((logit, j) => ({ id: (i as number[][])[r][j], logit, prob: Math.exp(logit - (l as number[][])[r][0]) })),
  );
}

/** A vector written into the residual stream (e.g. a neuron's output weights) read through the lens. */
export function directionLogits(model: GPT2, dir: tf.Tensor1D): tf.Tensor1D {
  // Without ln_f: the direct effect of a unit of this direction on the logits, as neuron viewers show it.
  return tf.tidy(() => tf.reshape(unembed(tf.reshape(dir, [1, -1]) as tf.Tensor2D, model.weights.unembed), [-1]) as tf.Tensor1D);
}
