// Hard evaluation: the only activation that counts. Decode to text, re-tokenise, run the model, measure the
// target on every token and the text's own next-token cross-entropy (with a <|endoftext|> prefix, as
// GPT-2 scores a fresh text; the prefix position is never counted).
import * as tf from '@tensorflow/tfjs-core';
import type { GPT2 } from '../model/gpt2.js';
import { tokenCrossEntropy } from '../model/ops.js';
import type { TextTokenizer } from '../model/tokenizer.js';
import type { Reduce, Target } from './objectives.js';
import type { HardEval } from './records.js';

export type { HardEval } from './records.js';

export function reduceValues(values: number[], reduce: Reduce): number {
  if (!values.length) return Number.NaN;
  if (reduce === 'max') return Math.max(...values);
  if (reduce === 'last') return values[values.length - 1];
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** Measure token sequences (each prefixed with BOS) in one padded batch. Empty sequences score NaN. */
export function measureIds(model: GPT2, tok: TextTokenizer, target: Target, seqs: number[][], reduce: Reduce): HardEval[] {
  const bos = model.config.bosTokenId;
  const ctx = model.config.nPositions;
  const rows = seqs.map((s) => s.slice(0, ctx - 1));
  const T = 1 + Math.max(1, ...rows.map((r) => r.length));
  const B = rows.length;
  if (!B) return [];
  const ids = new Int32Array(B * T).fill(bos);
  rows.forEach((r, b) => {
    ids.set(r, b * T + 1);
  });
  const { act, ce } = tf.tidy(() => {
    const run = model.run({ ids: tf.tensor2d(ids, [B, T], 'int32') }, { hooks: target.hooks });
    const act = target.perToken(run.cache).arraySync() as number[][];
    const logits = tf.reshape(tf.slice(run.logits!, [0, 0, 0], [B, T - 1, -1]), [B * (T - 1), -1]) as tf.Tensor2D;
    const targets = tf.reshape(tf.slice(tf.tensor2d(ids, [B, T], 'int32'), [0, 1], [B, T - 1]), [-1]) as tf.Tensor1D;
    const ce = tf.reshape(tokenCrossEntropy(logits, targets), [B, T - 1]).arraySync() as number[][];
    return { act, ce };
  });
  return rows.map((r, b) => {
    const perToken = act[b].slice(1, 1 + r.length);
    const ceRow = ce[b].slice(0, r.length);
    return {
      text: tok.decode(r),
      ids: r,
      tokens: tok.tokenStrings(r),
      perToken,
      max: perToken.length ? Math.max(...perToken) : Number.NaN,
      mean: reduceValues(perToken, 'mean'),
      value: reduceValues(perToken, reduce),
      ce: reduceValues(ceRow, 'mean'),
    };
  });
}

/** Hard evaluation of token sequences: decode each to text, re-tokenise it, and measure that. */
export function hardEvaluate(model: GPT2, tok: TextTokenizer, target: Target, seqs: number[][], reduce: Reduce): HardEval[] {
  return measureIds(model, tok, target, seqs.map((s) => tok.encode(tok.decode(s))), reduce);
}

export function measureTexts(model: GPT2, tok: TextTokenizer, target: Target, texts: string[], reduce: Reduce): HardEval[] {
  return measureIds(model, tok, target, texts.map((t) => tok.encode(t)), reduce);
}
