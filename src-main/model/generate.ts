// Text generation: greedy and nucleus (top-p) sampling, deterministic for a seed. Used by model cards and
// by the `generate` view; the model's own view of what text is plausible.
import * as tf from '@tensorflow/tfjs-core';
import { rng } from '../corpus/rng.js';
import type { GPT2 } from './gpt2.js';
import { lensLogits } from './lens.js';

export interface GenerateOptions {
  maxNewTokens: number;
  /** 0 → greedy. */
  topP?: number;
  temperature?: number;
  seed?: number;
  stopAtEos?: boolean;
}

/** Sample one id from logits with nucleus sampling, or take the argmax when topP is 0. */
export function pickToken(logits: Float32Array, topP: number, temperature: number, rand: () => number): number {
  if (!topP) {
    let best = 0;
    for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
    return best;
  }
  let max = -Infinity;
  for (const v of logits) max = Math.max(max, v);
  // Tokens more than 30 nats below the best carry < 1e-8 of the mass together: leave them out of the sort.
  const probs: { i: number; p: number }[] = [];
  for (let i = 0; i < logits.length; i++) {
    const z = (logits[i] - max) / temperature;
    if (z > -30) probs.push({ i, p: Math.exp(z) });
  }
  const z = probs.reduce((a, b) => a + b.p, 0);
  probs.sort((a, b) => b.p - a.p);
  let cum = 0;
  const nucleus: { i: number; p: number }[] = [];
  for (const e of probs) {
    nucleus.push(e);
    cum += e.p / z;
    if (cum >= topP) break;
  }
  const total = nucleus.reduce((a, b) => a + b.p, 0);
  let r = rand() * total;
  for (const e of nucleus) {
    r -= e.p;
    if (r <= 0) return e.i;
  }
  return nucleus[nucleus.length - 1].i;
}

export function generate(model: GPT2, prompt: number[], opts: GenerateOptions): number[] {
  const { maxNewTokens, topP = 0, temperature = 1, seed = 0, stopAtEos = true } = opts;
  const rand = rng(seed);
  const ids = [...prompt];
  const ctx = model.config.nPositions;
  for (let n = 0; n < maxNewTokens; n++) {
    const window = ids.slice(-ctx);
    // Only the last position's logits are needed: run without the unembedding, then read that one vector.
    const last = tf.tidy(() => {
      const { resid } = model.run({ ids: tf.tensor2d([window], [1, window.length], 'int32') }, { skipLogits: true });
      return lensLogits(model, tf.slice(resid, [0, window.length - 1, 0], [1, 1, -1])).dataSync() as Float32Array;
    });
    const next = pickToken(last, topP, temperature, rand);
    ids.push(next);
    if (stopAtEos && next === model.config.eosTokenId) break;
  }
  return ids.slice(prompt.length);
}

/**
 * B sequences of T tokens sampled from the model after <|endoftext|> (nucleus top-p), all in one batch and read
 * asynchronously (GPU backends have no synchronous read). <|endoftext|> is never sampled, so every row is T
 * tokens of text. Deterministic for a seed.
 */
export async function sampleSequences(model: GPT2, B: number, T: number, opts: { topP: number; seed: number; temperature?: number }): Promise<number[][]> {
  const rand = rng(opts.seed);
  const bos = model.config.bosTokenId;
  const rows = Array.from({ length: B }, () => [bos]);
  for (let t = 0; t < T; t++) {
    const n = rows[0].length;
    const lastT = tf.tidy(() => {
      const { resid } = model.run({ ids: tf.tensor2d(rows, [B, n], 'int32') }, { skipLogits: true });
      return lensLogits(model, tf.slice(resid, [0, n - 1, 0], [B, 1, -1]));
    });
    const last = (await lastT.data()) as Float32Array;
    lastT.dispose();
    const V = model.config.vocabSize;
    rows.forEach((r, b) => {
      const logits = last.slice(b * V, (b + 1) * V);
      logits[model.config.eosTokenId] = -Infinity;
      r.push(pickToken(logits, opts.topP, opts.temperature ?? 1, rand));
    });
  }
  return rows.map((r) => r.slice(1));
}
