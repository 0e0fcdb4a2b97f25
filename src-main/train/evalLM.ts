// `textdream eval-lm`: held-out perplexity of a model against an add-k bigram baseline on the same tokens,
// scored on exactly the same (context, next-token) targets, and the fraction of MLP neurons never active.
import * as tf from '@tensorflow/tfjs-core';
import { BigramModel, tuneK } from '../lm/bigram.js';
import type { GPT2 } from '../model/gpt2.js';
import { hookName } from '../model/hooks.js';
import { tokenCrossEntropy } from '../model/ops.js';
import { evalWindows } from './lmData.js';

export interface LMEvaluation {
  heldOutTokens: number;
  model: { natsPerToken: number; perplexity: number };
  bigram: { natsPerToken: number; perplexity: number; k: number; trainTokens: number; devPerplexities: { k: number; perplexity: number }[] };
  /** 1 − model ppl / bigram ppl. */
  perplexityReduction: number;
  deadNeurons: { perLayer: number[]; fraction: number; threshold: number };
}

/** Split the tail of the training stream off as a dev set for tuning the bigram's k (never the held-out set). */
function devSplit(train: Int32Array): { fit: Int32Array; dev: Int32Array } {
  const cut = Math.floor(train.length * 0.95);
  return { fit: train.subarray(0, cut), dev: train.subarray(cut) };
}

export function evaluateLM(model: GPT2, train: Int32Array, heldOut: Int32Array, opts: { batch?: number; maxTokens?: number; log?: (s: string) => void } = {}): LMEvaluation {
  const { batch = 8, maxTokens = Infinity, log } = opts;
  const c = model.config;
  const T = c.nPositions;
  const hooks = Array.from({ length: c.nLayer }, (_, l) => hookName(l, 'mlp.hook_post'));
  const maxAct = Array.from({ length: c.nLayer }, () => new Float32Array(c.dMlp).fill(-Infinity));
  let nats = 0;
  let tokens = 0;
  const prevs: number[] = [];
  const nexts: number[] = [];
  for (const { x, y, rows } of evalWindows(heldOut, T, batch)) {
    const { ce, maxes } = tf.tidy(() => {
      const r = model.run({ ids: tf.tensor2d(x, [rows, T], 'int32') }, { hooks });
      const ce = tokenCrossEntropy(tf.reshape(r.logits!, [rows * T, -1]) as tf.Tensor2D, tf.tensor1d(y, 'int32'));
      return { ce: tf.sum(ce).dataSync()[0], maxes: hooks.map((h) => tf.max(tf.reshape(r.cache.get(h)!, [-1, c.dMlp]), 0).dataSync() as Float32Array) };
    });
    nats += ce;
    tokens += rows * T;
    maxes.forEach((m, l) => m.forEach((v, i) => (maxAct[l][i] = Math.max(maxAct[l][i], v))));
    for (let i = 0; i < x.length; i++) {
      prevs.push(x[i]);
      nexts.push(y[i]);
    }
    if (tokens >= maxTokens) break;
    if (log && (tokens / T) % (batch * 20) === 0) log(`eval: ${tokens} held-out tokens`);
  }
  const { fit, dev } = devSplit(train);
  const tuned = tuneK([fit], [dev], c.vocabSize, [1, 0.3, 0.1, 0.03, 0.01, 0.003, 0.001, 3e-4, 1e-4, 3e-5]);
  // Refit on the whole training stream with the tuned k, then score the same pairs as the model.
  const bigram = BigramModel.fit([train], c.vocabSize, tuned.k);
  let bnats = 0;
  for (let i = 0; i < prevs.length; i++) bnats -= bigram.logProb(prevs[i], nexts[i]);
  const threshold = 0;
  const perLayer = maxAct.map((m) => m.filter((v) => !(v > threshold)).length / m.length);
  const modelNats = nats / tokens;
  const bigramNats = bnats / prevs.length;
  return {
    heldOutTokens: tokens,
    model: { natsPerToken: modelNats, perplexity: Math.exp(modelNats) },
    bigram: { natsPerToken: bigramNats, perplexity: Math.exp(bigramNats), k: tuned.k, trainTokens: train.length, devPerplexities: tuned.dev },
    perplexityReduction: 1 - Math.exp(modelNats) / Math.exp(bigramNats),
    deadNeurons: { perLayer, fraction: perLayer.reduce((a, b) => a + b, 0) / perLayer.length, threshold },
  };
}
