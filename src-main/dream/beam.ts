// `beam`: left-to-right generation guided by the model itself, scored by activation — the original study's proposed
// next step, "search over tokens restricted to only the most plausible tokens as judged by the language model".
// Each step extends every beam by one token among the model's own top-p next tokens (at most `expand` of them),
// evaluates every extension hard (decoded, re-tokenised, run), and keeps for each λ the `beamWidth` best by
// value − λ·CE − ρ·repeats. An extension that repeats a bigram or uses a word a third time is never kept
// (no-repeat n-grams), nor one that adds a line break or <|endoftext|>: a dream is one run of prose. One step of
// the loop is one whole round, from first tokens sampled from the model's nucleus (by the seed) to seqLen tokens, so
// every dream the loop sees is complete; more steps are more rounds, and the loop keeps the best of them.
import * as tf from '@tensorflow/tfjs-core';
import { rng } from '../corpus/rng.js';
import type { GPT2 } from '../model/gpt2.js';
import { lensLogits } from '../model/lens.js';
import type { TextTokenizer } from '../model/tokenizer.js';
import { repetition } from '../readability/repetition.js';
import { activationTerm, fluencyTerm, judgeTerm, repetitionTerm, weightedTextScore } from './textScore.js';
export { repeats } from './textScore.js';
import type { DreamConfig } from './config.js';
import { hardEvaluate, type HardEval } from './hard.js';
import type { DreamMethod, MethodStep } from './method.js';
import type { Target } from './objectives.js';

/** The no-repeat rule every LM-guided search here keeps: no bigram twice, no word three times. */
export function breaksNoRepeat(text: string): boolean {
  const r = repetition(text);
  return r.repeatedBigrams > 0 || r.maxWordCount > 2;
}

/** The readability judge's score of a text, weighted (σ · judge score), as a search term; zero without a judge. */
export type JudgeTerm = (text: string) => number;

/**
 * The search objective shared by beam, seeded edits and fluent with its fluency terms, composed from text terms
 * (textScore.ts): activation − λ·CE − ρ·repeated words + the judge's term (already weighted by σ).
 */
export function searchObjective(lambda: number, rho: number, judge?: JudgeTerm): (e: HardEval) => number {
  return weightedTextScore([
    { term: activationTerm, weight: 1 },
    { term: fluencyTerm, weight: -lambda },
    { term: repetitionTerm, weight: -rho },
    ...(judge ? [{ term: judgeTerm(judge), weight: 1 }] : []),
  ]);
}

export function searchScore(e: HardEval, lambda: number, rho: number, judge?: JudgeTerm): number {
  return searchObjective(lambda, rho, judge)(e);
}

const breaking = new WeakMap<TextTokenizer, Set<number>>();

/** Token ids whose text breaks a run of prose (line breaks, <|endoftext|>), never proposed by the LM-guided searches. */
export function breakingTokens(model: GPT2, tok: TextTokenizer): Set<number> {
  let lines = breaking.get(tok);
  if (!lines) {
    // Decoding the whole vocabulary once per tokenizer (a fraction of a second), not once per run.
    lines = new Set<number>();
    for (let id = 0; id < model.config.vocabSize; id++) if (/[\r\n]/.test(tok.decode([id]))) lines.add(id);
    breaking.set(tok, lines);
  }
  return new Set([...lines, model.config.eosTokenId]);
}

/** For each row of ids (after BOS), the model's nucleus of next tokens: ids by descending probability, up to mass topP. */
export async function nextTokenNucleus(model: GPT2, rows: number[][], topP: number, maxTokens: number, banned: Set<number>): Promise<{ id: number; p: number }[][]> {
  const bos = model.config.bosTokenId;
  const n = rows[0].length + 1;
  const B = rows.length;
  const t = tf.tidy(() => {
    const ids = tf.tensor2d(rows.map((r) => [bos, ...r]), [B, n], 'int32');
    const { resid } = model.run({ ids }, { skipLogits: true });
    const logits = lensLogits(model, tf.slice(resid, [0, n - 1, 0], [B, 1, -1])).reshape([B, -1]);
    const top = tf.topk(tf.softmax(logits), Math.min(512, model.config.vocabSize));
    return [top.values, top.indices];
  });
  const [vals, idx] = (await Promise.all(t.map((x) => x.array()))) as [number[][], number[][]];
  tf.dispose(t);
  return vals.map((row, b) => {
    const out: { id: number; p: number }[] = [];
    let cum = 0;
    for (let k = 0; k < row.length && out.length < maxTokens; k++) {
      cum += row[k];
      if (!banned.has(idx[b][k])) out.push({ id: idx[b][k], p: row[k] });
      if (cum >= topP) break;
    }
    return out;
  });
}

export function beamMethod(model: GPT2, tok: TextTokenizer, target: Target, cfg: DreamConfig, judgeTerm?: JudgeTerm): DreamMethod {
  const lambdas = cfg.lambdas;
  const width = cfg.beamWidth;
  const rho = cfg.repetitionPenalty;
  const topP = cfg.topP > 0 ? cfg.topP : 0.9;
  const rand = rng(cfg.seed + 3);
  const banned = breakingTokens(model, tok);
  // The completed beams of the last round, one group per λ.
  let done: { ids: number[]; e: HardEval; lam: number }[] = [];
  let forwardEquivalents = 0;

  /** One round: `width` first tokens per λ sampled from the nucleus after <|endoftext|>, then seqLen − 1 extensions. */
  async function round(): Promise<{ ids: number[]; e: HardEval; lam: number }[]> {
    const [nucleus] = await nextTokenNucleus(model, [[]], topP, 512, banned);
    forwardEquivalents += 1;
    const mass = nucleus.reduce((a, x) => a + x.p, 0);
    let groups: { ids: number[]; e: HardEval | null }[][] = lambdas.map(() =>
      Array.from({ length: width }, () => {
        let r = rand() * mass;
        const pick = nucleus.find((x) => (r -= x.p) <= 0) ?? nucleus[nucleus.length - 1];
        return { ids: [pick.id], e: null };
      }),
    );
    for (let len = 1; len < cfg.seqLen; len++) {
      const beams = groups.flat();
      const nuclei = await nextTokenNucleus(model, beams.map((b) => b.ids), topP, cfg.expand, banned);
      forwardEquivalents += beams.length;
      const cands: number[][] = [];
      const seen = new Set<string>();
      beams.forEach((b, i) => {
        for (const { id } of nuclei[i]) {
          const next = [...b.ids, id];
          const key = next.join(',');
          if (seen.has(key) || breaksNoRepeat(tok.decode(next))) continue;
          seen.add(key);
          cands.push(next);
        }
      });
      // Every extension would repeat: the round ends with what it has.
      if (!cands.length) break;
      const evals = await hardEvaluate(model, tok, target, cands, cfg.reduce);
      forwardEquivalents += cands.length;
      groups = lambdas.map((lam, gi) => {
        const kept = cands
          .map((ids, i) => ({ ids, e: evals[i], s: searchScore(evals[i], lam, rho, judgeTerm) }))
          .filter((c) => Number.isFinite(c.s))
          .sort((a, b) => b.s - a.s)
          .slice(0, width)
          .map(({ ids, e }) => ({ ids, e }));
        return kept.length ? kept : groups[gi];
      });
    }
    const last = groups.flat();
    const missing = last.filter((b) => !b.e);
    if (missing.length) {
      const ev = await hardEvaluate(model, tok, target, missing.map((b) => b.ids), cfg.reduce);
      missing.forEach((b, i) => (b.e = ev[i]));
    }
    return groups.flatMap((g, gi) => g.map((b) => ({ ids: b.ids, e: b.e!, lam: lambdas[gi] })));
  }

  return {
    name: 'beam',
    async step(): Promise<MethodStep> {
      done = await round();
      const soft = done.reduce((a, b) => a + b.e.value, 0) / done.length;
      return { soft, fluencyCE: done.reduce((a, b) => a + b.e.ce, 0) / done.length, forwardEquivalents };
    },
    current: async () => done.map((b) => b.ids.slice()),
    labels: () => done.map((b) => `λ=${b.lam}`),
    rank: (e, i) => searchScore(e, done[i]?.lam ?? lambdas[0], rho, judgeTerm),
    dispose: () => undefined,
  };
}
