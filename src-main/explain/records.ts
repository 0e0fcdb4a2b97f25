// Activation records from a corpus, computed directly: the held-out text cut into windows (inside documents),
// each run behind an <|endoftext|> prefix (not counted; as dreams are measured and as the corpus scan does) up to
// the neuron's layer, and each requested neuron's top windows (by their max) and seeded random windows kept. One
// pass serves every neuron of a layer. This is the fallback when the experiment store has no scan of the layer.
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadCorpus, type CorpusName } from '../corpus/documents.js';
import { rng, shuffle } from '../corpus/rng.js';
import { splitBySource } from '../corpus/split.js';
import type { GPT2 } from '../model/gpt2.js';
import { hookName } from '../model/hooks.js';
import { projectRoot } from '../model/load.js';
import type { TextTokenizer } from '../model/tokenizer.js';
import { cachedTokenStream, type TokenStream } from '../train/lmData.js';
import { LM_SPLIT } from '../train/lmCorpus.js';
import type { NeuronRecords } from './types.js';

export interface CorpusRecordOptions {
  /** Tokens per record. Default min(64, the model's context − 1): the prefix takes one position. */
  windowTokens?: number;
  /** Top records kept per neuron. Default 20 (10 to explain, 10 to score from). */
  top?: number;
  /** Random records kept per neuron. Default 10. */
  random?: number;
  seed?: number;
  /** Use at most this many corpus tokens (from the start). Default all. */
  maxTokens?: number;
  /** Windows per forward pass. Default 32. */
  batch?: number;
}

/** Tokens per record for a model with this context: 64, or less so that the prefix fits. */
export function defaultWindow(nPositions: number): number {
  return Math.min(64, nPositions - 1);
}

/** Start of each full window of `W` tokens inside a document (a stream without documents is one document). */
export function windowStarts(stream: TokenStream | Int32Array, W: number, maxTokens = Infinity): number[] {
  const tokens = stream instanceof Int32Array ? stream : stream.tokens;
  const docs = stream instanceof Int32Array || !stream.docs.length ? [{ start: 0, end: tokens.length }] : stream.docs;
  const limit = Math.min(tokens.length, maxTokens);
  const starts: number[] = [];
  for (const d of docs) {
    for (let s = d.start; s + W <= Math.min(d.end, limit); s += W) starts.push(s);
  }
  return starts;
}

/** Records of `neurons` (all in `layer`) over the corpus windows. */
export function computeNeuronRecords(
  model: GPT2,
  tokenizer: TextTokenizer,
  stream: TokenStream | Int32Array,
  layer: number,
  neurons: number[],
  opts: CorpusRecordOptions = {},
): Map<number, NeuronRecords> {
  const c = model.config;
  if (!Number.isInteger(layer) || layer < 0 || layer >= c.nLayer) throw new RangeError(`layer ${layer} is out of range: this model has layers 0-${c.nLayer - 1}`);
  for (const n of neurons) if (!Number.isInteger(n) || n < 0 || n >= c.dMlp) throw new RangeError(`neuron ${n} is out of range: layer ${layer} has neurons 0-${c.dMlp - 1}`);
  const W = opts.windowTokens ?? defaultWindow(c.nPositions);
  if (!(W >= 2 && W < c.nPositions)) throw new RangeError(`windowTokens ${W} must be in 2-${c.nPositions - 1} (the model's context less the prefix)`);
  const tokens = stream instanceof Int32Array ? stream : stream.tokens;
  const starts = windowStarts(stream, W, opts.maxTokens);
  if (!starts.length) throw new RangeError(`the corpus has no window of ${W} tokens`);
  const batch = opts.batch ?? 32;
  const hook = hookName(layer, 'mlp.hook_post');
  const nN = neurons.length;
  // acts[k] holds neuron k's activation at every position of every window: [window, position].
  const acts = neurons.map(() => new Float32Array(starts.length * W));
  // Picking the neurons is a matMul with a one-hot matrix [dMlp, n]: exact, and it avoids a gather along
  // the last axis, which corrupts the wasm heap on large batches.
  const onehot = new Float32Array(c.dMlp * nN);
  neurons.forEach((n, k) => (onehot[n * nN + k] = 1));
  const select = tf.tensor2d(onehot, [c.dMlp, nN]);
  try {
    for (let w0 = 0; w0 < starts.length; w0 += batch) {
      const B = Math.min(batch, starts.length - w0);
      const T = W + 1;
      const ids = new Int32Array(B * T).fill(c.bosTokenId);
      for (let b = 0; b < B; b++) ids.set(tokens.subarray(starts[w0 + b], starts[w0 + b] + W), b * T + 1);
      const picked = tf.tidy(() => {
        const run = model.run({ ids: tf.tensor2d(ids, [B, T], 'int32') }, { hooks: [hook], stopAtLayer: layer + 1 });
        return tf.matMul(tf.reshape(run.cache.get(hook)!, [B * T, c.dMlp]) as tf.Tensor2D, select); // [B·T, nN]
      });
      const v = picked.dataSync();
      picked.dispose();
      for (let b = 0; b < B; b++) {
        // Position 0 is the prefix.
        for (let t = 0; t < W; t++) for (let k = 0; k < nN; k++) acts[k][(w0 + b) * W + t] = v[(b * T + t + 1) * nN + k];
      }
    }
  } finally {
    select.dispose();
  }
  const record = (k: number, w: number) => {
    const ids = Array.from(tokens.subarray(starts[w], starts[w] + W));
    return { tokens: tokenizer.tokenStrings(ids), activations: Array.from(acts[k].subarray(w * W, (w + 1) * W)) };
  };
  const out = new Map<number, NeuronRecords>();
  neurons.forEach((neuron, k) => {
    const maxes = starts.map((_, w) => {
      let m = -Infinity;
      for (let t = 0; t < W; t++) m = Math.max(m, acts[k][w * W + t]);
      return m;
    });
    const order = maxes.map((_, w) => w).sort((a, b) => maxes[b] - maxes[a] || a - b);
    const top = order.slice(0, opts.top ?? 20);
    const chosen = new Set(top);
    const rest = maxes.map((_, w) => w).filter((w) => !chosen.has(w));
    const random = shuffle(rest, rng(opts.seed ?? 0)).slice(0, opts.random ?? 10);
    out.set(neuron, {
      layer,
      neuron,
      top: top.map((w) => record(k, w)),
      random: random.map((w) => record(k, w)),
      maxActivation: maxes[order[0]],
    });
  });
  return out;
}

/** The held-out documents of the default model's corpus split, tokenised once and cached under .cache/explain. */
export async function heldOutStream(tokenizer: TextTokenizer, corpus: CorpusName = 'brown+sotu', log?: (s: string) => void): Promise<TokenStream> {
  const docs = await loadCorpus(corpus);
  const { heldOut } = splitBySource(docs, LM_SPLIT);
  return cachedTokenStream(heldOut, tokenizer, join(projectRoot(), '.cache', 'explain', `${corpus}-heldout-v${tokenizer.vocabSize}`), log);
}
