// A second opinion on a dream's English from a transformer other than the dreamed model (`--judge-model`): its mean
// log-probability per token of the text after <|endoftext|>, calibrated as the n-gram judge is, by its percentile
// among held-out human windows of the same token length. The n-gram judge sees three words at a time and cannot
// tell "The herb of the American people" from "The name of …" (README, "Readability"); a model trained on far
// more text than ours may. It is reported beside the rule and orders the dreams shown (yardstick.ts readableChoices),
// but is not part of the rule, which people's ratings calibrated without it.
import * as tf from '@tensorflow/tfjs-core';
import type { GPT2 } from '../model/gpt2.js';
import type { HubOptions } from '../model/hub.js';
import { loadModel } from '../model/load.js';
import type { WeightOptions } from '../model/weights.js';
import type { TextTokenizer } from '../model/tokenizer.js';
import { bosPadded, nextTokenTargets } from '../dream/hard.js';
import { PercentileTable, sampleWindows } from './calibration.js';

/** What the judge model says of one text. */
export interface ModelJudgement {
  /** The judge model (its folder or hub id). */
  model: string;
  /** Mean log-probability per token under the judge model, after <|endoftext|>. */
  logProb: number;
  /** Its percentile (0-100) among held-out human windows of the same token length (the dreamed model's tokens). */
  percentile: number;
}

/**
 * Mean log-probability per token of each row of token ids under `model`, batched. With `prefix` (the
 * <|endoftext|> id), every token is predicted from the prefix and the tokens before it, as a dream is read; with
 * null, the first token is context only (what Hugging Face's loss computes). A row with nothing to predict gives NaN.
 */
export async function meanLogProbs(model: GPT2, rows: readonly number[][], prefix: number | null, batch = 32): Promise<number[]> {
  const out: number[] = [];
  for (let s = 0; s < rows.length; s += batch) {
    const chunk = rows.slice(s, s + batch);
    // With no prefix the first token of each row stands where the prefix would, and is not predicted.
    const { ids, T } = bosPadded(prefix === null ? chunk.map((r) => r.slice(1)) : chunk, prefix ?? 0);
    if (prefix === null) chunk.forEach((r, b) => (ids[b * T] = r[0] ?? 0));
    const lossT = tf.tidy(() => model.tokenLoss({ ids: tf.tensor2d(ids, [chunk.length, T], 'int32') }, tf.tensor2d(nextTokenTargets(ids, T), [chunk.length, T], 'int32')));
    const loss = (await lossT.array()) as number[][];
    lossT.dispose();
    chunk.forEach((r, b) => {
      // Position t predicts token t + 1 of the padded row; past the row's own tokens lies padding.
      const n = prefix === null ? r.length - 1 : r.length;
      let sum = 0;
      for (let t = 0; t < n; t++) sum += loss[b][t];
      out.push(n > 0 ? -sum / n : NaN);
    });
  }
  return out;
}

/** Held-out windows per token length the percentile of a length is taken among. */
export const MODEL_JUDGE_WINDOWS = { perLength: 200, seed: 11 } as const;

/**
 * A transformer judge: `judge` scores texts under `model` (read with its own tokenizer), each as a percentile among
 * held-out human windows of the same length in the dreamed model's tokens (`tok`), cut from `heldOutDocs` (token ids
 * under `tok`) when a length is first asked for.
 */
export class ModelJudge {
  private readonly tables = new Map<number, PercentileTable>();

  constructor(
    readonly name: string,
    private readonly model: GPT2,
    private readonly judgeTok: TextTokenizer,
    private readonly tok: TextTokenizer,
    private readonly heldOutDocs: readonly number[][],
  ) {
    if (heldOutDocs.length === 0) throw new Error('ModelJudge: no held-out documents to calibrate against');
  }

  private async scoreTexts(texts: readonly string[]): Promise<number[]> {
    return meanLogProbs(this.model, texts.map((t) => this.judgeTok.encode(t)), this.model.config.bosTokenId);
  }

  private async table(length: number): Promise<PercentileTable> {
    let t = this.tables.get(length);
    if (!t) {
      const windows = sampleWindows(this.heldOutDocs, length, length, MODEL_JUDGE_WINDOWS.perLength, MODEL_JUDGE_WINDOWS.seed + length).get(length);
      if (!windows) throw new Error(`ModelJudge: no held-out document has ${length} tokens`);
      t = new PercentileTable(new Map([[length, await this.scoreTexts(windows.map((w) => this.tok.decode(w)))]]));
      this.tables.set(length, t);
    }
    return t;
  }

  async judge(texts: readonly string[]): Promise<ModelJudgement[]> {
    const scores = await this.scoreTexts(texts);
    const out: ModelJudgement[] = [];
    for (let i = 0; i < texts.length; i++) {
      const length = this.tok.encode(texts[i]).length;
      out.push({ model: this.name, logProb: scores[i], percentile: (await this.table(length)).percentile(scores[i], length) });
    }
    return out;
  }
}

/**
 * Loads the judge model `spec` (a folder, the hub cache or a hub id, given as `--judge-model`) and calibrates it
 * against `heldOutDocs` (documents of the held-out split as the dreamed model's token ids, under `tok`). `dispose`
 * frees its weights.
 */
export async function loadModelJudge(spec: string, tok: TextTokenizer, heldOutDocs: readonly number[][], opts: HubOptions & WeightOptions = {}): Promise<{ judge: ModelJudge; dispose: () => void }> {
  const lm = await loadModel(spec, { flag: '--judge-model', ...opts });
  const judge = new ModelJudge(spec, lm.model, lm.tokenizer, tok, heldOutDocs);
  return { judge, dispose: () => lm.model.dispose() };
}
