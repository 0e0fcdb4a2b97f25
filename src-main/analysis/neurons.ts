// One forward pass read two ways: the next-token loss, and each token's top-activating MLP neurons in a layer.
import * as tf from '@tensorflow/tfjs-core';
import type { GPT2 } from '../model/gpt2.js';
import { hookName } from '../model/hooks.js';
import { meanCrossEntropy } from '../model/ops.js';

export interface NeuronValue {
  neuron: number;
  value: number;
}

export interface ForwardReadout {
  /** The hook the neurons are read from: `blocks.L.mlp.hook_post` (post-GELU). */
  hook: string;
  /** Mean next-token cross-entropy in nats over positions 1…T−1; null for a single token. */
  loss: number | null;
  /** Per position, the `top` neurons with the largest activations, largest first. */
  topNeurons: NeuronValue[][];
}

/** Top-k entries of each row of acts [T, n], largest first. */
export async function topPerRow(acts: tf.Tensor2D, k: number): Promise<NeuronValue[][]> {
  const { values, indices } = tf.topk(acts, Math.min(k, acts.shape[1]));
  const [v, i] = (await Promise.all([values.array(), indices.array()])) as [number[][], number[][]];
  tf.dispose([values, indices]);
  return v.map((row, r) => row.map((value, j) => ({ neuron: i[r][j], value })));
}

/** Runs the model once on `ids` (one sequence) and reads the loss and layer `layer`'s top neurons per token. */
export async function forwardReadout(model: GPT2, ids: number[], opts: { layer: number; top: number }): Promise<ForwardReadout> {
  const hook = hookName(opts.layer, 'mlp.hook_post');
  const T = ids.length;
  const [post, loss] = tf.tidy((): [tf.Tensor2D, tf.Scalar?] => {
    const r = model.run({ ids: tf.tensor2d([ids], [1, T], 'int32') }, { hooks: [hook] });
    const post = tf.reshape(r.cache.get(hook)!, [T, -1]) as tf.Tensor2D; // [T, dMlp]
    if (T < 2) return [post];
    const logits = tf.reshape(r.logits!, [T, -1]) as tf.Tensor2D; // [T, V]
    const predicting = tf.slice(logits, [0, 0], [T - 1, -1]) as tf.Tensor2D; // position t predicts token t+1
    return [post, meanCrossEntropy(predicting, tf.tensor1d(ids.slice(1), 'int32'))];
  });
  try {
    const topNeurons = await topPerRow(post, opts.top);
    return { hook, loss: loss ? (await loss.data())[0] : null, topNeurons };
  } finally {
    tf.dispose([post, ...(loss ? [loss] : [])]);
  }
}
