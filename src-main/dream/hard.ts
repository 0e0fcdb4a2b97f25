// Hard evaluation: the only activation that counts. Decode to text, re-tokenise, run the model, measure the
// target on every token and the text's own next-token cross-entropy (with a <|endoftext|> prefix, as
// GPT-2 scores a fresh text; the prefix position is never counted).
import * as tf from '@tensorflow/tfjs-core';
import type { GPT2 } from '../model/gpt2.js';
import type { TextTokenizer } from '../model/tokenizer.js';
import { neuronTarget, type Reduce, type Target } from './objectives.js';
import type { HardEval } from './records.js';

export type { HardEval } from './records.js';

export function reduceValues(values: number[], reduce: Reduce): number {
  if (!values.length) return Number.NaN;
  if (reduce === 'max') return Math.max(...values);
  if (reduce === 'last') return values[values.length - 1];
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/**
 * Rows of token ids as one batch [B, T]: each after an <|endoftext|> prefix, padded on the right with it (causal
 * attention: the padding never changes a real position's value).
 */
export function bosPadded(rows: readonly number[][], bos: number): { ids: Int32Array; T: number } {
  const T = 1 + Math.max(1, ...rows.map((r) => r.length));
  const ids = new Int32Array(rows.length * T).fill(bos);
  rows.forEach((r, b) => ids.set(r, b * T + 1));
  return { ids, T };
}

/** Next-token targets of BOS-padded rows of length T: each position's next id; the last position of a row has none (0, never read). */
export function nextTokenTargets(ids: Int32Array, T: number): Int32Array {
  const next = new Int32Array(ids.length);
  for (let i = 0; i < ids.length; i++) next[i] = (i + 1) % T === 0 ? 0 : ids[i + 1];
  return next;
}

/** A measured sequence: its activation at each of its tokens and the loss of predicting each of them. */
export function hardEvalOf(tok: TextTokenizer, ids: number[], perToken: number[], ce: number[], reduce: Reduce): HardEval {
  return {
    text: ids.length ? tok.decode(ids) : '',
    ids,
    tokens: ids.length ? tok.tokenStrings(ids) : [],
    perToken,
    max: perToken.length ? Math.max(...perToken) : Number.NaN,
    mean: reduceValues(perToken, 'mean'),
    value: reduceValues(perToken, reduce),
    ce: reduceValues(ce, 'mean'),
  };
}

/** The ids the text of `ids` reads back as (what a hard evaluation measures); empty stays empty. */
export const retokenise = (tok: TextTokenizer, ids: number[]): number[] => (ids.length ? tok.encode(tok.decode(ids)) : []);

/** Measure token sequences (each prefixed with BOS) in one padded batch. Empty sequences score NaN. */
export async function measureIds(model: GPT2, tok: TextTokenizer, target: Target, seqs: number[][], reduce: Reduce): Promise<HardEval[]> {
  const bos = model.config.bosTokenId;
  const ctx = model.config.nPositions;
  const rows = seqs.map((s) => s.slice(0, ctx - 1));
  const B = rows.length;
  if (!B) return [];
  const { ids, T } = bosPadded(rows, bos);
  const next = nextTokenTargets(ids, T);
  const [actT, ceT] = tf.tidy(() => {
    // Fused loss: a batch of candidates' [B·T, V] logits can exceed a GPU's binding limit, and costs more.
    const run = model.runWithLoss({ ids: tf.tensor2d(ids, [B, T], 'int32') }, tf.tensor2d(next, [B, T], 'int32'), target.hooks);
    return [target.perToken(run.cache), run.loss];
  });
  const act = (await actT.array()) as number[][];
  const ce = (await ceT.array()) as number[][];
  tf.dispose([actT, ceT]);
  return rows.map((r, b) => hardEvalOf(tok, r, act[b].slice(1, 1 + r.length), ce[b].slice(0, r.length), reduce));
}

/** Hard evaluation of token sequences: decode each to text, re-tokenise it, and measure that. */
export function hardEvaluate(model: GPT2, tok: TextTokenizer, target: Target, seqs: number[][], reduce: Reduce): Promise<HardEval[]> {
  // An empty sequence (a latent whose decoder ends the sentence at once) scores NaN; the tokenizer refuses to decode it.
  return measureIds(model, tok, target, seqs.map((s) => retokenise(tok, s)), reduce);
}

export function measureTexts(model: GPT2, tok: TextTokenizer, target: Target, texts: string[], reduce: Reduce): Promise<HardEval[]> {
  return measureIds(model, tok, target, texts.map((t) => tok.encode(t)), reduce);
}

/**
 * Each token sequence's hard next-token cross-entropy (nats per token), `batch` sequences per forward pass: a few
 * hundred in one batch would not fit wasm's memory with a 50 k vocabulary.
 */
export async function crossEntropies(model: GPT2, tok: TextTokenizer, seqs: number[][], batch = 32): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < seqs.length; i += batch) out.push(...(await measureIds(model, tok, neuronTarget(0, 0), seqs.slice(i, i + batch), 'mean')).map((e) => e.ce));
  return out;
}
